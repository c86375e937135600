package grafana_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/dashboards"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
)

// The shipped host dashboard in a folder on the bed's Grafana: created, then a second plan is empty (Grafana's
// additions are not drift), an edit made in Grafana is planned and put back, a write over a newer version is
// refused, and absent deletes the dashboard but never the folder.
func TestIntegrationDashboardConvergeAndDrift(t *testing.T) {
	ctx, e := setup(t)
	set, err := dashboards.Load("")
	if err != nil {
		t.Fatal(err)
	}
	spec := e.spec()
	resourcetest.Converge(t, ctx, e.datasource(t, spec))
	model, err := set.Host(dashboards.HostData{Host: "web-" + e.s, Database: e.db, DatasourceUID: spec.UID, Title: "it " + e.s})
	if err != nil {
		t.Fatal(err)
	}
	folderUID, dashUID := "fleetctl-it-f-"+e.s, "fleetctl-it-d-"+e.s
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.g.DeleteDashboard(ctx, dashUID)
		_ = e.g.DeleteFolder(ctx, folderUID)
	})
	folder, err := grafana.NewFolder(e.g, grafana.FolderSpec{UID: folderUID, Title: "it folder " + e.s})
	if err != nil {
		t.Fatal(err)
	}
	dash := func() *grafana.Dashboard {
		d, err := grafana.NewDashboard(e.g, grafana.DashboardSpec{UID: dashUID, FolderUID: folderUID, Model: model})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	chs := resourcetest.Converge(t, ctx, folder, dash())
	if got := resourcetest.Actions(chs); len(got) != 2 || got[0] != plan.Create || got[1] != plan.Create {
		t.Fatalf("first apply: %+v", chs)
	}
	got, found, err := e.g.GetDashboard(ctx, dashUID)
	if err != nil || !found {
		t.Fatalf("get: %v %v", found, err)
	}
	if got.FolderUID != folderUID || got.Title() != "it "+e.s {
		t.Fatalf("stored in %q as %q", got.FolderUID, got.Title())
	}

	// Someone edits a panel's title in Grafana (a save as the UI does it: the whole dashboard, its version).
	edited := got.Dashboard
	edited["panels"].([]any)[0].(map[string]any)["title"] = "edited by hand"
	if err := e.g.SaveDashboard(ctx, edited, folderUID); err != nil {
		t.Fatal(err)
	}
	pending := resourcetest.Pending(t, ctx, dash())
	if len(pending) != 1 || pending[0].Action != plan.Update || !strings.Contains(resourcetest.Fields(pending[0]), `dashboard.panels[0].title:"edited by hand"→"CPU"`) {
		t.Fatalf("drift: %+v", pending)
	}

	// A repair planned from a version someone has since replaced is refused by Grafana, not silently lost.
	stale := dash()
	if err := stale.Read(ctx); err != nil {
		t.Fatal(err)
	}
	planned := stale.Diff(nil)
	cur, _, err := e.g.GetDashboard(ctx, dashUID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Dashboard["title"] = "moved on"
	if err := e.g.SaveDashboard(ctx, cur.Dashboard, folderUID); err != nil {
		t.Fatal(err)
	}
	if err := stale.Apply(ctx, planned); !httpx.HasStatus(err, 412) {
		t.Fatalf("stale write: %v, want HTTP 412 version-mismatch", err)
	}
	// A fresh plan repairs both edits.
	resourcetest.Converge(t, ctx, dash())
	if got, _, _ := e.g.GetDashboard(ctx, dashUID); got.Title() != "it "+e.s {
		t.Fatalf("not repaired: %q", got.Title())
	}

	// Absent: the dashboard goes, the folder stays.
	d, f := dash(), folder
	d.Absent()
	f.Absent()
	chs = resourcetest.Converge(t, ctx, f, d)
	if len(chs) != 1 || chs[0].Action != plan.Delete || chs[0].Kind != grafana.KindDashboard {
		t.Fatalf("absent: %+v", chs)
	}
	if _, found, err := e.g.GetDashboard(ctx, dashUID); err != nil || found {
		t.Fatalf("dashboard still there: %v %v", found, err)
	}
	if err := folder.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if p := folder.Diff(nil); p[0].ReadDigest == "missing" {
		t.Fatal("the folder was deleted")
	}
}

// Two runs that both planned a dashboard's creation (the shared overview, when two inventories onboard at once):
// the second finds it made as it would have made it, and succeeds; made otherwise, it is refused.
func TestIntegrationDashboardCreatedMeanwhile(t *testing.T) {
	ctx, e := setup(t)
	set, err := dashboards.Load("")
	if err != nil {
		t.Fatal(err)
	}
	model, err := set.Fleet(dashboards.FleetData{Title: "it overview " + e.s})
	if err != nil {
		t.Fatal(err)
	}
	uid := "fleetctl-it-o-" + e.s
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.g.DeleteDashboard(ctx, uid)
	})
	planned := func(title string) (*grafana.Dashboard, []plan.Change) {
		m := map[string]any{}
		for k, v := range model {
			m[k] = v
		}
		m["title"] = title
		d, err := grafana.NewDashboard(e.g, grafana.DashboardSpec{UID: uid, Model: m, Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Read(ctx); err != nil {
			t.Fatal(err)
		}
		chs := d.Diff(nil)
		if chs[0].Action != plan.Create {
			t.Fatalf("planned %s, want create", chs[0].Action)
		}
		return d, chs
	}
	first, firstPlan := planned(model["title"].(string))
	same, samePlan := planned(model["title"].(string))
	other, otherPlan := planned("another overview " + e.s)
	if err := first.Apply(ctx, firstPlan); err != nil {
		t.Fatal(err)
	}
	if err := same.Apply(ctx, samePlan); err != nil {
		t.Errorf("a creation planned before another run made the same dashboard: %v", err)
	}
	if err := other.Apply(ctx, otherPlan); !httpx.HasStatus(err, 412) {
		t.Errorf("a creation planned before another run made a different dashboard: %v, want HTTP 412", err)
	}
	if got, _, _ := e.g.GetDashboard(ctx, uid); got == nil || got.Title() != model["title"] || got.Version != 1 {
		t.Errorf("the dashboard after the three runs: %+v", got)
	}
}
