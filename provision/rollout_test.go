package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
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
	var order []string
	var mu sync.Mutex
	r := &Run{Plan: &plan.Plan{}, e: &Engine{Forks: forks}, hosts: map[string]*hostRun{}}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("h%02d", i)
		if contains(unplanned, name) {
			r.Plan.Hosts = append(r.Plan.Hosts, plan.HostPlan{Host: name, Error: "connect: no route to host"})
			continue
		}
		st := step{host: name, fail: contains(failing, name), order: &order, mu: &mu, gate: gate}
		if len(entered) > 0 {
			st.entered = entered[0]
		}
		hp, steps, err := PlanHost(context.Background(), name, []Resource{st})
		if err != nil {
			t.Fatal(err)
		}
		r.Plan.Hosts = append(r.Plan.Hosts, hp)
		r.hosts[name] = &hostRun{spec: HostSpec{Name: name}, steps: steps}
	}
	return r, &order
}

func results(rep *Report) string {
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
	done := make(chan *Report)
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
	for _, bad := range []string{"x", "-1", "120%", "5.5"} {
		if _, err := ParseAmount("batch", bad); err == nil || !strings.Contains(err.Error(), "--batch") {
			t.Errorf("%s accepted: %v", bad, err)
		}
	}
}

func TestGlobRegexp(t *testing.T) {
	re := GlobRegexp("*/file:*fleetctl-inputs.conf")
	if !re.MatchString("web1/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf") || re.MatchString("web1/file:/etc/telegraf/telegraf.conf") {
		t.Fatal("glob")
	}
}
