package grafana_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/test/testbed"
)

// These tests run against the test bed's real Grafana and InfluxDB: the datasource points at a real database with
// a point in it and a real READ user, so Grafana's health check queries InfluxDB with the stored password. They use
// only the package's exported API, as the catalog does.

type env struct {
	g      *grafana.Client
	ix     *influx.Client
	influx string // InfluxDB URL as Grafana reaches it
	db     string
	reader string
	readPW secret.Value
	master secret.Value
	s      string
}

func setup(t *testing.T) (context.Context, env) {
	t.Helper()
	bed := testbed.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	g, err := grafana.NewClient(grafana.Config{URL: bed.Grafana.URL, User: bed.Grafana.AdminUser, Password: secret.New(bed.Grafana.AdminPassword)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Ping(ctx); err != nil {
		t.Fatalf("test bed grafana: %v", err)
	}
	ix, err := influx.NewClient(influx.Config{URL: bed.InfluxDB.URL, Username: bed.InfluxDB.AdminUser, Password: secret.New(bed.InfluxDB.AdminPassword)})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	e := env{
		g: g, ix: ix, influx: bed.InfluxDB.URL, s: s,
		db: "fleetctl_gf_" + s, reader: "fleetctl_gf_" + s + "_read",
		master: secret.New("master-" + s),
	}
	e.readPW = secret.Derive(e.master, "web-"+s, "read")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = ix.DropUser(ctx, e.reader)
		_ = ix.DropDatabase(ctx, e.db)
	})
	// The database, a point in it and the READ user, through fleetctl's own resources.
	resourcetest.Converge(t, ctx,
		influx.NewDatabase(ix, e.db),
		influx.NewUser(ix, influx.UserSpec{Name: e.reader, Password: e.readPW}),
		influx.NewGrant(ix, influx.GrantSpec{User: e.reader, Database: e.db, Privilege: influx.Read}),
	)
	if err := ix.Write(ctx, e.db, "", "cpu,host=web1 usage_idle=99\n"); err != nil {
		t.Fatal(err)
	}
	return ctx, e
}

func (e env) spec() grafana.DatasourceSpec {
	return grafana.DatasourceSpec{
		UID: "fleetctl-it-" + e.s, Name: "fleetctl it " + e.s, URL: e.influx, Database: e.db,
		User: e.reader, Password: e.readPW, Master: e.master,
	}
}

func (e env) datasource(t *testing.T, spec grafana.DatasourceSpec) *grafana.Datasource {
	t.Helper()
	d, err := grafana.NewDatasource(e.g, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.g.DeleteDatasource(ctx, spec.UID); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return d
}

func summary(chs []plan.Change) string {
	var out []string
	for _, ch := range chs {
		out = append(out, string(ch.Action)+" "+ch.Kind+" "+resourcetest.Fields(ch))
	}
	return strings.Join(out, "\n")
}

func TestIntegrationDatasourceConvergeAndHealth(t *testing.T) {
	ctx, e := setup(t)
	spec := e.spec()
	d := e.datasource(t, spec)

	chs := resourcetest.Converge(t, ctx, d)
	want := "create grafana.datasource uid:→" + spec.UID + " name:→" + spec.Name + " type:→influxdb access:→proxy url:→" + e.influx +
		" user:→" + e.reader + " jsonData.dbName:→" + e.db + " jsonData.httpMode:→GET jsonData.version:→InfluxQL secureJsonData.password:(sensitive)"
	if got := summary(chs); got != want {
		t.Fatalf("changes:\n%s\nwant:\n%s", got, want)
	}
	resourcetest.NoSecret(t, chs, e.readPW.Reveal())

	// What Grafana stored: no secret comes back, only the fact that one is set, and our fingerprint.
	ds, found, err := e.g.GetDatasource(ctx, spec.UID)
	if err != nil || !found {
		t.Fatalf("get: %v %v", found, err)
	}
	if !ds.SecureJSONFields["password"] || ds.JSONString(grafana.FingerprintKey) != secret.Fingerprint(e.master, e.readPW) {
		t.Fatalf("stored: %+v", ds)
	}
	resourcetest.NoSecret(t, ds.Raw, e.readPW.Reveal())

	// Grafana's health check queries InfluxDB with the READ user's password.
	h, err := e.g.Health(ctx, spec.UID)
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	t.Logf("health: %+v", h)

	// Change the InfluxDB password behind Grafana's back: the health check must fail, which proves it really
	// authenticates; then converging the datasource with the new password makes it pass again.
	newPW := secret.New("rotated-" + e.s)
	if err := e.ix.Exec(ctx, "SET PASSWORD FOR "+influx.QuoteIdent(e.reader)+" = "+influx.QuoteString(newPW.Reveal())); err != nil {
		t.Fatal(err)
	}
	if h, err := e.g.Health(ctx, spec.UID); err == nil {
		t.Fatalf("health passed with a wrong password: %+v", h)
	} else if strings.Contains(err.Error(), e.readPW.Reveal()) {
		t.Fatal("health error leaks the password")
	}
	if _, err := e.g.QueryHealth(ctx, spec.UID); err == nil {
		t.Fatal("query health passed with a wrong password")
	}
	spec.Password = newPW
	d2, err := grafana.NewDatasource(e.g, spec)
	if err != nil {
		t.Fatal(err)
	}
	chs = resourcetest.Converge(t, ctx, d2)
	if got := summary(chs); got != "update grafana.datasource secureJsonData.password:(sensitive)" {
		t.Fatalf("password change: %s", got)
	}
	resourcetest.NoSecret(t, chs, newPW.Reveal(), e.readPW.Reveal())
	// Grafana may test the previous settings for ~5 s after a write.
	start := time.Now()
	if _, err := e.g.WaitHealthy(ctx, spec.UID, 10*time.Second); err != nil {
		t.Fatalf("health after password update: %v", err)
	}
	t.Logf("health passed %v after the update", time.Since(start).Round(100*time.Millisecond))
	if _, err := e.g.QueryHealth(ctx, spec.UID); err != nil {
		t.Fatalf("query through /api/ds/query: %v", err)
	}
}

func TestIntegrationDatasourceDrift(t *testing.T) {
	ctx, e := setup(t)
	spec := e.spec()
	d := e.datasource(t, spec)
	resourcetest.Converge(t, ctx, d)

	// Someone edits the datasource: url, user and an unmanaged jsonData key (which must survive our update).
	ds, _, err := e.g.GetDatasource(ctx, spec.UID)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{}
	for k, v := range ds.Raw {
		body[k] = v
	}
	body["url"] = "http://127.0.0.1:1"
	body["user"] = "someone_else"
	jd := ds.JSONData.(map[string]any)
	jd["timeInterval"] = "30s"
	body["jsonData"] = jd
	if err := e.g.UpdateDatasource(ctx, spec.UID, body); err != nil {
		t.Fatal(err)
	}
	pending := resourcetest.Pending(t, ctx, d)
	want := "update grafana.datasource url:http://127.0.0.1:1→" + e.influx + " user:someone_else→" + e.reader
	if got := summary(pending); got != want {
		t.Fatalf("drift:\n%s\nwant:\n%s", got, want)
	}
	resourcetest.Converge(t, ctx, d)
	ds, _, err = e.g.GetDatasource(ctx, spec.UID)
	if err != nil {
		t.Fatal(err)
	}
	if ds.JSONString("timeInterval") != "30s" || ds.URL != e.influx {
		t.Fatalf("after update: url %q, jsonData %+v", ds.URL, ds.JSONData)
	}
	if _, err := e.g.WaitHealthy(ctx, spec.UID, 10*time.Second); err != nil {
		t.Fatalf("health after repair: %v", err)
	}

	// Deleted behind our back: created again.
	if err := e.g.DeleteDatasource(ctx, spec.UID); err != nil {
		t.Fatal(err)
	}
	chs := resourcetest.Converge(t, ctx, d)
	if len(chs) != 1 || chs[0].Action != plan.Create {
		t.Fatalf("after delete: %s", summary(chs))
	}
	if _, err := e.g.WaitHealthy(ctx, spec.UID, 10*time.Second); err != nil {
		t.Fatalf("health after re-create: %v", err)
	}
}

func TestIntegrationDatasourceErrors(t *testing.T) {
	ctx, e := setup(t)
	spec := e.spec()
	resourcetest.Converge(t, ctx, e.datasource(t, spec))

	// Same name, other uid: Grafana says 409; the error names the resource and never the password.
	other := spec
	other.UID = spec.UID + "-b"
	d2 := e.datasource(t, other)
	if err := d2.Read(ctx); err != nil {
		t.Fatal(err)
	}
	err := d2.Apply(ctx, d2.Diff(nil))
	if !grafana.IsConflict(err) || !strings.HasPrefix(err.Error(), `create grafana datasource "`+other.UID+`": `) || strings.Contains(err.Error(), e.readPW.Reveal()) {
		t.Fatalf("name conflict: %v", err)
	}

	// A health check of a missing datasource is an error, not a fallback that passes.
	if _, err := e.g.Health(ctx, "fleetctl-missing-"+e.s); err == nil {
		t.Fatal("health of a missing datasource passed")
	}

	// Bad credentials for Grafana itself: reads fail with 401, naming the resource.
	bed := testbed.Require(t)
	bad, err := grafana.NewClient(grafana.Config{URL: bed.Grafana.URL, User: "admin", Password: secret.New("wrong-" + e.s)})
	if err != nil {
		t.Fatal(err)
	}
	d3, _ := grafana.NewDatasource(bad, spec)
	err = d3.Read(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), `read grafana datasource "`+spec.UID+`": `) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad grafana credentials: %v", err)
	}
}

// TestSessionLogin: with a user and password the client logs in once and works from the session (Grafana hashes a
// password on every basic-auth request); a session Grafana revokes mid-run is replaced by a new login; Close logs
// out, leaving no session of the client's behind.
func TestSessionLogin(t *testing.T) {
	bed := testbed.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pw := secret.New(bed.Grafana.AdminPassword)
	admin := func(method, path string, body ...string) []map[string]any {
		t.Helper()
		c := &http.Client{Timeout: 10 * time.Second}
		req, _ := http.NewRequestWithContext(ctx, method, bed.Grafana.URL+path, strings.NewReader(strings.Join(body, "")))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(bed.Grafana.AdminUser, bed.Grafana.AdminPassword)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
		var out []map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	// The admin user's id, and how many sessions it has.
	var id float64
	users := struct {
		Users []struct {
			ID    float64 `json:"id"`
			Login string  `json:"login"`
		} `json:"users"`
	}{}
	{
		req, _ := http.NewRequestWithContext(ctx, "GET", bed.Grafana.URL+"/api/users/search?perpage=100", nil)
		req.SetBasicAuth(bed.Grafana.AdminUser, bed.Grafana.AdminPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&users)
		resp.Body.Close()
	}
	for _, u := range users.Users {
		if u.Login == bed.Grafana.AdminUser {
			id = u.ID
		}
	}
	if id == 0 {
		t.Fatalf("no user %q in %+v", bed.Grafana.AdminUser, users)
	}
	tokensPath := fmt.Sprintf("/api/admin/users/%d/auth-tokens", int(id))
	before := len(admin("GET", tokensPath))

	var logins atomic.Int64
	hc := &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/login" {
			logins.Add(1)
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	g, err := grafana.NewClient(grafana.Config{URL: bed.Grafana.URL, User: bed.Grafana.AdminUser, Password: pw, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := g.GetDatasource(ctx, "fleetctl-session-missing"); err != nil {
			t.Fatal(err)
		}
	}
	if logins.Load() != 1 || len(admin("GET", tokensPath)) != before+1 {
		t.Fatalf("three reads: %d logins, sessions %d → %d; want one login and one more session", logins.Load(), before, len(admin("GET", tokensPath)))
	}
	// Grafana revokes the user's sessions: the client logs in again and goes on.
	for _, tok := range admin("GET", tokensPath) {
		admin("POST", fmt.Sprintf("/api/admin/users/%d/revoke-auth-token", int(id)), fmt.Sprintf(`{"authTokenId": %v}`, tok["id"]))
	}
	if _, _, err := g.GetDatasource(ctx, "fleetctl-session-missing"); err != nil {
		t.Fatalf("after the session was revoked: %v", err)
	}
	if logins.Load() != 2 {
		t.Fatalf("%d logins after a revoked session, want 2", logins.Load())
	}
	g.Close(ctx)
	if n := len(admin("GET", tokensPath)); n != 0 {
		t.Fatalf("%d sessions left after Close, want 0", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
