package cli

import (
	"context"
	"os"
	"path/filepath"
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
	testscript.Run(t, testscript.Params{
		Dir: "testdata/scripts",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("DESC", testbed.DescriptionPath())
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"bed": func(ts *testscript.TestScript, neg bool, args []string) {
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
