package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/cmd/fleetctl/cli"
	"github.com/fleetctl/fleetctl/provision/views/viewstest"
)

// Hosts of the status and reporting-gate tests.
const (
	hostStatus        = "c41-debian12" // onboarded, then reported on; later made unreachable by its address
	hostStatusSystemd = "sd14-rocky9"  // its agent stopped under real systemd, then started again
	hostGateCanary    = "c39-rocky9"   // the canary of a rollout whose agents go silent
	hostGateNext      = "c40-suse15"   // behind that canary: never started
)

// statusJSON runs status --format json and returns the exit code and each host's entry by name.
func (e *env) statusJSON(args ...string) (int, map[string]map[string]any, string) {
	e.t.Helper()
	out, stderr, code := e.run(append([]string{"status", "--format", "json"}, args...)...)
	if code != cli.ExitOK && code != cli.ExitNotReporting {
		e.t.Fatalf("status %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, stderr)
	}
	doc := viewstest.OneJSONDocument(e.t, []byte(out))
	hosts := map[string]map[string]any{}
	for _, h := range doc["status"].(map[string]any)["hosts"].([]any) {
		hm := h.(map[string]any)
		hosts[hm["host"].(string)] = hm
	}
	return code, hosts, out
}

// firing is the alert of a host's status entry with the given id, or nil.
func firing(h map[string]any, id string) map[string]any {
	for _, a := range h["alerts"].([]any) {
		if am := a.(map[string]any); am["id"] == id {
			return am
		}
	}
	return nil
}

func problems(h map[string]any) string {
	var ps []string
	for _, p := range h["problems"].([]any) {
		ps = append(ps, p.(string))
	}
	return strings.Join(ps, "; ")
}

// TestStatus is the onboarding → status story: once onboarded, both hosts report within the stale window (exit
// 0), with their agent active, every task enabled and executing, the datasource healthy; the agent stopped under
// systemd makes its host stale with the agent inactive (exit 3) and its deadman alert firing, while the other
// still reports, with and without SSH; started again, it reports again and the alert clears. A host that cannot be reached is unreachable (exit 3), its server side
// still read.
func TestStatus(t *testing.T) {
	t.Parallel()
	hosts := []string{hostStatus, hostStatusSystemd}
	// A short deadman interval, so that the stopped agent's deadman alert fires within the test.
	e := newEnv(t, hosts, "", `vars = { deadman_interval = "20s" }`)
	e.edit(`use_agent = false`, "use_agent = false\nconnect_timeout = \"2s\"")
	e.must("apply", "--auto-approve")

	// The agents write their first points within a few of their 10 s intervals.
	var last map[string]map[string]any
	eventually(t, 90*time.Second, "both hosts reporting", func() (bool, string) {
		code, hs, out := e.statusJSON("--stale-after", "30s")
		last = hs
		return code == cli.ExitOK, out
	})
	for _, name := range hosts {
		h := last[name]
		if h["state"] != "reporting" || h["agent"] != "active" || h["database"] != strings.ReplaceAll(name, "-", "_") || h["last_point"] == nil {
			t.Errorf("%s: %v", name, h)
		}
		tasks := h["tasks"].([]any)
		if len(tasks) != 6 {
			t.Errorf("%s: want its 6 tasks: %v", name, tasks)
		}
		for _, tk := range tasks {
			if tm := tk.(map[string]any); tm["status"] != "enabled" || tm["executing"] != true || !strings.HasPrefix(tm["name"].(string), name+"-") {
				t.Errorf("%s: task %v", name, tm)
			}
		}
		if ds := h["datasource"].(map[string]any); ds["health"] != "OK" || ds["uid"] != "fleetctl-"+name {
			t.Errorf("%s: datasource %v", name, ds)
		}
	}
	out, _, code := e.run("status", "--stale-after", "30s")
	t.Logf("fleetctl status --stale-after 30s (exit %d):\n%s", code, out)
	for _, name := range hosts {
		if !regexpMatch(`(?m)^`+name+` +reporting +active +\d+s ago +6/6 +0 +OK$`, out) {
			t.Errorf("text table lacks a reporting row for %s:\n%s", name, out)
		}
	}
	if code != 0 || !strings.Contains(out, "2 hosts: 2 reporting, 0 failing, 0 stale, 0 silent, 0 unreachable (stale after 30s).") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	if md, _, code := e.run("status", "--format", "markdown", "--limit", hostStatus); code != 0 || !strings.Contains(md, "**All reporting**: 1 host") ||
		!strings.Contains(md, "| `"+hostStatus+"` | reporting | active |") {
		t.Errorf("markdown: exit %d\n%s", code, md)
	}
	if out, _, code := e.run("status", "--no-ssh"); code != 0 || !strings.Contains(out, "agents not asked: --no-ssh") ||
		!regexpMatch(`(?m)^`+hostStatus+` +reporting +- `, out) {
		t.Errorf("status --no-ssh: exit %d\n%s", code, out)
	}

	// A deadman only watches a host Kapacitor has seen, and alerts on the rate of its points: wait until the
	// task's alert node has judged at least one interval of them before the agent stops.
	eventually(t, 90*time.Second, hostStatusSystemd+"'s deadman judging its points", func() (bool, string) {
		dot, _ := e.kapacitor("GET", "/tasks/"+hostStatusSystemd+"-deadman", nil, 200)["dot"].(string)
		m := regexp.MustCompile(`-> alert\d+ \[processed="(\d+)"\]`).FindStringSubmatch(dot)
		return m != nil && m[1] != "0", dot
	})

	// The agent stopped: its newest point ages past the window.
	e.ssh(hostStatusSystemd, "sudo systemctl stop telegraf")
	eventually(t, 90*time.Second, hostStatusSystemd+" stale", func() (bool, string) {
		code, hs, out := e.statusJSON("--stale-after", "30s")
		last = hs
		return code == cli.ExitNotReporting && hs[hostStatusSystemd]["state"] == "stale", out
	})
	// Its deadman task counts the host's points per deadman_interval on Kapacitor's clock: within two intervals of
	// the last point it goes CRITICAL on the host's topic, and status lists it.
	deadman := "Deadman - " + hostStatusSystemd
	eventually(t, 90*time.Second, hostStatusSystemd+"'s deadman alert in status", func() (bool, string) {
		_, hs, out := e.statusJSON("--stale-after", "30s")
		last = hs
		return firing(hs[hostStatusSystemd], deadman) != nil, out
	})
	if a := firing(last[hostStatusSystemd], deadman); a["level"] != "CRITICAL" || a["topic"] != "fleetctl-"+hostStatusSystemd ||
		!strings.Contains(a["message"].(string), "stopped reporting") || a["since"] == nil {
		t.Errorf("the deadman alert: %v", a)
	}
	if alerts := last[hostStatus]["alerts"].([]any); len(alerts) != 0 {
		t.Errorf("the reporting host has alerts: %v", alerts)
	}
	if h := last[hostStatusSystemd]; h["agent"] != "inactive" || !strings.Contains(problems(h), "agent inactive") ||
		!strings.Contains(problems(h), "more than --stale-after 30s") {
		t.Errorf("the stopped agent: %v", h)
	}
	if h := last[hostStatus]; h["state"] != "reporting" {
		t.Errorf("the other host: %v", h)
	}
	stopped, _, code := e.run("status", "--stale-after", "30s")
	t.Logf("fleetctl status --stale-after 30s, an agent stopped (exit %d):\n%s", code, stopped)
	if !regexpMatch(`(?m)^`+hostStatusSystemd+` +stale +inactive +\S+ ago +6/6 +1 +OK +`, stopped) ||
		!regexpMatch(`(?m)^Alerts firing:\n  `+hostStatusSystemd+`: CRITICAL `+deadman+` since \S+ \(topic fleetctl-`+hostStatusSystemd+`\): CRITICAL - `, stopped) {
		t.Errorf("the text status does not show the stopped host's alert:\n%s", stopped)
	}
	if md, _, _ := e.run("status", "--format", "markdown", "--limit", hostStatusSystemd, "--stale-after", "30s"); !strings.Contains(md, deadman) {
		t.Errorf("the markdown status does not show the alert:\n%s", md)
	}
	out, _, code = e.run("status", "--no-ssh", "--stale-after", "30s")
	if code != cli.ExitNotReporting || !regexpMatch(`(?m)^`+hostStatusSystemd+` +stale +- `, out) || !regexpMatch(`(?m)^`+hostStatus+` +reporting `, out) {
		t.Errorf("status --no-ssh with the agent stopped: exit %d\n%s", code, out)
	}
	if _, _, code := e.run("status", "--limit", hostStatus, "--stale-after", "30s"); code != 0 {
		t.Errorf("--limit the reporting host: exit %d", code)
	}
	e.ssh(hostStatusSystemd, "sudo systemctl start telegraf")
	// Reporting again, and its deadman back to OK: no alert is listed.
	eventually(t, 90*time.Second, hostStatusSystemd+" reporting again, its alert cleared", func() (bool, string) {
		code, hs, out := e.statusJSON("--stale-after", "30s")
		return code == cli.ExitOK && len(hs[hostStatusSystemd]["alerts"].([]any)) == 0, out
	})

	// Unreachable: the host's address now leads nowhere; its server side is still reported.
	e.edit(fmt.Sprintf("address = %q", e.bed.Host(t, hostStatus).Address), fmt.Sprintf("address = %q", unreachable))
	code, hs, out := e.statusJSON("--stale-after", "30s")
	if h := hs[hostStatus]; code != cli.ExitNotReporting || h["state"] != "unreachable" || h["error"] == nil || h["last_point"] == nil ||
		!strings.HasPrefix(problems(h), "unreachable: ") || hs[hostStatusSystemd]["state"] != "reporting" {
		t.Errorf("unreachable host: exit %d\n%s", code, out)
	}
	if out, _, code := e.run("status", "--no-ssh", "--stale-after", "30s"); code != 0 {
		t.Errorf("--no-ssh does not need the host: exit %d\n%s", code, out)
	}
}

// TestWaitReportingStopsASilentCanary: a rollout gated on reporting passes when the agents report after their
// restart; a change after which the agents start but write nothing (their InfluxDB URL on a closed port) stops at
// the canary, like a failed apply, naming the host that went silent; the hosts behind it are never started and
// keep reporting.
func TestWaitReportingStopsASilentCanary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostGateCanary, hostGateNext}, "", "")
	out, stderr, code := e.run("apply", "--auto-approve", "--batch", "1", "--wait-reporting", "2m")
	if code != 0 || strings.Contains(out, "went silent") {
		t.Fatalf("onboarding gated on reporting: exit %d\n%s\n%s", code, out, stderr)
	}
	if out, _, code := e.run("status", "--stale-after", "1m"); code != 0 {
		t.Fatalf("after a gated onboarding every agent reports: exit %d\n%s", code, out)
	}

	good := fmt.Sprintf("agent_url = %q", e.bed.InfluxDB.HostURL)
	bad := fmt.Sprintf("agent_url = %q", strings.TrimSuffix(e.bed.InfluxDB.HostURL, "18086")+"18087")
	if !strings.HasSuffix(e.bed.InfluxDB.HostURL, ":18086") {
		t.Fatalf("the bed's InfluxDB is not on 18086: %s", e.bed.InfluxDB.HostURL)
	}
	e.edit(good, bad)
	before := e.agentPID(hostGateNext)
	t0 := time.Now()
	out, stderr, code = e.run("apply", "--auto-approve", "--batch", "1", "--wait-reporting", "40s", "--format", "json")
	took := time.Since(t0)
	if code != cli.ExitError {
		t.Fatalf("a silent canary: exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	doc := viewstest.OneJSONDocument(t, []byte(out))
	rep := doc["report"].(map[string]any)
	if want := "not started: the canary batch (the first host) had 1 failed (went silent: " + hostGateCanary + ")"; rep["stop_reason"] != want {
		t.Errorf("stop reason %q, want %q", rep["stop_reason"], want)
	}
	byHost := map[string]map[string]any{}
	for _, h := range rep["hosts"].([]any) {
		byHost[h.(map[string]any)["host"].(string)] = h.(map[string]any)
	}
	canary, next := byHost[hostGateCanary], byHost[hostGateNext]
	if canary["result"] != "failed" || !strings.HasPrefix(canary["error"].(string), "went silent: no new point within --wait-reporting 40s of the apply") ||
		len(canary["applied"].([]any)) == 0 {
		t.Errorf("the canary: %v", canary)
	}
	if next["result"] != "not started" {
		t.Errorf("behind the canary: %v", next)
	}
	if took < 40*time.Second {
		t.Errorf("the run gave the canary %s, less than the window", took)
	}
	if pid := e.agentPID(hostGateNext); pid != before {
		t.Errorf("the host behind the canary was restarted: %s → %s", before, pid)
	}
	// The canary's agent runs, and writes nothing: status says so.
	eventually(t, 60*time.Second, hostGateCanary+" stale", func() (bool, string) {
		code, hs, out := e.statusJSON("--stale-after", "20s")
		return code == cli.ExitNotReporting && hs[hostGateCanary]["state"] == "stale" && hs[hostGateCanary]["agent"] == "active" &&
			hs[hostGateNext]["state"] == "reporting", out
	})
	// The text summary names the silent host.
	e.edit(bad, strings.Replace(bad, "18087", "18088", 1))
	out, _, code = e.run("apply", "--auto-approve", "--batch", "1", "--wait-reporting", "15s")
	t.Logf("fleetctl apply --auto-approve --batch 1 --wait-reporting 15s (exit %d):\n%s", code, out)
	if code != cli.ExitError || !regexpMatch(`(?m)^`+hostGateCanary+` +failed +\d+ +\S+ +went silent: no new point within --wait-reporting 15s`, out) ||
		!strings.Contains(out, "Stopped early: the canary batch (the first host) had 1 failed (went silent: "+hostGateCanary+").") {
		t.Errorf("text summary of a silent canary: exit %d\n%s", code, out)
	}
	// Fixed, the rollout goes through and both report.
	e.edit(strings.Replace(bad, "18087", "18088", 1), good)
	if out, stderr, code := e.run("apply", "--auto-approve", "--batch", "1", "--wait-reporting", "2m"); code != 0 {
		t.Fatalf("the fix, gated: exit %d\n%s\n%s", code, out, stderr)
	}
}
