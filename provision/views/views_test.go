package views

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func str(s string) *string { return &s }

// samplePlan has one of every kind of change a plan can hold, a failed host and an unchanged one.
func samplePlan() *plan.Plan {
	return &plan.Plan{Created: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Hosts: []plan.HostPlan{
		{Host: "db1", Error: "connect to 10.0.0.9:22: i/o timeout"},
		{Host: "idle", Changes: []plan.Change{{Address: "idle/package:telegraf", Host: "idle", Kind: "package", Name: "telegraf", Action: plan.NoOp}}},
		{Host: "web1", Changes: []plan.Change{
			{Address: "web1/influxdb.database:web1", Host: "web1", Kind: "influxdb.database", Name: "web1", Action: plan.Create,
				Fields: []plan.Field{{Name: "name", After: "web1"}}},
			{Address: "web1/influxdb.user:web1_telegraf", Host: "web1", Kind: "influxdb.user", Name: "web1_telegraf", Action: plan.Update,
				Fields: []plan.Field{{Name: "password", Sensitive: true}}},
			{Address: "web1/influxdb.grant:web1_telegraf@web1", Host: "web1", Kind: "influxdb.grant", Name: "web1_telegraf@web1", Action: plan.Update,
				Fields: []plan.Field{{Name: "privilege", Before: "READ", After: "WRITE"}}},
			{Address: "web1/kapacitor.task:web1-cpu", Host: "web1", Kind: "kapacitor.task", Name: "web1-cpu", Action: plan.Update,
				BeforeText: str("var critLevel = 80\nstream\n    |from()\n"), AfterText: str("var critLevel = 90\nstream\n    |from()\n")},
			{Address: "web1/kapacitor.task:web1-cpu", Host: "web1", Kind: "kapacitor.task", Name: "web1-cpu", Action: plan.Reload,
				Reason: "the script changed: disable, update, enable"},
			{Address: "web1/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf", Host: "web1", Kind: "file", Name: "/etc/telegraf/telegraf.d/fleetctl-inputs.conf",
				Action: plan.Update, BeforeText: str("[[inputs.cpu]]\n[[inputs.mem]]\n[[inputs.swap]]\n[[inputs.system]]\n"),
				AfterText: str("[[inputs.cpu]]\n[[inputs.mem]]\n[[inputs.nstat]]\n[[inputs.swap]]\n[[inputs.system]]\n")},
			{Address: "web1/file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf", Host: "web1", Kind: "file", Name: "/etc/telegraf/telegraf.d/fleetctl-outputs.conf",
				Action: plan.Update, Fields: []plan.Field{{Name: "mode", Before: "0644", After: "0640"}, {Name: "content", Sensitive: true}}},
			{Address: "web1/file:/etc/telegraf/telegraf.d/fleetctl-old.conf", Host: "web1", Kind: "file", Name: "/etc/telegraf/telegraf.d/fleetctl-old.conf",
				Action: plan.Delete, Reason: "written by fleetctl and no longer wanted"},
			{Address: "web1/file:/etc/telegraf/telegraf.d/local.conf", Host: "web1", Kind: "file", Name: "/etc/telegraf/telegraf.d/local.conf",
				Action: plan.Report, Reason: "not managed by fleetctl: left untouched; telegraf loads it"},
			{Address: "web1/service:telegraf", Host: "web1", Kind: "service", Name: "telegraf", Action: plan.NoOp},
			{Address: "web1/service:telegraf", Host: "web1", Kind: "service", Name: "telegraf", Action: plan.Restart,
				Reason: "changed: file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf"},
		}},
	}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, got)
	}
}

func TestTextGolden(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     *plan.Plan
		color bool
	}{{"plan.txt", samplePlan(), false}, {"plan.color.txt", samplePlan(), true}, {"empty.txt", &plan.Plan{Hosts: []plan.HostPlan{{Host: "a"}, {Host: "b"}}}, false}} {
		var b bytes.Buffer
		if err := Text(&b, c.p, TextOptions{Color: c.color}); err != nil {
			t.Fatal(err)
		}
		golden(t, c.name, b.Bytes())
		if !c.color && strings.Contains(b.String(), "\x1b[") {
			t.Errorf("%s: colour codes without colour", c.name)
		}
	}
}

func TestMarkdownGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		p    *plan.Plan
	}{{"plan.md", samplePlan()}, {"empty.md", &plan.Plan{Hosts: []plan.HostPlan{{Host: "a"}}}}} {
		var b bytes.Buffer
		if err := Markdown(&b, c.p); err != nil {
			t.Fatal(err)
		}
		golden(t, c.name, b.Bytes())
	}
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json", b.Bytes())
	var doc struct {
		FormatVersion string `json:"format_version"`
		Summary       struct {
			Create, Update, Delete, Restart, Reload, Report int
			HostsFailed                                     int `json:"hosts_failed"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc.FormatVersion != JSONFormatVersion {
		t.Fatalf("not the documented schema: %v %+v", err, doc)
	}
	if s := doc.Summary; s.Create != 1 || s.Update != 5 || s.Delete != 1 || s.Restart != 1 || s.Reload != 1 || s.Report != 1 || s.HostsFailed != 1 {
		t.Fatalf("summary: %+v", s)
	}
}

func TestCreatedTextIsShownWhole(t *testing.T) {
	d := UnifiedDiff(plan.Change{AfterText: str("a\nb")})
	if d != "+a\n+b\n" {
		t.Fatalf("got %q", d)
	}
	d = UnifiedDiff(plan.Change{BeforeText: str("a\n")})
	if d != "-a\n" {
		t.Fatalf("got %q", d)
	}
}

func TestDivergences(t *testing.T) {
	p := samplePlan()
	var applied []plan.Change
	for _, c := range p.Hosts[2].Pending() {
		if c.Kind != "service" {
			applied = append(applied, c)
		}
	}
	applied = append(applied, plan.Change{Address: "web1/extra:x", Action: plan.Create})
	d := Divergences(p, []HostOutcome{{Host: "web1", Applied: applied}})
	if len(d) != 2 || d[0].Address != "web1/service:telegraf" || d[0].Planned != "restart" || d[1].Applied != "create" {
		t.Fatalf("got %+v", d)
	}
}

func TestTextReportGolden(t *testing.T) {
	p := samplePlan()
	applied := p.Hosts[2].Pending()[:4] // the rest "failed" part-way
	hosts := []HostOutcome{
		{Host: "db1", Error: "connect to 10.0.0.9:22: i/o timeout"},
		{Host: "idle", Duration: 120 * time.Millisecond},
		{Host: "web1", Applied: applied, Error: `apply files "telegraf config": configuration check failed`, Duration: 2 * time.Second, SSHSessions: 4},
		{Host: "web2", Skipped: "not started: 2 hosts failed, more than --max-fail allows (1)"},
	}
	var b bytes.Buffer
	if err := TextReport(&b, p, hosts, hosts[3].Skipped); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.Bytes())
	b.Reset()
	if err := JSONReport(&b, p, hosts, hosts[3].Skipped); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b.Bytes())
}
