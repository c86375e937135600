package e2e

import (
	"bufio"
	"fmt"
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

// TestRolloutNewInput is the rollout story: a new input for one group shows as exactly that file's diff, once, for
// exactly that group's hosts, with what --only leaves out said; the reviewed plan saved with --only applies as it
// is, restarting the agent there and nowhere else; a glob that matches nothing is refused; a re-plan shows only
// what was left out.
func TestRolloutNewInput(t *testing.T) {
	t.Parallel()
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

	// The group gets a new input and, left for later, a new CPU threshold.
	e.edit("[groups.web]\n", "[groups.web]\ninputs_add = [\"nstat\"]\nvars = { cpu_crit = 91 }\n")
	only := "*/file:*fleetctl-inputs.conf"
	saved := filepath.Join(e.dir, "rollout.plan")
	plan := e.must("plan", "--only", only, "--out", saved)
	// web hosts are in plan order, so the group's header names them in that order.
	group := hostSection(plan, strings.Join(web, ", ")+" (the same on each)")
	if !strings.Contains(group, "~ update */file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf") || strings.Count(plan, "+[[inputs.nstat]]") != 1 ||
		!strings.Contains(group, "↻ restart */service:telegraf#restart") || len(changeLines.FindAllString(group, -1)) != 2 {
		t.Errorf("want the inputs diff and a restart, once for both web hosts:\n%s", plan)
	}
	if strings.Contains(plan, db+":") || strings.Contains(plan, db+",") {
		t.Errorf("the db host is in the plan:\n%s", plan)
	}
	if !strings.Contains(plan, "on 2 of 3 hosts") ||
		!strings.Contains(plan, "Warning: --only selects part of the plan: 4 more changes on 2 hosts are pending outside it") {
		t.Errorf("summary, or the warning about the tasks --only leaves out:\n%s", plan)
	}

	// A mistyped glob selects nothing: refused, even for a drift check.
	if out, stderr, code := e.run("plan", "--only", "*/file:*fleetctl-inptus.conf", "--detailed-exitcode"); code != 1 ||
		!strings.Contains(stderr, `--only "*/file:*fleetctl-inptus.conf" matches no change on the 3 hosts planned`) ||
		!strings.Contains(out, `Warning: --only "*/file:*fleetctl-inptus.conf" matches no change`) {
		t.Errorf("an --only that matches nothing: exit %d\n%s\n%s", code, out, stderr)
	}

	// The reviewed plan, with its --only, applies as it is.
	out, stderr, code := e.runNoInventory("apply", saved, "--auto-approve")
	if code != 0 || strings.Contains(out, "Outcome differs") || !strings.Contains(out, "on "+strings.Join(web, ", ")+" (the same on each):") {
		t.Fatalf("apply of the plan saved with --only: exit %d\n%s\n%s", code, out, stderr)
	}
	if regexpMatch(`(?m)^`+db+` `, out) {
		t.Errorf("the unchanged db host is listed in the apply table:\n%s", out)
	}
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
	// What --only left out is still to do, and only that; -v shows each host's steps.
	plan, stderr, code = e.run("plan", "-v")
	for _, h := range web {
		if s := hostSection(plan, h); code != 0 || !strings.Contains(s, "~ update "+h+"/kapacitor.task:"+h+"-cpu") || strings.Contains(s, "fleetctl-inputs.conf") {
			t.Errorf("%s: want the task's threshold left, and only it: exit %d\n%s", h, code, plan)
		}
	}
	for _, want := range []string{`msg=connected host=` + db + ` address=`, `msg="read the host" host=` + db + ` system=`,
		`msg="read resource" host=` + db + ` address=` + db + `/influxdb.database:`, `address=` + db + `/service:telegraf plan=no-op took=`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("plan -v lacks %q:\n%s", want, stderr)
		}
	}
	// In batches of one host: each batch is announced, each resource applied is logged by its address.
	out, stderr, code = e.run("apply", "--auto-approve", "--batch", "1", "-v")
	if code != 0 {
		t.Fatalf("apply in batches: exit %d\n%s\n%s", code, out, stderr)
	}
	for i, h := range []string{hostWeb1, hostWeb2, hostDB} {
		if want := fmt.Sprintf("batch %d/3: 1 host: %s\n", i+1, h); !strings.Contains(stderr, want) {
			t.Errorf("apply --batch 1 -v lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stderr, `msg="applied resource" host=`+hostWeb1+` address=`+hostWeb1+`/kapacitor.task:`+hostWeb1+`-cpu changes=2 took=`) ||
		strings.Contains(stderr, "error=") {
		t.Errorf("apply -v: want each resource by its address, and no error attribute without an error:\n%s", stderr)
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 3 hosts.") {
		t.Fatalf("re-plan after the rollout:\n%s", out)
	}
}

// TestCanaryAndBudgetStopTheRollout: a host made to fail (unreachable, last in the inventory) and chosen as the
// canary stops the run before any other host starts; with a failure budget instead, hosts go on until it is
// exceeded.
func TestCanaryAndBudgetStopTheRollout(t *testing.T) {
	t.Parallel()
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

// TestCtrlC sends real signals to a real fleetctl process mid-run, each while a host is mid-apply: the first Ctrl-C
// (or a SIGTERM, the same) lets exactly the host in flight finish and starts no other (exit 130, summary printed);
// a second Ctrl-C aborts it at once. Either way every host can be planned and converged afterwards, and nothing is
// left behind: no half-written file, no staging directory.
func TestCtrlC(t *testing.T) {
	t.Parallel()
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
