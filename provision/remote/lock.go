package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// ErrLocked is a host's run lock held by another run for longer than the wait allowed.
var ErrLocked = errors.New("another fleetctl run is applying to the host")

// LockFile is where a host keeps its run lock: under /run, which only root can write to, so no other user of the
// host can take or fake it, and which a reboot empties.
const LockFile = "/run/fleetctl/apply.lock"

// LockHolder says who holds a run lock; it is written into the lock file for the runs that find it held.
type LockHolder struct {
	User    string
	Machine string
	PID     int
	Since   time.Time
}

func (h LockHolder) String() string {
	return fmt.Sprintf("%s on %s (pid %d) since %s", printable(h.User), printable(h.Machine), h.PID, h.Since.UTC().Format(time.RFC3339))
}

// printable keeps a value on one line of the lock file and of a message.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) && r != '\'' {
			return r
		}
		return '?'
	}, s)
	if s == "" {
		return "?"
	}
	return s
}

// Lock is a host's run lock. It is an flock on LockFile held by one remote command that lives as long as this
// process's SSH connection: it is released by Release, by the connection closing, and by this process dying in any
// way (kill -9 included), since the remote command ends when its SSH channel does.
type Lock struct {
	stdin io.WriteCloser
	done  chan error
	close func()
}

// Release ends the remote command holding the lock and waits (briefly) for it to end.
func (l *Lock) Release() {
	if l == nil {
		return
	}
	l.stdin.Close()
	select {
	case <-l.done:
	case <-time.After(5 * time.Second):
	}
	l.close()
}

// lockScript takes the lock within wait, records holder in it, says so and holds it until its stdin ends.
func lockScript(holder LockHolder, wait time.Duration) string {
	secs := strconv.FormatFloat(wait.Seconds(), 'f', 1, 64)
	return `umask 077
f=` + LockFile + `
mkdir -p "${f%/*}" || exit 1
command -v flock >/dev/null 2>&1 || { echo 'fleetctl-lock: noflock'; exit 3; }
exec 9>>"$f"
if ! flock -n 9; then
	echo "fleetctl-lock: wait $(head -n 1 "$f")"
	if [ ` + secs + ` = 0.0 ] || ! flock -w ` + secs + ` 9; then echo "fleetctl-lock: held $(head -n 1 "$f")"; exit 75; fi
fi
printf '%s\n' ` + Quote(holder.String()) + ` > "$f"
echo 'fleetctl-lock: locked'
exec cat >/dev/null
`
}

// Lock takes the host's run lock as root, waiting up to wait for another run to release it; onWait (may be nil)
// hears who holds it when it has to wait. The lock is held by a session of this connection until Release or Close.
func (c *Conn) Lock(ctx context.Context, holder LockHolder, wait time.Duration, onWait func(heldBy string)) (*Lock, error) {
	sess, err := c.ssh.NewSession()
	if err != nil {
		return nil, fmt.Errorf("open ssh session on %s: %w", c.Host, err)
	}
	c.Stats.Sessions.Add(1)
	stdin, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	script := lockScript(holder, wait)
	cmd := "sudo -n -- sh -c " + Quote(script)
	if !c.cfg.SudoPassword.IsZero() {
		cmd = "sudo -S -p '' -- sh -c " + Quote(script)
	}
	if err := sess.Start(cmd); err != nil {
		sess.Close()
		return nil, fmt.Errorf("take the run lock on %s: %w", c.Host, err)
	}
	if !c.cfg.SudoPassword.IsZero() {
		if _, err := io.WriteString(stdin, c.cfg.SudoPassword.Reveal()+"\n"); err != nil {
			sess.Close()
			return nil, fmt.Errorf("take the run lock on %s: %w", c.Host, err)
		}
	}
	lines := make(chan string)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- sess.Wait()
	}()
	fail := func(err error) (*Lock, error) {
		stdin.Close()
		sess.Close()
		go func() {
			for range lines {
			}
		}()
		return nil, err
	}
	heldBy := ""
	for {
		select {
		case <-ctx.Done():
			_ = sess.Signal(ssh.SIGTERM)
			return fail(fmt.Errorf("take the run lock on %s: %w", c.Host, ctx.Err()))
		case line, ok := <-lines:
			if !ok {
				err := <-done
				msg := strings.TrimSpace(stderr.String())
				switch {
				case strings.Contains(msg, "a password is required"):
					return fail(fmt.Errorf("sudo on %s needs a password: allow %s password-less sudo or set ssh.sudo_password", c.Host, c.cfg.User))
				case strings.Contains(msg, "incorrect password"):
					return fail(fmt.Errorf("sudo on %s refused the sudo password from ssh.sudo_password", c.Host))
				}
				if msg == "" && err != nil {
					msg = err.Error()
				}
				return fail(fmt.Errorf("take the run lock %s on %s: %s", LockFile, c.Host, msg))
			}
			word, rest, _ := strings.Cut(strings.TrimPrefix(line, "fleetctl-lock: "), " ")
			switch word {
			case "locked":
				return &Lock{stdin: stdin, done: done, close: func() {
					sess.Close()
					go func() {
						for range lines {
						}
					}()
				}}, nil
			case "wait":
				heldBy = holderOrUnknown(rest)
				if onWait != nil && wait > 0 {
					onWait(heldBy)
				}
			case "held":
				if rest != "" {
					heldBy = holderOrUnknown(rest)
				}
				hint := "run again when it has finished, or wait for it with --lock-timeout (such as --lock-timeout 10m)"
				waited := "without waiting"
				if wait > 0 {
					waited = "after waiting " + wait.String()
					hint = "run again when it has finished, or wait longer with --lock-timeout"
				}
				return fail(fmt.Errorf("%w: %s holds its run lock (%s); gave up %s: %s", ErrLocked, heldBy, LockFile, waited, hint))
			case "noflock":
				return fail(fmt.Errorf("take the run lock on %s: the host has no flock command: install util-linux (or busybox's flock)", c.Host))
			}
		}
	}
}

func holderOrUnknown(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "another run (which has not yet recorded who it is)"
	}
	return s
}
