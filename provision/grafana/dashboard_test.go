package grafana

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

func testModel() map[string]any {
	return map[string]any{
		"title": "web1", "tags": []any{"fleetctl"},
		"panels": []any{
			map[string]any{"id": 1.0, "title": "CPU", "type": "timeseries", "gridPos": map[string]any{"x": 0.0, "y": 0.0, "w": 12.0, "h": 8.0}},
			map[string]any{"id": 2.0, "title": "Memory", "type": "timeseries"},
		},
	}
}

func TestDashboardDiff(t *testing.T) {
	grafanaAdded := func() map[string]any {
		m := testModel()
		// What Grafana adds on save and on load: ids, versions, plugin versions, defaults.
		m["id"], m["uid"], m["version"], m["weekStart"] = 7.0, "fleetctl-web1", 3.0, ""
		p := m["panels"].([]any)[0].(map[string]any)
		p["pluginVersion"], p["options"] = "10.0.0", map[string]any{"legend": map[string]any{"showLegend": true}}
		return m
	}
	for _, tc := range []struct {
		name   string
		actual *RemoteDashboard
		absent bool
		shared bool
		action plan.Action
		fields string
	}{
		{name: "missing", action: plan.Create, fields: "uid title folder panels"},
		{name: "same", actual: &RemoteDashboard{Dashboard: testModel(), FolderUID: "f", Version: 1}, action: plan.NoOp},
		{name: "grafana's additions are not fleetctl's", actual: &RemoteDashboard{Dashboard: grafanaAdded(), FolderUID: "f", Version: 3}, action: plan.NoOp},
		{name: "moved", actual: &RemoteDashboard{Dashboard: testModel(), FolderUID: "other", Version: 1}, action: plan.Update, fields: "folder"},
		{name: "panel edited", actual: func() *RemoteDashboard {
			m := grafanaAdded()
			m["panels"].([]any)[1].(map[string]any)["title"] = "RAM"
			return &RemoteDashboard{Dashboard: m, FolderUID: "f", Version: 4}
		}(), action: plan.Update, fields: "dashboard.panels[1].title"},
		{name: "panel deleted", actual: func() *RemoteDashboard {
			m := testModel()
			m["panels"] = m["panels"].([]any)[:1]
			return &RemoteDashboard{Dashboard: m, FolderUID: "f", Version: 4}
		}(), action: plan.Update, fields: "dashboard.panels"},
		{name: "key removed", actual: func() *RemoteDashboard {
			m := testModel()
			delete(m, "tags")
			return &RemoteDashboard{Dashboard: m, FolderUID: "f", Version: 4}
		}(), action: plan.Update, fields: "dashboard.tags"},
		{name: "absent", actual: &RemoteDashboard{Dashboard: testModel(), FolderUID: "f"}, absent: true, action: plan.Delete, fields: "title folder"},
		{name: "absent, missing", absent: true, action: plan.NoOp},
		{name: "shared is kept", actual: &RemoteDashboard{Dashboard: testModel(), FolderUID: "f"}, absent: true, shared: true, action: plan.NoOp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDashboard(nil, DashboardSpec{UID: "fleetctl-web1", FolderUID: "f", Model: testModel(), Shared: tc.shared})
			if err != nil {
				t.Fatal(err)
			}
			d.actual, d.read = tc.actual, true
			if tc.absent {
				d.Absent()
			}
			chs := d.Diff(nil)
			if len(chs) != 1 || chs[0].Action != tc.action {
				t.Fatalf("changes %+v, want one %s", chs, tc.action)
			}
			var names []string
			for _, f := range chs[0].Fields {
				names = append(names, f.Name)
			}
			if got := strings.Join(names, " "); got != tc.fields {
				t.Errorf("fields %q, want %q", got, tc.fields)
			}
			if chs[0].ReadDigest == "" {
				t.Error("no read digest")
			}
		})
	}
}

func TestDashboardUpdateCarriesTheVersionRead(t *testing.T) {
	d, err := NewDashboard(nil, DashboardSpec{UID: "fleetctl-web1", Model: testModel()})
	if err != nil {
		t.Fatal(err)
	}
	a := &RemoteDashboard{Dashboard: map[string]any{"id": 9.0, "title": "x"}, Version: 5}
	b := d.body(a)
	if b["version"] != 5 || b["id"] != 9.0 || b["uid"] != "fleetctl-web1" {
		t.Errorf("update body %v", b)
	}
	if b := d.body(nil); b["id"] != nil || b["version"] != nil {
		t.Errorf("create body %v", b)
	}
}

func TestFolderIsNeverDeleted(t *testing.T) {
	f, err := NewFolder(nil, FolderSpec{UID: "fleetctl--fleet", Title: "Fleet"})
	if err != nil {
		t.Fatal(err)
	}
	f.actual = &remoteFolder{UID: "fleetctl--fleet", Title: "Fleet", Version: 1}
	f.Absent()
	if chs := f.Diff(nil); len(chs) != 1 || chs[0].Action != plan.NoOp {
		t.Errorf("absent folder: %+v", chs)
	}
}

// The search's query string reaches Grafana as a query, not escaped into the path (a 404 on a real Grafana).
func TestDashboardsTaggedSendsAQuery(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path + " " + r.URL.Query().Get("tag") + " " + r.URL.Query().Get("type")
		fmt.Fprint(w, `[{"uid": "fleetctl-web1", "title": "web1", "tags": ["fleetctl"]}]`)
	}))
	defer srv.Close()
	c, err := NewClient(Config{URL: srv.URL, Token: secret.New("t")})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := c.DashboardsTagged(t.Context(), DashboardTag)
	if err != nil || len(hits) != 1 || hits[0].UID != "fleetctl-web1" {
		t.Fatalf("hits %+v, %v", hits, err)
	}
	if got != "/api/search fleetctl dash-db" {
		t.Errorf("request %q", got)
	}
}
