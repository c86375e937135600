package system

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// holdLock starts a local process that holds path the way kind says ("fcntl": a POSIX record lock, as dpkg, apt
// and rpm take; "flock", as apk takes; "pid": a PID file naming it, as zypper, yum and dnf write) and returns its
// PID once it holds it. release ends it.
func holdLock(t *testing.T, kind, path string) (pid int, release func()) {
	t.Helper()
	// struct flock on Linux (x86-64, arm64): short type, short whence, pad, off_t start, off_t len, pid_t pid, pad.
	lock := map[string]string{
		"fcntl": `use Fcntl; open(my $f, ">>", $ARGV[0]) or die "open: $!"; fcntl($f, F_SETLK, pack("s s x4 q q i x4", F_WRLCK, SEEK_SET, 0, 0, 0)) or die "lock: $!";`,
		"flock": `use Fcntl qw(:flock); open(my $f, ">>", $ARGV[0]) or die "open: $!"; flock($f, LOCK_EX | LOCK_NB) or die "lock: $!";`,
		"pid":   ``,
	}[kind]
	cmd := exec.Command("perl", "-e", lock+` $| = 1; print "held\n"; <STDIN>;`, path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a lock holder (perl): %v", err)
	}
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "held\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the %s holder of %s did not take it (%q)", kind, path, line)
	}
	if kind == "pid" {
		if err := os.WriteFile(path, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	done := false
	release = func() {
		if !done {
			done = true
			stdin.Close()
			cmd.Wait()
		}
	}
	t.Cleanup(release)
	return cmd.Process.Pid, release
}

// TestInstallWaitsForLocks runs the lock wait of the install scripts against real locks on this machine: held, a
// step waits (saying for what) and runs once the holder lets go; held past the wait, it fails with the lock's
// name, its path and its holder, and the step never runs.
func TestInstallWaitsForLocks(t *testing.T) {
	for _, kind := range []string{"fcntl", "flock", "pid"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			path, ran := filepath.Join(dir, "lock"), filepath.Join(dir, "ran")
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			locks := []Lock{{Name: "the test lock", Path: path, PIDFile: kind == "pid"},
				{Name: "a lock nobody holds", Path: filepath.Join(dir, "free")}}
			frag := func(wait time.Duration, notes chan<- string) Fragment {
				return Fragment{Script: "set -e\n" + lockedSteps(wait, locks, "", "echo ran >"+ran), Note: func(s string) { notes <- s }}
			}

			// Held longer than the wait: it gives up, naming the lock and who holds it.
			pid, release := holdLock(t, kind, path)
			holder := "the test lock (" + path + "), held by pid " + strconv.Itoa(pid) + " (perl -e "
			_, err := RunFragments(context.Background(), &shellRunner{t: t}, []Fragment{frag(time.Second, make(chan string, 10))}, nil, nil)
			var fe *FragmentError
			if !errors.As(err, &fe) || fe.Status != ExitLockTimeout || !strings.Contains(fe.Output, "gave up after 1s waiting for "+holder) {
				t.Fatalf("held past the wait: %v", err)
			}
			if _, err := os.Stat(ran); err == nil {
				t.Fatal("the step ran while the lock was held")
			}

			// Held when the step comes, let go while it waits: it runs.
			notes := make(chan string, 10)
			result := make(chan error, 1)
			go func() {
				_, err := RunFragments(context.Background(), &shellRunner{t: t}, []Fragment{frag(time.Minute, notes)}, nil, nil)
				result <- err
			}()
			select {
			case n := <-notes:
				if !strings.HasPrefix(n, "waiting for "+holder) {
					t.Fatalf("note %q", n)
				}
			case err := <-result:
				t.Fatalf("the step did not wait for the held lock: %v", err)
			}
			if _, err := os.Stat(ran); err == nil {
				t.Fatal("the step ran while the lock was held")
			}
			release()
			if err := <-result; err != nil {
				t.Fatalf("after the holder let go: %v", err)
			}
			if b, _ := os.ReadFile(ran); string(b) != "ran\n" {
				t.Fatalf("the step did not run after the wait: %q", b)
			}
		})
	}
}

// TestStalePIDFileIsNoLock: a PID file whose process is gone (a crashed zypper) holds nothing.
func TestStalePIDFileIsNoLock(t *testing.T) {
	dir := t.TempDir()
	path, ran := filepath.Join(dir, "zypp.pid"), filepath.Join(dir, "ran")
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	frag := Fragment{Script: "set -e\n" + lockedSteps(0, []Lock{{Name: "the zypper lock", Path: path, PIDFile: true}}, "", "echo ran >"+ran)}
	if _, err := RunFragments(context.Background(), &shellRunner{t: t}, []Fragment{frag}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(ran); string(b) != "ran\n" {
		t.Fatalf("not run: %q", b)
	}
}
