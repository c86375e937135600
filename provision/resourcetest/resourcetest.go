package resourcetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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

// Fields renders a change's fields as "name:before→after", sensitive ones as "name:(sensitive)".
func Fields(ch plan.Change) string {
	var out []string
	for _, f := range ch.Fields {
		if f.Sensitive {
			out = append(out, f.Name+":(sensitive)")
		} else {
			out = append(out, f.Name+":"+f.Before+"→"+f.After)
		}
	}
	return strings.Join(out, " ")
}

// NoSecret renders v with %+v, %#v, %v and as JSON and fails the test if one of the secrets shows up, or if v is
// changes and a sensitive field of one carries a value.
func NoSecret(t testing.TB, v any, secrets ...string) {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	all := fmt.Sprintf("%+v\n%#v\n%v\n", v, v, v) + string(js)
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Fatalf("secret %q leaked: %s", s, all)
		}
	}
	chs, _ := v.([]plan.Change)
	if ch, ok := v.(plan.Change); ok {
		chs = []plan.Change{ch}
	}
	for _, ch := range chs {
		for _, f := range ch.Fields {
			if f.Sensitive && (f.Before != "" || f.After != "") {
				t.Fatalf("sensitive field carries a value: %+v", f)
			}
		}
	}
}
