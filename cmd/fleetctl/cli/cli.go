package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Exit codes, documented in README.md.
const (
	ExitOK      = 0
	ExitError   = 1 // bad input, a failed host, a refused apply
	ExitChanges = 2 // plan --detailed-exitcode: changes present
	// ExitNotReporting is status's when a host is stale, silent, unreachable or failing a check.
	ExitNotReporting = 3
	ExitUsage        = 64
	// ExitInterrupted is Ctrl-C's: no new host started, hosts in flight finished (or were aborted by a second one).
	ExitInterrupted = 130
)

// IO is everything a command reads from or writes to outside its arguments, passed in so tests drive it.
type IO struct {
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	Getenv   func(string) string
	Now      func() time.Time
	Terminal func(interface{ Read([]byte) (int, error) }) bool // whether a stream is an interactive terminal
	// Signals delivers Ctrl-C (and SIGTERM): the first stops new hosts from starting, the second aborts those in
	// flight. Nil: no signal handling.
	Signals <-chan os.Signal
}

// runState is shared by the commands of one run: the soft stop of the first Ctrl-C.
type runState struct {
	stop chan struct{}
}

func (st *runState) interrupted() bool { return stopped(st.stop) }

func stopped(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// StdIO is the process's real IO.
func StdIO(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) IO {
	return IO{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Now: time.Now, Terminal: isTerminal}
}

// exitError carries an exit code through urfave/cli without printing twice.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// Run runs fleetctl with args (args[0] is the program name) and returns the process exit code.
func Run(ctx context.Context, args []string, io IO) int {
	ctx, abort := context.WithCancel(ctx)
	defer abort()
	st := &runState{stop: make(chan struct{})}
	if io.Signals != nil {
		go func() {
			select {
			case <-io.Signals:
			case <-ctx.Done():
				return
			}
			close(st.stop)
			fmt.Fprintln(io.Stderr, "\nfleetctl: interrupted: no new host starts and hosts in flight finish; Ctrl-C again aborts them (files are replaced atomically either way)")
			select {
			case <-io.Signals:
				fmt.Fprintln(io.Stderr, "fleetctl: aborting the hosts in flight")
				abort()
			case <-ctx.Done():
			}
		}()
	}
	app := newApp(io, st)
	err := app.RunContext(ctx, flagsFirst(app, args))
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(io.Stderr, "fleetctl: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(io.Stderr, "fleetctl: %v\n", err)
	return ExitError
}

func newApp(io IO, st *runState) *ucli.App {
	return &ucli.App{
		Name:                 "fleetctl",
		Usage:                "put TICK-stack monitoring on a fleet of servers",
		Writer:               io.Stdout,
		ErrWriter:            io.Stderr,
		HideVersion:          true,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*ucli.Context, error) {}, // Run decides how errors print and exit
		OnUsageError: func(_ *ucli.Context, err error, _ bool) error {
			return withCode(ExitUsage, err)
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return withCode(ExitUsage, fmt.Errorf("unknown command %q; run fleetctl help", c.Args().First()))
			}
			return ucli.ShowAppHelp(c)
		},
		Commands: withUsageCodes([]*ucli.Command{
			planCommand(io, st),
			applyCommand(io, st),
			destroyCommand(io, st),
			renderCommand(io),
			validateCommand(io),
			alertsCommand(io),
			versionCommand(io),
			importAnsibleCommand(io), completionCommand(io), manCommand(io), completeCommand(io),
			statusCommand(io, st),
		}),
		Description: appDescription,
		Before:      func(c *ucli.Context) error { addHelp(c.App); return nil },
	}
}

// withUsageCodes makes flag errors of every command exit with ExitUsage.
func withUsageCodes(cmds []*ucli.Command) []*ucli.Command {
	for _, c := range cmds {
		c.OnUsageError = func(_ *ucli.Context, err error, _ bool) error { return withCode(ExitUsage, err) }
	}
	return cmds
}

func versionCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print fleetctl's version",
		Action: func(c *ucli.Context) error {
			if err := noArgs(c, io); err != nil {
				return err
			}
			fmt.Fprintln(io.Stdout, versionString())
			return nil
		},
	}
}

// versionString is the release build's stamp, else the module version stamped by the Go toolchain (a VCS revision
// for local builds).
func versionString() string {
	if stampedVersion != "" {
		return stamped()
	}
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v += " " + rev
			if dirty {
				v += "+dirty"
			}
		}
		return fmt.Sprintf("fleetctl %s (%s)", v, bi.GoVersion)
	}
	return "fleetctl " + v
}

// isTerminal asks the terminal driver, not the file mode: /dev/null is a character device too, and a prompt on it
// would read end-of-file and cancel.
func isTerminal(r interface{ Read([]byte) (int, error) }) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
