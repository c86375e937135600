package e2e

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestFamilies onboards one real-systemd host of every family the bed has (Debian 11, 12, 13 with apt, "Rocky 9"
// with dnf, "openSUSE 15" with zypper) in one run: the plan shows each family's repository, package and service
// steps; apply converges; a re-run is empty; then one drift per host is found exactly and repaired.
func TestFamilies(t *testing.T) {
	t.Parallel()
	var hosts []string
	for _, h := range familyHosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	e := newEnv(t, hosts, "", "")

	plan := e.must("plan")
	want := map[string][]string{
		"apt":    {"+ create file:/etc/apt/keyrings/influxdata-archive.gpg", "+ create file:/etc/apt/sources.list.d/influxdata.list", "manager: apt"},
		"dnf":    {"+ create file:/etc/pki/rpm-gpg/RPM-GPG-KEY-influxdata", "+ create file:/etc/yum.repos.d/influxdata.repo", "manager: dnf"},
		"zypper": {"+ create file:/etc/pki/rpm-gpg/RPM-GPG-KEY-influxdata", "+ create file:/etc/zypp/repos.d/influxdata.repo", "manager: zypper"},
	}
	family := map[string]string{"debian11": "apt", "debian12": "apt", "debian13": "apt", "rocky9": "dnf", "suse15": "zypper"}
	for tag, host := range familyHosts {
		section := hostSection(plan, host)
		for _, w := range append(want[family[tag]], "+ create package:telegraf", "enabled: absent → enabled", "↻ restart service:telegraf",
			"content: OpenPGP key "+e.bed.Repo.KeyFingerprint) {
			if w = addressed(w, host); !strings.Contains(section, w) {
				t.Errorf("%s (%s): plan lacks %q:\n%s", host, family[tag], w, section)
			}
		}
	}

	e.must("apply", "--auto-approve")
	for _, host := range hosts {
		got := e.ssh(host, ". /etc/os-release; echo $ID; systemctl is-enabled telegraf; systemctl is-active telegraf; telegraf --version")
		if !strings.Contains(got, "enabled\nactive\nTelegraf "+e.bed.Repo.TelegrafVersion) {
			t.Errorf("%s after apply:\n%s", host, got)
		}
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 5 hosts.") {
		t.Fatalf("re-plan after apply not empty:\n%s", out)
	}

	// One drift each, behind fleetctl's back.
	// changes is how many change lines the host's plan must have: the drift, plus a restart where the agent's
	// configuration or package changed (a disabled or stopped agent is enabled or started, not restarted).
	drift := map[string]struct {
		do, expect string
		changes    int
	}{
		"debian11": {"sudo sed -i 's/percpu = true/percpu = false/' /etc/telegraf/telegraf.d/fleetctl-inputs.conf",
			"~ update file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf", 2},
		"debian12": {"sudo systemctl disable -q telegraf", "enabled: disabled → enabled", 1},
		"debian13": {"sudo rm /etc/telegraf/telegraf.d/fleetctl-outputs.conf", "+ create file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf", 2},
		// Removing the package takes its unit, and rpm moves the modified telegraf.conf aside (.rpmsave): package,
		// that file, enabling, and the restart.
		"rocky9": {"sudo dnf -y -q remove telegraf >/dev/null 2>&1", "+ create package:telegraf", 4},
		"suse15": {"sudo systemctl stop telegraf", "active: inactive → active", 1},
	}
	for tag, d := range drift {
		e.ssh(familyHosts[tag], d.do)
	}
	plan = e.must("plan")
	for tag, d := range drift {
		section := hostSection(plan, familyHosts[tag])
		if !strings.Contains(section, addressed(d.expect, familyHosts[tag])) {
			t.Errorf("%s: drift %q not planned as %q:\n%s", familyHosts[tag], d.do, d.expect, section)
		}
	}
	// Exactly those: the disabled and stopped agents are not restarted, nothing else on any host moves.
	for tag, d := range drift {
		if s := hostSection(plan, familyHosts[tag]); len(changeLines.FindAllString(s, -1)) != d.changes {
			t.Errorf("%s: want exactly the drift (%d changes) and nothing else:\n%s", familyHosts[tag], d.changes, s)
		}
	}
	e.must("apply", "--auto-approve")
	if out := e.must("plan"); !strings.Contains(out, "No changes on 5 hosts.") {
		t.Fatalf("drift not repaired:\n%s", out)
	}
	for _, host := range hosts {
		if got := strings.TrimSpace(e.ssh(host, "systemctl is-enabled telegraf; systemctl is-active telegraf")); got != "enabled\nactive" {
			t.Errorf("%s after repair: %q", host, got)
		}
	}
}

// changeLines matches the change lines of a text plan (not their fields or diffs).
var changeLines = regexp.MustCompile(`(?m)^  [-+~↻?] `)

// addressed writes a change line given without its host ("~ update file:/x", "↻ restart service:telegraf") as
// the text plan prints it for one host: with the host in the address, and a side effect's "#restart" or "#reload".
// Other lines are returned as they are.
func addressed(line, host string) string {
	m := regexp.MustCompile(`^([-+~↻?]) (\S+) (\S+)(.*)$`).FindStringSubmatch(line)
	if m == nil || !strings.Contains(m[3], ":") {
		return line
	}
	addr := host + "/" + m[3]
	if m[2] == "restart" || m[2] == "reload" {
		addr += "#" + m[2]
	}
	return m[1] + " " + m[2] + " " + addr + m[4]
}

// hostSection is one host's part of a text plan, from its header line to the blank line after it.
func hostSection(plan, host string) string {
	for _, m := range sectionRE.FindAllStringSubmatch(plan, -1) {
		if m[1] == host { // a whole header asked for, such as "web1, web2 (the same on each)"
			return strings.TrimRight(m[0], "\n")
		}
		names, grouped := strings.CutSuffix(m[1], " (the same on each)")
		if !slices.Contains(strings.Split(names, ", "), host) {
			continue
		}
		section := strings.TrimRight(m[0], "\n")
		if grouped {
			// Hosts with the same changes are shown once, their addresses with "*" for the host: as this host's.
			section = host + section[len(m[1]):]
			section = strings.ReplaceAll(section, " */", " "+host+"/")
		}
		return section
	}
	return ""
}

// sectionRE is one host's section of a text plan (or one of hosts shown together): its header up to ": ", then
// its lines up to a blank line.
var sectionRE = regexp.MustCompile(`(?ms)^([^\n]*?): .*?(\n\n|\z)`)
