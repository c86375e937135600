package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// step is a fake resource whose apply fails on demand and records the order hosts were applied in.
type step struct {
	host    string
	fail    bool
	order   *[]string
	mu      *sync.Mutex
	gate    chan struct{} // when set, apply announces itself on entered and waits for gate
	entered chan string
}

func (s step) Kind() string                           { return "fake" }
func (s step) Name() string                           { return s.host }
func (s step) Read(context.Context) error             { return nil }
func (s step) Diff(prior []plan.Change) []plan.Change { return []plan.Change{{Action: plan.Create}} }
func (s step) Apply(ctx context.Context, _ []plan.Change) error {
	if s.gate != nil {
		s.entered <- s.host
		<-s.gate
	}
	s.mu.Lock()
	*s.order = append(*s.order, s.host)
	s.mu.Unlock()
	if s.fail {
		return errors.New("made to fail")
	}
	return nil
}

// fakeRun plans n hosts h01..hNN; failing lists hosts whose apply fails, unplanned hosts whose plan failed.
func fakeRun(t *testing.T, n, forks int, failing, unplanned []string, gate chan struct{}, entered ...chan string) (*Run, *[]string) {
	t.Helper()
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("h%02d", i))
	}
	return fakeRunOf(t, names, forks, failing, unplanned, gate, entered...)
}

// fakeRunOf is fakeRun of the named hosts, planned in that order.
func fakeRunOf(t *testing.T, names []string, forks int, failing, unplanned []string, gate chan struct{}, entered ...chan string) (*Run, *[]string) {
	t.Helper()
	var order []string
	var mu sync.Mutex
	r := &Run{Plan: &plan.Plan{}, e: &Engine{Forks: forks}, hosts: map[string]*hostRun{}}
	for _, name := range names {
		if slices.Contains(unplanned, name) {
			r.Plan.Hosts = append(r.Plan.Hosts, plan.HostPlan{Host: name, Error: "connect: no route to host"})
			continue
		}
		st := step{host: name, fail: slices.Contains(failing, name), order: &order, mu: &mu, gate: gate}
		if len(entered) > 0 {
			st.entered = entered[0]
		}
		hp, steps, err := PlanHost(context.Background(), name, servers(st))
		if err != nil {
			t.Fatal(err)
		}
		r.Plan.Hosts = append(r.Plan.Hosts, hp)
		r.hosts[name] = &hostRun{spec: Host{Name: name}, steps: steps}
	}
	return r, &order
}

func results(rep *plan.Outcome) string {
	var b strings.Builder
	for _, h := range rep.Hosts {
		c := "ok"
		switch {
		case h.Skipped != "":
			c = "-"
		case h.Error != "":
			c = "F"
		}
		b.WriteString(c + " ")
	}
	return strings.TrimSpace(b.String())
}

func amount(s string) Amount { a, _ := ParseAmount("x", s); return a }

func TestRolloutBatchesAndCanary(t *testing.T) {
	// A failure in the first batch (the canary) stops the run after that batch.
	r, order := fakeRun(t, 10, 2, []string{"h02"}, nil, nil)
	rep := r.Apply(context.Background(), Rollout{Batch: amount("3")})
	if got := results(rep); got != "ok F ok - - - - - - -" || len(*order) != 3 {
		t.Fatalf("canary: %s (applied %v)", got, *order)
	}
	if !strings.Contains(rep.StopReason, "canary batch (the first 3 hosts) had 1 failed") {
		t.Fatalf("reason: %q", rep.StopReason)
	}
	// A failure in a later batch does not stop the run without a budget.
	r, _ = fakeRun(t, 10, 2, []string{"h05"}, nil, nil)
	if got := results(r.Apply(context.Background(), Rollout{Batch: amount("3")})); got != "ok ok ok ok F ok ok ok ok ok" {
		t.Fatalf("later failure: %s", got)
	}
	// Batches run one after the other, in plan order.
	r, order = fakeRun(t, 6, 4, nil, nil, nil)
	r.Apply(context.Background(), Rollout{Batch: amount("50%")})
	first := append([]string(nil), (*order)[:3]...)
	sort.Strings(first)
	if strings.Join(first, ",") != "h01,h02,h03" {
		t.Fatalf("the first batch is not the first half in plan order: %v", *order)
	}
}

func TestRolloutFailureBudget(t *testing.T) {
	// One host at a time: the budget of 1 is exceeded by the second failure, and nothing starts after it.
	r, order := fakeRun(t, 8, 1, []string{"h02", "h04", "h06"}, nil, nil)
	rep := r.Apply(context.Background(), Rollout{MaxFail: amount("1")})
	if got := results(rep); got != "ok F ok F - - - -" || len(*order) != 4 {
		t.Fatalf("budget: %s (applied %v)", got, *order)
	}
	if !strings.Contains(rep.StopReason, "2 hosts failed, more than --max-fail allows (1)") {
		t.Fatalf("reason: %q", rep.StopReason)
	}
	// An unreachable host (its plan failed) counts against the budget: 25% of 8 is 2.
	r, order = fakeRun(t, 8, 1, []string{"h03"}, []string{"h01", "h02"}, nil)
	if got := results(r.Apply(context.Background(), Rollout{MaxFail: amount("25%")})); got != "F F F - - - - -" || len(*order) != 1 {
		t.Fatalf("unreachable hosts count: %s (applied %v)", got, *order)
	}
	// A host that failed to plan counts before the next host is dispatched, however many forks are free.
	r, order = fakeRun(t, 4, 10, nil, []string{"h01"}, nil)
	if got := results(r.Apply(context.Background(), Rollout{MaxFail: amount("0")})); got != "F - - -" || len(*order) != 0 {
		t.Fatalf("plan failure with free forks: %s (applied %v)", got, *order)
	}
	// --max-fail 0 stops at the first failure.
	r, _ = fakeRun(t, 4, 1, []string{"h01"}, nil, nil)
	if got := results(r.Apply(context.Background(), Rollout{MaxFail: amount("0")})); got != "F - - -" {
		t.Fatalf("max-fail 0: %s", got)
	}
}

func TestRolloutStopLetsInFlightHostsFinish(t *testing.T) {
	gate, entered := make(chan struct{}), make(chan string, 6)
	stop := make(chan struct{})
	r, order := fakeRun(t, 6, 2, nil, nil, gate, entered)
	done := make(chan *plan.Outcome)
	go func() { done <- r.Apply(context.Background(), Rollout{Stop: stop}) }()
	<-entered
	<-entered
	close(stop) // Ctrl-C while the first two hosts are in flight
	close(gate)
	rep := <-done
	if got := results(rep); got != "ok ok - - - -" || len(*order) != 2 {
		t.Fatalf("stop: %s (applied %v)", got, *order)
	}
	if rep.StopReason != "not started: the run was interrupted" {
		t.Fatalf("reason: %q", rep.StopReason)
	}
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int{"5": 5, "20%": 10, "0": 0, "100%": 50, "1%": 0} {
		a, err := ParseAmount("batch", in)
		if err != nil || a.Of(50) != want {
			t.Errorf("%s: %d %v", in, a.Of(50), err)
		}
	}
	for _, bad := range []string{"x", "-1", "120%", "5.5", "+3", " 3", "3 ", "%", "5%%", "1e3", "0x10", "99999999999"} {
		if _, err := ParseAmount("batch", bad); err == nil || !strings.Contains(err.Error(), "--batch") {
			t.Errorf("%s accepted: %v", bad, err)
		}
	}
}

// hostOrder lists the report's hosts with their result: ok, F (failed), - (not started).
func hostOrder(rep *plan.Outcome) string {
	var b []string
	for _, h := range rep.Hosts {
		b = append(b, h.Host)
	}
	return strings.Join(b, " ") + " | " + results(rep)
}

func TestRolloutKeepsTheInventoryOrder(t *testing.T) {
	// Hosts apply, and are reported, in plan order (the inventory's), not in byte order of their names
	// (c1 c10 c2); with batches, the first batch is the first hosts of the file.
	names := []string{"c2", "c10", "c1", "c3"}
	r, order := fakeRunOf(t, names, 1, nil, nil, nil)
	if got := hostOrder(r.Apply(context.Background(), Rollout{})); got != "c2 c10 c1 c3 | ok ok ok ok" ||
		strings.Join(*order, " ") != "c2 c10 c1 c3" {
		t.Fatalf("report %s, applied %v", got, *order)
	}
	r, order = fakeRunOf(t, names, 4, []string{"c10"}, nil, nil)
	rep := r.Apply(context.Background(), Rollout{Batch: amount("2")})
	if got := hostOrder(rep); got != "c2 c10 c1 c3 | ok F - -" || !strings.Contains(rep.StopReason, "the canary batch (the first 2 hosts) had 1 failed") {
		t.Fatalf("canary of the first two in file order: %s (%s), applied %v", got, rep.StopReason, *order)
	}
	r, _ = fakeRunOf(t, names, 4, []string{"c2"}, nil, nil)
	if rep := r.Apply(context.Background(), Rollout{Batch: amount("1")}); rep.StopReason != "not started: the canary batch (the first host) had 1 failed" {
		t.Fatalf("reason: %q", rep.StopReason)
	}
}

func TestRolloutChosenCanary(t *testing.T) {
	// --canary: the chosen hosts go first, alone, whatever their place; the others follow in plan order.
	r, order := fakeRunOf(t, []string{"a1", "a2", "b1", "a3", "b2"}, 1, nil, nil, nil)
	rep := r.Apply(context.Background(), Rollout{Canary: []string{"b1", "b2"}, Batch: amount("2")})
	if got := strings.Join(*order, " "); got != "b1 b2 a1 a2 a3" || results(rep) != "ok ok ok ok ok" {
		t.Fatalf("applied %s: %s", got, hostOrder(rep))
	}
	// The report stays in plan order.
	if got := hostOrder(rep); got != "a1 a2 b1 a3 b2 | ok ok ok ok ok" {
		t.Fatalf("report: %s", got)
	}
	// A failing canary stops the run before any other host, with or without --batch.
	for _, ro := range []Rollout{{Canary: []string{"a3"}}, {Canary: []string{"a3"}, Batch: amount("50%")}} {
		r, order = fakeRunOf(t, []string{"a1", "a2", "a3", "a4"}, 4, []string{"a3"}, nil, nil)
		rep = r.Apply(context.Background(), ro)
		if got := hostOrder(rep); got != "a1 a2 a3 a4 | - - F -" || len(*order) != 1 ||
			rep.StopReason != "not started: the canary batch (1 host chosen by --canary) had 1 failed" {
			t.Fatalf("batch %v: %s (%q), applied %v", ro.Batch, got, rep.StopReason, *order)
		}
	}
}

func TestBatches(t *testing.T) {
	hosts := func(names ...string) []plan.HostPlan {
		var out []plan.HostPlan
		for _, n := range names {
			out = append(out, plan.HostPlan{Host: n})
		}
		return out
	}
	show := func(bs [][]plan.HostPlan) string {
		var parts []string
		for _, b := range bs {
			var names []string
			for _, h := range b {
				names = append(names, h.Host)
			}
			parts = append(parts, strings.Join(names, ","))
		}
		return strings.Join(parts, " | ")
	}
	all := hosts("a", "b", "c", "d", "e")
	for _, tt := range []struct {
		ro   Rollout
		want string
	}{
		{Rollout{}, "a,b,c,d,e"},
		{Rollout{Batch: amount("2")}, "a,b | c,d | e"},
		{Rollout{Batch: amount("40%")}, "a,b | c,d | e"},
		{Rollout{Batch: amount("1%")}, "a | b | c | d | e"},
		{Rollout{Canary: []string{"d"}}, "d | a,b,c,e"},
		{Rollout{Canary: []string{"e", "b"}, Batch: amount("2")}, "b,e | a,c | d"},
		{Rollout{Canary: []string{"a", "b", "c", "d", "e"}}, "a,b,c,d,e"},
	} {
		if got := show(batches(all, tt.ro)); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.ro, got, tt.want)
		}
	}
	if got := batches(nil, Rollout{Batch: amount("2")}); len(got) != 0 {
		t.Errorf("no hosts: %v", got)
	}
}

// refusedAddr is a local address nothing listens on: a dial fails at once, before SSH.
func refusedAddr(t *testing.T) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().(*net.TCPAddr)
	l.Close()
	return a.IP.String(), a.Port
}

func TestPlanKeepsTheInventoryOrder(t *testing.T) {
	ip, port := refusedAddr(t)
	var specs []Host
	for _, n := range []string{"c2", "c10", "c1", "c11", "c3"} {
		specs = append(specs, Host{Name: n, Address: ip, Port: port})
	}
	e := &Engine{Forks: 5, Masker: secret.NewMasker(), SSH: remote.Config{HostKeys: &remote.HostKeys{Path: t.TempDir() + "/known_hosts"}}}
	run := e.Plan(context.Background(), specs, Rollout{})
	var got []string
	for _, h := range run.Plan.Hosts {
		if !strings.Contains(h.Error, "connect to") {
			t.Fatalf("%s: %q", h.Host, h.Error)
		}
		got = append(got, h.Host)
	}
	if strings.Join(got, " ") != "c2 c10 c1 c11 c3" {
		t.Fatalf("plan order %v, want the inventory's", got)
	}
}

func TestPlanStoppedBeforeHostsLeavesThemNotPlanned(t *testing.T) {
	// Ctrl-C before planning starts: no host is tried, none is failed, each is listed as not planned.
	ip, port := refusedAddr(t)
	specs := []Host{{Name: "web1", Address: ip, Port: port}, {Name: "web2", Address: ip, Port: port}}
	stop := make(chan struct{})
	close(stop)
	e := &Engine{Forks: 1, Masker: secret.NewMasker()}
	run := e.Plan(context.Background(), specs, Rollout{Stop: stop})
	if len(run.Plan.Hosts) != 0 || len(run.Plan.Failed()) != 0 || strings.Join(run.NotPlanned, " ") != "web1 web2" {
		t.Fatalf("plan %+v, not planned %v", run.Plan.Hosts, run.NotPlanned)
	}
}
