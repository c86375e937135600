package views

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/views/viewstest"
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
			{Address: "web1/kapacitor.task:web1-cpu#reload", Host: "web1", Kind: "kapacitor.task", Name: "web1-cpu", Action: plan.Reload,
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
			{Address: "web1/service:telegraf#restart", Host: "web1", Kind: "service", Name: "telegraf", Action: plan.Restart,
				Reason: "changed: file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf"},
		}},
		rollout("web2"), rollout("web3"),
	}}
}

// rollout is a group rollout's host: the same input added, the agent restarted.
func rollout(host string) plan.HostPlan {
	inputs := "/etc/telegraf/telegraf.d/fleetctl-inputs.conf"
	return plan.HostPlan{Host: host, Changes: []plan.Change{
		{Address: host + "/package:telegraf", Host: host, Kind: "package", Name: "telegraf", Action: plan.NoOp, ReadDigest: "true 1.37.2 " + host},
		{Address: host + "/file:" + inputs, Host: host, Kind: "file", Name: inputs, Action: plan.Update, ReadDigest: "digest of " + host,
			BeforeText: str("[[inputs.cpu]]\n[[inputs.mem]]\n"), AfterText: str("[[inputs.cpu]]\n[[inputs.mem]]\n[[inputs.nstat]]\n")},
		{Address: host + "/service:telegraf", Host: host, Kind: "service", Name: "telegraf", Action: plan.NoOp},
		{Address: host + "/service:telegraf#restart", Host: host, Kind: "service", Name: "telegraf", Action: plan.Restart,
			Reason: "changed: file:" + inputs},
	}}
}

// onlyPlan is a plan made with --only: one glob matched, one did not, and changes outside the selection wait.
func onlyPlan() *plan.Plan {
	p := &plan.Plan{Created: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Only: []string{"*/file:*inputs.conf", "*/kapacitor.task:*-cpux"},
		Unmatched: []string{"*/kapacitor.task:*-cpux"}, Hosts: []plan.HostPlan{rollout("web2"), rollout("web3"), {Host: "db1", Hidden: 2}}}
	p.Hosts[0].Hidden = 3
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	viewstest.Golden(t, name, got, *update)
}

func TestTextGolden(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     *plan.Plan
		color bool
	}{{"plan.txt", samplePlan(), false}, {"plan.color.txt", samplePlan(), true}, {"empty.txt", &plan.Plan{Hosts: []plan.HostPlan{{Host: "a"}, {Host: "b"}}}, false},
		{"only.txt", onlyPlan(), false}, {"one.txt", &plan.Plan{Hosts: []plan.HostPlan{{Host: "a"}}}, false}} {
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
	}{{"plan.md", samplePlan()}, {"empty.md", &plan.Plan{Hosts: []plan.HostPlan{{Host: "a"}}}}, {"only.md", onlyPlan()}} {
		var b bytes.Buffer
		if err := Markdown(&b, c.p); err != nil {
			t.Fatal(err)
		}
		golden(t, c.name, b.Bytes())
		// A list item whose text starts with a list marker renders as a nested, empty list.
		for _, line := range strings.Split(b.String(), "\n") {
			if t2 := strings.TrimLeft(line, " "); len(t2) > 3 && strings.HasPrefix(t2, "- ") && strings.ContainsAny(t2[2:3], "+-*") && t2[3] == ' ' {
				t.Errorf("%s: a list item opens a nested list: %q", c.name, line)
			}
		}
	}
}

// TestGroupRolloutShowsTheDiffOnce: hosts with the same changes are shown together, naming them, with the diff
// once and addresses that --only takes; JSON stays per host.
func TestGroupRolloutShowsTheDiffOnce(t *testing.T) {
	p := samplePlan()
	var text, md, js bytes.Buffer
	if err := Text(&text, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, p); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if n := strings.Count(out, "@@ -1,2 +1,3 @@"); n != 1 {
			t.Errorf("%s: the group's diff is shown %d times, want once:\n%s", name, n, out)
		}
		if !strings.Contains(out, "web2") || !strings.Contains(out, "web3") || !strings.Contains(out, "(the same on each)") {
			t.Errorf("%s: the group does not name its hosts:\n%s", name, out)
		}
		if !strings.Contains(out, "*/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf") || !strings.Contains(out, "*/service:telegraf#restart") {
			t.Errorf("%s: the group's addresses:\n%s", name, out)
		}
	}
	if !strings.Contains(text.String(), "~ update web1/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf") {
		t.Errorf("a single host's address is not the one --only takes:\n%s", text.String())
	}
	if n := strings.Count(js.String(), `"+[[inputs.nstat]]`); n != 0 {
		t.Errorf("JSON holds texts, not diffs: %d", n)
	}
	if n := strings.Count(js.String(), `[[inputs.nstat]]\n"`); n != 2 {
		t.Errorf("JSON must stay per host: the after text %d times, want 2", n)
	}
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json", b.Bytes())
	var doc struct {
		FormatVersion int `json:"format_version"`
		Summary       struct {
			Create, Update, Delete, Restart, Reload, Report int
			HostsFailed                                     int `json:"hosts_failed"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc.FormatVersion != JSONFormatVersion {
		t.Fatalf("not the documented schema: %v %+v", err, doc)
	}
	if s := doc.Summary; s.Create != 1 || s.Update != 7 || s.Delete != 1 || s.Restart != 3 || s.Reload != 1 || s.Report != 1 || s.HostsFailed != 1 {
		t.Fatalf("summary: %+v", s)
	}
	viewstest.OneJSONDocument(t, b.Bytes())
}

// TestJSONApplyIsOneDocument: apply's plan and report are one document, with the report there even when nothing
// was applied.
func TestJSONApplyIsOneDocument(t *testing.T) {
	p := samplePlan()
	var b bytes.Buffer
	hosts := []plan.HostOutcome{{Host: "db1", Error: "connect to 10.0.0.9:22: i/o timeout"}, {Host: "idle"}, {Host: "web1", Applied: p.Hosts[2].Pending()},
		{Host: "web2", Skipped: "not started: the run was interrupted"}, {Host: "web3", Skipped: "not started: the run was interrupted"}}
	if err := JSONApply(&b, p, hosts, "not started: the run was interrupted"); err != nil {
		t.Fatal(err)
	}
	golden(t, "apply.json", b.Bytes())
	doc := viewstest.OneJSONDocument(t, b.Bytes())
	rep, ok := doc["report"].(map[string]any)
	if !ok || doc["plan"] == nil || doc["format_version"] != float64(JSONFormatVersion) {
		t.Fatalf("want format_version, plan and report in one object: %v", doc)
	}
	if s := rep["summary"].(map[string]any); s["changed"] != 1.0 || s["not_started"] != 2.0 || s["failed"] != 1.0 || s["unchanged"] != 1.0 {
		t.Errorf("report summary: %v", s)
	}

	b.Reset()
	quiet := &plan.Plan{Hosts: []plan.HostPlan{{Host: "a", Changes: []plan.Change{{Address: "a/package:telegraf", Host: "a", Action: plan.NoOp}}}}}
	if err := JSONApply(&b, quiet, []plan.HostOutcome{{Host: "a"}}, ""); err != nil {
		t.Fatal(err)
	}
	doc = viewstest.OneJSONDocument(t, b.Bytes())
	if rep, ok := doc["report"].(map[string]any); !ok || len(rep["hosts"].([]any)) != 1 || len(rep["divergences"].([]any)) != 0 {
		t.Fatalf("nothing to apply: want a report of one unchanged host:\n%s", b.String())
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
	p.Hosts = p.Hosts[:3]
	d := plan.Divergences(p, []plan.HostOutcome{{Host: "web1", Applied: applied}})
	if len(d) != 2 || d[0].Address != "web1/service:telegraf#restart" || d[0].Planned != "restart" || d[1].Applied != "create" {
		t.Fatalf("got %+v", d)
	}
}

func TestTextReportGolden(t *testing.T) {
	p := samplePlan()
	applied := p.Hosts[2].Pending()[:4] // the rest "failed" part-way
	hosts := []plan.HostOutcome{
		{Host: "db1", Error: "connect to 10.0.0.9:22: i/o timeout"},
		{Host: "idle", Duration: 120 * time.Millisecond},
		{Host: "web1", Applied: applied, Error: `apply files "telegraf config": configuration check failed`, Duration: 2 * time.Second, SSHSessions: 4},
		{Host: "web2", Applied: p.Hosts[3].Pending(), Duration: 3 * time.Second},
		{Host: "web3", Skipped: "not started: 2 hosts failed, more than --max-fail allows (1)"},
	}
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("quiet%d", i)
		p.Hosts = append(p.Hosts, plan.HostPlan{Host: name})
		hosts = append(hosts, plan.HostOutcome{Host: name, Duration: time.Second})
	}
	var b bytes.Buffer
	if err := TextReport(&b, p, hosts, hosts[4].Skipped); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.Bytes())
	out := b.String()
	if strings.Contains(out, "quiet") || !strings.Contains(out, "(and 6 hosts unchanged)") {
		t.Errorf("unchanged hosts are listed, or not counted:\n%s", out)
	}
	if n := strings.Count(out, "web3"); n != 2 {
		t.Errorf("the host never started appears %d times, want twice (its row and one divergence line):\n%s", n, out)
	}

	// Hosts that made the same changes are listed once.
	b.Reset()
	p = &plan.Plan{Hosts: []plan.HostPlan{rollout("web2"), rollout("web3")}}
	hosts = []plan.HostOutcome{{Host: "web2", Applied: p.Hosts[0].Pending()}, {Host: "web3", Applied: p.Hosts[1].Pending()}}
	if err := TextReport(&b, p, hosts, ""); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Count(out, "fleetctl-inputs.conf") != 1 || !strings.Contains(out, "on web2, web3 (the same on each):") {
		t.Errorf("the same changes on two hosts:\n%s", out)
	}

	b.Reset()
	if err := TextReport(&b, &plan.Plan{Hosts: []plan.HostPlan{{Host: "a"}}}, []plan.HostOutcome{{Host: "a"}}, ""); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "1 host: 0 changed, 1 unchanged") || strings.Contains(out, "HOST") {
		t.Errorf("one unchanged host:\n%s", out)
	}
}

// TestWarningsInEveryView: a plan's fleet-wide warnings (a server whose certificate is not verified) are in the
// text, the markdown and the JSON, whether or not anything changes.
func TestWarningsInEveryView(t *testing.T) {
	const w = "influxdb.insecure_skip_verify is true: the certificate of https://influx:8086 is NOT verified"
	for _, p := range []*plan.Plan{samplePlan(), {Hosts: []plan.HostPlan{{Host: "a"}}}} {
		p.Warnings = []string{w}
		var text, md, js bytes.Buffer
		if err := Text(&text, p, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := Markdown(&md, p); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&js, p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), "Warning: "+w+".\n") {
			t.Errorf("text lacks the warning:\n%s", text.String())
		}
		if !strings.Contains(md.String(), "> **Warning:** "+w) {
			t.Errorf("markdown lacks the warning:\n%s", md.String())
		}
		if !strings.Contains(js.String(), `"warnings": [`+"\n      "+`"`+w+`"`) {
			t.Errorf("JSON lacks the warning:\n%s", js.String())
		}
	}
}

// orphansPlan is an empty plan of one host with orphans found on the servers, and an unreachable host whose
// servers' side alone was planned.
func orphansPlan(prune bool) *plan.Plan {
	p := &plan.Plan{Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Prune: prune, Hosts: []plan.HostPlan{
		{Host: "web1", Changes: []plan.Change{{Address: "web1/influxdb.database:web1", Host: "web1", Kind: "influxdb.database", Name: "web1", Action: plan.NoOp}}},
		{Host: "gone", HostSkipped: "unreachable (dial tcp: i/o timeout): the host side was skipped", Changes: []plan.Change{
			{Address: "gone/host:ssh", Host: "gone", Kind: "host", Name: "ssh", Action: plan.Report, Reason: "unreachable (dial tcp: i/o timeout): the host side was skipped"},
			{Address: "gone/grafana.datasource:fleetctl-gone", Host: "gone", Kind: "grafana.datasource", Name: "fleetctl-gone", Action: plan.Delete,
				Fields: []plan.Field{{Name: "name", Before: "InfluxDB gone"}}},
		}},
	}}
	p.Orphans = []plan.Change{
		{Address: "orphans/kapacitor.task:old1-cpu", Host: "orphans", Kind: "kapacitor.task", Name: "old1-cpu", Action: plan.Delete,
			Reason: "carries fleetctl's mark and belongs to no host of the inventory (task of old1)"},
		{Address: "orphans/influxdb.database:old1", Host: "orphans", Kind: "influxdb.database", Name: "old1", Action: plan.Report,
			Reason: "the database of a host no longer in the inventory: kept; apply --prune --delete-data drops it"},
	}
	return p
}

func TestOrphansAndSkippedHostSideGolden(t *testing.T) {
	for _, prune := range []bool{false, true} {
		name := "orphans"
		if prune {
			name = "orphans-prune"
		}
		var text, md, js bytes.Buffer
		if err := Text(&text, orphansPlan(prune), TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := Markdown(&md, orphansPlan(prune)); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&js, orphansPlan(prune)); err != nil {
			t.Fatal(err)
		}
		golden(t, name+".txt", text.Bytes())
		golden(t, name+".md", md.Bytes())
		golden(t, name+".json", js.Bytes())
	}
	var rep bytes.Buffer
	if err := TextReport(&rep, orphansPlan(false), []plan.HostOutcome{{Host: "gone", HostSkipped: "unreachable (dial tcp: i/o timeout): the host side was skipped",
		Applied: orphansPlan(false).Hosts[1].Changes[1:]}}, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.String(), "the host side was skipped") {
		t.Errorf("the report does not say the host side was skipped:\n%s", rep.String())
	}
}
