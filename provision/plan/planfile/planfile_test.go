package planfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
)

func TestCompareSaved(t *testing.T) {
	ch := func(addr string, a plan.Action, digest string) plan.Change {
		return plan.Change{Address: addr, Action: a, ReadDigest: digest}
	}
	base := func() *plan.Plan {
		return &plan.Plan{Hosts: []plan.HostPlan{
			{Host: "web1", Changes: []plan.Change{ch("web1/file:/a", plan.Update, "d1"), ch("web1/service:telegraf", plan.NoOp, "enabled active"),
				ch("web1/service:telegraf#restart", plan.Restart, "enabled active")}},
			{Host: "web2", Changes: []plan.Change{ch("web2/package:telegraf", plan.NoOp, "true 1")}},
		}}
	}
	if mm := Compare(base(), base()); len(mm) != 0 {
		t.Fatalf("identical plans differ: %v", mm)
	}
	cases := []struct {
		name string
		edit func(*plan.Plan)
		want string
	}{
		{"a file changed again", func(p *plan.Plan) { p.Hosts[0].Changes[0].ReadDigest = "d2" }, "web1/file:/a: changed since the plan was made"},
		{"a no-op resource drifted", func(p *plan.Plan) {
			p.Hosts[1].Changes = []plan.Change{ch("web2/package:telegraf", plan.Create, "false ")}
		}, "web2/package:telegraf: the saved plan leaves it unchanged; now it needs to be created"},
		{"a planned change is no longer needed", func(p *plan.Plan) { p.Hosts[0].Changes[0].Action = plan.NoOp },
			"web1/file:/a: the saved plan updates it; now it needs no change"},
		{"a planned change is gone", func(p *plan.Plan) { p.Hosts[0].Changes = p.Hosts[0].Changes[1:] },
			"web1/file:/a: the saved plan updates it; now nothing is planned for it"},
		{"a restart is new", func(p *plan.Plan) {
			p.Hosts[1].Changes = append(p.Hosts[1].Changes, ch("web2/service:telegraf#restart", plan.Restart, ""))
		}, "web2/service:telegraf#restart: now it needs a restart, and the saved plan does not have it"},
		{"a host fails now", func(p *plan.Plan) { p.Hosts[1] = plan.HostPlan{Host: "web2", Error: "connect: refused"} }, "web2: cannot be planned now: connect: refused"},
		{"a host left the selection", func(p *plan.Plan) { p.Hosts = p.Hosts[:1] }, "web2: not in the current selection"},
		{"a host joined", func(p *plan.Plan) { p.Hosts = append(p.Hosts, plan.HostPlan{Host: "web3"}) }, "web3: not in the saved plan"},
	}
	for _, c := range cases {
		fresh := base()
		c.edit(fresh)
		mm := Compare(base(), fresh)
		var got []string
		for _, m := range mm {
			got = append(got, m.String())
		}
		if len(mm) == 0 || !strings.Contains(strings.Join(got, "\n"), c.want) {
			t.Errorf("%s: want %q, got %q", c.name, c.want, got)
		}
		if s := strings.Join(got, "\n"); strings.Contains(s, "no-op") {
			t.Errorf("%s: an action's code name in a message meant for people: %q", c.name, s)
		}
	}
}

func TestLoadSavedRefusesAnOlderFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.plan")
	if err := os.WriteFile(path, []byte(`{"format_version": "1", "plan": {"hosts": []}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "make a new plan") {
		t.Fatalf("a version-1 plan: %v", err)
	}
}
