package resourcetest

import (
	"context"
	"testing"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
)

// Pending plans rs (fresh state is read) and returns the changes that would alter something.
func Pending(t testing.TB, ctx context.Context, rs ...engine.Resource) []plan.Change {
	t.Helper()
	hp, _, err := engine.PlanHost(ctx, "test", onServer(rs))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return hp.Pending()
}

// Converge applies rs through the engine's plan and apply path, then plans again and fails the test unless
// nothing is pending. It returns the changes of the first plan.
func Converge(t testing.TB, ctx context.Context, rs ...engine.Resource) []plan.Change {
	t.Helper()
	first := Apply(t, ctx, rs...)
	if again := Pending(t, ctx, rs...); len(again) > 0 {
		t.Fatalf("not idempotent: after apply, a second plan still has %d changes: %+v", len(again), again)
	}
	return first
}

// Apply plans and applies rs once and returns the changes that were pending.
func Apply(t testing.TB, ctx context.Context, rs ...engine.Resource) []plan.Change {
	t.Helper()
	hp, steps, err := engine.PlanHost(ctx, "test", onServer(rs))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if _, err := engine.ApplyHost(ctx, steps); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return hp.Pending()
}

// Actions lists the actions of changes, for compact assertions.
func Actions(chs []plan.Change) []plan.Action {
	out := make([]plan.Action, len(chs))
	for i, c := range chs {
		out[i] = c.Action
	}
	return out
}

// onServer declares server resources (the kinds these helpers test) for the engine.
func onServer(rs []engine.Resource) []engine.Declared {
	out := make([]engine.Declared, len(rs))
	for i, r := range rs {
		out[i] = engine.OnServer(r)
	}
	return out
}
