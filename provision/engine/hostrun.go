package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Step pairs a resource with the changes it decided on.
type Step struct {
	Res     Declared
	Changes []plan.Change
}

// PlanHost reads every resource of one host in order and diffs it. The first read error stops the host: planning
// the rest against an unknown state would be a guess.
func PlanHost(ctx context.Context, host string, rs []Declared) (plan.HostPlan, []Step, error) {
	return planHost(ctx, host, rs, nil, nil)
}

// planHost is PlanHost keeping only the changes whose address selected accepts (nil: all), and logging each
// resource's read (log may be nil). Changes left out that would alter something are counted in the host plan's
// Hidden.
//
// A side effect (restart, reload) goes with what causes it: it is kept when its own address or its resource's is
// selected, or when a selected change of the same resource causes it (a task's update and its reload), or when a
// resource planned earlier had a change selected (the agent's restart after a file) and none of its resource's own
// changes were left out. Earlier changes left out never cause one: later resources see only the kept ones.
func planHost(ctx context.Context, host string, rs []Declared, selected func(addr string) bool, log *slog.Logger) (plan.HostPlan, []Step, error) {
	hp := plan.HostPlan{Host: host}
	var steps []Step
	seen := map[string]bool{}
	priorAlters := false // a change kept so far alters something
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return hp, steps, err
		}
		t0 := time.Now()
		// Resources name themselves in their errors ("read influxdb user \"x\": ..."), so no prefix here.
		if err := r.Read(ctx); err != nil {
			return hp, steps, err
		}
		diff := r.Diff(hp.Changes)
		ownKept, ownDropped := false, false
		for i := range diff {
			c := &diff[i]
			c.Host = host
			if c.Kind == "" {
				c.Kind = r.Kind()
			}
			if c.Name == "" {
				c.Name = r.Name()
			}
			c.Address = plan.ChangeAddress(host, c.Kind, c.Name, c.Action)
			if seen[c.Address] {
				return hp, steps, fmt.Errorf("plan %s: two changes have the address %s (a fleetctl bug: please report it)", host, c.Address)
			}
			seen[c.Address] = true
			if selected != nil && !c.Action.IsSideEffect() && c.Action.Changes() {
				if selected(c.Address) {
					ownKept = true
				} else {
					ownDropped = true
				}
			}
		}
		var chs []plan.Change
		var actions []string
		for _, c := range diff {
			keep := selected == nil
			switch {
			case keep:
			case c.Action.IsSideEffect():
				keep = selected(c.Address) || selected(plan.Address(host, r.Kind(), r.Name())) || ownKept || (priorAlters && !ownDropped)
			default:
				keep = selected(c.Address)
			}
			if !keep {
				if c.Action.Changes() {
					hp.Hidden++
				}
				continue
			}
			chs = append(chs, c)
			actions = append(actions, string(c.Action))
		}
		for _, c := range chs {
			priorAlters = priorAlters || c.Action.Changes()
		}
		if log != nil {
			if len(actions) == 0 {
				actions = []string{"not selected"}
			}
			log.Debug("read resource", "address", plan.Address(host, r.Kind(), r.Name()), "plan", strings.Join(actions, ","),
				"took", time.Since(t0).Round(time.Millisecond))
		}
		hp.Changes = append(hp.Changes, chs...)
		steps = append(steps, Step{Res: r, Changes: chs})
	}
	return hp, steps, nil
}

// ApplyHost carries out the pending changes of a planned host and returns the changes it applied, in plan order.
// Its server side and its SSH side go at once, each in order and each stopping at its first failure (later
// resources may depend on the failed one: a file on its package, a restart on a file); the service waits for both.
func ApplyHost(ctx context.Context, steps []Step) ([]plan.Change, error) {
	return applyHost(ctx, "", steps, nil)
}

// pendingStep is a step with the changes it still has to make, and where it stands in the host's plan.
type pendingStep struct {
	index   int
	res     Declared
	changes []plan.Change
}

// applyHost is ApplyHost logging each resource's apply and how long it took (log may be nil).
//
// A host's resources apply in two lanes at once. The server lane (InfluxDB, Grafana, Kapacitor) runs one resource
// after another here; the host lane (repository, package, files, service: resources that apply by shell fragment)
// runs as one remote command, so it costs one SSH session, plus one sftp channel for the files. Gated fragments (the
// service) wait on the host until the server lane has succeeded, so the agent starts only once its InfluxDB user
// and database exist, and not at all when they could not be made. Each lane stops at its own first failure.
func applyHost(ctx context.Context, host string, steps []Step, log *slog.Logger) ([]plan.Change, error) {
	var serverLane, hostLane []pendingStep
	for i, s := range steps {
		var pending []plan.Change
		for _, c := range s.Changes {
			if c.Action.Changes() {
				pending = append(pending, c)
			}
		}
		if len(pending) == 0 {
			continue
		}
		p := pendingStep{index: i, res: s.Res, changes: pending}
		if s.Res.Lane() == HostLane {
			hostLane = append(hostLane, p)
		} else {
			serverLane = append(serverLane, p)
		}
	}
	var mu sync.Mutex
	applied := make([][]plan.Change, len(steps))
	record := func(p pendingStep, took time.Duration, err error) {
		if err == nil {
			mu.Lock()
			applied[p.index] = p.changes
			mu.Unlock()
		}
		if log != nil {
			attrs := []any{"address", plan.Address(host, p.res.Kind(), p.res.Name()), "changes", len(p.changes), "took", took.Round(time.Millisecond)}
			if err != nil {
				attrs = append(attrs, "error", err.Error())
			}
			log.Debug("applied resource", attrs...)
		}
	}

	gate := make(chan error, 1)
	serverErr := make(chan error, 1)
	go func() {
		err := applyServerLane(ctx, serverLane, record)
		gate <- err
		serverErr <- err
	}()
	// A host-lane step that has to wait (another package manager's lock) says so: the host is slow for a reason.
	note := func(p pendingStep, msg string) {
		if log != nil {
			log.Warn(msg, "kind", p.res.Kind(), "name", p.res.Name())
		}
	}
	hostErr := applyHostLane(ctx, hostLane, gate, record, note)
	sErr := <-serverErr
	if errors.Is(hostErr, system.ErrGateClosed) {
		hostErr = nil // the server lane's failure says why
	}

	var done []plan.Change
	for _, chs := range applied {
		done = append(done, chs...)
	}
	switch {
	case sErr != nil && hostErr != nil:
		return done, fmt.Errorf("%w; %w", sErr, hostErr)
	case sErr != nil:
		return done, sErr
	default:
		return done, hostErr
	}
}

// applyServerLane applies the steps one after another, stopping at the first failure.
func applyServerLane(ctx context.Context, lane []pendingStep, record func(pendingStep, time.Duration, error)) error {
	for _, p := range lane {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		err := p.res.Apply(ctx, p.changes)
		record(p, time.Since(t0), err)
		if err != nil {
			return err
		}
	}
	return nil
}

// applyHostLane runs the steps' fragments as one remote command per connection (a host has one), stopping at the
// first failure. Gated fragments wait for gate.
func applyHostLane(ctx context.Context, lane []pendingStep, gate <-chan error, record func(pendingStep, time.Duration, error), note func(pendingStep, string)) error {
	for len(lane) > 0 {
		runner := lane[0].res.script.Runner()
		n := 1
		for n < len(lane) && lane[n].res.script.Runner() == runner {
			n++
		}
		group := lane[:n]
		lane = lane[n:]
		frags := make([]system.Fragment, len(group))
		for i, p := range group {
			f, err := p.res.script.Fragment(p.changes)
			if err != nil {
				record(p, 0, err)
				return err
			}
			if inner := f.Note; inner != nil {
				f.Note = func(msg string) { inner(msg); note(p, msg) }
			}
			frags[i] = f
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ran, err := system.RunFragments(ctx, runner, frags, gate, func(i int, took time.Duration) { record(group[i], took, nil) })
		if err != nil {
			if ran < len(group) && !errors.Is(err, system.ErrGateClosed) {
				record(group[ran], 0, err)
			}
			return err
		}
		if slices.ContainsFunc(frags, func(f system.Fragment) bool { return f.Gated }) {
			gate = nil // the gate has opened: later groups (none in practice) need not wait again
		}
	}
	return nil
}
