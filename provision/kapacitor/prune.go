package kapacitor

import (
	"context"
	"fmt"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Prune finds the tasks of one server that fleetctl created and no longer wants (an alert pack was removed from
// the server, or a pack dropped a template) and deletes them. Only tasks whose marker line names the server are
// deleted; other tasks matching <server>-* are reported (made by hand) or ignored (another server's, whose name
// extends this one's: web1-db's tasks also match web1-*).
type Prune struct {
	c      *Client
	server string
	keep   map[string]bool

	read    bool
	found   []TaskState
	listing *Listing
	reason  string // why a marked task goes; "" is reasonPrune
}

// ReadFrom makes Read take the server's tasks from l, the listing its Tasks read too.
func (p *Prune) ReadFrom(l *Listing) *Prune {
	p.listing = l
	return p
}

// NewPrune returns the pruner of server's tasks; keep lists the ids of the tasks still desired.
func NewPrune(c *Client, server string, keep []string) (*Prune, error) {
	if err := CheckTaskID(server); err != nil {
		return nil, fmt.Errorf("prune kapacitor tasks of server %q: %w", server, err)
	}
	k := make(map[string]bool, len(keep))
	for _, id := range keep {
		k[id] = true
	}
	return &Prune{c: c, server: server, keep: k}, nil
}

// Absent plans every task of the server that carries its marker deleted: none is desired any more.
func (p *Prune) Absent() { p.keep, p.reason = map[string]bool{}, reasonDestroy }

func (p *Prune) Kind() string { return KindPrune }
func (p *Prune) Name() string { return p.server + "-*" }

func (p *Prune) Read(ctx context.Context) error {
	l := p.listing
	if l == nil {
		l = NewListing(p.c, p.server)
	}
	found, err := l.Tasks(ctx)
	if err != nil {
		return err
	}
	p.found, p.read = found, true
	return nil
}

const (
	reasonPrune     = "no alert pack of the server renders this task any more"
	reasonDestroy   = "the server leaves the fleet"
	reasonUnmanaged = "matches the server's task names but has no fleetctl marker line: left alone (delete it by hand if it is stale)"
)

func (p *Prune) Diff(prior []plan.Change) []plan.Change {
	var chs []plan.Change
	for _, t := range p.found {
		if p.keep[t.ID] {
			continue
		}
		owner, marked := markedServer(t.Script)
		switch {
		case marked && owner == p.server:
			before := normScript(t.Script)
			reason := p.reason
			if reason == "" {
				reason = reasonPrune
			}
			chs = append(chs, plan.Change{
				Kind: KindTask, Name: t.ID, Action: plan.Delete, Reason: reason,
				Fields:     []plan.Field{{Name: "status", Before: t.Status}},
				BeforeText: &before, ReadDigest: readDigest(&t),
			})
		case marked:
			// Another server's task; that server's own Prune looks after it.
		default:
			chs = append(chs, plan.Change{Kind: KindTask, Name: t.ID, Action: plan.Report, Reason: reasonUnmanaged})
		}
	}
	if len(chs) == 0 {
		chs = append(chs, plan.Change{Action: plan.NoOp})
	}
	return chs
}

// Apply deletes the tasks of the Delete changes.
func (p *Prune) Apply(ctx context.Context, changes []plan.Change) error {
	if !p.read {
		return fmt.Errorf("prune kapacitor tasks of server %q: not read", p.server)
	}
	for _, ch := range changes {
		if ch.Action != plan.Delete {
			continue
		}
		if err := p.c.DeleteTask(ctx, ch.Name); err != nil {
			return err
		}
	}
	return nil
}

// KeepIDs returns the ids of tasks, the keep list of NewPrune for a server whose desired tasks they are.
func KeepIDs(tasks []*Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.ID()
	}
	return out
}

// MarkedServer returns the server a task's script names in fleetctl's marker line, and whether it has one: the
// mark of a task fleetctl made.
func MarkedServer(script string) (string, bool) { return markedServer(script) }
