//go:build unix

package inventory

import (
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

type fakeInfo struct {
	mode fs.FileMode
	uid  uint32
}

func (f fakeInfo) Name() string       { return "secret" }
func (f fakeInfo) Size() int64        { return 6 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return &syscall.Stat_t{Uid: f.uid} }

// TestSecretFileOwner: a private secret file of another user is refused (its owner can read or replace it); one of
// root's or one's own is accepted; pipes (a process substitution) are not judged.
func TestSecretFileOwner(t *testing.T) {
	self := uint32(os.Getuid())
	other := self + 4242
	if msg, fix := exposed("/s", fakeInfo{0o600, other}); !strings.Contains(msg, "secret file /s belongs to uid ") ||
		!strings.Contains(msg, "its owner can read or change it") || !strings.HasPrefix(fix, "chown ") {
		t.Errorf("another user's file: %q (%q)", msg, fix)
	}
	for _, fi := range []fakeInfo{{0o600, self}, {0o400, 0}, {fs.ModeNamedPipe | 0o666, other}} {
		if msg, _ := exposed("/s", fi); msg != "" {
			t.Errorf("%v owned by %d: %s", fi.mode, fi.uid, msg)
		}
	}
}
