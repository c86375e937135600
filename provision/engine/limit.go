package engine

import (
	"context"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Limit bounds how many calls go to one server at once, across every host in flight: reads and writes separately,
// because some servers take parallel reads well and parallel writes badly (Grafana on SQLite answers concurrent
// datasource writes with 500 "database is locked").
type Limit struct {
	reads, writes chan struct{}
}

// NewLimit allows reads concurrent reads and writes concurrent writes (each at least 1).
func NewLimit(reads, writes int) *Limit {
	return &Limit{reads: make(chan struct{}, max(reads, 1)), writes: make(chan struct{}, max(writes, 1))}
}

func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wrap returns r with its Read and Apply calls bounded by the limit. It takes only a server's resource: what it
// bounds is calls to one server.
func (l *Limit) Wrap(r Resource) Resource { return &limited{Resource: r, l: l} }

type limited struct {
	Resource
	l *Limit
}

func (r *limited) Read(ctx context.Context) error {
	if err := acquire(ctx, r.l.reads); err != nil {
		return err
	}
	defer func() { <-r.l.reads }()
	return r.Resource.Read(ctx)
}

func (r *limited) Apply(ctx context.Context, changes []plan.Change) error {
	if err := acquire(ctx, r.l.writes); err != nil {
		return err
	}
	defer func() { <-r.l.writes }()
	return r.Resource.Apply(ctx, changes)
}
