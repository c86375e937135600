// Package repokey fetches a package repository's signing key and accepts it only when its primary key fingerprint
// is the pinned one. The key file's checksum is never the test: InfluxData adds signing subkeys to the same file,
// and the primary key is what the trust rests on.
package repokey
