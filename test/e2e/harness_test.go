package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/cmd/fleetctl/cli"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/test/testbed"
)

// Hosts this package owns on the bed; no other test package touches them.
const (
	hostFresh   = "sd1-debian12" // onboarded from scratch, then re-planned and re-applied
	hostAlert   = "c6-debian12"  // receives test points that must raise and reset an alert
	hostOther   = "c11-debian12" // onboarded beside hosts that fail, to prove it is unaffected
	hostSudo    = "c16-debian12" // reached as a user whose sudo needs a password
	hostAgent   = "c1-debian12"  // reached with a key held by ssh-agent only
	hostRekeyed = "c12-debian11" // presented to fleetctl with a known_hosts line of another key
	hostNew     = "c17-debian11" // missing from known_hosts until fleetctl is told to accept it
	hostDrift   = "sd7-debian11" // every kind of drift, one after the other
	hostSaved   = "c13-debian13" // saved plans
	hostWeb1    = "c3-debian13"  // the rollout story's web group
	hostWeb2    = "c7-debian11"
	hostDB      = "c8-debian13"  // the rollout story's other group, which must not move
	hostCanary  = "c18-debian13" // behind a failing canary
	hostToken   = "c14-rocky9"   // Grafana reached with a service-account token
	hostRP      = "c15-suse15"   // a retention policy
	hostLock    = "c22-debian11" // two applies at once, and one killed while it holds the host's run lock
	unreachable = "10.210.0.250" // in the bed's subnet, no host behind it
)

// Hosts the Ctrl-C test interrupts, applied one at a time (rpm-family chroot hosts: their installs take longest).
var ctrlCHosts = []string{"c4-rocky9", "c5-suse15", "c9-rocky9", "c10-suse15"}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// One real-systemd host per family, onboarded together by TestFamilies. (The bed's own install tests take the
// highest-index systemd host of each family, so these stay apart.)
var familyHosts = map[string]string{
	"debian11": "sd2-debian11", "debian13": "sd3-debian13", "rocky9": "sd4-rocky9", "suse15": "sd5-suse15", "debian12": "sd6-debian12",
}

// env is one test's view of the bed: its inventory, and every output fleetctl printed.
type env struct {
	t       *testing.T
	bed     *testbed.Bed
	dir     string
	inv     string
	hosts   []string
	outputs []string
	// inFlight counts the applies started with runAsync that have not ended: their staging directories are
	// legitimately on the hosts, so the check that none survives waits for the last of them.
	inFlight atomic.Int32
	// influx is the InfluxDB the inventory names (the bed's plain one, or its HTTPS one), hc the client that
	// trusts it.
	influx testbed.InfluxDB
	hc     *http.Client
}

// newEnv writes an inventory for the named bed hosts into a temporary folder. extra is appended TOML (sections
// the base does not have, such as [alerts]); hostExtra is added to every host entry.
func newEnv(t *testing.T, hosts []string, extra, hostExtra string) *env {
	t.Helper()
	return newEnvOn(t, false, hosts, extra, hostExtra)
}

// newEnvTLS is newEnv on the bed's HTTPS InfluxDB: fleetctl and the agents trust its CA through ca_file.
func newEnvTLS(t *testing.T, hosts []string, extra, hostExtra string) *env {
	t.Helper()
	return newEnvOn(t, true, hosts, extra, hostExtra)
}

func newEnvOn(t *testing.T, https bool, hosts []string, extra, hostExtra string) *env {
	t.Helper()
	b := testbed.Require(t)
	turns.take(t, hosts)
	b.Grafana.URL = grafanaInTurns(t, b.Grafana.URL)
	e := &env{t: t, bed: b, dir: t.TempDir(), hosts: hosts, influx: b.InfluxDB, hc: http.DefaultClient}
	caLine := ""
	if https {
		e.influx, e.hc, caLine = b.InfluxDBTLS, trustingClient(t, b.InfluxDBTLS.CAFile), fmt.Sprintf("ca_file = %q\n", b.InfluxDBTLS.CAFile)
	}
	if err := os.Symlink(filepath.Join(b.Dir, "secrets"), filepath.Join(e.dir, "secrets")); err != nil {
		t.Fatal(err)
	}
	var inv strings.Builder
	fmt.Fprintf(&inv, `[influxdb]
url = %q
agent_url = %q
%sadmin_user = %q
admin_password = { file = "secrets/influxdb-admin" }
[grafana]
url = %q
user = %q
password = { file = "secrets/grafana-admin" }
[kapacitor]
url = %q
[secrets]
master = { file = "secrets/fleet-master" }
[telegraf]
apt_url = %q
rpm_url = %q
key_url = %q
key_fingerprint = %q
[ssh]
user = %q
identity_files = [%q]
use_agent = false
known_hosts = %q
[defaults]
alert_packs = ["cpu", "memory", "disk", "swap", "load", "deadman"]
%s
`, e.influx.URL, e.influx.HostURL, caLine, e.influx.AdminUser, b.Grafana.URL, b.Grafana.AdminUser, b.Kapacitor.URL,
		b.Repo.AptURL, b.Repo.RPMURL, b.Repo.KeyURL, b.Repo.KeyFingerprint, b.SSH.User, b.SSH.ClientKey, b.SSH.KnownHosts, extra)
	for _, name := range hosts {
		h := b.Host(t, name)
		fmt.Fprintf(&inv, "[[hosts]]\nname = %q\naddress = %q\nport = %d\n%s\n", h.Name, h.Address, h.Port, hostExtra)
	}
	e.inv = filepath.Join(e.dir, "inventory.toml")
	if err := os.WriteFile(e.inv, []byte(inv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.checkNoSecrets)
	return e
}

// addHost appends a raw [[hosts]] entry.
func (e *env) addHost(entry string) {
	f, err := os.OpenFile(e.inv, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "[[hosts]]\n%s\n", entry)
}

// edit rewrites the inventory with old replaced by new (which must occur).
func (e *env) edit(old, new string) {
	e.t.Helper()
	b, err := os.ReadFile(e.inv)
	if err != nil || !strings.Contains(string(b), old) {
		e.t.Fatalf("inventory lacks %q (%v)", old, err)
	}
	if err := os.WriteFile(e.inv, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// run runs fleetctl in process with the inventory and returns stdout, stderr and the exit code.
func (e *env) run(args ...string) (string, string, int) {
	e.t.Helper()
	return e.runNoInventory(append([]string{args[0], "-i", e.inv}, args[1:]...)...)
}

// runNoInventory runs fleetctl with exactly args (apply FILE takes its inventory from the saved plan).
func (e *env) runNoInventory(args ...string) (string, string, int) {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	io := cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv, Now: time.Now}
	argv := append([]string{"fleetctl"}, args...)
	code := cli.Run(context.Background(), argv, io)
	e.outputs = append(e.outputs, stdout.String(), stderr.String())
	if args[0] == "apply" {
		e.checkKeyFiles()
		e.checkNothingStaged()
	}
	return stdout.String(), stderr.String(), code
}

// checkNothingStaged fails the test if an apply, whatever its outcome, left a directory of fleetctl's in /tmp on
// any of the test's hosts (staged files hold the agent's password).
func (e *env) checkNothingStaged() {
	e.t.Helper()
	if e.inFlight.Load() > 0 {
		return
	}
	for _, h := range e.hosts {
		if left := e.ssh(h, "ls -d /tmp/fleetctl.* 2>/dev/null || true"); left != "" {
			e.t.Errorf("%s: an apply left behind:\n%s", h, left)
		}
	}
}

// must runs fleetctl and fails the test unless it exits 0.
func (e *env) must(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("fleetctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// secrets lists every secret the bed and fleetctl know for the hosts of this test.
func (e *env) secrets(hosts ...string) []string {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(e.bed.Dir, "secrets", name))
		if err != nil {
			e.t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	master := read("fleet-master")
	out := []string{master, read("influxdb-admin"), read("grafana-admin")}
	for _, h := range hosts {
		out = append(out, secret.Derive(secret.New(master), h, catalog.RoleWrite).Reveal(),
			secret.Derive(secret.New(master), h, catalog.RoleRead).Reveal())
	}
	return out
}

// checkNoSecrets fails the test if any output of any command held a secret.
func (e *env) checkNoSecrets() {
	var hosts []string
	for _, h := range e.bed.Hosts {
		hosts = append(hosts, h.Name)
	}
	for _, s := range e.secrets(hosts...) {
		for _, out := range e.outputs {
			if strings.Contains(out, s) {
				e.t.Errorf("a secret appeared in fleetctl's output:\n%s", strings.ReplaceAll(out, s, "<THE SECRET>"))
			}
		}
	}
}

func (e *env) password(host, role string) string {
	b, err := os.ReadFile(filepath.Join(e.bed.Dir, "secrets", "fleet-master"))
	if err != nil {
		e.t.Fatal(err)
	}
	return secret.Derive(secret.New(strings.TrimSpace(string(b))), host, role).Reveal()
}

// influxQuery runs q against db as user; it returns the HTTP status and the decoded body.
func (e *env) influxQuery(db, user, pass, q string) (int, map[string]any) {
	e.t.Helper()
	form := url.Values{"db": {db}, "q": {q}}
	req, _ := http.NewRequest(http.MethodPost, e.influx.URL+"/query", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	return e.doJSON(req)
}

// influxWrite writes line protocol into db as the admin.
func (e *env) influxWrite(db, lines string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.influx.URL+"/write?db="+url.QueryEscape(db), strings.NewReader(lines))
	req.SetBasicAuth(e.influx.AdminUser, e.influx.AdminPassword)
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("write to %s: %s %s", db, resp.Status, body)
	}
}

func (e *env) get(base, path, user, pass string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return e.doJSON(req)
}

func (e *env) doJSON(req *http.Request) (int, map[string]any) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := e.hc.Do(req.WithContext(ctx))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m
}

// ssh runs a command on a bed host.
func (e *env) ssh(host, cmd string) string {
	e.t.Helper()
	return e.bed.Run(e.t, e.bed.Host(e.t, host), cmd)
}

// eventually polls cond every 200 ms until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last: %s)", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// influxExec runs a statement as the admin and fails the test on any error, in the status or the body.
func (e *env) influxExec(q string) {
	e.t.Helper()
	code, body := e.influxQuery("", e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, q)
	if raw, _ := json.Marshal(body); code != 200 || strings.Contains(string(raw), `"error"`) {
		e.t.Fatalf("%s: %d %s", q, code, raw)
	}
}

// call sends a JSON request (body may be nil) and fails the test unless the status is one of ok.
func (e *env) call(method, url, user, pass string, body any, ok ...int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	code, out := e.doJSON(req)
	for _, c := range ok {
		if c == code {
			return out
		}
	}
	e.t.Fatalf("%s %s: %d %v", method, url, code, out)
	return nil
}

func (e *env) grafana(method, path string, body any, ok ...int) map[string]any {
	e.t.Helper()
	return e.call(method, e.bed.Grafana.URL+path, e.bed.Grafana.AdminUser, e.bed.Grafana.AdminPassword, body, ok...)
}

func (e *env) kapacitor(method, path string, body any, ok ...int) map[string]any {
	e.t.Helper()
	return e.call(method, e.bed.Kapacitor.URL+"/kapacitor/v1"+path, "", "", body, ok...)
}

// agentPID is the telegraf main PID on a host ("" or "0" when not running).
func (e *env) agentPID(host string) string {
	e.t.Helper()
	return strings.TrimSpace(e.ssh(host, "systemctl show -p MainPID --value telegraf"))
}
