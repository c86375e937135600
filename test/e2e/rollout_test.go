package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
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

// TestCanaryAndBudgetStopTheRollout: a host made to fail (unreachable, first in plan order) in the canary batch
// stops the run before any other host starts; with a failure budget instead, hosts go on until it is exceeded.
func TestCanaryAndBudgetStopTheRollout(t *testing.T) {
	e := newEnv(t, []string{hostCanary}, "", "")
	e.edit(`use_agent = false`, "use_agent = false\nconnect_timeout = \"2s\"")
	e.addHost(`name = "a-gone"` + "\naddress = \"" + unreachable + "\"")

	out, stderr, code := e.run("apply", "--auto-approve", "--batch", "1")
	if code != 1 || !strings.Contains(out, "Stopped early: the canary batch (the first 1 hosts) had 1 failed.") ||
		!regexpMatch(`(?m)^`+hostCanary+` +not started`, out) {
		t.Fatalf("canary: exit %d\n%s\n%s", code, out, stderr)
	}
	if e.databaseExists(strings.ReplaceAll(hostCanary, "-", "_")) {
		t.Fatal("a host after the failed canary was changed")
	}
	out, _, code = e.run("apply", "--auto-approve", "--max-fail", "0")
	if code != 1 || !strings.Contains(out, "more than --max-fail allows (0)") || !regexpMatch(`(?m)^`+hostCanary+` +not started`, out) {
		t.Fatalf("budget 0: exit %d\n%s", code, out)
	}
	out, _, code = e.run("apply", "--auto-approve", "--max-fail", "50%")
	if code != 1 || !regexpMatch(`(?m)^`+hostCanary+` +changed`, out) {
		t.Fatalf("budget 50%%: the reachable host should be onboarded: exit %d\n%s", code, out)
	}
}

// TestCtrlC sends real signals to a real fleetctl process mid-run, each while a host is mid-apply: the first Ctrl-C
// (or a SIGTERM, the same) lets exactly the host in flight finish and starts no other (exit 130, summary printed);
// a second Ctrl-C aborts it at once. Either way every host can be planned and converged afterwards, and nothing is
// left behind: no half-written file, no staging directory.
func TestCtrlC(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fleetctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/fleetctl").CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	hosts := ctrlCHosts
	e := newEnv(t, hosts, "", "")
	staged := map[string]string{}
	for _, h := range hosts {
		staged[h] = stagingDirs(e, h)
	}

	// run applies with -v, which logs each resource a host applies: at the first one, that host is mid-apply (its
	// package, files and service are still to come) and, with --forks 1, the only host in flight. Then the signals
	// go out one after the other, each once fleetctl has said it took the previous one. It returns what fleetctl
	// printed, its exit code, and the host in flight when the first signal went out.
	applied := regexp.MustCompile(`msg="applied resource" host=(\S+)`)
	run := func(sigs ...os.Signal) (string, string, int, string) {
		cmd := exec.Command(bin, "apply", "-i", e.inv, "--auto-approve", "--forks", "1", "-v")
		var stdout strings.Builder
		cmd.Stdout = &stdout
		stderrPipe, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		sc := bufio.NewScanner(stderrPipe)
		sent, inFlight := 0, ""
		for sc.Scan() {
			line := sc.Text()
			stderr.WriteString(line + "\n")
			if m := applied.FindStringSubmatch(line); m != nil && sent == 0 {
				inFlight = m[1]
				cmd.Process.Signal(sigs[0])
				sent = 1
			} else if sent > 0 && sent < len(sigs) && strings.Contains(line, "interrupted: no new host starts") {
				cmd.Process.Signal(sigs[sent])
				sent++
			}
		}
		io.Copy(io.Discard, stderrPipe)
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		e.outputs = append(e.outputs, stdout.String(), stderr.String())
		if sent != len(sigs) {
			t.Fatalf("sent %d of %d signals: no host applied a resource\n%s\n%s", sent, len(sigs), stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String(), code, inFlight
	}
	row := func(out, host, result string) bool {
		return regexpMatch(`(?m)^`+regexp.QuoteMeta(host)+` +`+result+` `, out)
	}
	db := func(host string) string { return strings.ReplaceAll(host, "-", "_") }

	// The first Ctrl-C, then a SIGTERM: each time exactly the host in flight finishes, completely, and no other
	// host starts.
	var done []string
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		out, stderr, code, inFlight := run(sig)
		t.Logf("%v while %s was mid-apply", sig, inFlight)
		if code != 130 || !strings.Contains(stderr, "interrupted: no new host starts") ||
			!strings.Contains(out, "Stopped early: the run was interrupted.") || regexpMatch(`(?m) failed +\d+ `, out) {
			t.Fatalf("%v: exit %d\n%s\n%s", sig, code, out, stderr)
		}
		if slices.Contains(done, inFlight) || !slices.Contains(hosts, inFlight) {
			t.Fatalf("%v: the host in flight %q was done already (%v) or is not one of the test's", sig, inFlight, done)
		}
		if !row(out, inFlight, `changed +\d+`) {
			t.Errorf("%v: the host in flight, %s, did not finish:\n%s", sig, inFlight, out)
		}
		if p := e.must("plan", "--limit", inFlight); !strings.Contains(p, "No changes on 1 host.") {
			t.Errorf("%v: the host in flight, %s, finished only part of its changes:\n%s", sig, inFlight, p)
		}
		done = append(done, inFlight)
		for _, h := range hosts {
			if slices.Contains(done, h) {
				continue
			}
			if !row(out, h, "not started") || e.databaseExists(db(h)) {
				t.Errorf("%v: %s, not in flight at the signal, was started:\n%s", sig, h, out)
			}
		}
	}

	// A second Ctrl-C aborts the host in flight; the host after it never starts.
	out, stderr, code, inFlight := run(syscall.SIGINT, syscall.SIGINT)
	t.Logf("two SIGINTs while %s was mid-apply", inFlight)
	if code != 130 || !strings.Contains(stderr, "aborting the hosts in flight") || slices.Contains(done, inFlight) {
		t.Fatalf("second Ctrl-C (host in flight %s, done before %v): exit %d\n%s\n%s", inFlight, done, code, out, stderr)
	}
	for _, h := range hosts {
		if h != inFlight && !slices.Contains(done, h) && (!row(out, h, "not started") || e.databaseExists(db(h))) {
			t.Errorf("second Ctrl-C: %s was started:\n%s", h, out)
		}
	}

	// Nothing half-written: every host plans cleanly, and one more apply converges them all.
	e.must("apply", "--auto-approve")
	if out := e.must("plan"); !strings.Contains(out, "No changes on 4 hosts.") {
		t.Fatalf("after the interrupted runs:\n%s", out)
	}
	for _, h := range hosts {
		if got := e.ssh(h, "sudo ls -a /etc/telegraf/telegraf.d/"); strings.Contains(got, ".fleetctl-") {
			t.Errorf("%s: a temporary file was left behind:\n%s", h, got)
		}
		if got := stagingDirs(e, h); got != staged[h] {
			t.Errorf("%s: staging directories /tmp/fleetctl.*: %s before the runs, %s after", h, staged[h], got)
		}
	}
	_ = os.Remove(bin)
}

// stagingDirs counts the staging directories fleetctl makes on a host for one apply (/tmp/fleetctl.*).
func stagingDirs(e *env, host string) string {
	return strings.TrimSpace(e.ssh(host, "sudo sh -c 'ls -d /tmp/fleetctl.* 2>/dev/null | wc -l'"))
}
