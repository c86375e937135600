package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/status"
	"github.com/fleetctl/fleetctl/provision/system"
)

// StatusOptions say how `fleetctl status` checks the fleet.
type StatusOptions struct {
	// StaleAfter is how old a host's newest point may be for the host to count as reporting.
	StaleAfter time.Duration
	// NoSSH asks the servers only: the agents' state is not read.
	NoSSH bool
	// Forks is how many hosts are asked over SSH at once; <1 means 10.
	Forks int
}

// Grafana health checks in flight at once: each makes Grafana query InfluxDB.
const healthChecksInFlight = 8

// Status checks every selected host: from InfluxDB the newest point of each (one request for the whole fleet,
// after one SHOW DATABASES), from Kapacitor every task (one paged listing) and the events of the topics not OK
// (one listing, then one request per such topic), from Grafana each datasource's health, and, unless NoSSH, the
// agent's state over one SSH session per host. The servers and the hosts are asked at the same time.
func (s *Session) Status(ctx context.Context, o StatusOptions) (*plan.Status, error) {
	exp, probes, err := s.expectations()
	if err != nil {
		return nil, err
	}
	now := time.Now
	if s.engine.Now != nil {
		now = s.engine.Now
	}
	r := status.Readings{StaleAfter: o.StaleAfter}
	var wg sync.WaitGroup
	wg.Add(4)
	go func() {
		defer wg.Done()
		r.LastPoints, r.PointErrors, r.PointsErr = s.lastPoints(ctx, probes)
	}()
	go func() {
		defer wg.Done()
		r.Tasks, r.TasksErr = s.taskStates(ctx)
		r.Events, r.EventsErr = s.firingEvents(ctx, exp)
	}()
	go func() {
		defer wg.Done()
		r.Datasources = s.datasourceHealth(ctx, exp)
	}()
	go func() {
		defer wg.Done()
		if !o.NoSSH {
			r.Agents = s.agents(ctx, o.Forks)
		}
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Now = now()
	st := status.Assemble(exp, r)
	return &st, nil
}

// expectations are what status checks of each selected host, and where to find its newest point.
func (s *Session) expectations() ([]status.Expect, []influx.Probe, error) {
	var exp []status.Expect
	var probes []influx.Probe
	var errs []error
	for _, h := range s.Hosts {
		x, err := catalog.Expectation(s.cfg, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p, err := catalog.Probe(h); err != nil {
			x.Unprobed = err.Error()
		} else {
			probes = append(probes, p)
		}
		exp = append(exp, x)
	}
	return exp, probes, errors.Join(errs...)
}

func (s *Session) lastPoints(ctx context.Context, probes []influx.Probe) (map[string]time.Time, map[string]string, string) {
	lp, err := s.cfg.Servers.Influx.LastPoints(ctx, probes)
	if err != nil {
		return nil, nil, s.masker.Mask(err.Error())
	}
	errs := map[string]string{}
	for h, e := range lp.Errors {
		errs[h] = s.masker.Mask(e.Error())
	}
	return lp.Times, errs, ""
}

func (s *Session) taskStates(ctx context.Context) (map[string]status.Task, string) {
	ts, err := s.cfg.Servers.Kapacitor.TaskStates(ctx)
	if err != nil {
		return nil, s.masker.Mask(err.Error())
	}
	out := make(map[string]status.Task, len(ts))
	for _, t := range ts {
		out[t.ID] = status.Task{Status: t.Status, Executing: t.Executing, Error: s.masker.Mask(t.Error)}
	}
	return out, ""
}

// firingEvents reads the events not OK of the topics the hosts' tasks publish to: one listing of the topics not
// OK, then the events of those that belong to a selected host.
func (s *Session) firingEvents(ctx context.Context, exp []status.Expect) ([]status.Event, string) {
	k := s.cfg.Servers.Kapacitor
	topics, err := k.FiringTopics(ctx, "INFO")
	if err != nil {
		return nil, s.masker.Mask(err.Error())
	}
	var out []status.Event
	for _, t := range topics {
		if !status.Wanted(exp, t.ID) {
			continue
		}
		evs, err := k.TopicEvents(ctx, t.ID, "INFO")
		if kapacitor.IsNotFound(err) {
			continue // the topic went away since the listing
		}
		if err != nil {
			return nil, s.masker.Mask(err.Error())
		}
		for _, e := range evs {
			out = append(out, status.Event{Topic: t.ID, ID: e.ID, Level: e.State.Level, Message: s.masker.Mask(e.State.Message), Since: e.State.Time})
		}
	}
	return out, ""
}

// datasourceHealth asks Grafana to test each host's datasource, a few at a time.
func (s *Session) datasourceHealth(ctx context.Context, exp []status.Expect) map[string]plan.DatasourceStatus {
	g := s.cfg.Servers.Grafana
	out := make(map[string]plan.DatasourceStatus, len(exp))
	var mu sync.Mutex
	engine.ForEach(ctx, healthChecksInFlight, len(exp), func(i int) {
		uid := exp[i].DatasourceUID
		h, err := g.Health(ctx, uid)
		ds := plan.DatasourceStatus{UID: uid, Health: "OK", Message: h.Message}
		missing := grafana.IsNotFound(err)
		if err != nil && !missing {
			// Grafana 10.0 answers the health of a missing datasource with 500 "Unable to load datasource
			// metadata": only a read tells a missing datasource from a failing one.
			_, found, gerr := g.GetDatasource(ctx, uid)
			missing = gerr == nil && !found
		}
		switch {
		case missing:
			ds.Health, ds.Message = "missing", ""
		case err != nil && h.Status == "ERROR":
			ds.Health, ds.Message = "ERROR", s.masker.Mask(h.Message)
		case err != nil:
			ds.Health, ds.Message = "ERROR", s.masker.Mask(err.Error())
		}
		mu.Lock()
		out[uid] = ds
		mu.Unlock()
	})
	return out
}

// agents reads the agent's service on every selected host: one connection and one SSH session each, forks at a
// time.
func (s *Session) agents(ctx context.Context, forks int) map[string]status.Agent {
	out := make(map[string]status.Agent, len(s.Hosts))
	var mu sync.Mutex
	engine.ForEach(ctx, forks, len(s.Hosts), func(i int) {
		h := s.Hosts[i]
		a := s.agent(ctx, h.Host)
		mu.Lock()
		out[h.Name] = a
		mu.Unlock()
	})
	return out
}

func (s *Session) agent(ctx context.Context, h engine.Host) status.Agent {
	cfg := s.engine.SSH
	if h.User != "" {
		cfg.User = h.User
	}
	ep := remote.Endpoint{Name: h.Name, Addr: fmt.Sprintf("%s:%d", h.Address, h.Port)}
	if h.Reach != nil {
		ep = *h.Reach
	}
	conn, err := remote.DialEndpoint(ctx, ep, cfg)
	if err != nil {
		return status.Agent{Err: s.masker.Mask(err.Error())}
	}
	defer conn.Close()
	facts, err := system.Read(ctx, conn, catalog.AgentQuery())
	if err != nil {
		return status.Agent{Err: s.masker.Mask(err.Error())}
	}
	svc := facts.Services[catalog.AgentService]
	if !svc.Exists {
		return status.Agent{Active: "absent"}
	}
	return status.Agent{Active: svc.Active}
}

// ReportingGate is the check of `apply --wait-reporting`: after a batch, it waits until every host of it has
// written a point newer than the batch's end, polling InfluxDB every poll (one request for the batch), and
// gives up after within: the hosts still without one have gone silent.
func (s *Session) ReportingGate(within, poll time.Duration) engine.Gate {
	return func(ctx context.Context, hosts []string, since time.Time) map[string]string {
		probes := map[string]influx.Probe{}
		for _, h := range s.Hosts {
			if p, err := catalog.Probe(h); err == nil {
				probes[h.Name] = p
			}
		}
		deadline := time.NewTimer(within)
		defer deadline.Stop()
		tick := time.NewTicker(poll)
		defer tick.Stop()
		waiting := append([]string{}, hosts...)
		var last map[string]string
		for {
			var ps []influx.Probe
			for _, h := range waiting {
				ps = append(ps, probes[h])
			}
			r := status.Readings{}
			r.LastPoints, r.PointErrors, r.PointsErr = s.lastPoints(ctx, ps)
			last = status.Silent(waiting, since, r)
			waiting = waiting[:0]
			for h := range last {
				waiting = append(waiting, h)
			}
			sort.Strings(waiting)
			if len(waiting) == 0 {
				return nil
			}
			select {
			case <-ctx.Done():
				return withinNote(last, "the run was aborted while waiting")
			case <-deadline.C:
				return withinNote(last, fmt.Sprintf("no new point within --wait-reporting %s of the apply", within))
			case <-tick.C:
			}
		}
	}
}

func withinNote(silent map[string]string, why string) map[string]string {
	out := make(map[string]string, len(silent))
	for h, detail := range silent {
		out[h] = why + "; " + detail
	}
	return out
}
