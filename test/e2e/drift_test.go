package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/views/viewstest"
)

// TestDriftMatrix onboards one real-systemd host, then for every kind of drift the issue lists makes it behind
// fleetctl's back and checks that plan shows exactly that change (and the restart or reload it implies) and
// nothing else, that apply repairs it, and that the next plan is empty.
func TestDriftMatrix(t *testing.T) {
	t.Parallel()
	host := hostDrift
	e := newEnv(t, []string{host}, "", "")
	e.must("apply", "--auto-approve")
	if out := e.must("plan"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("not converged after onboarding:\n%s", out)
	}
	db := strings.ReplaceAll(host, "-", "_")
	wu, ru := catalog.WriteUser(db), catalog.ReadUser(db)
	uid := catalog.DatasourceUID(host)
	dir := "/etc/telegraf/telegraf.d/"
	task := host + "-cpu"

	// What the repair must have put back, checked on the host and the servers themselves rather than through
	// fleetctl's own re-plan.
	onHost := func(cmd, want string) func() {
		return func() {
			if got := e.ssh(host, cmd); strings.TrimSpace(got) != want {
				t.Errorf("on %s, %s: %q, want %q", host, cmd, strings.TrimSpace(got), want)
			}
		}
	}
	agentUp := onHost("systemctl is-enabled telegraf; systemctl is-active telegraf", "enabled\nactive")
	grant := func(user, want string) func() {
		return func() {
			if got := e.grants(user)[db]; got != want {
				t.Errorf("grant of %s on %s: %q, want %q", user, db, got, want)
			}
		}
	}
	// Each user authenticates with the password derived for it: the write user writes, the read user reads.
	users := func() {
		if code := e.influxWriteAs(db, wu, e.password(host, catalog.RoleWrite), "fleetctl_e2e_probe value=1"); code != 204 {
			t.Errorf("write user %s: write answered %d, want 204", wu, code)
		}
		if code, body := e.influxQuery(db, ru, e.password(host, catalog.RoleRead), "SHOW MEASUREMENTS"); code != 200 || strings.Contains(fmt.Sprint(body), "error") {
			t.Errorf("read user %s: %d %v", ru, code, body)
		}
	}
	datasource := func() {
		ds := e.grafana("GET", "/api/datasources/uid/"+uid, nil, 200)
		jd, _ := ds["jsonData"].(map[string]any)
		if ds["url"] != e.bed.InfluxDB.URL || ds["user"] != ru || jd["dbName"] != db {
			t.Errorf("datasource %s: url %v, user %v, dbName %v", uid, ds["url"], ds["user"], jd["dbName"])
		}
		// Grafana itself queries InfluxDB with what fleetctl set: the read user's password included.
		eventually(t, 30*time.Second, "health of datasource "+uid, func() (bool, string) {
			code, body := e.get(e.bed.Grafana.URL, "/api/datasources/uid/"+uid+"/health", e.bed.Grafana.AdminUser, e.bed.Grafana.AdminPassword)
			return code == 200 && body["status"] == "OK", fmt.Sprint(code, body)
		})
	}
	taskRuns := func(wantScript string) func() {
		return func() {
			got := e.kapacitor("GET", "/tasks/"+task+"?script-format=raw", nil, 200)
			if got["status"] != "enabled" || got["executing"] != true || !strings.Contains(fmt.Sprint(got["script"]), wantScript) {
				t.Errorf("task %s: status %v, executing %v, script has %q: %t", task, got["status"], got["executing"], wantScript,
					strings.Contains(fmt.Sprint(got["script"]), wantScript))
			}
		}
	}
	restarted := func(check func()) func() {
		pid := e.agentPID(host)
		return func() {
			check()
			if now := e.agentPID(host); now == pid || now == "0" || now == "" {
				t.Errorf("agent not restarted by the repair: pid %s, before %s", now, pid)
			}
		}
	}
	all := func(checks ...func()) func() {
		return func() {
			for _, c := range checks {
				c()
			}
		}
	}

	cases := []struct {
		name   string
		drift  func()
		expect []string      // substrings of the host's plan
		lines  int           // change lines in the host's plan, exactly
		after  func() func() // made before the repair (to note what it must change), checked after it
	}{
		{"managed file edited", func() { e.ssh(host, "sudo sed -i 's/totalcpu = true/totalcpu = false/' "+dir+"fleetctl-inputs.conf") },
			[]string{"~ update file:" + dir + "fleetctl-inputs.conf", "-  totalcpu = false", "+  totalcpu = true", "↻ restart service:telegraf"}, 2,
			func() func() {
				return restarted(onHost("grep -c 'totalcpu = true' "+dir+"fleetctl-inputs.conf; grep -c 'totalcpu = false' "+dir+"fleetctl-inputs.conf || true", "1\n0"))
			}},
		{"managed file deleted", func() { e.ssh(host, "sudo rm "+dir+"fleetctl-outputs.conf") },
			// Debian 11's systemd (247) has no encrypted credentials: the plan says the password goes in the file.
			[]string{"+ create file:" + dir + "fleetctl-outputs.conf", "↻ restart service:telegraf",
				"? report credential:telegraf (in plain text in " + dir + "fleetctl-outputs.conf"}, 3,
			func() func() {
				return restarted(onHost("sudo stat -c '%a %U:%G' "+dir+"fleetctl-outputs.conf; sudo grep -c '\"'"+wu+"'\"' "+dir+"fleetctl-outputs.conf", "640 root:telegraf\n1"))
			}},
		{"agent stopped", func() { e.ssh(host, "sudo systemctl stop telegraf") }, []string{"active: inactive → active"}, 1,
			func() func() { return agentUp }},
		{"agent disabled", func() { e.ssh(host, "sudo systemctl disable -q telegraf") }, []string{"enabled: disabled → enabled"}, 1,
			func() func() { return agentUp }},
		{"package removed", func() {
			e.ssh(host, "sudo DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq telegraf >/dev/null 2>&1")
		},
			[]string{"+ create package:telegraf", "+ create file:/etc/telegraf/telegraf.conf", "enabled: absent → enabled", "↻ restart service:telegraf"}, 4,
			func() func() {
				return all(onHost("dpkg-query -W -f='${db:Status-Status}' telegraf; echo; sudo grep -c 'hostname = \""+host+"\"' /etc/telegraf/telegraf.conf", "installed\n1"), agentUp)
			}},
		{"write user's grant changed to READ", func() { e.influxExec(fmt.Sprintf(`GRANT READ ON "%s" TO "%s"`, db, wu)) },
			[]string{"~ update influxdb.grant:" + wu + "@" + db, "privilege: READ → WRITE"}, 1, func() func() { return all(grant(wu, "WRITE"), users) }},
		{"grant revoked", func() { e.influxExec(fmt.Sprintf(`REVOKE ALL ON "%s" FROM "%s"`, db, ru)) },
			[]string{"+ create influxdb.grant:" + ru + "@" + db, "privilege: READ"}, 1, func() func() { return all(grant(ru, "READ"), users) }},
		{"password changed", func() { e.influxExec(fmt.Sprintf(`SET PASSWORD FOR "%s" = 'drifted-pass-e2e-77'`, wu)) },
			[]string{"~ update influxdb.user:" + wu, "password: (sensitive value changed)"}, 1, func() func() { return users }},
		{"user dropped", func() { e.influxExec(fmt.Sprintf(`DROP USER "%s"`, ru)) },
			[]string{"+ create influxdb.user:" + ru, "influxdb.grant:" + ru + "@" + db}, 2, func() func() { return all(grant(ru, "READ"), users) }},
		{"database dropped", func() { e.influxExec(fmt.Sprintf(`DROP DATABASE "%s"`, db)) },
			// Dropping a database drops the grants on it too.
			[]string{"+ create influxdb.database:" + db, "influxdb.grant:" + wu + "@" + db, "influxdb.grant:" + ru + "@" + db}, 3,
			func() func() {
				return all(func() {
					if !e.databaseExists(db) {
						t.Errorf("database %s not created again", db)
					}
				}, grant(wu, "WRITE"), grant(ru, "READ"), users)
			}},
		{"datasource field edited", func() {
			ds := e.grafana("GET", "/api/datasources/uid/"+uid, nil, 200)
			ds["url"] = "http://127.0.0.1:1"
			e.grafana("PUT", "/api/datasources/uid/"+uid, ds, 200)
		}, []string{"~ update grafana.datasource:" + uid, "url: http://127.0.0.1:1 → " + e.bed.InfluxDB.URL}, 1, func() func() { return datasource }},
		{"datasource deleted", func() { e.grafana("DELETE", "/api/datasources/uid/"+uid, nil, 200) },
			[]string{"+ create grafana.datasource:" + uid}, 1, func() func() { return datasource }},
		{"task disabled", func() { e.kapacitor("PATCH", "/tasks/"+task, map[string]any{"status": "disabled"}, 200) },
			[]string{"kapacitor.task:" + task, "status: disabled → enabled"}, 1, func() func() { return taskRuns("var critLevel = 80") }},
		{"task script edited", func() {
			got := e.kapacitor("GET", "/tasks/"+task+"?script-format=raw", nil, 200)
			script := strings.Replace(got["script"].(string), "var critLevel = 80", "var critLevel = 99", 1)
			e.kapacitor("PATCH", "/tasks/"+task, map[string]any{"script": script}, 200)
		}, []string{"~ update kapacitor.task:" + task, "-var critLevel = 99", "+var critLevel = 80", "↻ reload kapacitor.task:" + task}, 2,
			func() func() { return taskRuns("var critLevel = 80") }},
		{"task deleted", func() { e.kapacitor("DELETE", "/tasks/"+task, nil, 204) }, []string{"+ create kapacitor.task:" + task}, 1,
			func() func() { return taskRuns("var critLevel = 80") }},
	}
	for _, c := range cases {
		c.drift()
		plan := e.must("plan")
		section := hostSection(plan, host)
		for _, want := range c.expect {
			if want = addressed(want, host); !strings.Contains(section, want) {
				t.Errorf("%s: plan lacks %q:\n%s", c.name, want, section)
			}
		}
		if n := len(changeLines.FindAllString(section, -1)); n != c.lines {
			t.Errorf("%s: want exactly %d changes, got %d:\n%s", c.name, c.lines, n, section)
		}
		check := c.after()
		e.must("apply", "--auto-approve")
		check()
		if out := e.must("plan"); !strings.Contains(out, "No changes on 1 host.") {
			t.Fatalf("%s: not repaired; plan after apply:\n%s", c.name, out)
		}
	}

	// An unmanaged file is reported and never touched, by plan or by apply.
	e.ssh(host, "echo '[[inputs.mem]]' | sudo tee "+dir+"local.conf >/dev/null")
	plan := e.must("plan")
	if s := hostSection(plan, host); !strings.Contains(s, "? report "+host+"/file:"+dir+"local.conf (not managed by fleetctl: left untouched; telegraf loads it)") ||
		len(changeLines.FindAllString(s, -1)) != 1 {
		t.Errorf("unmanaged file not reported alone:\n%s", s)
	}
	e.must("apply", "--auto-approve")
	if got := e.ssh(host, "cat "+dir+"local.conf"); strings.TrimSpace(got) != "[[inputs.mem]]" {
		t.Errorf("apply touched the unmanaged file: %q", got)
	}
	e.ssh(host, "sudo rm "+dir+"local.conf")

	// The drifted password was never printed, in any format, nor in a saved plan.
	e.influxExec(fmt.Sprintf(`SET PASSWORD FOR "%s" = 'drifted-pass-e2e-77'`, wu))
	saved := filepath.Join(e.dir, "plan.json")
	for _, f := range []string{"text", "markdown", "json"} {
		e.must("plan", "--format", f, "--out", saved)
		b, err := os.ReadFile(saved)
		if err != nil {
			t.Fatal(err)
		}
		e.outputs = append(e.outputs, string(b)) // checked for every secret at cleanup
	}
	for _, out := range e.outputs {
		if strings.Contains(out, "drifted-pass-e2e-77") {
			t.Fatalf("the drifted password was printed:\n%s", out)
		}
	}
	e.must("apply", "--auto-approve")
}

// TestSavedPlan: apply FILE carries out exactly the saved plan, and refuses, naming host and resource, when what it
// read has changed since.
func TestSavedPlan(t *testing.T) {
	t.Parallel()
	host := hostSaved
	e := newEnv(t, []string{host}, "", "")
	e.must("apply", "--auto-approve")
	saved := filepath.Join(e.dir, "reviewed.plan")

	// A reviewed change: an input added.
	e.edit(`port = 22`, "port = 22\ninputs_add = [\"nstat\"]")
	out := e.must("plan", "--out", saved)
	if !strings.Contains(out, "+[[inputs.nstat]]") {
		t.Fatalf("plan:\n%s", out)
	}
	// Someone stops the agent after the review: the saved plan is stale.
	e.ssh(host, "sudo systemctl stop telegraf")
	_, stderr, code := e.runNoInventory("apply", saved, "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "saved plan is stale") || !strings.Contains(stderr, host+"/service:telegraf") || strings.Contains(stderr, "no-op") {
		t.Fatalf("stale plan not refused with the resource, in words: exit %d\n%s", code, stderr)
	}
	if got := e.ssh(host, "grep -c nstat /etc/telegraf/telegraf.d/fleetctl-inputs.conf || true"); strings.TrimSpace(got) != "0" {
		t.Fatal("a refused plan changed the host")
	}
	// A fresh plan, unchanged world: applied exactly.
	e.must("plan", "--out", saved)
	out, stderr, code = e.runNoInventory("apply", saved, "--auto-approve")
	if code != 0 || !strings.Contains(out, host) || strings.Contains(out, "Outcome differs") {
		t.Fatalf("apply of the saved plan: exit %d\n%s\n%s", code, out, stderr)
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("after applying the saved plan:\n%s", out)
	}
	// The inventory changed since the plan was made: refused too.
	e.must("plan", "--out", saved)
	e.edit(`inputs_add = ["nstat"]`, `inputs_add = ["nstat", "interrupts"]`)
	if _, stderr, code := e.runNoInventory("apply", saved, "--auto-approve"); code != 1 || !strings.Contains(stderr, "changed since the plan was made") {
		t.Fatalf("changed inventory not refused: exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(saved)
	e.outputs = append(e.outputs, string(b))

	// apply --format json is one document, plan and report, whether it changes something or nothing.
	for _, want := range []string{"changed", "unchanged"} {
		out := e.must("apply", "--auto-approve", "--format", "json")
		doc := viewstest.OneJSONDocument(t, []byte(out))
		rep, _ := doc["report"].(map[string]any)
		hosts, _ := rep["hosts"].([]any)
		if doc["format_version"] != 2.0 || doc["plan"] == nil || len(hosts) != 1 || hosts[0].(map[string]any)["result"] != want {
			t.Fatalf("apply --format json, want the host %s:\n%s", want, out)
		}
	}

	// A host that cannot be planned is left out of the saved plan, which says so; the rest applies.
	e.edit(`use_agent = false`, "use_agent = false\nconnect_timeout = \"2s\"")
	e.addHost(`name = "gone"` + "\naddress = \"" + unreachable + "\"")
	e.edit(`inputs_add = ["nstat", "interrupts"]`, `inputs_add = ["nstat"]`)
	if _, stderr, code := e.run("plan", "--out", saved); code != 1 || !strings.Contains(stderr, "Saved the plan of 1 host to "+saved) ||
		!strings.Contains(stderr, "the saved plan leaves out 1 host that could not be planned: gone") {
		t.Fatalf("plan --out with a host that cannot be planned: exit %d\n%s", code, stderr)
	}
	out, stderr, code = e.runNoInventory("apply", saved, "--auto-approve")
	if code != 0 || !strings.Contains(stderr, "this saved plan leaves out 1 host that could not be planned when it was made: gone") ||
		!regexpMatch(`(?m)^`+host+` +changed`, out) {
		t.Fatalf("apply of a plan that left a host out: exit %d\n%s\n%s", code, out, stderr)
	}
}

// grants returns the user's privileges by database, as InfluxDB reports them.
func (e *env) grants(user string) map[string]string {
	e.t.Helper()
	code, body := e.influxQuery("", e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, `SHOW GRANTS FOR "`+user+`"`)
	out := map[string]string{}
	results, _ := body["results"].([]any)
	if code != 200 || len(results) != 1 {
		e.t.Fatalf("SHOW GRANTS FOR %s: %d %v", user, code, body)
	}
	series, _ := results[0].(map[string]any)["series"].([]any)
	for _, s := range series {
		values, _ := s.(map[string]any)["values"].([]any)
		for _, v := range values {
			if row, ok := v.([]any); ok && len(row) == 2 {
				out[fmt.Sprint(row[0])] = fmt.Sprint(row[1])
			}
		}
	}
	return out
}

// influxWriteAs writes line protocol into db as user and returns the HTTP status (204 written, 401 wrong
// password, 403 no write privilege).
func (e *env) influxWriteAs(db, user, pass, lines string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.bed.InfluxDB.URL+"/write?db="+url.QueryEscape(db), strings.NewReader(lines))
	req.SetBasicAuth(user, pass)
	code, _ := e.doJSON(req)
	return code
}
