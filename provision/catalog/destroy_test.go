package catalog

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/dashboards"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

func testCatalog(t *testing.T) *Catalog {
	t.Helper()
	ix, err := influx.NewClient(influx.Config{URL: "http://127.0.0.1:1", Username: "admin", Password: secret.New("pw")})
	if err != nil {
		t.Fatal(err)
	}
	g, err := grafana.NewClient(grafana.Config{URL: "http://127.0.0.1:1", Token: secret.New("tok")})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kapacitor.NewClient(kapacitor.Config{URL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := dashboards.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Servers: Servers{Influx: ix, Grafana: g, Kapacitor: k, GrafanaInfluxURL: "http://influx:8086"},
		Master: secret.New("master"), Masker: secret.NewMasker(), Dashboards: set}
	return New(cfg, []Host{
		{Host: engine.Host{Name: "web1"}, Database: "web1", Group: "web", RetentionPolicy: &inventory.RetentionPolicy{Name: "month", Duration: 720 * 3600e9, Replication: 1, Default: true}},
		{Host: engine.Host{Name: "web2"}, Database: "web2"},
	})
}

func kinds(rs []engine.Declared) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind())
	}
	return strings.Join(out, " ")
}

// Every server resource the catalog gives a host can be planned absent, in reverse order: a kind added to the
// catalog without a Delete fails this test (and destroy) instead of being left behind.
func TestDestroyPlansEveryServerResourceAbsent(t *testing.T) {
	c := testCatalog(t)
	d := c.Destroy(DestroyOptions{})
	rs, err := d.Offline(context.Background(), engine.Host{Name: "web1"})
	if err != nil {
		t.Fatal(err)
	}
	onboard, err := c.serverResources(c.hosts["web1"], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(onboard) {
		t.Fatalf("destroy plans %d resources, onboarding %d", len(rs), len(onboard))
	}
	want := "kapacitor.prune kapacitor.handlers grafana.dashboard grafana.folder grafana.dashboard grafana.folder grafana.datasource influxdb.grant influxdb.user influxdb.grant influxdb.user influxdb.retention_policy influxdb.database"
	if got := kinds(rs); got != want {
		t.Errorf("destroy order:\n got %s\nwant %s", got, want)
	}
	// The data stays: the database is reported kept, without a server's answer needed to say so.
	db := rs[len(rs)-1]
	if chs := db.Diff(nil); chs[0].Action != plan.NoOp {
		t.Errorf("a database not read as existing: %+v", chs)
	}
}

type noDelete struct{ engine.Resource }

func (noDelete) Kind() string { return "x.kind" }
func (noDelete) Name() string { return "y" }

type holder struct {
	noDelete
	absent, retained bool
}

func (h *holder) Absent() { h.absent = true }
func (h *holder) Retain() { h.retained = true }

func TestPlannedAbsent(t *testing.T) {
	if err := plannedAbsent(noDelete{}, DestroyOptions{}); err == nil || !strings.Contains(err.Error(), "x.kind:y cannot be removed") {
		t.Errorf("a kind without Absent: %v", err)
	}
	h := &holder{}
	if err := plannedAbsent(h, DestroyOptions{}); err != nil || !h.retained || h.absent {
		t.Errorf("data without --delete-data: %v %+v", err, h)
	}
	h = &holder{}
	if err := plannedAbsent(h, DestroyOptions{DeleteData: true}); err != nil || h.retained || !h.absent {
		t.Errorf("data with --delete-data: %v %+v", err, h)
	}
}
