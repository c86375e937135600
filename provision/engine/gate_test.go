package engine

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentGate is a gate that fails the named hosts and records what it was asked.
type silentGate struct {
	mu    sync.Mutex
	asked [][]string
	fail  map[string]bool
}

func (g *silentGate) gate(_ context.Context, hosts []string, since time.Time) map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked = append(g.asked, append([]string(nil), hosts...))
	out := map[string]string{}
	for _, h := range hosts {
		if g.fail[h] {
			out[h] = "no new point"
		}
	}
	return out
}

func TestGateSilentCanaryStopsTheRollout(t *testing.T) {
	// h02 applies but its agent stays silent: the canary batch failed, nothing after it starts.
	r, order := fakeRun(t, 6, 2, nil, nil, nil)
	g := &silentGate{fail: map[string]bool{"h02": true}}
	rep := r.Apply(context.Background(), Rollout{Batch: amount("2"), Gate: g.gate})
	if got := results(rep); got != "ok F - - - -" || len(*order) != 2 {
		t.Fatalf("silent canary: %s (applied %v)", got, *order)
	}
	if want := "not started: the canary batch (the first 2 hosts) had 1 failed (went silent: h02)"; rep.StopReason != want {
		t.Errorf("reason %q, want %q", rep.StopReason, want)
	}
	if h := rep.Hosts[1]; h.Error != SilentPrefix+"no new point" || len(h.Applied) == 0 {
		t.Errorf("the silent host keeps what it applied and fails: %+v", h)
	}
	if !reflect.DeepEqual(g.asked, [][]string{{"h01", "h02"}}) {
		t.Errorf("gate asked %v", g.asked)
	}
}

func TestGateAsksOnlyHostsThatApplied(t *testing.T) {
	// A host whose apply failed, or whose plan failed, is not waited for; every batch is gated, the last too.
	r, _ := fakeRun(t, 4, 1, []string{"h01"}, []string{"h04"}, nil)
	g := &silentGate{fail: map[string]bool{"h03": true}}
	rep := r.Apply(context.Background(), Rollout{Batch: amount("2"), MaxFail: amount("5"), Gate: g.gate})
	if got := results(rep); got != "F ok - -" {
		t.Fatalf("results %s", got)
	}
	// The canary (h01 failed) stops the rollout, so only its applied host is asked.
	if !reflect.DeepEqual(g.asked, [][]string{{"h02"}}) {
		t.Errorf("gate asked %v", g.asked)
	}
	r, _ = fakeRun(t, 4, 1, nil, []string{"h04"}, nil)
	g = &silentGate{fail: map[string]bool{"h03": true}}
	rep = r.Apply(context.Background(), Rollout{Batch: amount("2"), Gate: g.gate})
	if got := results(rep); got != "ok ok F F" || !strings.HasPrefix(rep.Hosts[2].Error, SilentPrefix) {
		t.Fatalf("results %s: %+v", got, rep.Hosts[2])
	}
	if !reflect.DeepEqual(g.asked, [][]string{{"h01", "h02"}, {"h03"}}) {
		t.Errorf("gate asked %v", g.asked)
	}
}

func TestGateSilentHostsCountAgainstTheBudget(t *testing.T) {
	r, order := fakeRun(t, 6, 1, nil, nil, nil)
	g := &silentGate{fail: map[string]bool{"h01": true, "h02": true}}
	rep := r.Apply(context.Background(), Rollout{Batch: amount("1"), MaxFail: amount("1"), Canary: nil, Gate: g.gate})
	// h01 is the canary: its silence stops the run at once.
	if got := results(rep); got != "F - - - - -" || len(*order) != 1 {
		t.Fatalf("results %s (applied %v)", got, *order)
	}
	// Without batches, one batch: the budget of 0 is exceeded by the silent host; the report says so.
	r, _ = fakeRun(t, 3, 3, nil, nil, nil)
	g = &silentGate{fail: map[string]bool{"h02": true}}
	rep = r.Apply(context.Background(), Rollout{MaxFail: amount("0"), Gate: g.gate})
	if got := results(rep); got != "ok F ok" || !strings.Contains(rep.StopReason, "1 host failed, more than --max-fail allows (0)") {
		t.Fatalf("results %s, reason %q", got, rep.StopReason)
	}
}
