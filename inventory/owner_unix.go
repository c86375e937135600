//go:build unix

package inventory

import (
	"io/fs"
	"os"
	"syscall"
)

// owners returns the uid owning fi and the uid running fleetctl.
func owners(fi fs.FileInfo) (owner, self int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), os.Getuid(), true
}
