package plan

import (
	"reflect"
	"testing"
)

func change(host, name string, a Action) Change {
	return Change{Address: host + "/file:" + name, Host: host, Kind: "file", Name: name, Action: a}
}

func TestCountsLeaveNoOpAndReportOutOfTheTotal(t *testing.T) {
	h := HostPlan{Host: "web1", Changes: []Change{
		change("web1", "a", NoOp),
		change("web1", "b", Create),
		change("web1", "c", Update),
		change("web1", "d", Update),
		change("web1", "e", Delete),
		change("web1", "f", Restart),
		change("web1", "g", Reload),
		change("web1", "h", Report),
	}}
	got := h.Counts()
	want := Counts{Create: 1, Update: 2, Delete: 1, Restart: 1, Reload: 1, Report: 1}
	if got != want {
		t.Fatalf("counts = %+v, want %+v", got, want)
	}
	if got.Total() != 6 {
		t.Errorf("total = %d, want 6 (no-op and report alter nothing)", got.Total())
	}
}

func TestPendingKeepsApplyOrder(t *testing.T) {
	h := HostPlan{Host: "web1", Changes: []Change{
		change("web1", "repo", Update),
		change("web1", "pkg", NoOp),
		change("web1", "conf", Create),
		change("web1", "stray", Report),
		change("web1", "svc", Restart),
	}}
	var names []string
	for _, c := range h.Pending() {
		names = append(names, c.Name)
	}
	if want := []string{"repo", "conf", "svc"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("pending = %v, want %v", names, want)
	}
}

func TestPlanSummaries(t *testing.T) {
	p := &Plan{Hosts: []HostPlan{
		{Host: "web3", Changes: []Change{change("web3", "a", NoOp), change("web3", "r", Report)}},
		{Host: "db1", Error: "dial tcp: connection refused"},
		{Host: "web1", Changes: []Change{change("web1", "a", Update), change("web1", "svc", Restart)}},
	}}
	p.Sort()
	var order []string
	for _, h := range p.Hosts {
		order = append(order, h.Host)
	}
	if want := []string{"db1", "web1", "web3"}; !reflect.DeepEqual(order, want) {
		t.Errorf("sorted hosts = %v, want %v", order, want)
	}
	if got := p.Counts(); got != (Counts{Update: 1, Restart: 1, Report: 1}) {
		t.Errorf("counts = %+v", got)
	}
	if got := p.HostsChanging(); got != 1 {
		t.Errorf("hosts changing = %d, want 1 (a host with only a report changes nothing)", got)
	}
	if f := p.Failed(); len(f) != 1 || f[0].Host != "db1" {
		t.Errorf("failed = %+v, want db1 only", f)
	}
	if p.Empty() {
		t.Error("a plan with changes and a failed host is not empty")
	}
}

func TestEmptyNeedsNoChangeAndNoFailure(t *testing.T) {
	quiet := &Plan{Hosts: []HostPlan{{Host: "web1", Changes: []Change{change("web1", "a", NoOp), change("web1", "b", Report)}}}}
	if !quiet.Empty() {
		t.Error("no-op and report only: want empty")
	}
	failed := &Plan{Hosts: []HostPlan{{Host: "web1", Error: "ssh: handshake failed"}}}
	if failed.Empty() {
		t.Error("a host that could not be planned must not read as an empty plan")
	}
}

func TestSensitiveFieldAlwaysCountsAsChanged(t *testing.T) {
	if (Field{Name: "password"}).Changed() {
		t.Error("equal non-sensitive field reported as changed")
	}
	if !(Field{Name: "password", Sensitive: true}).Changed() {
		t.Error("a sensitive field is listed only when it changes, so it must read as changed")
	}
	if !(Field{Name: "url", Before: "http://a", After: "http://b"}).Changed() {
		t.Error("differing field reported as unchanged")
	}
}

func TestHiddenAddsUpWhatOnlyLeftOut(t *testing.T) {
	p := &Plan{Hosts: []HostPlan{{Host: "a", Hidden: 2}, {Host: "b"}, {Host: "c", Hidden: 1}}}
	if n, hosts := p.Hidden(); n != 3 || hosts != 2 {
		t.Fatalf("hidden = %d on %d hosts, want 3 on 2", n, hosts)
	}
	for a, side := range map[Action]bool{Restart: true, Reload: true, Update: false, Create: false, NoOp: false} {
		if a.IsSideEffect() != side {
			t.Errorf("%s: side effect %v, want %v", a, !side, side)
		}
	}
}
