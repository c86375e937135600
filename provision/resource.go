package provision

import (
	"context"

	"github.com/fleetctl/fleetctl/provision/plan"
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
