package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// initHosts are the bed's hosts whose PID 1 is sysvinit's init: with OpenRC as its rc, and with sysv-rc. Both keep
// Debian's systemd package (and systemctl), as a Debian server switched away from systemd does.
var initHosts = map[string]string{"openrc": "or1-debian12", "sysv": "sv1-debian12"}

// initPID is the running agent's PID on a host without systemd ("" when none runs): the PID file InfluxData's init
// script has telegraf write, and that process alive.
func (e *env) initPID(host string) string {
	e.t.Helper()
	return strings.TrimSpace(e.ssh(host, `p=$(sudo cat /var/run/telegraf/telegraf.pid 2>/dev/null) && [ -d "/proc/$p" ] && echo "$p" || true`))
}

// TestInitSystems onboards one Debian 12 host run by OpenRC and one run by SysV init (sysv-rc), with the bed's
// package and its InfluxData init script: the plan uses each host's own service manager; apply leaves the agent
// enabled in that manager's way and running, its points arriving; a re-plan is empty. Then a managed file edited and
// the agent stopped behind fleetctl's back are found and repaired, and a changed input restarts the agent (a new PID)
// whose new points arrive; every re-plan is empty.
func TestInitSystems(t *testing.T) {
	t.Parallel()
	hosts := []string{initHosts["openrc"], initHosts["sysv"]}
	e := newEnv(t, hosts, "", "")
	admin, adminPW := e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword
	db := func(host string) string { return strings.NewReplacer("-", "_", ".", "_").Replace(host) }
	// enabledRunning is how each host's own tools show an enabled, running agent.
	enabledRunning := map[string]struct{ cmd, want string }{
		initHosts["openrc"]: {"sudo rc-update show default | grep -c '^ *telegraf |'; sudo rc-service telegraf status >/dev/null && echo running",
			"1\nrunning"},
		initHosts["sysv"]: {"ls /etc/rc2.d/ | grep -c '^S[0-9]*telegraf$'; sudo service telegraf status >/dev/null && echo running",
			"1\nrunning"},
	}
	checkRunning := func(when string) {
		t.Helper()
		for _, h := range hosts {
			c := enabledRunning[h]
			if got := strings.TrimSpace(e.ssh(h, c.cmd)); got != c.want {
				t.Errorf("%s %s: %q gave %q, want %q", h, when, c.cmd, got, c.want)
			}
		}
	}
	emptyReplan := func(when string) {
		t.Helper()
		if out := e.must("plan"); !strings.Contains(out, "No changes on 2 hosts.") {
			t.Fatalf("re-plan %s not empty:\n%s", when, out)
		}
	}
	// arrives waits for a point of measurement from host written after since.
	arrives := func(host, measurement, field string, since time.Time) {
		t.Helper()
		q := fmt.Sprintf(`SELECT count(%q) FROM %q WHERE "host" = '%s' AND time > %d`, field, measurement, host, since.UnixNano())
		eventually(t, 90*time.Second, host+": points of "+measurement, func() (bool, string) {
			_, body := e.influxQuery(db(host), admin, adminPW, q)
			s := fmt.Sprint(body)
			return strings.Contains(s, "series"), s
		})
	}

	plan := e.must("plan")
	for _, h := range hosts {
		section := hostSection(plan, h)
		for _, w := range []string{"+ create package:telegraf", "enabled: absent → enabled", "↻ restart service:telegraf"} {
			if w = addressed(w, h); !strings.Contains(section, w) {
				t.Errorf("%s: plan lacks %q:\n%s", h, w, section)
			}
		}
	}
	onboarded := time.Now()
	if out := e.must("apply", "--auto-approve"); strings.Contains(out, "Outcome differs") {
		t.Fatalf("apply did not do what it planned:\n%s", out)
	}
	// The package put InfluxData's init script in place, and no systemd runs the host.
	for _, h := range hosts {
		got := e.ssh(h, "head -c 200 /etc/init.d/telegraf; [ -d /run/systemd/system ] && echo systemd-runs || echo no-systemd; command -v systemctl")
		for _, w := range []string{"# chkconfig: 2345 99 01", "Provides:          telegraf", "no-systemd", "/usr/bin/systemctl"} {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q:\n%s", h, w, got)
			}
		}
	}
	checkRunning("after onboarding")
	for _, h := range hosts {
		arrives(h, "system", "uptime", onboarded)
	}
	emptyReplan("after onboarding")

	// Drift: a managed file edited on one host, the agent stopped with the host's own tool on the other.
	edited, stopped := initHosts["openrc"], initHosts["sysv"]
	inputs := "/etc/telegraf/telegraf.d/fleetctl-inputs.conf"
	e.ssh(edited, "sudo sed -i 's/percpu = true/percpu = false/' "+inputs)
	e.ssh(stopped, "sudo service telegraf stop >/dev/null")
	if pid := e.initPID(stopped); pid != "" {
		t.Fatalf("%s: the agent still runs (pid %s) after service telegraf stop", stopped, pid)
	}
	editedPID := e.initPID(edited)
	plan = e.must("plan")
	for h, want := range map[string][]string{
		edited:  {"~ update file:" + inputs, "↻ restart service:telegraf"},
		stopped: {"active: inactive → active"},
	} {
		section := hostSection(plan, h)
		for _, w := range want {
			if !strings.Contains(section, addressed(w, h)) {
				t.Errorf("%s: drift not planned as %q:\n%s", h, w, section)
			}
		}
		if n := len(changeLines.FindAllString(section, -1)); n != len(want) {
			t.Errorf("%s: want exactly the drift (%d changes), got %d:\n%s", h, len(want), n, section)
		}
	}
	e.must("apply", "--auto-approve")
	checkRunning("after the repair")
	if now := e.initPID(edited); now == "" || now == editedPID {
		t.Errorf("%s: agent not restarted by the repair of its inputs: pid %q, before %q", edited, now, editedPID)
	}
	if got := e.ssh(edited, "grep -c 'percpu = true' "+inputs); strings.TrimSpace(got) != "1" {
		t.Errorf("%s: %s not repaired: %s", edited, inputs, got)
	}
	emptyReplan("after the repair")

	// Restart on change: a new input for both hosts restarts each agent, whose points of it arrive.
	before := map[string]string{}
	for _, h := range hosts {
		before[h] = e.initPID(h)
	}
	e.edit("[defaults]\n", "[defaults]\ninputs_add = [\"nstat\"]\n")
	plan = e.must("plan")
	for _, h := range hosts {
		section := hostSection(plan, h)
		if !strings.Contains(section, "+[[inputs.nstat]]") || !strings.Contains(section, addressed("↻ restart service:telegraf", h)) {
			t.Errorf("%s: the new input and a restart not planned:\n%s", h, section)
		}
	}
	changed := time.Now()
	e.must("apply", "--auto-approve")
	for _, h := range hosts {
		if now := e.initPID(h); now == "" || now == before[h] {
			t.Errorf("%s: agent not restarted by the new input: pid %q, before %q", h, now, before[h])
		}
		arrives(h, "nstat", "IpInReceives", changed)
	}
	checkRunning("after the change")
	emptyReplan("after the change")
}
