package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/httpx/tlstest"
)

// Hosts of the TLS tests: one per chroot family, onboarded over HTTPS.
var tlsHosts = []string{"c43-debian13", "c44-rocky9", "c45-suse15"}

// caPath is where the agents' CA certificate goes on the bed's Linux hosts.
const caPath = "/etc/telegraf/telegraf.d/fleetctl-ca.pem"

// trustingClient is an HTTP client that trusts only the CA in caFile (and works for plain http too).
func trustingClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("the bed's CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// TestOnboardOverHTTPS: with InfluxDB on HTTPS and a private CA, fleetctl administers it through ca_file, every host
// gets the CA as a file of its own and tls_ca in its output, and the agents' points arrive over HTTPS and reach
// Kapacitor through its subscription to that InfluxDB. A new CA file rolls out like any change: the file is
// updated, the agent restarted, and points keep arriving.
func TestOnboardOverHTTPS(t *testing.T) {
	t.Parallel()
	e := newEnvTLS(t, tlsHosts, "", "")
	bedCA, err := os.ReadFile(e.influx.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	plan := e.must("plan")
	for _, want := range []string{"file:" + caPath, `certificate "CN=fleetctl test bed CA", expires `} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "BEGIN CERTIFICATE") {
		t.Errorf("plan shows the certificate's PEM rather than its summary:\n%s", plan)
	}
	e.must("apply", "--auto-approve")

	admin, adminPW := e.influx.AdminUser, e.influx.AdminPassword
	for _, h := range tlsHosts {
		got := e.ssh(h, "sudo stat -c '%a %U:%G' "+caPath+"; sudo grep tls_ca /etc/telegraf/telegraf.d/fleetctl-outputs.conf; sudo cat "+caPath)
		for _, want := range []string{"644 root:root\n", `tls_ca = "` + caPath + `"`, strings.TrimSpace(string(bedCA))} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: agent's TLS files lack %q:\n%s", h, want, got)
			}
		}
	}
	since := map[string]string{}
	for _, h := range tlsHosts {
		db := strings.NewReplacer("-", "_", ".", "_").Replace(h)
		eventually(t, 90*time.Second, "points of "+h+" over https", func() (bool, string) {
			_, body := e.influxQuery(db, admin, adminPW, fmt.Sprintf(`SELECT count("uptime") FROM "system" WHERE "host" = '%s'`, h))
			return strings.Contains(fmt.Sprint(body), "series"), fmt.Sprint(body)
		})
		// Kapacitor receives them through its subscription to the HTTPS InfluxDB.
		eventually(t, 60*time.Second, "points of "+h+" in kapacitor", func() (bool, string) {
			_, body := e.get(e.bed.Kapacitor.URL, "/kapacitor/v1/tasks/"+h+"-cpu", "", "")
			raw, _ := json.Marshal(body["stats"])
			var stats struct {
				Nodes map[string]map[string]float64 `json:"node-stats"`
			}
			_ = json.Unmarshal(raw, &stats)
			return body["executing"] == true && stats.Nodes["stream0"]["collected"] > 0, string(raw)
		})
		// Grafana's datasource reaches the HTTPS InfluxDB too (Grafana's host trusts the bed's CA).
		eventually(t, 30*time.Second, "grafana datasource health of "+h, func() (bool, string) {
			code, body := e.get(e.bed.Grafana.URL, "/api/datasources/uid/"+catalog.DatasourceUID(h)+"/health", e.bed.Grafana.AdminUser, e.bed.Grafana.AdminPassword)
			return code == 200 && body["status"] == "OK", fmt.Sprint(code, body)
		})
		since[h] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes on 3 hosts.") {
		t.Fatalf("second plan not empty:\n%s", out)
	}

	// A new CA file (the bed's CA and another, as during a CA rotation) is updated on every host, which restarts
	// its agent; the agents still trust the server and report.
	bundle := filepath.Join(e.dir, "agents-ca.pem")
	if err := os.WriteFile(bundle, append(append([]byte{}, bedCA...), tlstest.NewCA(t, "fleetctl next CA").PEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	e.edit("admin_user =", fmt.Sprintf("agent_ca_file = %q\nadmin_user =", bundle))
	plan = e.must("plan")
	for _, h := range tlsHosts {
		sec := hostSection(plan, h)
		if !strings.Contains(sec, "update") || !strings.Contains(sec, "file:"+caPath) || !strings.Contains(sec, "service:telegraf#restart") ||
			!strings.Contains(sec, `certificate "CN=fleetctl next CA"`) {
			t.Errorf("%s: plan of the new CA lacks its update and restart:\n%s", h, sec)
		}
	}
	pids := map[string]string{}
	for _, h := range tlsHosts {
		pids[h] = e.agentPID(h)
	}
	e.must("apply", "--auto-approve")
	for _, h := range tlsHosts {
		if pid := e.agentPID(h); pid == pids[h] || pid == "" || pid == "0" {
			t.Errorf("%s: the agent was not restarted for the new CA: pid %s then %s", h, pids[h], pid)
		}
		db := strings.NewReplacer("-", "_", ".", "_").Replace(h)
		eventually(t, 90*time.Second, "points of "+h+" after the new CA", func() (bool, string) {
			_, body := e.influxQuery(db, admin, adminPW, fmt.Sprintf(`SELECT count("uptime") FROM "system" WHERE "host" = '%s' AND time > '%s'`, h, since[h]))
			return strings.Contains(fmt.Sprint(body), "series"), fmt.Sprint(body)
		})
	}
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes on 3 hosts.") {
		t.Fatalf("plan after the new CA not empty:\n%s", out)
	}
}

// TestTLSRefusals: against the bed's real HTTPS InfluxDB, a CA that did not sign its certificate, the system's
// roots (which do not know the bed's CA) and a name its certificate lacks are each one error naming the server,
// what it presented and the key to fix, before any host is contacted. insecure_skip_verify gets through, and is
// warned about on stderr and in the plan.
func TestTLSRefusals(t *testing.T) {
	t.Parallel()
	e := newEnvTLS(t, tlsHosts[:1], "", "")
	ti := e.influx
	caLine := fmt.Sprintf("ca_file = %q", ti.CAFile)
	other := tlstest.NewCA(t, "not the bed's CA").WriteFile(t, e.dir, "other-ca.pem")
	localhost := strings.Replace(ti.URL, "127.0.0.1", "localhost", 1)
	presented := `its certificate (subject "CN=fleetctl test bed InfluxDB", issuer "CN=fleetctl test bed CA")`
	for _, c := range []struct {
		name     string
		old, new string
		want     string
	}{
		{"another CA", caLine, fmt.Sprintf("ca_file = %q\nagent_ca_file = %q", other, ti.CAFile),
			"influxdb.ca_file: influxdb at " + ti.URL + ": " + presented + " is not signed by the CA in " + other +
				" (make influxdb.ca_file the PEM file of the CA that issued it; no host was contacted)"},
		{"system roots", caLine, fmt.Sprintf("agent_ca_file = %q", ti.CAFile),
			"influxdb.url: influxdb at " + ti.URL + ": " + presented + " is not signed by the system's roots" +
				" (set influxdb.ca_file to the PEM file of the CA that issued it; no host was contacted)"},
		{"name not in the certificate", fmt.Sprintf("url = %q", ti.URL), fmt.Sprintf("url = %q", localhost),
			"influxdb.url: influxdb at " + localhost + `: the certificate is not valid for "localhost": it names 127.0.0.1, 10.210.0.1` +
				` (write influxdb.url with a name the certificate holds, or give the server a certificate for "localhost"; no host was contacted)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			orig, err := os.ReadFile(e.inv)
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(e.inv, orig, 0o600)
			e.edit(c.old, c.new)
			out, errOut, code := e.run("plan")
			if code != 1 || !strings.Contains(errOut, c.want) || out != "" {
				t.Fatalf("plan: exit %d, want 1 and stderr with\n%s\nstdout:\n%s\nstderr:\n%s", code, c.want, out, errOut)
			}
		})
	}

	e.edit(caLine, fmt.Sprintf("insecure_skip_verify = true\nagent_ca_file = %q", ti.CAFile))
	out, errOut, code := e.run("plan")
	warning := "influxdb.insecure_skip_verify is true: the certificate of " + ti.URL + " is NOT verified"
	if code != 0 || !strings.Contains(errOut, warning) || !strings.Contains(out, "Warning: "+warning) {
		t.Fatalf("plan with insecure_skip_verify: exit %d, want 0 and the warning on stderr and in the plan\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if out, _, _ := e.run("plan", "--format", "json"); !strings.Contains(out, `"warnings": [`+"\n      "+`"`+warning) {
		t.Fatalf("JSON plan lacks the warning:\n%s", out)
	}
}
