// Package system owns what fleetctl manages on a host over SSH: files (installed atomically, checked before they
// take effect, restored when the check fails), the package and its repository, and the service. A host's actual
// state is read once, in one batched remote command (Facts), and every resource diffs against that snapshot.
package system
