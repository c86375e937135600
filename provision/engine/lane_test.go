package engine

import (
	"context"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/system"
)

// scriptedFake could apply either way: by its Apply, or by a fragment on the host.
type scriptedFake struct {
	fakeRes
	applied *bool
	t       *testing.T
}

func (s scriptedFake) Apply(context.Context, []plan.Change) error { *s.applied = true; return nil }
func (s scriptedFake) Fragment([]plan.Change) (system.Fragment, error) {
	s.t.Error("a resource declared for the server lane was applied by its fragment")
	return system.Fragment{}, nil
}
func (s scriptedFake) Runner() system.Runner { return nil }

// TestTheDeclaredLaneDecides: the engine routes a resource by the lane it was declared for, never by the methods
// its type happens to have.
func TestTheDeclaredLaneDecides(t *testing.T) {
	applied := false
	r := scriptedFake{fakeRes: fileRes("/a", plan.Update), applied: &applied, t: t}
	if OnServer(r).Lane() != ServerLane || OnHost(r).Lane() != HostLane {
		t.Fatal("OnServer and OnHost declare the server and host lanes")
	}
	steps := []Step{{Res: OnServer(r), Changes: []plan.Change{{Address: "web1/file:/a", Action: plan.Update}}}}
	if _, err := applyHost(context.Background(), "web1", steps, nil); err != nil {
		t.Fatal(err)
	}
	if !applied {
		t.Fatal("a resource declared for the server lane was not applied by its Apply")
	}
}
