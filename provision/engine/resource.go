package engine

import (
	"context"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Resource is one managed thing of one host: a remote file, a package, an InfluxDB user, a Kapacitor task...
// Every kind follows the same three steps, and plan and apply share the first two.
type Resource interface {
	// Kind and Name identify the resource within its host ("file", "/etc/telegraf/telegraf.d/x.conf").
	Kind() string
	Name() string
	// Read fetches the actual state. It changes nothing.
	Read(ctx context.Context) error
	// Diff compares actual with desired and returns the changes (one NoOp change when nothing differs). prior holds
	// the changes of the host's resources planned before this one, for side effects such as an agent restart.
	Diff(prior []plan.Change) []plan.Change
	// Apply carries out the pending changes Diff returned (never called with NoOp or Report changes only).
	Apply(ctx context.Context, changes []plan.Change) error
}

// HostResource is a resource applied on the host itself, over SSH, by a shell fragment: the engine runs the
// fragments of a host's host resources together, in one remote command.
type HostResource interface {
	Resource
	system.Scripted
}

// Lane is where a resource applies.
type Lane int

const (
	// ServerLane resources apply against a server (InfluxDB, Grafana, Kapacitor) by their own Apply, one after
	// another.
	ServerLane Lane = iota
	// HostLane resources apply on the host by their fragments, in one remote command.
	HostLane
)

// Declared is a resource with the lane it applies in, as a host's resource list holds it: OnServer and OnHost
// make one, so every resource says where it runs and the engine never guesses from its type.
type Declared struct {
	Resource
	lane   Lane
	script system.Scripted
}

// OnServer declares a resource applied against a server.
func OnServer(r Resource) Declared { return Declared{Resource: r, lane: ServerLane} }

// OnHost declares a resource applied on the host by its fragment.
func OnHost(r HostResource) Declared { return Declared{Resource: r, lane: HostLane, script: r} }

// Lane is where the resource applies.
func (d Declared) Lane() Lane { return d.lane }

// Absenter is a resource that can be planned for removal instead of for its desired state (destroy, prune): once
// Absent is called its Diff plans a Delete when the thing exists and a NoOp when it does not, and Apply removes it.
// Every kind a host gets should be one, so that destroy removes it.
type Absenter interface {
	Absent()
}

// OfflineBuilder is a Builder that can still plan a host it cannot reach over SSH: its server side alone (destroy
// cleans a dead host's servers). The plan of such a host reports that its host side was skipped.
type OfflineBuilder interface {
	Builder
	Offline(ctx context.Context, h Host) ([]Declared, error)
}
