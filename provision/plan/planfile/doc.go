// Package planfile is the saved plan's file format: what `plan --out` writes and `apply FILE` reads back. A file
// records the plan, the inventory it was made from (path and digest) and every option that shaped it, and Compare
// says how a fresh plan made with those options differs from it. It writes atomically and holds no secret.
package planfile
