package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/fleetctl/fleetctl/test/testbed"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fleetctl": func() {
			io := StdIO(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
			// Scripts can pretend stdin is a terminal to exercise the confirmation prompt.
			if os.Getenv("FLEETCTL_TEST_TTY") == "1" {
				io.Terminal = func(r interface{ Read([]byte) (int, error) }) bool { return r == os.Stdin }
			}
			os.Exit(Run(context.Background(), os.Args, io))
		},
	})
}

// TestScripts runs every command's happy and error paths from testdata/scripts. Scripts that need the test bed
// call `bed` first; it sets $INVENTORY (a copy of the bed's sandbox inventory) and $BED.
func TestScripts(t *testing.T) {
	// The bed's scripts take turns: they share one Grafana, InfluxDB and Kapacitor, and the fleet-wide objects a
	// run creates (the fleet's folder, the overview dashboard, Kapacitor's service settings) would otherwise move
	// under another script's saved plan between its plan and its apply.
	var bedTurn sync.Mutex
	testscript.Run(t, testscript.Params{
		Dir: "testdata/scripts",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("DESC", testbed.DescriptionPath())
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exits CODE PROGRAM [ARGS...] runs the program like exec and requires exactly that exit status;
			// stdout and stderr are kept for the checks that follow.
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exits CODE program [args...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				got := 0
				var ee *exec.ExitError
				if err := ts.Exec(args[1], args[2:]...); errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%s: %v", args[1], err)
				}
				if got != want {
					ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
				}
			},
			"bed": func(ts *testscript.TestScript, neg bool, args []string) {
				if ts.Getenv("BED_TURN") == "" {
					bedTurn.Lock()
					ts.Defer(bedTurn.Unlock)
					ts.Setenv("BED_TURN", "1")
				}
				b, err := testbed.Load(testbed.DescriptionPath())
				if err != nil {
					ts.Fatalf("test bed not available (%v); bring it up with `sudo test/testbed/up`", err)
				}
				inv, err := os.ReadFile(b.Inventory)
				ts.Check(err)
				// The inventory names its secrets relative to its folder: point them at the bed's.
				dst := filepath.Join(ts.Getenv("WORK"), "inventory.toml")
				ts.Check(os.WriteFile(dst, inv, 0o600))
				ts.Check(os.Symlink(filepath.Join(b.Dir, "secrets"), filepath.Join(ts.Getenv("WORK"), "secrets")))
				ts.Setenv("INVENTORY", dst)
				ts.Setenv("BED", b.Dir)
			},
		},
	})
}
