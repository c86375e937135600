package testbed_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// reply is one HTTP answer, read whole.
type reply struct {
	status int
	body   []byte
}

// request describes one HTTP call of these tests.
type request struct {
	method, url  string
	user, pass   string // basic auth when user is set
	contentType  string
	body         []byte
	timeoutAfter time.Duration
}

func send(ctx context.Context, r request) (reply, error) {
	if r.timeoutAfter == 0 {
		r.timeoutAfter = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeoutAfter)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return reply{}, fmt.Errorf("build %s %s: %w", r.method, r.url, err)
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", r.method, r.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("read answer of %s %s: %w", r.method, r.url, err)
	}
	return reply{status: resp.StatusCode, body: body}, nil
}

// mustSend is send for tests: any transport error ends the test. It does not use t.Context, which is already
// cancelled when cleanups run, and cleanups send requests too.
func mustSend(t *testing.T, r request) reply {
	t.Helper()
	rep, err := send(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// jsonRequest builds a request whose body is v encoded as JSON.
func jsonRequest(t *testing.T, method, addr, user, pass string, v any) request {
	t.Helper()
	r := request{method: method, url: addr, user: user, pass: pass}
	if v != nil {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("encode request body: %v", err)
		}
		r.body, r.contentType = data, "application/json"
	}
	return r
}

func decode(t *testing.T, rep reply, v any) {
	t.Helper()
	if err := json.Unmarshal(rep.body, v); err != nil {
		t.Fatalf("decode answer (HTTP %d) %q: %v", rep.status, rep.body, err)
	}
}

// unique returns a name no earlier run used, valid as an InfluxDB identifier and a Kapacitor task id.
func unique(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random name: %v", err)
	}
	return fmt.Sprintf("%s_%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(b))
}

// influxAnswer is the body of InfluxDB 1.x /query: statement errors come here with HTTP 200.
type influxAnswer struct {
	Results []struct {
		Series []struct {
			Name    string   `json:"name"`
			Columns []string `json:"columns"`
			Values  [][]any  `json:"values"`
		} `json:"series"`
		Error string `json:"error"`
	} `json:"results"`
	Error string `json:"error"`
}

// influxQuery posts one InfluxQL query (db may be empty) with the given credentials.
func influxQuery(t *testing.T, bed *testbed.Bed, user, pass, db, q string) (reply, influxAnswer) {
	t.Helper()
	form := url.Values{"q": {q}}
	if db != "" {
		form.Set("db", db)
	}
	rep := mustSend(t, request{method: http.MethodPost, url: bed.InfluxDB.URL + "/query", user: user, pass: pass,
		contentType: "application/x-www-form-urlencoded", body: []byte(form.Encode())})
	var ans influxAnswer
	if rep.status == http.StatusOK {
		decode(t, rep, &ans)
	}
	return rep, ans
}

// influxAdmin runs q as the bed's admin and fails the test on any error, in the status or in the body.
func influxAdmin(t *testing.T, bed *testbed.Bed, q string) influxAnswer {
	t.Helper()
	rep, ans := influxQuery(t, bed, bed.InfluxDB.AdminUser, bed.InfluxDB.AdminPassword, "", q)
	if rep.status != http.StatusOK {
		t.Fatalf("InfluxDB %q: HTTP %d %s", q, rep.status, rep.body)
	}
	if ans.Error != "" {
		t.Fatalf("InfluxDB %q: %s", q, ans.Error)
	}
	for _, r := range ans.Results {
		if r.Error != "" {
			t.Fatalf("InfluxDB %q: %s", q, r.Error)
		}
	}
	return ans
}

// influxWrite writes line protocol into db as the admin.
func influxWrite(t *testing.T, bed *testbed.Bed, db, lines string) {
	t.Helper()
	rep := mustSend(t, request{method: http.MethodPost, url: bed.InfluxDB.URL + "/write?db=" + url.QueryEscape(db),
		user: bed.InfluxDB.AdminUser, pass: bed.InfluxDB.AdminPassword, body: []byte(lines)})
	if rep.status != http.StatusNoContent {
		t.Fatalf("write to %s: HTTP %d %s", db, rep.status, rep.body)
	}
}

// influxDatabase creates a database that is dropped when the test ends.
func influxDatabase(t *testing.T, bed *testbed.Bed, prefix string) string {
	t.Helper()
	db := unique(t, prefix)
	influxAdmin(t, bed, fmt.Sprintf(`CREATE DATABASE "%s"`, db))
	t.Cleanup(func() { influxAdmin(t, bed, fmt.Sprintf(`DROP DATABASE "%s"`, db)) })
	return db
}

// influxUser creates a user with a random password that is dropped when the test ends.
func influxUser(t *testing.T, bed *testbed.Bed, prefix string) (user, pass string) {
	t.Helper()
	user, pass = unique(t, prefix), unique(t, "pw")
	influxAdmin(t, bed, fmt.Sprintf(`CREATE USER "%s" WITH PASSWORD '%s'`, user, pass))
	t.Cleanup(func() { influxAdmin(t, bed, fmt.Sprintf(`DROP USER "%s"`, user)) })
	return user, pass
}

func TestInfluxDBAuthentication(t *testing.T) {
	bed := testbed.Require(t)
	ans := influxAdmin(t, bed, "SHOW DATABASES")
	if len(ans.Results) != 1 {
		t.Fatalf("SHOW DATABASES: %d results, want 1", len(ans.Results))
	}

	for _, c := range []struct{ name, user, pass string }{
		{"wrong password", bed.InfluxDB.AdminUser, bed.InfluxDB.AdminPassword + "x"},
		{"unknown user", unique(t, "nobody"), "x"},
		{"no credentials", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, _ := influxQuery(t, bed, c.user, c.pass, "", "SHOW DATABASES")
			if rep.status != http.StatusUnauthorized {
				t.Fatalf("HTTP %d %s, want 401", rep.status, rep.body)
			}
		})
	}
}

// InfluxDB reports failed statements with HTTP 200 and the error inside the result: clients must read the body.
func TestInfluxDBStatementErrorsAreHTTP200(t *testing.T) {
	bed := testbed.Require(t)
	user, pass := influxUser(t, bed, "dup")
	admin, adminPass := bed.InfluxDB.AdminUser, bed.InfluxDB.AdminPassword

	// The same password again is a no-op (the bed relies on this to create its admin idempotently) ...
	influxAdmin(t, bed, fmt.Sprintf(`CREATE USER "%s" WITH PASSWORD '%s'`, user, pass))

	// ... another one is an error, delivered with 200.
	rep, ans := influxQuery(t, bed, admin, adminPass, "", fmt.Sprintf(`CREATE USER "%s" WITH PASSWORD 'other'`, user))
	if rep.status != http.StatusOK {
		t.Fatalf("HTTP %d %s, want 200 with an error inside", rep.status, rep.body)
	}
	if len(ans.Results) != 1 || ans.Results[0].Error != "user already exists" {
		t.Fatalf("answer %s, want results[0].error %q", rep.body, "user already exists")
	}

	rep, ans = influxQuery(t, bed, admin, adminPass, unique(t, "missing"), "SELECT * FROM m")
	if rep.status != http.StatusOK || len(ans.Results) != 1 || !strings.HasPrefix(ans.Results[0].Error, "database not found") {
		t.Fatalf("query on a missing database: HTTP %d %s, want 200 with results[0].error database not found",
			rep.status, rep.body)
	}
}

// The write-only user proves privileges are enforced, not just authentication.
func TestInfluxDBPrivileges(t *testing.T) {
	bed := testbed.Require(t)
	db := influxDatabase(t, bed, "priv")
	user, pass := influxUser(t, bed, "writer")
	influxAdmin(t, bed, fmt.Sprintf(`GRANT WRITE ON "%s" TO "%s"`, db, user))

	rep := mustSend(t, request{method: http.MethodPost, url: bed.InfluxDB.URL + "/write?db=" + db, user: user, pass: pass,
		body: []byte("m v=1")})
	if rep.status != http.StatusNoContent {
		t.Fatalf("write as a write-only user: HTTP %d %s, want 204", rep.status, rep.body)
	}
	rep, _ = influxQuery(t, bed, user, pass, db, "SELECT * FROM m")
	if rep.status != http.StatusForbidden {
		t.Fatalf("read as a write-only user: HTTP %d %s, want 403", rep.status, rep.body)
	}
}

// Hosts in network namespaces reach InfluxDB through the bridge gateway; the bed machine owns that address too.
func TestInfluxDBHostURL(t *testing.T) {
	bed := testbed.Require(t)
	if !strings.HasPrefix(bed.InfluxDB.HostURL, "http://") || bed.InfluxDB.HostURL == bed.InfluxDB.URL {
		t.Fatalf("host_url %q: want an http URL other than url %q", bed.InfluxDB.HostURL, bed.InfluxDB.URL)
	}
	rep := mustSend(t, request{method: http.MethodGet, url: bed.InfluxDB.HostURL + "/ping", timeoutAfter: 10 * time.Second})
	if rep.status != http.StatusNoContent {
		t.Fatalf("GET %s/ping: HTTP %d, want 204", bed.InfluxDB.HostURL, rep.status)
	}
}

// kapacitorTask is the part of Kapacitor's task answer these tests read.
type kapacitorTask struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Executing bool   `json:"executing"`
	Error     string `json:"error"`
}

// kapacitorCreate posts a task; it is deleted when the test ends if Kapacitor took it.
func kapacitorCreate(t *testing.T, bed *testbed.Bed, task map[string]any) reply {
	t.Helper()
	rep := mustSend(t, jsonRequest(t, http.MethodPost, bed.Kapacitor.URL+"/kapacitor/v1/tasks", "", "", task))
	if rep.status == http.StatusOK {
		id := task["id"].(string)
		t.Cleanup(func() {
			rep := mustSend(t, request{method: http.MethodDelete, url: bed.Kapacitor.URL + "/kapacitor/v1/tasks/" + id})
			if rep.status != http.StatusNoContent {
				t.Errorf("delete task %s: HTTP %d %s", id, rep.status, rep.body)
			}
		})
	}
	return rep
}

func TestKapacitorStreamTask(t *testing.T) {
	bed := testbed.Require(t)
	if bed.Kapacitor.Version == "" {
		t.Errorf("kapacitor.version is empty in the description")
	}
	db := influxDatabase(t, bed, "kap")
	id := unique(t, "task")
	spec := map[string]any{
		"id":     id,
		"type":   "stream",
		"dbrps":  []map[string]string{{"db": db, "rp": "autogen"}},
		"script": "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('points')\n",
		"status": "disabled",
	}
	rep := kapacitorCreate(t, bed, spec)
	if rep.status != http.StatusOK {
		t.Fatalf("create task: HTTP %d %s", rep.status, rep.body)
	}
	var task kapacitorTask
	decode(t, rep, &task)
	if task.ID != id || task.Status != "disabled" || task.Executing {
		t.Fatalf("created task %+v, want %s disabled and not executing", task, id)
	}

	rep = mustSend(t, jsonRequest(t, http.MethodPost, bed.Kapacitor.URL+"/kapacitor/v1/tasks", "", "", spec))
	if rep.status != http.StatusBadRequest || !bytes.Contains(rep.body, []byte("already exists")) {
		t.Fatalf("create the same task again: HTTP %d %s, want 400 already exists", rep.status, rep.body)
	}
	rep = mustSend(t, request{method: http.MethodGet, url: bed.Kapacitor.URL + "/kapacitor/v1/tasks/" + id + "_missing"})
	if rep.status != http.StatusNotFound {
		t.Fatalf("GET a missing task: HTTP %d %s, want 404", rep.status, rep.body)
	}

	rep = mustSend(t, jsonRequest(t, http.MethodPatch, bed.Kapacitor.URL+"/kapacitor/v1/tasks/"+id, "", "",
		map[string]string{"status": "enabled"}))
	if rep.status != http.StatusOK {
		t.Fatalf("enable task: HTTP %d %s", rep.status, rep.body)
	}
	decode(t, rep, &task)
	if task.Status != "enabled" || !task.Executing || task.Error != "" {
		t.Fatalf("enabled task %+v, want enabled and executing", task)
	}

	// Points written to InfluxDB reach the task only through Kapacitor's subscription, which appears within about a
	// second of the database; writes before that are lost, so keep writing until one arrives.
	out := bed.Kapacitor.URL + "/kapacitor/v1/tasks/" + id + "/points"
	deadline := time.Now().Add(30 * time.Second)
	for {
		influxWrite(t, bed, db, "cpu,host=tb usage_idle=42")
		rep = mustSend(t, request{method: http.MethodGet, url: out})
		if rep.status == http.StatusOK && bytes.Contains(rep.body, []byte(`"usage_idle"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no point reached the task through the subscription within 30s; last GET %s: HTTP %d %s",
				out, rep.status, rep.body)
		}
		time.Sleep(500 * time.Millisecond)
	}

	log := filepath.Join(bed.Dir, "log", "kapacitor.log")
	if fi, err := os.Stat(log); err != nil || fi.Size() == 0 {
		t.Errorf("Kapacitor's log %s: want a non-empty file (err %v)", log, err)
	}
}

func TestKapacitorRejectsBrokenTICKscript(t *testing.T) {
	bed := testbed.Require(t)
	for _, c := range []struct{ name, script, want string }{
		{"syntax", "stream\n    |from(\n", "invalid TICKscript: parser: "},
		{"unknown method", "stream\n    |from()\n    .noSuchProperty('x')\n", `no method or property "noSuchProperty"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := kapacitorCreate(t, bed, map[string]any{
				"id":     unique(t, "broken"),
				"type":   "stream",
				"dbrps":  []map[string]string{{"db": "telegraf", "rp": "autogen"}},
				"script": c.script,
			})
			if rep.status != http.StatusBadRequest {
				t.Fatalf("HTTP %d %s, want 400", rep.status, rep.body)
			}
			var ans struct {
				Error string `json:"error"`
			}
			decode(t, rep, &ans)
			if !strings.HasPrefix(ans.Error, "invalid TICKscript: ") || !strings.Contains(ans.Error, c.want) {
				t.Fatalf("error %q, want invalid TICKscript with %q", ans.Error, c.want)
			}
		})
	}
}

// grafanaDatasource creates an InfluxDB datasource; it is deleted when the test ends if Grafana took it.
func grafanaDatasource(t *testing.T, bed *testbed.Bed, ds map[string]any) reply {
	t.Helper()
	g := bed.Grafana
	rep := mustSend(t, jsonRequest(t, http.MethodPost, g.URL+"/api/datasources", g.AdminUser, g.AdminPassword, ds))
	if rep.status == http.StatusOK {
		uid := ds["uid"].(string)
		t.Cleanup(func() {
			rep := mustSend(t, request{method: http.MethodDelete, url: g.URL + "/api/datasources/uid/" + uid,
				user: g.AdminUser, pass: g.AdminPassword})
			if rep.status != http.StatusOK {
				t.Errorf("delete datasource %s: HTTP %d %s", uid, rep.status, rep.body)
			}
		})
	}
	return rep
}

func influxDatasource(name, uid, addr, db, user, pass string) map[string]any {
	return map[string]any{
		"name":           name,
		"uid":            uid,
		"type":           "influxdb",
		"access":         "proxy",
		"url":            addr,
		"user":           user,
		"jsonData":       map[string]any{"dbName": db, "httpMode": "POST"},
		"secureJsonData": map[string]any{"password": pass},
	}
}

// grafanaHealth asks Grafana to check a datasource; Grafana itself queries InfluxDB for it.
func grafanaHealth(t *testing.T, bed *testbed.Bed, uid string) (reply, string, string) {
	t.Helper()
	g := bed.Grafana
	rep := mustSend(t, request{method: http.MethodGet, url: g.URL + "/api/datasources/uid/" + uid + "/health",
		user: g.AdminUser, pass: g.AdminPassword})
	var ans struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	decode(t, rep, &ans)
	return rep, ans.Status, ans.Message
}

func TestGrafanaAdmin(t *testing.T) {
	bed := testbed.Require(t)
	g := bed.Grafana
	rep := mustSend(t, request{method: http.MethodGet, url: g.URL + "/api/health"})
	var health struct {
		Database string `json:"database"`
		Version  string `json:"version"`
	}
	decode(t, rep, &health)
	if rep.status != http.StatusOK || health.Database != "ok" || health.Version != g.Version {
		t.Fatalf("/api/health: HTTP %d %s, want 200, database ok and version %q", rep.status, rep.body, g.Version)
	}

	rep = mustSend(t, request{method: http.MethodGet, url: g.URL + "/api/org", user: g.AdminUser, pass: g.AdminPassword})
	if rep.status != http.StatusOK {
		t.Fatalf("GET /api/org as admin: HTTP %d %s", rep.status, rep.body)
	}
	rep = mustSend(t, request{method: http.MethodGet, url: g.URL + "/api/org", user: g.AdminUser, pass: g.AdminPassword + "x"})
	if rep.status != http.StatusUnauthorized {
		t.Fatalf("GET /api/org with a wrong password: HTTP %d %s, want 401", rep.status, rep.body)
	}
}

func TestGrafanaInfluxDBDatasource(t *testing.T) {
	bed := testbed.Require(t)
	db := influxDatabase(t, bed, "graf")
	reader, readerPass := influxUser(t, bed, "reader")
	influxAdmin(t, bed, fmt.Sprintf(`GRANT READ ON "%s" TO "%s"`, db, reader))
	influxWrite(t, bed, db, "cpu,host=tb usage_idle=42")

	name := unique(t, "ds")
	rep := grafanaDatasource(t, bed, influxDatasource(name, name, bed.InfluxDB.URL, db, reader, readerPass))
	if rep.status != http.StatusOK {
		t.Fatalf("create datasource: HTTP %d %s", rep.status, rep.body)
	}

	rep, status, msg := grafanaHealth(t, bed, name)
	if rep.status != http.StatusOK || status != "OK" || !strings.Contains(msg, "1 measurements found") {
		t.Fatalf("health of a datasource with a real read user: HTTP %d %s, want 200 OK with 1 measurement",
			rep.status, rep.body)
	}

	rep = grafanaDatasource(t, bed, influxDatasource(name, unique(t, "uid"), bed.InfluxDB.URL, db, reader, readerPass))
	if rep.status != http.StatusConflict {
		t.Fatalf("datasource with a duplicate name: HTTP %d %s, want 409", rep.status, rep.body)
	}

	bad := unique(t, "ds")
	rep = grafanaDatasource(t, bed, influxDatasource(bad, bad, bed.InfluxDB.URL, db, reader, readerPass+"x"))
	if rep.status != http.StatusOK {
		t.Fatalf("create datasource with a wrong password: HTTP %d %s", rep.status, rep.body)
	}
	rep, status, _ = grafanaHealth(t, bed, bad)
	if rep.status == http.StatusOK || status != "ERROR" {
		t.Fatalf("health of a datasource with a wrong password: HTTP %d %s, want a failure with status ERROR",
			rep.status, rep.body)
	}
}
