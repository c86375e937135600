package catalog

import (
	"context"
	"fmt"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// DestroyOptions say how far a destroy goes.
type DestroyOptions struct {
	// DeleteData drops each host's database (its history); without it the database is kept and reported.
	DeleteData bool
	// PurgeAgent removes the agent's package, repository and key too; without it the agent is only stopped,
	// disabled and unconfigured.
	PurgeAgent bool
}

// dataHolder is a resource holding the user's data: a destroy retains it unless told to delete data.
type dataHolder interface {
	engine.Absenter
	Retain()
}

// plannedAbsent plans r for a destroy: absent, or retained when it holds data that is to be kept. A kind that
// cannot be removed is an error, never left behind silently.
func plannedAbsent(r engine.Resource, o DestroyOptions) error {
	if d, ok := r.(dataHolder); ok && !o.DeleteData {
		d.Retain()
		return nil
	}
	a, ok := r.(engine.Absenter)
	if !ok {
		return fmt.Errorf("destroy: resource %s:%s cannot be removed (a fleetctl bug: please report it)", r.Kind(), r.Name())
	}
	a.Absent()
	return nil
}

// Destroy is the engine's Builder for `fleetctl destroy`: every resource the catalog gives a host, planned absent
// and in reverse order (Kapacitor tasks, Grafana, InfluxDB grants and users, with DeleteData the database), then on
// the host the agent stopped and disabled and fleetctl's files deleted (with PurgeAgent the package, repository and
// key removed). A host that cannot be reached still gets its servers' side planned (engine.OfflineBuilder).
type Destroy struct {
	c *Catalog
	o DestroyOptions
}

// Destroy returns the catalog's destroy builder.
func (c *Catalog) Destroy(o DestroyOptions) *Destroy { return &Destroy{c: c, o: o} }

// Query is what the catalog reads from a host.
func (d *Destroy) Query(h engine.Host) system.Query { return d.c.Query(h) }

// Resources are the host's resources planned absent: its servers' side, then its own.
func (d *Destroy) Resources(ctx context.Context, eh engine.Host, conn *remote.Conn, facts *system.Facts) ([]engine.Declared, error) {
	rs, err := d.Offline(ctx, eh)
	if err != nil {
		return nil, err
	}
	h := d.c.hosts[eh.Name]
	osInfo, err := system.Detect(facts.OSRelease, facts.Init)
	if err != nil {
		return nil, err
	}
	cfg := d.c.cfg
	secrets := &AgentSecrets{Storage: d.c.storage(osInfo, facts)}
	files, err := telegrafFiles(osInfo.Family, h, d.c.agentOutput(), secret.Derive(cfg.Master, h.Name, RoleWrite), secrets)
	if err != nil {
		return nil, err
	}
	side := newTelegrafSide(h.Name, conn, facts, osInfo, files, cfg.Telegraf, cfg.Masker, secrets, accessOf(h))
	// The agent stops first, so it writes nothing while its users go.
	return append(side.absent(d.o.PurgeAgent), rs...), nil
}

// Offline is the host's servers' side planned absent, for a host that cannot be reached.
func (d *Destroy) Offline(_ context.Context, eh engine.Host) ([]engine.Declared, error) {
	h, ok := d.c.hosts[eh.Name]
	if !ok {
		return nil, fmt.Errorf("host %s is not in the fleet's catalog (a fleetctl bug: please report it)", eh.Name)
	}
	return d.c.serverResources(h, nil, &d.o)
}
