package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
)

// Fragment is what one host resource does to apply its changes: a root shell fragment. The fragments of a host's
// consecutive resources run as one remote command (RunFragments), so applying a host costs one SSH session for the
// commands and one for the files, however many resources change.
type Fragment struct {
	// Script is POSIX sh, run as root in its own subshell with stdin from /dev/null. "$S" is a private directory of
	// its own that holds Files and that it may use for scratch files; it is removed when the command ends. A non-zero
	// exit fails the fragment and stops the fragments after it.
	Script string
	Files  []remote.File
	// Explain turns the fragment's exit status and output (stdout and stderr together) into the resource's error;
	// nil wraps them in a generic one.
	Explain func(status int, output string) error
	// Gated fragments, and every fragment after the first of them, run only once RunFragments' gate opens: the
	// command waits for it on the host.
	Gated bool
	// Note, when set, receives what the script reports while it runs with `note TEXT` (a wait for another
	// program's lock, for example). The script then has the command's output on file descriptor 3: whatever it
	// starts that may outlive it (a package manager's maintainer scripts start services) must run with 3>&-, or
	// the command would not end before it does.
	Note func(string)
}

// ErrGateClosed is the error of a command whose gate did not open: the fragments before it ran, the rest did not.
var ErrGateClosed = errors.New("not run: an earlier step of the host failed")

// Scripted is a host resource whose apply is a Fragment. Its Apply runs that one fragment; an engine that applies
// several of a host's resources in a row runs their fragments together instead.
type Scripted interface {
	Fragment(changes []plan.Change) (Fragment, error)
	// Runner is the host connection the fragment must run on: only fragments of one runner can share a command.
	Runner() Runner
}

// Progress lines of the composed command on stdout: "::fleetctl-fragment:: <index> done",
// "::fleetctl-fragment:: <index> failed <status>", "::fleetctl-fragment:: <index> note <text>" or, when the gate
// stayed closed, "::fleetctl-fragment:: <index> held". The fragments' own output is kept in a file and shown only
// for a failure (on stderr), so nothing a package manager prints can be mistaken for these.
const fragmentMarker = "::fleetctl-fragment:: "

// FragmentError is a fragment that ran and failed.
type FragmentError struct {
	Index  int
	Status int
	Output string
}

// Error reads like the remote command's own failure: the status and the tail of the output.
func (e *FragmentError) Error() string {
	return (&remote.ExitError{Status: e.Status, Stderr: e.Output}).Error()
}

// composeFragments is the one root script that runs frags in order. stage is the directory the files were
// uploaded to (each fragment's under stage/<index>/), or "" when there are none: then a private one is made.
func composeFragments(frags []Fragment, stage string, gated bool) string {
	var b strings.Builder
	if stage != "" {
		fmt.Fprintf(&b, "T=%s\n", remote.Quote(stage))
	} else {
		b.WriteString("T=$(umask 077 && mktemp -d /tmp/fleetctl.XXXXXXXX) || exit 1\n")
	}
	// Traps are reset in subshells, so only the end of the whole command removes the directory.
	b.WriteString("trap 'rm -rf \"$T\"' EXIT\n")
	fmt.Fprintf(&b, "note() { printf '%%s\\n' \"%s$F note $*\" >&3; } 2>/dev/null\n", fragmentMarker)
	b.WriteString("mkdir -p -m 700")
	for i := range frags {
		fmt.Fprintf(&b, " \"$T/%d\"", i)
	}
	b.WriteString(" || exit 1\n")
	waited := false
	for i, f := range frags {
		if gated && f.Gated && !waited {
			// The gate is one line on stdin: "open", or anything else (or nothing) for closed.
			waited = true
			fmt.Fprintf(&b, "IFS= read -r gate || gate=\nif [ \"$gate\" != open ]; then echo '%s%d held'; exit 3; fi\n", fragmentMarker, i)
		}
		fmt.Fprintf(&b, "F=%d S=\"$T/%d\"\n", i, i)
		notes := ""
		if f.Note != nil {
			notes = " 3>&1"
		}
		fmt.Fprintf(&b, "(\n%s\n)%s >\"$T/out\" 2>&1 </dev/null\n", strings.TrimRight(f.Script, "\n"), notes)
		fmt.Fprintf(&b, "rc=$?; if [ $rc -ne 0 ]; then echo \"%s%d failed $rc\"; cat \"$T/out\" >&2; exit 3; fi\n", fragmentMarker, i)
		fmt.Fprintf(&b, "echo '%s%d done'\n", fragmentMarker, i)
	}
	return b.String()
}

// RunFragments runs frags on r in one remote command (after staging their files over the connection's sftp
// channel, when they have any), in order, stopping at the first that fails. When gate is not nil, the first Gated
// fragment waits on the host until gate delivers: nil opens it, an error keeps it closed (that fragment and the
// rest do not run, and RunFragments returns ErrGateClosed). done is called with each fragment's index and
// duration as it completes. It returns how many completed, and the failed fragment's error (from its Explain) or
// the command's.
func RunFragments(ctx context.Context, r Runner, frags []Fragment, gate <-chan error, done func(i int, took time.Duration)) (int, error) {
	if len(frags) == 0 {
		return 0, nil
	}
	var files []remote.File
	for i, f := range frags {
		for _, file := range f.Files {
			files = append(files, remote.File{Name: fmt.Sprintf("%d/%s", i, file.Name), Data: file.Data})
		}
	}
	stage := ""
	if len(files) > 0 {
		var err error
		if stage, err = r.Stage(ctx, files); err != nil {
			return 0, err
		}
	}
	var stdin io.Reader
	if gate != nil && slices.ContainsFunc(frags, func(f Fragment) bool { return f.Gated }) {
		pr, pw := io.Pipe()
		go func() {
			// The command ends only once stdin ends, so this always closes it: the gate's verdict, or the context.
			defer pw.Close()
			select {
			case err := <-gate:
				if err == nil {
					_, _ = pw.Write([]byte("open\n"))
				}
			case <-ctx.Done():
			}
		}()
		stdin = pr
	} else {
		gate = nil
	}
	completed := 0
	var failed *FragmentError
	held := false
	last := time.Now()
	_, err := r.SudoWatch(ctx, composeFragments(frags, stage, gate != nil), stdin, func(line string) {
		rest, ok := strings.CutPrefix(line, fragmentMarker)
		if !ok {
			return
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			return
		}
		i, convErr := strconv.Atoi(fields[0])
		if convErr != nil || i != completed {
			return
		}
		switch fields[1] {
		case "note":
			if note := frags[i].Note; note != nil {
				_, text, _ := strings.Cut(rest, " note ")
				note(text)
			}
		case "done":
			completed++
			if done != nil {
				now := time.Now()
				done(i, now.Sub(last))
				last = now
			}
		case "held":
			held = true
		case "failed":
			status := 1
			if len(fields) > 2 {
				status, _ = strconv.Atoi(fields[2])
			}
			failed = &FragmentError{Index: i, Status: status}
		}
	})
	if failed != nil {
		// The failed fragment's output is the command's stderr.
		var ee *remote.ExitError
		if errors.As(err, &ee) {
			failed.Output = ee.Stderr
		}
		if explain := frags[failed.Index].Explain; explain != nil {
			return completed, explain(failed.Status, failed.Output)
		}
		return completed, failed
	}
	if held {
		return completed, ErrGateClosed
	}
	if err != nil {
		return completed, err
	}
	if completed != len(frags) {
		return completed, fmt.Errorf("the remote command ended after %d of %d steps without saying why", completed, len(frags))
	}
	return completed, nil
}

// runOne applies one scripted resource on its own: the Apply of a resource used outside an engine's host lane.
func runOne(ctx context.Context, s Scripted, changes []plan.Change) error {
	f, err := s.Fragment(changes)
	if err != nil {
		return err
	}
	_, err = RunFragments(ctx, s.Runner(), []Fragment{f}, nil, nil)
	return err
}
