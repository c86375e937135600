package system

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// stubDir makes a folder of executable shell stubs (name → body) plus cat, to be a whole PATH: no command of the
// machine running the test is found by accident.
func stubDir(t *testing.T, stubs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range []string{"cat", "sleep", "touch", "rm"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestInitProbe runs the facts script's probe against host layouts, its paths moved under a folder: the service
// manager is the one running the host, not the first one whose command is installed. Debian with sysvinit-core or
// OpenRC keeps the systemd package and its systemctl.
func TestInitProbe(t *testing.T) {
	for _, c := range []struct {
		name     string
		dirs     []string // under /run
		commands []string
		pid1     string
		want     string
	}{
		{"systemd running, OpenRC installed too", []string{"systemd/system"}, []string{"systemctl", "rc-service"}, "systemd", "systemd"},
		{"Debian sysvinit-core, systemd package kept", nil, []string{"systemctl", "service"}, "init", "sysv"},
		{"Debian OpenRC, systemd package kept", []string{"openrc"}, []string{"systemctl", "rc-service"}, "init", "openrc"},
		{"Alpine container, OpenRC not booted", nil, []string{"rc-service"}, "sh", "openrc"},
		{"container with a systemctl stand-in and no init", nil, []string{"systemctl"}, "sshd", "systemd"},
		{"SysV init alone", nil, []string{"service"}, "init", "sysv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range c.dirs {
				if err := os.MkdirAll(filepath.Join(root, "run", d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(root, "comm"), []byte(c.pid1+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			stubs := map[string]string{}
			for _, cmd := range c.commands {
				stubs[cmd] = "exit 0"
			}
			probe := strings.NewReplacer("/run/", root+"/run/", "/proc/1/comm", root+"/comm").Replace(initProbe)
			if probe == initProbe {
				t.Fatal("the probe reads none of the paths this test moves")
			}
			cmd := exec.Command("sh", "-c", probe+`echo "$init"`)
			cmd.Env = []string{"PATH=" + stubDir(t, stubs)}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != c.want {
				t.Errorf("init = %q, want %q", got, c.want)
			}
		})
	}
}

// TestInitScriptStartIsWaitedFor runs the service steps of OpenRC and SysV against init scripts like InfluxData's:
// one whose start returns before its daemon runs (the step waits until status says it runs), and one whose start
// returns 0 and starts nothing, as it does on a stale PID file (the step fails, naming the service).
func TestInitScriptStartIsWaitedFor(t *testing.T) {
	start := plan.Change{Action: plan.Update, Fields: []plan.Field{{Name: "active", Before: "inactive", After: "active"}}}
	restart := plan.Change{Action: plan.Restart}
	for _, init := range []string{"openrc", "sysv"} {
		for _, changes := range [][]plan.Change{{start}, {restart}} {
			for _, starts := range []bool{true, false} {
				state := filepath.Join(t.TempDir(), "running")
				// status succeeds once the "daemon" is up; start brings it up a moment after returning, or never.
				up := ":"
				if starts {
					up = "(sleep 0.5; touch " + state + ") &"
				}
				script := `case $2 in status) [ -e ` + state + ` ] ;; start|restart) rm -f ` + state + `; ` + up + ` ;; *) exit 0 ;; esac`
				stubs := map[string]string{"service": script, "rc-service": script}
				s := NewService(nil, &Facts{}, Service{Unit: "telegraf", Init: init, StartWait: time.Second})
				frag, err := s.Fragment(changes)
				if err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command("sh", "-c", frag.Script)
				cmd.Env = []string{"PATH=" + stubDir(t, stubs)}
				t0 := time.Now()
				out, err := cmd.CombinedOutput()
				switch {
				case starts && err != nil:
					t.Errorf("%s %v: %v: %s", init, changes[0].Action, err, out)
				case starts:
					if _, serr := os.Stat(state); serr != nil {
						t.Errorf("%s %v: returned before the daemon ran", init, changes[0].Action)
					}
				case err == nil:
					t.Errorf("%s %v: a start that started nothing passed", init, changes[0].Action)
				case !strings.Contains(string(out), "telegraf is not running 1s after"):
					t.Errorf("%s %v: error does not say what failed: %s", init, changes[0].Action, out)
				case time.Since(t0) < time.Second:
					t.Errorf("%s %v: gave up after %s, before 1s", init, changes[0].Action, time.Since(t0))
				}
			}
		}
	}
}
