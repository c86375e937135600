package system

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// Fragment is what one host resource does to apply its changes: a root shell fragment. The fragments of a host's
// consecutive resources run as one remote command (RunFragments), so applying a host costs one SSH session for the
// commands and one for the files, however many resources change.
type Fragment struct {
	// Script is POSIX sh, run as root in its own subshell with stdin from /dev/null. "$S" is a private directory of
	// its own (root's, mode 0700) that holds Files, verified, and that it may use for scratch files; it is removed
	// when the command ends. A non-zero exit fails the fragment and stops the fragments after it.
	Script string
	// Files are staged for the fragment under "$S", each by its Name: one path element.
	Files []remote.File
	// Secrets reach the fragment on the command's standard input, never staged on disk nor written in the
	// script (whose text is on the host's process list): `secret N` prints the Nth, exactly, to stdout (pipe it
	// into what needs it). The command holds them in unexported shell variables only.
	Secrets []secret.Value
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

// bound is what a host resource is bound to: the host's connection, on which its fragment runs, and the facts read
// from the host in its one batched read.
type bound struct {
	runner Runner
	facts  *Facts
}

// Runner is the connection the resource's fragment runs on.
func (b bound) Runner() Runner { return b.runner }

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

// staleAfter is, in minutes, how old a directory of fleetctl's under /tmp must be before the sweep of a later
// command may remove it (and then only when the command that made it is gone).
const staleAfter = 10

// stagedFile is a file uploaded to the staging directory under the name Upload, for fragment Frag as Name.
type stagedFile struct {
	Upload string
	Frag   int
	Name   string
	Size   int
	SHA256 string
}

// Status of the composed command when the staged files cannot be taken: something changed them on the host.
const exitStaging = 4

// commandPreamble starts every composed command. It works in a new root-owned directory $T (mode 0700, under
// /tmp so that a sweep can find what a killed run left) and records there which shell holds it (PID and start
// time, so a reused PID does not count), removes it on every way out (a signal too: when the connection is gone
// the next progress line fails and ends the command), then sweeps what earlier commands left behind.
const commandPreamble = `T=$(umask 077 && mktemp -d /tmp/fleetctl.XXXXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM
say() { printf '%s\n' "$1" || exit 141; }
if read -r st </proc/$$/stat; then set -- ${st##*)}; echo "$$ ${20}" >"$T/.owner"; fi 2>/dev/null
`

// sweepScript removes what earlier commands of fleetctl's left under /tmp and can no longer remove themselves (a
// killed run): only directories older than staleAfter minutes, never one whose command still runs. A working
// directory (root's, with its holder recorded) is stale once that shell is gone; an upload directory (the login
// user's, or root's when the login user is root) that no command took, once it is old enough.
func sweepScript() string {
	return `sweep() {
	[ -r /proc/$$/stat ] || return 0
	for d in /tmp/fleetctl.*; do
		[ "$d" != "$T" ] && [ -d "$d" ] && [ ! -L "$d" ] || continue
		[ -n "$(find "$d" -maxdepth 0 -mmin +` + strconv.Itoa(staleAfter) + `)" ] || continue
		o=$(stat -c %u "$d") || continue
		if [ -e "$d/.owner" ]; then
			[ "$o" = 0 ] || continue
			if read -r pid start <"$d/.owner" && read -r st <"/proc/$pid/stat"; then
				set -- ${st##*)}
				[ "${20}" = "$start" ] && continue
			fi
		else
			[ "$o" = 0 ] || [ "$o" = "${SUDO_UID:-0}" ] || continue
		fi
		rm -rf "$d"
	done 2>/dev/null
}
sweep
`
}

// takeScript moves the login user's upload directory into $T (a rename, which never follows a link), then each
// file out of it into root's own directory for its fragment: renamed again (so nothing can swap it afterwards),
// required to be a regular file, copied (at most its size) into a new root-owned file, and that copy checked
// against the size and SHA-256 carried in the command. Root never reads a path the login user can change.
func takeScript() string {
	return `take() {
	mv -f -- "$T/up/$1" "$T/in" && [ -f "$T/in" ] && [ ! -L "$T/in" ] && head -c "$4" "$T/in" >"$T/$2/$3" && rm -f "$T/in" &&
		[ "$(wc -c <"$T/$2/$3")" -eq "$4" ] && h=$(sha256sum "$T/$2/$3") && [ "${h%% *}" = "$5" ]
}
refuse() {
	echo "fleetctl: refusing the staged file for $1: it is not what fleetctl uploaded (replaced, changed or made a link after the upload, by a process of the login user or root); nothing was installed" >&2
	exit ` + strconv.Itoa(exitStaging) + `
}
`
}

// composeFragments is the one root script that runs frags in order. stage is the directory the files were
// uploaded to, or "" when there are none; staged says which upload is which fragment's file.
func composeFragments(frags []Fragment, stage string, staged []stagedFile, gated bool) string {
	var b strings.Builder
	b.WriteString(commandPreamble)
	fmt.Fprintf(&b, "note() { printf '%%s\\n' \"%s$F note $*\" >&3; } 2>/dev/null\n", fragmentMarker)
	b.WriteString(secretsScript(frags))
	b.WriteString("mkdir -m 700")
	for i := range frags {
		fmt.Fprintf(&b, " \"$T/%d\"", i)
	}
	b.WriteString(" || exit 1\n")
	if stage != "" {
		b.WriteString(takeScript())
		q := remote.Quote(stage)
		fmt.Fprintf(&b, "mv -f -- %s \"$T/up\" && [ -d \"$T/up\" ] && [ ! -L \"$T/up\" ] || { echo 'fleetctl: the staging directory '%s' is gone or not a directory' >&2; exit %d; }\n", q, q, exitStaging)
		for _, f := range staged {
			fmt.Fprintf(&b, "take %s %d %s %d %s || refuse %s\n", remote.Quote(f.Upload), f.Frag, remote.Quote(f.Name), f.Size, f.SHA256, remote.Quote(f.Name))
		}
		b.WriteString("rm -rf \"$T/up\"\n")
	}
	b.WriteString(sweepScript())
	waited := false
	for i, f := range frags {
		if gated && f.Gated && !waited {
			// The gate is one line on stdin: "open", or anything else (or nothing) for closed.
			waited = true
			fmt.Fprintf(&b, "IFS= read -r gate || gate=\nif [ \"$gate\" != open ]; then say '%s%d held'; exit 3; fi\n", fragmentMarker, i)
		}
		fmt.Fprintf(&b, "F=%d S=\"$T/%d\"\n", i, i)
		notes := ""
		if f.Note != nil {
			notes = " 3>&1"
		}
		fmt.Fprintf(&b, "(\n%s\n)%s >\"$T/out\" 2>&1 </dev/null\n", strings.TrimRight(f.Script, "\n"), notes)
		fmt.Fprintf(&b, "rc=$?; if [ $rc -ne 0 ]; then say \"%s%d failed $rc\"; cat \"$T/out\" >&2; exit 3; fi\n", fragmentMarker, i)
		fmt.Fprintf(&b, "say '%s%d done'\n", fragmentMarker, i)
	}
	return b.String()
}

// secretsScript reads the fragments' secrets from stdin, one base64 line each, before anything else may read it
// (the gate's line follows them), and defines `secret N` for the fragment running.
func secretsScript(frags []Fragment) string {
	var b strings.Builder
	for i, f := range frags {
		for j := range f.Secrets {
			fmt.Fprintf(&b, "IFS= read -r FLEETCTL_S_%d_%d || { echo 'fleetctl: the secrets did not arrive on stdin' >&2; exit 1; }\n", i, j)
		}
	}
	if b.Len() > 0 {
		b.WriteString("secret() { eval \"printf '%s' \\\"\\${FLEETCTL_S_${F}_$1}\\\"\" | base64 -d; }\n")
	}
	return b.String()
}

// secretLines is the fragments' secrets as secretsScript reads them.
func secretLines(frags []Fragment) string {
	var b strings.Builder
	for _, f := range frags {
		for _, v := range f.Secrets {
			b.WriteString(encodeSecret(v) + "\n")
		}
	}
	return b.String()
}

// stageList lists frags' files as uploads (one flat name each) and what the command must check of each.
func stageList(frags []Fragment) ([]remote.File, []stagedFile, error) {
	var files []remote.File
	var staged []stagedFile
	for i, f := range frags {
		seen := map[string]bool{}
		for _, file := range f.Files {
			if file.Name == "" || file.Name == "." || file.Name == ".." || strings.ContainsAny(file.Name, "/\x00") || seen[file.Name] {
				return nil, nil, fmt.Errorf("fragment %d: file name %q is not one path element, or not unique", i, file.Name)
			}
			seen[file.Name] = true
			sum := sha256.Sum256(file.Data)
			up := strconv.Itoa(len(files))
			files = append(files, remote.File{Name: up, Data: file.Data})
			staged = append(staged, stagedFile{Upload: up, Frag: i, Name: file.Name, Size: len(file.Data), SHA256: hex.EncodeToString(sum[:])})
		}
	}
	return files, staged, nil
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
	files, staged, err := stageList(frags)
	if err != nil {
		return 0, err
	}
	stage := ""
	if len(files) > 0 {
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
	if lines := secretLines(frags); lines != "" {
		if stdin != nil {
			stdin = io.MultiReader(strings.NewReader(lines), stdin)
		} else {
			stdin = strings.NewReader(lines)
		}
	}
	completed := 0
	var failed *FragmentError
	held, started := false, false
	last := time.Now()
	_, err = r.SudoWatch(ctx, composeFragments(frags, stage, staged, gate != nil), stdin, func(line string) {
		rest, ok := strings.CutPrefix(line, fragmentMarker)
		if !ok {
			return
		}
		started = true
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
		if stage != "" && !started {
			// The command may never have taken the staged files (sudo refused, the run was cancelled): they hold
			// secrets, so they do not stay in /tmp.
			_ = r.Unstage(ctx, stage)
		}
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
