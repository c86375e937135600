package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRolloutNewInput is the rollout story: a new input for one group shows as exactly that file's diff on exactly
// that group's hosts; apply --only that file restarts the agent there and nowhere else; a re-plan is empty.
func TestRolloutNewInput(t *testing.T) {
	web, db := []string{hostWeb1, hostWeb2}, hostDB
	e := newEnv(t, append(append([]string{}, web...), db), "[groups.web]\n[groups.db]\n", "")
	for _, h := range web {
		e.edit(`name = "`+h+`"`, `name = "`+h+`"`+"\ngroups = [\"web\"]")
	}
	e.edit(`name = "`+db+`"`, `name = "`+db+`"`+"\ngroups = [\"db\"]")
	e.must("apply", "--auto-approve")
	before := map[string]string{}
	for _, h := range append(append([]string{}, web...), db) {
		before[h] = e.agentPID(h)
	}

	e.edit("[groups.web]\n", "[groups.web]\ninputs_add = [\"nstat\"]\n")
	only := "*/file:*fleetctl-inputs.conf"
	plan := e.must("plan", "--only", only)
	for _, h := range web {
		s := hostSection(plan, h)
		if !strings.Contains(s, "~ update file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf") || !strings.Contains(s, "+[[inputs.nstat]]") ||
			!strings.Contains(s, "↻ restart service:telegraf") || len(changeLines.FindAllString(s, -1)) != 2 {
			t.Errorf("%s: want the inputs diff and a restart, only:\n%s", h, s)
		}
	}
	if s := hostSection(plan, db); s != "" {
		t.Errorf("the db host is in the plan:\n%s", s)
	}
	if !strings.Contains(plan, "on 2 of 3 hosts") {
		t.Errorf("summary:\n%s", plan)
	}

	e.must("apply", "--auto-approve", "--only", only)
	for _, h := range web {
		if pid := e.agentPID(h); pid == before[h] || pid == "0" {
			t.Errorf("%s: agent not restarted (pid %s, before %s)", h, pid, before[h])
		}
		if got := e.ssh(h, "grep -c 'inputs.nstat' /etc/telegraf/telegraf.d/fleetctl-inputs.conf"); strings.TrimSpace(got) != "1" {
			t.Errorf("%s: input not rolled out", h)
		}
	}
	if pid := e.agentPID(db); pid != before[db] {
		t.Errorf("the db host's agent was restarted: %s → %s", before[db], pid)
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 3 hosts.") {
		t.Fatalf("re-plan after the rollout:\n%s", out)
	}
}

// TestCanaryAndBudgetStopTheRollout: a host made to fail (unreachable, last in the inventory) and chosen as the
// canary stops the run before any other host starts; with a failure budget instead, hosts go on until it is
// exceeded.
func TestCanaryAndBudgetStopTheRollout(t *testing.T) {
	e := newEnv(t, []string{hostCanary}, "", "")
	e.edit(`use_agent = false`, "use_agent = false\nconnect_timeout = \"2s\"")
	e.addHost(`name = "a-gone"` + "\naddress = \"" + unreachable + "\"")

	out, stderr, code := e.run("apply", "--auto-approve", "--batch", "1", "--canary", "a-*")
	if code != 1 || !strings.Contains(out, "Stopped early: the canary batch (1 host chosen by --canary) had 1 failed.") ||
		!regexpMatch(`(?m)^`+hostCanary+` +not started`, out) {
		t.Fatalf("canary: exit %d\n%s\n%s", code, out, stderr)
	}
	if e.databaseExists(strings.ReplaceAll(hostCanary, "-", "_")) {
		t.Fatal("a host after the failed canary was changed")
	}
	// A canary that is not among the selected hosts is refused before any host is contacted.
	if _, stderr, code := e.run("apply", "--auto-approve", "--limit", hostCanary, "--canary", "a-gone"); code != 1 ||
		!strings.Contains(stderr, "--canary a-gone matches none of the selected hosts") {
		t.Fatalf("canary outside the selection: exit %d\n%s", code, stderr)
	}
	out, _, code = e.run("apply", "--auto-approve", "--max-fail", "0", "--canary", "a-gone")
	if code != 1 || !strings.Contains(out, "more than --max-fail allows (0)") || !regexpMatch(`(?m)^`+hostCanary+` +not started`, out) {
		t.Fatalf("budget 0: exit %d\n%s", code, out)
	}
	out, _, code = e.run("apply", "--auto-approve", "--max-fail", "50%")
	if code != 1 || !regexpMatch(`(?m)^`+hostCanary+` +changed`, out) {
		t.Fatalf("budget 50%%: the reachable host should be onboarded: exit %d\n%s", code, out)
	}
}

// TestCtrlC sends real signals to a real fleetctl process mid-run: the first lets the host in flight finish and
// starts no other (exit 130, summary printed); the second aborts at once. Either way every host can be planned
// and converged afterwards: nothing was left half-written.
func TestCtrlC(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fleetctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/fleetctl").CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	hosts := ctrlCHosts
	e := newEnv(t, hosts, "", "")

	run := func(signals int) (string, string, int) {
		// -v logs each resource as it is applied: a host is mid-apply, with its package still to install, when its
		// first resource is logged.
		cmd := exec.Command(bin, "apply", "-i", e.inv, "--auto-approve", "--forks", "1", "-v")
		var stdout strings.Builder
		cmd.Stdout = &stdout
		stderrPipe, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		sc := bufio.NewScanner(stderrPipe)
		sent := 0
		for sc.Scan() {
			line := sc.Text()
			stderr.WriteString(line + "\n")
			// The first Ctrl-C comes as soon as the first host is applied (one line per host when not on a
			// terminal), so the next host is in flight; the second pair comes while a host is mid-apply.
			trigger := strings.HasPrefix(line, "apply ")
			if signals > 1 {
				trigger = strings.Contains(line, `msg="applied resource"`)
			}
			if sent == 0 && trigger {
				for i := 0; i < signals; i++ {
					cmd.Process.Signal(syscall.SIGINT)
					time.Sleep(50 * time.Millisecond)
				}
				sent = signals
			}
		}
		io.Copy(io.Discard, stderrPipe)
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		e.outputs = append(e.outputs, stdout.String(), stderr.String())
		return stdout.String(), stderr.String(), code
	}

	out, stderr, code := run(1)
	if code != 130 || !strings.Contains(stderr, "interrupted: no new host starts") || !strings.Contains(out, "not started") ||
		!strings.Contains(out, "Stopped early: the run was interrupted.") || strings.Contains(out, "failed:") {
		t.Fatalf("first Ctrl-C: exit %d\n%s\n%s", code, out, stderr)
	}
	if !regexpMatch(`(?m) changed +\d+ `, out) || regexpMatch(`(?m) failed +\d+ `, out) {
		t.Fatalf("first Ctrl-C: the hosts in flight must finish, none fail:\n%s", out)
	}

	out, stderr, code = run(2)
	if code != 130 || !strings.Contains(stderr, "aborting the hosts in flight") {
		t.Fatalf("second Ctrl-C: exit %d\n%s\n%s", code, out, stderr)
	}

	// Nothing half-written: every host plans cleanly, and one more apply converges them all.
	e.must("apply", "--auto-approve")
	if out := e.must("plan"); !strings.Contains(out, "No changes on 4 hosts.") {
		t.Fatalf("after the interrupted runs:\n%s", out)
	}
	for _, h := range hosts {
		if got := e.ssh(h, "sudo sh -c 'ls /etc/telegraf/telegraf.d/; ls /tmp | grep -c fleetctl || true'"); strings.Contains(got, ".fleetctl-new") {
			t.Errorf("%s: a temporary file was left behind:\n%s", h, got)
		}
	}
	_ = os.Remove(bin)
}
