package engine

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// fakeRes is a resource whose Diff returns fixed changes; a restarter adds a restart when an earlier change was
// kept, as the agent's service does.
type fakeRes struct {
	kind, name string
	changes    []plan.Change
	restarter  bool
}

func (f fakeRes) Kind() string               { return f.kind }
func (f fakeRes) Name() string               { return f.name }
func (f fakeRes) Read(context.Context) error { return nil }
func (f fakeRes) Apply(context.Context, []plan.Change) error {
	return nil
}
func (f fakeRes) Diff(prior []plan.Change) []plan.Change {
	out := append([]plan.Change{}, f.changes...)
	if f.restarter {
		for _, c := range prior {
			if c.Action.Changes() {
				return append(out, plan.Change{Action: plan.Restart, Reason: "changed: " + c.Kind + ":" + c.Name})
			}
		}
	}
	return out
}

func fileRes(name string, a plan.Action) fakeRes {
	return fakeRes{kind: "file", name: name, changes: []plan.Change{{Action: a}}}
}

func agent() fakeRes {
	return fakeRes{kind: "service", name: "telegraf", changes: []plan.Change{{Action: plan.NoOp}}, restarter: true}
}

func addresses(hp plan.HostPlan) []string {
	var out []string
	for _, c := range hp.Changes {
		out = append(out, c.Address)
	}
	return out
}

// TestEveryChangeHasAnAddressOfItsOwn: a restart (or reload) is told apart from its resource's own change.
func TestEveryChangeHasAnAddressOfItsOwn(t *testing.T) {
	task := fakeRes{kind: "kapacitor.task", name: "web1-cpu", changes: []plan.Change{{Action: plan.Update}, {Action: plan.Reload}}}
	hp, _, err := planHost(context.Background(), "web1", servers(fileRes("/a", plan.Update), task, agent()), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"web1/file:/a", "web1/kapacitor.task:web1-cpu", "web1/kapacitor.task:web1-cpu#reload", "web1/service:telegraf",
		"web1/service:telegraf#restart"}
	if got := addresses(hp); !reflect.DeepEqual(got, want) {
		t.Fatalf("addresses = %q, want %q", got, want)
	}
	if hp.Changes[4].Kind != "service" || hp.Changes[4].Name != "telegraf" {
		t.Errorf("the restart's kind and name are its resource's: %+v", hp.Changes[4])
	}

	twice := fakeRes{kind: "file", name: "/a", changes: []plan.Change{{Action: plan.Update}, {Action: plan.Update}}}
	if _, _, err := planHost(context.Background(), "web1", servers(twice), nil, nil); err == nil || !strings.Contains(err.Error(), "web1/file:/a") {
		t.Errorf("two changes with one address: %v", err)
	}
}

// TestOnlySaysWhatItLeavesOut: --only counts the pending changes it hides, and names the globs that matched
// nothing; the restart a selected change causes is kept, the reload of a task left out is left out with it.
func TestOnlySaysWhatItLeavesOut(t *testing.T) {
	sel := newSelection([]string{"*/file:/a", "*/file:/typo"})
	task := func(name string, actions ...plan.Action) fakeRes {
		r := fakeRes{kind: "kapacitor.task", name: name}
		for _, a := range actions {
			r.changes = append(r.changes, plan.Change{Action: a})
		}
		return r
	}
	rs := servers(task("web1-cpu", plan.Update, plan.Reload), task("web1-mem", plan.Reload),
		fileRes("/a", plan.Update), fileRes("/b", plan.Update), fileRes("/c", plan.Create), fileRes("/d", plan.NoOp), agent())
	hp, _, err := planHost(context.Background(), "web1", rs, sel.filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := addresses(hp), []string{"web1/file:/a", "web1/service:telegraf#restart"}; !reflect.DeepEqual(got, want) {
		t.Errorf("selected = %q, want %q", got, want)
	}
	if hp.Hidden != 5 {
		t.Errorf("hidden = %d, want 5 (the cpu task's update and reload, the mem task's reload, the update of /b and the create of /c; no-ops change nothing)", hp.Hidden)
	}

	// A task selected by its address keeps its reload.
	hp, _, err = planHost(context.Background(), "web1", rs[:1], newSelection([]string{"*/kapacitor.task:web1-cpu"}).filter(), nil)
	if got, want := addresses(hp), []string{"web1/kapacitor.task:web1-cpu", "web1/kapacitor.task:web1-cpu#reload"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("selected = %q (%v), want %q", got, err, want)
	}
	if got := sel.unmatched(); !reflect.DeepEqual(got, []string{"*/file:/typo"}) {
		t.Errorf("unmatched = %q", got)
	}
	if newSelection(nil).filter() != nil {
		t.Error("no --only must select everything")
	}
}

// TestVerboseLogNamesEachResourceByItsAddress: -v logs every resource read with its address and what it plans, and
// an error attribute only when there is an error; no secret passes.
func TestVerboseLogNamesEachResourceByItsAddress(t *testing.T) {
	var buf bytes.Buffer
	m := secret.NewMasker()
	m.Add(secret.New("hunter2-secret"))
	e := &Engine{Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), Masker: m}
	log := e.log().With("host", "web1")
	if _, _, err := planHost(context.Background(), "web1", servers(fileRes("/a", plan.Update), agent()), nil, log); err != nil {
		t.Fatal(err)
	}
	steps := []Step{{Res: OnServer(fileRes("/a", plan.Update)), Changes: []plan.Change{{Address: "web1/file:/a", Action: plan.Update}}}}
	if _, err := applyHost(context.Background(), "web1", steps, log); err != nil {
		t.Fatal(err)
	}
	log.Debug("connected", "user", "deploy hunter2-secret")
	out := buf.String()
	for _, want := range []string{`msg="read resource" host=web1 address=web1/file:/a plan=update`,
		`address=web1/service:telegraf plan=no-op,restart`, `msg="applied resource" host=web1 address=web1/file:/a changes=1`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "error=") {
		t.Errorf("an error attribute without an error:\n%s", out)
	}
	if strings.Contains(out, "hunter2-secret") {
		t.Errorf("a secret in the log:\n%s", out)
	}
}

// servers declares test resources for the server lane.
func servers(rs ...Resource) []Declared {
	out := make([]Declared, len(rs))
	for i, r := range rs {
		out[i] = OnServer(r)
	}
	return out
}
