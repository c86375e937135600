// Package secret keeps passwords and tokens out of every output. A Value prints as a mask; only Reveal gives the
// text, and callers use it only where a secret must cross the wire. Passwords fleetctl creates are derived from a
// master secret, so re-runs arrive at the same value without storing it.
package secret
