package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Hosts of the input tests.
const (
	hostSite1     = "c26-debian12" // the user's new input rolls out to these two (group site)
	hostSite2     = "c27-debian11"
	hostSiteOther = "c28-debian13" // must not move; then the minimal profile
	hostWebProf   = "c29-rocky9"   // the web profile, reading a real nginx
	hostDBProf    = "c30-suse15"   // the database profile, reading a real PostgreSQL
)

// The user's snippet: an HTTP check of a per-host URL with basic auth, its password a secret.
const siteCheckConf = `[[inputs.http_response]]
  urls = [{{ .url }}]
  method = "GET"
  username = "monitor"
  password = {{ .password }}
  [inputs.http_response.tags]
    check = {{ .label }}
`

const siteCheckDecl = `doc = "one HTTP check per host, with basic auth"

[vars.url]
type = "string"
doc = "the URL to check"

[vars.password]
type = "secret"
doc = "the monitor user's password"

[vars.label]
type = "string"
default = "site"
`

// TestRolloutUserInput is the rollout of a plugin that fleetctl does not ship: a snippet from the user's folder with
// a per-host URL and a secret, added to one group. plan --only shows exactly the inputs file's diff (its mode
// tightened, the secret masked) on exactly those hosts; apply restarts the agent there only; the plugin's data
// arrives in each host's database; a re-plan is empty. Then a snippet the agent refuses fails the canary: the file is
// restored there, no agent restarts, and the other host is not started.
func TestRolloutUserInput(t *testing.T) {
	t.Parallel()
	site := []string{hostSite1, hostSite2}
	all := append(append([]string{}, site...), hostSiteOther)
	e := newEnv(t, all, "[groups.site]\n", "")
	for _, h := range site {
		e.edit(`name = "`+h+`"`, `name = "`+h+`"`+"\ngroups = [\"site\"]")
	}
	e.must("apply", "--auto-approve")
	pids := map[string]string{}
	for _, h := range all {
		pids[h] = e.agentPID(h)
	}

	// The user's folder and the password, private as every secret file.
	dir := filepath.Join(e.dir, "inputs")
	putInputFile(t, filepath.Join(dir, "site_check.conf"), siteCheckConf, 0o644)
	putInputFile(t, filepath.Join(dir, "site_check.toml"), siteCheckDecl, 0o644)
	password := fmt.Sprintf("site-pw-%d", time.Now().UnixNano())
	putInputFile(t, filepath.Join(e.dir, "site-password"), password+"\n", 0o600)
	influx, err := url.Parse(e.bed.InfluxDB.HostURL)
	if err != nil {
		t.Fatal(err)
	}
	e.edit("[telegraf]\n", "[telegraf]\ninputs_dir = \"inputs\"\n")
	e.edit("[groups.site]\n", "[groups.site]\ninputs_add = [\"site_check\"]\ninput_vars.site_check.password = { file = \"site-password\" }\n")
	urlOf := func(h string) string { return fmt.Sprintf("http://%s/ping?from=%s", influx.Host, h) }
	for _, h := range site {
		e.edit(`name = "`+h+`"`, `name = "`+h+`"`+fmt.Sprintf("\ninput_vars.site_check.url = %q", urlOf(h)))
	}

	only := "*/file:*fleetctl-inputs.conf"
	plan := e.must("plan", "--only", only)
	for _, h := range site {
		s := hostSection(plan, h)
		for _, w := range []string{"~ update " + h + "/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf", "mode: 0644 → 0640",
			"group: root → telegraf", "+[[inputs.http_response]]", `+  urls = ["` + urlOf(h) + `"]`, "↻ restart " + h + "/service:telegraf#restart"} {
			if !strings.Contains(s, w) {
				t.Errorf("%s: plan lacks %q:\n%s", h, w, s)
			}
		}
		if n := len(changeLines.FindAllString(s, -1)); n != 2 {
			t.Errorf("%s: want the inputs file and the restart only, got %d changes:\n%s", h, n, s)
		}
		if !strings.Contains(s, "password = ") || strings.Contains(s, password) {
			t.Errorf("%s: the password line is missing or not masked:\n%s", h, s)
		}
	}
	if strings.Contains(plan, hostSiteOther+":") || strings.Contains(plan, hostSiteOther+",") {
		t.Errorf("%s is in the plan:\n%s", hostSiteOther, plan)
	}

	// Every view of the plan masks the secret (checkInputSecret below reads every output).
	e.must("plan", "--only", only, "--format", "json")
	e.must("plan", "--only", only, "--format", "markdown")
	e.must("render", "--host", hostSite1)
	e.must("apply", "--auto-approve", "--only", only)
	for _, h := range all {
		pid := e.agentPID(h)
		if moved := pid != pids[h]; moved != (h != hostSiteOther) {
			t.Errorf("%s: agent pid %s → %s; want a restart only on the site group", h, pids[h], pid)
		}
		pids[h] = pid
	}
	for _, h := range site {
		if got := strings.TrimSpace(e.ssh(h, "sudo stat -c '%a %U %G' /etc/telegraf/telegraf.d/fleetctl-inputs.conf")); got != "640 root telegraf" {
			t.Errorf("%s: inputs file holding a secret: %s", h, got)
		}
		db := strings.NewReplacer("-", "_", ".", "_").Replace(h)
		eventually(t, 90*time.Second, h+": http_response points in InfluxDB", func() (bool, string) {
			v := e.influxLast(db, `SELECT last("http_response_code") FROM "http_response" WHERE "check" = 'site'`)
			return v == "204", v
		})
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 3 hosts.") {
		t.Fatalf("re-plan after the rollout is not empty:\n%s", out)
	}

	// A snippet broken offline (not TOML) is refused before any host is contacted.
	putInputFile(t, filepath.Join(dir, "site_check.conf"), "[[inputs.http_response]]\n  urls = [{{ .url }}\n", 0o644)
	if out, stderr, code := e.run("apply", "--auto-approve"); code != 1 || !regexpMatch(`site_check\.conf:\d+: not valid TOML`, stderr) {
		t.Errorf("a snippet that is not TOML: exit %d\n%s\n%s", code, out, stderr)
	}

	// A snippet the agent refuses (an option http_response does not have) passes offline validation, and fails the
	// canary's config check: nothing restarts, the canary's file is restored, the other host is not started.
	putInputFile(t, filepath.Join(dir, "site_check.conf"), siteCheckConf+"  no_such_option = true\n", 0o644)
	before := map[string]string{}
	for _, h := range all {
		before[h] = e.ssh(h, "sudo sha256sum /etc/telegraf/telegraf.d/fleetctl-inputs.conf")
	}
	out, stderr, code := e.run("apply", "--auto-approve", "--batch", "1")
	if code != 1 || !strings.Contains(out+stderr, "no_such_option") || !strings.Contains(out+stderr, "not started") {
		t.Errorf("a snippet the agent refuses: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, h := range all {
		if got := e.ssh(h, "sudo sha256sum /etc/telegraf/telegraf.d/fleetctl-inputs.conf"); got != before[h] {
			t.Errorf("%s: the inputs file changed after the failed canary", h)
		}
		if pid := e.agentPID(h); pid != pids[h] {
			t.Errorf("%s: agent restarted (pid %s → %s) by a failed rollout", h, pids[h], pid)
		}
	}
	e.checkInputSecret(password)
}

// TestShippedProfiles onboards the shipped profiles and extra inputs on real agents: every agent passes its config
// check and runs. The web profile reads a real nginx's stub_status and the database profile a real PostgreSQL (both
// on the bed machine, from Debian's packages, reached over the bed's bridge through the snippets' variables); their
// measurements arrive in InfluxDB.
func TestShippedProfiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostSiteOther, hostWebProf, hostDBProf}, "", "")
	influx, err := url.Parse(e.bed.InfluxDB.HostURL)
	if err != nil {
		t.Fatal(err)
	}
	gw := influx.Hostname()
	nginxPort, pgPort := startNginx(t, gw), startPostgres(t, gw)
	e.edit(`name = "`+hostSiteOther+`"`, `name = "`+hostSiteOther+`"`+"\nprofile = \"minimal\"")
	e.edit(`name = "`+hostWebProf+`"`, `name = "`+hostWebProf+`"`+fmt.Sprintf("\nprofile = \"web\"\ninputs_add = [\"apache\", \"redis\", \"internal\", \"nstat\"]\n"+
		"input_vars.nginx.urls = [\"http://%s:%d/nginx_status\"]", gw, nginxPort))
	e.edit(`name = "`+hostDBProf+`"`, `name = "`+hostDBProf+`"`+fmt.Sprintf("\nprofile = \"database\"\ninputs_add = [\"mysql\", \"interrupts\", \"linux_sysctl_fs\"]\n"+
		"input_vars.postgresql.address = \"host=%s port=%d user=telegraf dbname=postgres sslmode=disable\"", gw, pgPort))
	e.must("apply", "--auto-approve")
	for _, h := range []string{hostSiteOther, hostWebProf, hostDBProf} {
		if got := strings.TrimSpace(e.ssh(h, "systemctl is-active telegraf")); got != "active" {
			t.Errorf("%s: agent %s", h, got)
		}
	}
	for h, q := range map[string]string{
		hostWebProf: `SELECT last("accepts") FROM "nginx"`,
		hostDBProf:  `SELECT last("numbackends") FROM "postgresql"`,
	} {
		db := strings.NewReplacer("-", "_", ".", "_").Replace(h)
		eventually(t, 90*time.Second, h+": "+q, func() (bool, string) {
			v := e.influxLast(db, q)
			return v != "", v
		})
	}
	if out := e.must("render", "--host", hostSiteOther); !strings.Contains(out, "[[inputs.cpu]]") || strings.Contains(out, "[[inputs.diskio]]") {
		t.Errorf("minimal profile:\n%s", out)
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 3 hosts.") {
		t.Fatalf("re-plan not empty:\n%s", out)
	}
}

// influxLast is the value of the first row of a query in db, as text; "" when there is none.
func (e *env) influxLast(db, q string) string {
	e.t.Helper()
	_, body := e.influxQuery(db, e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, q)
	var r struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	raw, _ := json.Marshal(body)
	if json.Unmarshal(raw, &r) != nil || len(r.Results) == 0 || len(r.Results[0].Series) == 0 || len(r.Results[0].Series[0].Values) == 0 ||
		len(r.Results[0].Series[0].Values[0]) < 2 || r.Results[0].Series[0].Values[0][1] == nil {
		return ""
	}
	return fmt.Sprint(r.Results[0].Series[0].Values[0][1])
}

// checkInputSecret fails the test if s appeared in any output of the test's commands.
func (e *env) checkInputSecret(s string) {
	e.t.Helper()
	for _, out := range e.outputs {
		if strings.Contains(out, s) {
			e.t.Errorf("an input's secret appeared in fleetctl's output:\n%s", strings.ReplaceAll(out, s, "<THE SECRET>"))
		}
	}
}

func putInputFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// freeBridgePort is a TCP port free on addr now.
func freeBridgePort(t *testing.T, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits until something accepts connections on addr:port.
func waitListening(t *testing.T, what, addr string, port int) {
	t.Helper()
	eventually(t, 30*time.Second, what+" listening", func() (bool, string) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, fmt.Sprint(port)), time.Second)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
}

// startNginx runs Debian's nginx (test/testbed/up installs nginx-light) on addr with stub_status at /nginx_status,
// until the test ends; it returns the port.
func startNginx(t *testing.T, addr string) int {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Fatalf("nginx is not installed on the bed machine (test/testbed/up installs nginx-light): %v", err)
	}
	dir, port := t.TempDir(), freeBridgePort(t, addr)
	conf := fmt.Sprintf(`daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s;
  proxy_temp_path %[1]s;
  fastcgi_temp_path %[1]s;
  uwsgi_temp_path %[1]s;
  scgi_temp_path %[1]s;
  server {
    listen %[2]s:%[3]d;
    location /nginx_status { stub_status; }
  }
}
`, dir, addr, port)
	putInputFile(t, filepath.Join(dir, "nginx.conf"), conf, 0o644)
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	startBedService(t, cmd, filepath.Join(dir, "error.log"))
	waitListening(t, "nginx", addr, port)
	return port
}

// startPostgres runs Debian's PostgreSQL (test/testbed/up installs postgresql) as nobody on addr, with a telegraf
// role that needs no password, until the test ends; it returns the port.
func startPostgres(t *testing.T, addr string) int {
	t.Helper()
	bindir := ""
	for _, v := range []string{"17", "16", "15", "14", "13"} {
		if _, err := os.Stat("/usr/lib/postgresql/" + v + "/bin/postgres"); err == nil {
			bindir = "/usr/lib/postgresql/" + v + "/bin"
			break
		}
	}
	if bindir == "" {
		t.Fatal("PostgreSQL is not installed on the bed machine (test/testbed/up installs postgresql)")
	}
	// Not under t.TempDir, whose folders nobody cannot enter.
	dir, err := os.MkdirTemp("", "fleetctl-pg.")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freeBridgePort(t, addr)
	data := filepath.Join(dir, "data")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("setpriv", append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command("install", "-d", "-o", "nobody", "-g", "nogroup", "-m", "700", data).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run(bindir+"/initdb", "-D", data, "-U", "telegraf", "--auth=trust", "-E", "UTF8", "--no-sync")
	putInputFile(t, filepath.Join(data, "pg_hba.conf"), "host all telegraf 0.0.0.0/0 trust\nlocal all all trust\n", 0o600)
	if out, err := exec.Command("chown", "nobody:nogroup", filepath.Join(data, "pg_hba.conf")).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cmd := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
		bindir+"/postgres", "-D", data, "-h", addr, "-p", fmt.Sprint(port), "-k", data, "-c", "fsync=off")
	startBedService(t, cmd, "")
	waitListening(t, "postgres", addr, port)
	return port
}

// startBedService starts cmd and stops it when the test ends; log (if any) is shown when the test failed.
func startBedService(t *testing.T, cmd *exec.Cmd, log string) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			if log != "" {
				b, _ := os.ReadFile(log)
				out.Write(b)
			}
			t.Logf("%s:\n%s", cmd.Path, out.String())
		}
	})
}
