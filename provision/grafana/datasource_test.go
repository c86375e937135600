package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/grafana-tools/sdk"
)

const testPassword = "gr4fana-s3cret-'pw'"

func testSpec() DatasourceSpec {
	return DatasourceSpec{
		UID: "fleetctl-web1", Name: "fleetctl web1", URL: "http://influx:8086", Database: "web1", User: "web1_read",
		Password: secret.New(testPassword), Master: secret.New("master"),
	}
}

// remote builds what GET /api/datasources/uid/:uid returns for a datasource fleetctl created from spec, then lets
// edit change it.
func remote(spec DatasourceSpec, edit func(map[string]any)) *RemoteDatasource {
	raw := map[string]any{
		"id": 7, "uid": spec.UID, "orgId": 1, "name": spec.Name, "type": "influxdb", "typeLogoUrl": "x.svg",
		"access": "proxy", "url": spec.URL, "user": spec.User, "database": "", "basicAuth": false, "isDefault": false,
		"withCredentials": false, "readOnly": false, "version": 3,
		"jsonData": map[string]any{
			"dbName": spec.Database, "httpMode": "GET", "version": "InfluxQL", "timeInterval": "10s",
			FingerprintKey: secret.Fingerprint(spec.Master, spec.Password),
		},
		"secureJsonFields": map[string]any{"password": true},
	}
	if edit != nil {
		edit(raw)
	}
	b, _ := json.Marshal(raw)
	ds := &RemoteDatasource{}
	if err := json.Unmarshal(b, ds); err != nil {
		panic(err)
	}
	_ = json.Unmarshal(b, &ds.Raw)
	return ds
}

func TestDatasourceDiff(t *testing.T) {
	jd := func(k string, v any) func(map[string]any) {
		return func(m map[string]any) { m["jsonData"].(map[string]any)[k] = v }
	}
	top := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	for _, tc := range []struct {
		name    string
		missing bool
		edit    func(map[string]any)
		spec    func(*DatasourceSpec)
		action  plan.Action
		fields  string
	}{
		{name: "missing", missing: true, action: plan.Create,
			fields: "uid:→fleetctl-web1 name:→fleetctl web1 type:→influxdb access:→proxy url:→http://influx:8086 user:→web1_read " +
				"jsonData.dbName:→web1 jsonData.httpMode:→GET jsonData.version:→InfluxQL secureJsonData.password:(sensitive)"},
		{name: "in sync", action: plan.NoOp},
		{name: "server-managed and unmanaged fields ignored", action: plan.NoOp, edit: func(m map[string]any) {
			m["id"], m["version"], m["readOnly"], m["isDefault"], m["orgId"] = 99, 42, true, true, 2
			m["jsonData"].(map[string]any)["timeInterval"] = "1m"
		}},
		{name: "url edited", edit: top("url", "http://elsewhere:8086"), action: plan.Update,
			fields: "url:http://elsewhere:8086→http://influx:8086"},
		{name: "db and user edited", edit: func(m map[string]any) {
			m["user"] = "web1_write"
			m["jsonData"].(map[string]any)["dbName"] = "other"
		}, action: plan.Update, fields: "user:web1_write→web1_read jsonData.dbName:other→web1"},
		{name: "access direct", edit: top("access", "direct"), action: plan.Update, fields: "access:direct→proxy"},
		{name: "httpMode POST wanted", spec: func(s *DatasourceSpec) { s.HTTPMode = "post" }, action: plan.Update,
			fields: "jsonData.httpMode:GET→POST"},
		{name: "no version (old UI datasource)", edit: func(m map[string]any) {
			delete(m["jsonData"].(map[string]any), "version")
		}, action: plan.Update, fields: "jsonData.version:→InfluxQL"},
		{name: "password changed (fingerprint differs)", spec: func(s *DatasourceSpec) { s.Password = secret.New("new-" + testPassword) },
			action: plan.Update, fields: "secureJsonData.password:(sensitive)"},
		{name: "password removed in grafana", edit: top("secureJsonFields", map[string]any{}), action: plan.Update,
			fields: "secureJsonData.password:(sensitive)"},
		{name: "fingerprint removed", edit: jd(FingerprintKey, nil), action: plan.Update,
			fields: "secureJsonData.password:(sensitive)"},
		{name: "master rotated", spec: func(s *DatasourceSpec) { s.Master = secret.New("master2") }, action: plan.Update,
			fields: "secureJsonData.password:(sensitive)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := testSpec()
			spec := base
			if tc.spec != nil {
				tc.spec(&spec)
			}
			d, err := NewDatasource(nil, spec)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.missing {
				d.actual = remote(base, tc.edit)
			}
			chs := d.Diff(nil)
			if len(chs) != 1 || chs[0].ReadDigest == "" {
				t.Fatalf("want one change with a digest: %+v", chs)
			}
			if chs[0].Action != tc.action || resourcetest.Fields(chs[0]) != tc.fields {
				t.Fatalf("got %s %q\nwant %s %q", chs[0].Action, resourcetest.Fields(chs[0]), tc.action, tc.fields)
			}
			resourcetest.NoSecret(t, chs, testPassword, "s3cret")
			for _, f := range chs[0].Fields {
				if f.Sensitive && (f.Before != "" || f.After != "") {
					t.Fatalf("sensitive field with a value: %+v", f)
				}
			}
		})
	}
}

func TestDatasourceDigestFollowsState(t *testing.T) {
	d, _ := NewDatasource(nil, testSpec())
	d.actual = remote(testSpec(), nil)
	a := d.readDigest()
	d.actual = remote(testSpec(), func(m map[string]any) { m["url"] = "http://x" })
	if d.readDigest() == a {
		t.Fatal("digest ignores the url")
	}
	d.actual = nil
	if d.readDigest() == a {
		t.Fatal("digest ignores a missing datasource")
	}
}

func TestUpdateBodyKeepsUnmanagedFields(t *testing.T) {
	spec := testSpec()
	d, _ := NewDatasource(nil, spec)
	d.actual = remote(spec, func(m map[string]any) {
		m["isDefault"], m["withCredentials"], m["url"] = true, true, "http://old"
		m["jsonData"].(map[string]any)["timeInterval"] = "1m"
	})
	b := d.updateBody()
	if b["isDefault"] != true || b["withCredentials"] != true || b["url"] != spec.URL || b["version"] != 3 {
		t.Fatalf("body: %+v", b)
	}
	for _, k := range []string{"id", "orgId", "secureJsonFields", "readOnly"} {
		if _, ok := b[k]; ok {
			t.Errorf("body sends server-managed %q", k)
		}
	}
	jd := b["jsonData"].(map[string]any)
	if jd["timeInterval"] != "1m" || jd["dbName"] != "web1" || jd[FingerprintKey] != secret.Fingerprint(spec.Master, spec.Password) {
		t.Fatalf("jsonData: %+v", jd)
	}
	if b["secureJsonData"].(map[string]string)["password"] != testPassword {
		t.Fatal("update does not send the password")
	}
	cb := d.createBody().(sdk.Datasource)
	if cb.UID != spec.UID || cb.Type != "influxdb" || cb.Access != "proxy" || *cb.User != "web1_read" {
		t.Fatalf("create body: %+v", cb)
	}
}

func TestNewDatasourceValidates(t *testing.T) {
	for name, edit := range map[string]func(*DatasourceSpec){
		"uid too long":  func(s *DatasourceSpec) { s.UID = strings.Repeat("a", 41) },
		"uid bad char":  func(s *DatasourceSpec) { s.UID = "web1.example" },
		"uid empty":     func(s *DatasourceSpec) { s.UID = "" },
		"no database":   func(s *DatasourceSpec) { s.Database = "" },
		"no password":   func(s *DatasourceSpec) { s.Password = secret.Value{} },
		"no master":     func(s *DatasourceSpec) { s.Master = secret.Value{} },
		"bad http mode": func(s *DatasourceSpec) { s.HTTPMode = "PATCH" },
	} {
		s := testSpec()
		edit(&s)
		if _, err := NewDatasource(nil, s); err == nil {
			t.Errorf("%s: want error", name)
		} else if strings.Contains(err.Error(), testPassword) {
			t.Errorf("%s: error leaks the password", name)
		}
	}
	if !ValidUID(strings.Repeat("A", 40)) || !ValidUID("a_b-C9") {
		t.Error("valid uids refused")
	}
}

func TestNewClientRefusesCredentialsInURL(t *testing.T) {
	_, err := NewClient(Config{URL: "http://admin:hunter2@grafana:3000", User: "admin", Password: secret.New("hunter2")})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewClient(Config{URL: "http://grafana:3000"}); err == nil {
		t.Fatal("no credentials: want error")
	}
}

func TestMaskErr(t *testing.T) {
	err := maskErr(&APIError{StatusCode: 400, Message: "bad value " + testPassword}, []secret.Value{secret.New(testPassword)})
	if strings.Contains(err.Error(), testPassword) {
		t.Fatal(err)
	}
}

func TestClientSpacesWritesToOneDatasource(t *testing.T) {
	c, err := NewClient(Config{URL: "http://grafana:3000", Token: secret.New("t")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	start := time.Now()
	for _, uid := range []string{"a", "b", "a"} {
		if err := c.spaceWrite(ctx, uid); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("second write to one uid after %v: want at least 1s (Grafana's updated time has one-second resolution)", d)
	}
	// A waiting write gives up with its context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.spaceWrite(cctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestClientAndDatasourceNeverPrintSecrets(t *testing.T) {
	c, err := NewClient(Config{URL: "http://grafana:3000", User: "admin", Password: secret.New("admin-hunter2")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDatasource(c, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	d.actual = remote(testSpec(), nil)
	for _, v := range []any{c, *c, d, *d, testSpec()} {
		out := fmt.Sprintf("%v %+v %#v %s %d", v, v, v, v, v)
		if strings.Contains(out, "hunter2") || strings.Contains(out, testPassword) || strings.Contains(out, "master") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}
