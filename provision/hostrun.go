package provision

import (
	"context"
	"log/slog"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Step pairs a resource with the changes it decided on.
type Step struct {
	Res     Resource
	Changes []plan.Change
}

// PlanHost reads every resource of one host in order and diffs it. The first read error stops the host: planning
// the rest against an unknown state would be a guess.
func PlanHost(ctx context.Context, host string, rs []Resource) (plan.HostPlan, []Step, error) {
	return planHost(ctx, host, rs, nil)
}

// planHost is PlanHost keeping only the changes whose address selected accepts (nil: all). A restart or reload is
// kept whenever it is planned: it follows only from changes that were kept, since later resources see only those.
func planHost(ctx context.Context, host string, rs []Resource, selected func(addr string) bool) (plan.HostPlan, []Step, error) {
	hp := plan.HostPlan{Host: host}
	var steps []Step
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return hp, steps, err
		}
		// Resources name themselves in their errors ("read influxdb user \"x\": ..."), so no prefix here.
		if err := r.Read(ctx); err != nil {
			return hp, steps, err
		}
		var chs []plan.Change
		for _, c := range r.Diff(hp.Changes) {
			c.Host = host
			if c.Kind == "" {
				c.Kind = r.Kind()
			}
			if c.Name == "" {
				c.Name = r.Name()
			}
			c.Address = Address(host, c.Kind, c.Name)
			if selected != nil && !selected(c.Address) && c.Action != plan.Restart && c.Action != plan.Reload {
				continue
			}
			chs = append(chs, c)
		}
		hp.Changes = append(hp.Changes, chs...)
		steps = append(steps, Step{Res: r, Changes: chs})
	}
	return hp, steps, nil
}

// Address is the canonical address of a resource, HOST/KIND:NAME, for example
// "web1/file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf" or "web1/kapacitor.task:web1-cpu".
func Address(host, kind, name string) string { return host + "/" + kind + ":" + name }

// ApplyHost carries out the pending changes of a planned host in order and returns the changes it applied. It stops
// at the first failure: later resources may depend on the failed one (a file on its package, a restart on a file).
func ApplyHost(ctx context.Context, steps []Step) ([]plan.Change, error) {
	return applyHost(ctx, steps, nil)
}

// pendingStep is a step with the changes it still has to make.
type pendingStep struct {
	res     Resource
	changes []plan.Change
}

// applyHost is ApplyHost logging each resource's apply and how long it took (log may be nil). Consecutive host
// resources that apply by shell fragment on the same connection run as one remote command: the host's repository,
// package, files and service cost one SSH session (and one sftp channel for the files), not one or two each.
func applyHost(ctx context.Context, steps []Step, log *slog.Logger) ([]plan.Change, error) {
	var done []plan.Change
	logged := func(r Resource, n int, took time.Duration, err error) {
		if log != nil {
			log.Debug("applied resource", "kind", r.Kind(), "name", r.Name(), "changes", n, "took", took.Round(time.Millisecond), "error", err)
		}
	}
	var group []pendingStep
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		g := group
		group = nil
		frags := make([]system.Fragment, len(g))
		for i, p := range g {
			f, err := p.res.(system.Scripted).Fragment(p.changes)
			if err != nil {
				return err
			}
			frags[i] = f
		}
		n, err := system.RunFragments(ctx, g[0].res.(system.Scripted).Runner(), frags, func(i int, took time.Duration) {
			done = append(done, g[i].changes...)
			logged(g[i].res, len(g[i].changes), took, nil)
		})
		if err != nil && n < len(g) {
			logged(g[n].res, len(g[n].changes), 0, err)
		}
		return err
	}
	for _, s := range steps {
		var pending []plan.Change
		for _, c := range s.Changes {
			if c.Action.Changes() {
				pending = append(pending, c)
			}
		}
		if len(pending) == 0 {
			continue
		}
		if sc, ok := s.Res.(system.Scripted); ok {
			if len(group) > 0 && group[0].res.(system.Scripted).Runner() != sc.Runner() {
				if err := flush(); err != nil {
					return done, err
				}
			}
			group = append(group, pendingStep{res: s.Res, changes: pending})
			continue
		}
		if err := flush(); err != nil {
			return done, err
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		t0 := time.Now()
		err := s.Res.Apply(ctx, pending)
		logged(s.Res, len(pending), time.Since(t0), err)
		if err != nil {
			return done, err
		}
		done = append(done, pending...)
	}
	if err := ctx.Err(); err != nil && len(group) > 0 {
		return done, err
	}
	return done, flush()
}
