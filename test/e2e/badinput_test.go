package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// databaseExists asks InfluxDB as the admin.
func (e *env) databaseExists(db string) bool {
	e.t.Helper()
	code, body := e.influxQuery("", e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, "SHOW DATABASES")
	raw, _ := json.Marshal(body)
	if code != 200 || !strings.Contains(string(raw), `"values"`) && !strings.Contains(string(raw), `"series"`) {
		e.t.Fatalf("SHOW DATABASES: %d %s", code, raw)
	}
	return strings.Contains(string(raw), `["`+db+`"]`)
}

// TestMissingCredentialsTouchNothing: a secret that cannot be read stops the run before any server or host is
// contacted, naming the inventory key, where it comes from, and the fix. Every server and the host are reached
// through counting relays, which the same run with the secret set does go through.
func TestMissingCredentialsTouchNothing(t *testing.T) {
	e := newEnv(t, []string{hostNew}, "", "") // hostNew is only ever planned
	e.edit(`admin_password = { file = "secrets/influxdb-admin" }`, `admin_password = { env = "FLEETCTL_E2E_ADMIN_PASSWORD" }`)
	seen := e.watchContacts()
	t.Setenv("FLEETCTL_E2E_ADMIN_PASSWORD", "")
	os.Unsetenv("FLEETCTL_E2E_ADMIN_PASSWORD")
	_, stderr, code := e.run("apply", "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "influxdb.admin_password: environment variable FLEETCTL_E2E_ADMIN_PASSWORD is not set") ||
		!strings.Contains(stderr, "inventory.toml:") {
		t.Fatalf("want a located error naming the key, got exit %d:\n%s", code, stderr)
	}
	noContact(t, seen, "a run refused for a missing secret")

	// The relays are in the path: with the secret there, the same inventory reaches every server and the host.
	t.Setenv("FLEETCTL_E2E_ADMIN_PASSWORD", e.bed.InfluxDB.AdminPassword)
	e.must("plan")
	for _, name := range []string{"influxdb", "grafana", "kapacitor", "telegraf.key_url", "host " + hostNew} {
		if seen.Count(name) == 0 {
			t.Errorf("a plan did not go through the relay of %s: %s", name, seen)
		}
	}
}

// TestFailingHostsLeaveOthersAlone: an unreachable host and a host whose key changed fail, each with its reason;
// the healthy host beside them is onboarded and converges.
func TestFailingHostsLeaveOthersAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostOther, hostRekeyed}, "", "")
	e.edit(`use_agent = false`, "use_agent = false\nconnect_timeout = \"3s\"")
	e.addHost(`name = "gone"` + "\naddress = \"" + unreachable + "\"")

	// known_hosts where the rekeyed host's line carries another host's key.
	kh, err := os.ReadFile(e.bed.SSH.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	rekeyed, donor := e.bed.Host(t, hostRekeyed), e.bed.Host(t, hostOther)
	var lines []string
	var donorKey string
	for _, l := range strings.Split(strings.TrimSpace(string(kh)), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == donor.Address {
			donorKey = f[1] + " " + f[2]
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(string(kh)), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == rekeyed.Address {
			l = rekeyed.Address + " " + donorKey
		}
		lines = append(lines, l)
	}
	khPath := filepath.Join(e.dir, "known_hosts")
	if err := os.WriteFile(khPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.edit(`known_hosts = "`+e.bed.SSH.KnownHosts+`"`, `known_hosts = "`+khPath+`"`)

	out, stderr, code := e.run("apply", "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "2 of 3 hosts") {
		t.Fatalf("want exit 1 with two failed hosts, got %d:\n%s\n%s", code, out, stderr)
	}
	if !regexp.MustCompile(`gone: .*connect to ` + regexp.QuoteMeta(unreachable) + `:22`).MatchString(out) {
		t.Errorf("unreachable host not reported with its address:\n%s", out)
	}
	if !regexp.MustCompile(hostRekeyed + `: .*host key changed: .*now offers ssh-ed25519 SHA256:\S+ but known_hosts has ssh-ed25519 SHA256:\S+`).MatchString(out) {
		t.Errorf("changed host key not refused with both fingerprints:\n%s", out)
	}
	if e.databaseExists(strings.ReplaceAll(hostRekeyed, "-", "_")) || !e.databaseExists(strings.ReplaceAll(hostOther, "-", "_")) {
		t.Error("databases: want the healthy host's and not the refused host's")
	}
	// The healthy host was onboarded and has converged.
	out, _, _ = e.run("plan", "--limit", hostOther)
	if !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("healthy host did not converge:\n%s", out)
	}
}

// TestUnknownHostKeyNeedsConsent: a host missing from known_hosts is refused; --accept-new-host-keys records its
// key, after which the plain run accepts it.
func TestUnknownHostKeyNeedsConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostNew}, "", "")
	khPath := filepath.Join(e.dir, "known_hosts")
	if err := os.WriteFile(khPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.edit(`known_hosts = "`+e.bed.SSH.KnownHosts+`"`, `known_hosts = "`+khPath+`"`)
	out, _, code := e.run("plan")
	if code != 1 || !strings.Contains(out, "host key unknown") || !strings.Contains(out, "--accept-new-host-keys") {
		t.Fatalf("unknown host not refused with the fix: exit %d\n%s", code, out)
	}
	e.must("plan", "--accept-new-host-keys")
	if b, _ := os.ReadFile(khPath); !strings.Contains(string(b), e.bed.Host(t, hostNew).Address+" ssh-ed25519 ") {
		t.Fatalf("key not recorded:\n%s", b)
	}
	e.must("plan")
}

// TestBrokenPackRefusedOffline: a TICK syntax error in a team pack is reported by validate and stops plan before
// any server is contacted, naming pack, file and line.
func TestBrokenPackRefusedOffline(t *testing.T) {
	t.Parallel()
	packs, _ := filepath.Abs("testdata/brokenpacks")
	e := newEnv(t, []string{hostOther}, "[alerts]\npacks_dir = \""+packs+"\"\n", `alert_packs = ["broken"]`)
	for _, cmd := range []string{"validate", "plan"} {
		_, stderr, code := e.run(cmd)
		if code != 1 || !regexp.MustCompile(`broken.*broken\.tick.*line \d+|broken\.tick:\d+`).MatchString(stderr) {
			t.Fatalf("%s: want the pack, file and line of the TICK error, got exit %d:\n%s", cmd, code, stderr)
		}
	}
}

// TestBadHostNamesRefused: names that would break a TICK string literal or an InfluxQL identifier never reach a
// server or a host; the error says why and where, and the run exits 1.
func TestBadHostNamesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, "", "")
	e.addHost(`name = "web'1"` + "\naddress = \"10.0.0.1\"")
	e.addHost(`name = "db\"2"` + "\naddress = \"10.0.0.2\"")
	e.addHost(`name = "ok"` + "\naddress = \"10.0.0.3\"\nadress = \"typo\"")
	seen := e.watchContacts()
	for _, cmd := range []string{"plan", "apply"} {
		args := []string{cmd}
		if cmd == "apply" {
			args = append(args, "--auto-approve")
		}
		_, stderr, code := e.run(args...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1:\n%s", cmd, code, stderr)
		}
		for _, want := range []string{`hosts[0].name`, `hosts[1].name`, `hosts[2].adress: unknown key (did you mean "address"?)`, "TICK"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: error lacks %q:\n%s", cmd, want, stderr)
			}
		}
		noContact(t, seen, cmd+" of an inventory with bad host names")
	}
}
