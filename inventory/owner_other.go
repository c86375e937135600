//go:build !unix

package inventory

import "io/fs"

// owners knows no owners where files have no uid.
func owners(fs.FileInfo) (owner, self int, ok bool) { return 0, 0, false }
