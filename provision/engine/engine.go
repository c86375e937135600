package engine

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Host is one host as the engine needs it: its name, and where and as whom to reach it. Everything desired of it
// is the Builder's.
type Host struct {
	Name    string
	Address string
	Port    int
	User    string // empty: the fleet's SSH user
	// Reach is how to log in, worked out from the inventory and ssh_config; nil: Address and Port with the
	// fleet's SSH settings.
	Reach *remote.Endpoint
}

// Builder turns one host into its ordered resources, given its open connection and the facts read from it. What
// the resources are (a fleet's servers, its secrets, what a host gets) lives in the Builder: the engine knows
// hosts, resources and lanes only.
type Builder interface {
	// Query is what to read from every host in the one batched read.
	Query(h Host) system.Query
	// Resources returns the host's resources in apply order, each declared for its lane.
	Resources(ctx context.Context, h Host, conn *remote.Conn, facts *system.Facts) ([]Declared, error)
}

// Engine plans and applies hosts in parallel. One Engine serves one run.
type Engine struct {
	SSH     remote.Config
	Builder Builder
	Forks   int // hosts in flight; <1 means 10
	// Only keeps the changes whose address matches one of these globs (* matches any run of characters, / too).
	Only   []string
	Log    *slog.Logger
	Masker *secret.Masker
	Now    func() time.Time
	// Lock, when set, takes each host's run lock before reading it (apply): a second run waits or fails.
	Lock *RunLock
	// PlanOnly is for a plan that will not be applied: each host's connection ends as soon as the host is
	// planned, so a run holds at most Forks connections (and the hosts as many logins) instead of one per host
	// until it ends. Such a run cannot be applied.
	PlanOnly bool
}

// Run is a planned run: its plan, and for each planned host the open connection and steps needed to apply it.
type Run struct {
	Plan *plan.Plan
	// NotPlanned lists the hosts a stop (Ctrl-C) kept from being planned, in order; they are not in Plan.
	NotPlanned []string
	e          *Engine
	hosts      map[string]*hostRun
}

type hostRun struct {
	spec  Host
	conn  *remote.Conn
	lock  *remote.Lock // the host's run lock, held from before its read to the end of the run; nil for a plan
	steps []Step
	// hostSkipped says why the host's own side is not in its steps (it could not be reached); empty: it is.
	hostSkipped string
}

// Close releases every run lock and ends every connection of the run.
func (r *Run) Close() {
	var wg sync.WaitGroup
	for _, h := range r.hosts {
		wg.Add(1)
		go func(h *hostRun) {
			defer wg.Done()
			h.lock.Release()
			if h.conn != nil {
				h.conn.Close()
			}
		}(h)
	}
	wg.Wait()
}

// Plan connects to every host (Forks at a time), reads its state and diffs it. A host that fails is recorded in
// the plan with its error; the others go on. The plan keeps the hosts' order. Once ro.Stop is closed no new host
// starts, and the hosts left out are listed in NotPlanned (not failed: nothing was tried on them).
func (e *Engine) Plan(ctx context.Context, hosts []Host, ro Rollout) *Run {
	run := &Run{Plan: &plan.Plan{Created: e.now()}, e: e, hosts: map[string]*hostRun{}}
	sel := newSelection(e.Only)
	var mu sync.Mutex
	progress := &tally{phase: "plan", total: len(hosts), start: e.now(), now: e.now, on: ro.OnHost}
	started := schedule(ctx, e.Forks, len(hosts), func() bool { return stopped(ro.Stop) }, func(i int) func() {
		return func() {
			h := hosts[i]
			t0 := e.now()
			hr, hp := e.planHost(ctx, h, sel)
			attrs := []any{"host", h.Name, "changes", hp.Counts().Total(), "took", e.now().Sub(t0).Round(time.Millisecond)}
			if hp.Error != "" {
				attrs = append(attrs, "error", hp.Error)
			}
			e.log().Debug("planned host", attrs...)
			if hr != nil && e.PlanOnly {
				hr.lock.Release()
				hr.conn.Close()
				hr = nil
			}
			mu.Lock()
			defer mu.Unlock()
			run.Plan.Hosts = append(run.Plan.Hosts, hp)
			if hr != nil {
				run.hosts[h.Name] = hr
			}
			progress.add(plan.HostOutcome{Host: h.Name, Error: hp.Error, Duration: e.now().Sub(t0)}, hp.Counts().Total() > 0)
		}
	})
	for _, h := range hosts[started:] {
		run.NotPlanned = append(run.NotPlanned, h.Name)
	}
	at := map[string]int{}
	for i, h := range hosts {
		at[h.Name] = i
	}
	slices.SortFunc(run.Plan.Hosts, func(a, b plan.HostPlan) int { return at[a.Host] - at[b.Host] })
	run.Plan.Only = e.Only
	run.Plan.Unmatched = sel.unmatched()
	return run
}

func (e *Engine) planHost(ctx context.Context, h Host, sel *selection) (*hostRun, plan.HostPlan) {
	fail := func(err error) (*hostRun, plan.HostPlan) {
		return nil, plan.HostPlan{Host: h.Name, Error: e.Masker.Mask(err.Error())}
	}
	log := e.log().With("host", h.Name)
	cfg := e.SSH
	if h.User != "" {
		cfg.User = h.User
	}
	ep := remote.Endpoint{Name: h.Name, Addr: fmt.Sprintf("%s:%d", h.Address, h.Port)}
	if h.Reach != nil {
		ep = *h.Reach
	}
	t0 := e.now()
	conn, err := remote.DialEndpoint(ctx, ep, cfg)
	if ob, ok := e.Builder.(OfflineBuilder); ok && err != nil && ctx.Err() == nil {
		return e.planOffline(ctx, h, sel, ob, err)
	}
	if err != nil {
		return fail(err)
	}
	log.Debug("connected", "address", ep.Addr, "user", cfg.User, "took", e.now().Sub(t0).Round(time.Millisecond))
	var lock *remote.Lock
	if e.Lock != nil {
		if lock, err = e.Lock.take(ctx, conn, e.log()); err != nil {
			conn.Close()
			return fail(fmt.Errorf("%s: %w", h.Name, err))
		}
	}
	t0 = e.now()
	facts, err := system.Read(ctx, conn, e.Builder.Query(h))
	if err != nil {
		conn.Close()
		return fail(err)
	}
	osName := facts.OSRelease["PRETTY_NAME"]
	if osName == "" {
		osName = strings.TrimSpace(facts.OSRelease["ID"] + " " + facts.OSRelease["VERSION_ID"])
	}
	log.Debug("read the host", "system", osName, "init", facts.Init, "took", e.now().Sub(t0).Round(time.Millisecond))
	rs, err := e.Builder.Resources(ctx, h, conn, facts)
	if err != nil {
		conn.Close()
		return fail(err)
	}
	hp, steps, err := planHost(ctx, h.Name, rs, sel.filter(), log)
	if err != nil {
		conn.Close()
		return fail(err)
	}
	return &hostRun{spec: h, conn: conn, lock: lock, steps: steps}, hp
}

// planOffline plans the server side of a host that could not be reached (dialErr), for a builder that can.
func (e *Engine) planOffline(ctx context.Context, h Host, sel *selection, ob OfflineBuilder, dialErr error) (*hostRun, plan.HostPlan) {
	skipped := e.Masker.Mask(fmt.Sprintf("unreachable (%v): the host side was skipped", dialErr))
	rs, err := ob.Offline(ctx, h)
	if err == nil {
		var hp plan.HostPlan
		var steps []Step
		if hp, steps, err = planHost(ctx, h.Name, rs, sel.filter(), e.log().With("host", h.Name)); err == nil {
			hp.HostSkipped = skipped
			// Said as a reported change too, so every view shows it where the host's own changes would be.
			note := plan.Change{Host: h.Name, Kind: "host", Name: "ssh", Action: plan.Report, Reason: skipped}
			note.Address = plan.ChangeAddress(h.Name, note.Kind, note.Name, note.Action)
			hp.Changes = append([]plan.Change{note}, hp.Changes...)
			return &hostRun{spec: h, steps: steps, hostSkipped: skipped}, hp
		}
	}
	return nil, plan.HostPlan{Host: h.Name, Error: e.Masker.Mask(err.Error()), HostSkipped: skipped}
}

// Apply carries out the run's plan host by host, in plan order, in batches (ro.Batch, ro.Canary) of which the
// first is the canary, Forks at a time, within the failure budget (ro.MaxFail). Hosts whose plan failed count as
// failed and are left untouched; hosts never started are reported with the reason. The report is in plan order.
func (r *Run) Apply(ctx context.Context, ro Rollout) *plan.Outcome {
	rep := &plan.Outcome{}
	total := len(r.Plan.Hosts)
	maxFail := -1
	if ro.MaxFail.Set {
		maxFail = ro.MaxFail.Of(total)
	}
	var mu sync.Mutex
	progress := &tally{phase: "apply", total: total, start: r.e.now(), now: r.e.now, on: ro.OnHost}
	stopReason := ""
	finish := func(res plan.HostOutcome) {
		mu.Lock()
		defer mu.Unlock()
		rep.Hosts = append(rep.Hosts, res)
		progress.add(res, len(res.Applied) > 0)
		if res.Error != "" && maxFail >= 0 && progress.failed > maxFail && stopReason == "" {
			stopReason = fmt.Sprintf("not started: %s failed, more than --max-fail allows (%d)", count(progress.failed, "host"), maxFail)
		}
	}
	blocked := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if stopReason == "" && stopped(ro.Stop) {
			stopReason = "not started: the run was interrupted"
		}
		return stopReason != ""
	}
	failures := func() int {
		mu.Lock()
		defer mu.Unlock()
		return progress.failed
	}
	all := batches(r.Plan.Hosts, ro)
	for b, batch := range all {
		failedBefore := failures()
		if len(all) > 1 && ctx.Err() == nil && !blocked() {
			names := make([]string, len(batch))
			for i, hp := range batch {
				names[i] = hp.Host
			}
			if ro.OnBatch != nil {
				ro.OnBatch(b+1, len(all), names)
			}
		}
		started := schedule(ctx, r.e.Forks, len(batch), blocked, func(i int) func() {
			hp := batch[i]
			hr, ok := r.hosts[hp.Host]
			if !ok && hp.Error == "" {
				hp.Error = "not applied: the run was planned only (its connection was not kept)"
			}
			if !ok || hp.Error != "" {
				// Known before the run: counted at once, so the budget sees it before the next host starts.
				finish(plan.HostOutcome{Host: hp.Host, Error: hp.Error})
				return nil
			}
			return func() { finish(r.applyHost(ctx, hp.Host, hr)) }
		})
		silent := r.gateBatch(ctx, ro, batch, rep, func(i int, why string) {
			mu.Lock()
			defer mu.Unlock()
			rep.Hosts[i].Error = why
			progress.failed++
			if maxFail >= 0 && progress.failed > maxFail && stopReason == "" {
				stopReason = fmt.Sprintf("not started: %s failed, more than --max-fail allows (%d)", count(progress.failed, "host"), maxFail)
			}
		})
		mu.Lock()
		reason := stopReason
		if reason == "" && ctx.Err() != nil {
			reason = "not started: the run was aborted"
		}
		for _, hp := range batch[started:] {
			rep.Hosts = append(rep.Hosts, plan.HostOutcome{Host: hp.Host, Skipped: reason})
		}
		if b == 0 && len(all) > 1 && progress.failed > failedBefore && stopReason == "" {
			stopReason = canaryFailed(ro, len(batch), progress.failed-failedBefore) + silentNote(silent)
		}
		mu.Unlock()
	}
	inPlanOrder(r.Plan, rep.Hosts)
	rep.StopReason = stopReason
	return rep
}

// applyHost applies one planned host and says how it went.
func (r *Run) applyHost(ctx context.Context, name string, hr *hostRun) plan.HostOutcome {
	t0 := r.e.now()
	applied, err := applyHost(ctx, name, hr.steps, r.e.log().With("host", name))
	res := plan.HostOutcome{Host: name, Applied: applied, Duration: r.e.now().Sub(t0), HostSkipped: hr.hostSkipped}
	if hr.conn != nil {
		res.SSHSessions, res.Uploads = hr.conn.Stats.Sessions.Load(), hr.conn.Stats.Uploads.Load()
	}
	if err != nil {
		res.Error = r.e.Masker.Mask(err.Error())
	}
	attrs := []any{"host", name, "changes", len(applied), "took", res.Duration.Round(time.Millisecond)}
	if res.Error != "" {
		attrs = append(attrs, "error", res.Error)
	}
	r.e.log().Debug("applied host", attrs...)
	return res
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// log is the engine's logger, every string it logs passed through the masker.
func (e *Engine) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	if e.Masker == nil {
		return e.Log
	}
	return slog.New(maskHandler{h: e.Log.Handler(), m: e.Masker})
}

// maskHandler masks every secret the masker knows in a record's message and attributes.
type maskHandler struct {
	h slog.Handler
	m *secret.Masker
}

func (mh maskHandler) Enabled(ctx context.Context, l slog.Level) bool { return mh.h.Enabled(ctx, l) }

func (mh maskHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, mh.m.Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(mh.attr(a))
		return true
	})
	return mh.h.Handle(ctx, out)
}

func (mh maskHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, mh.m.Mask(v.String()))
	case slog.KindGroup:
		var as []any
		for _, g := range v.Group() {
			as = append(as, mh.attr(g))
		}
		return slog.Group(a.Key, as...)
	case slog.KindAny:
		return slog.String(a.Key, mh.m.Mask(fmt.Sprint(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (mh maskHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = mh.attr(a)
	}
	return maskHandler{h: mh.h.WithAttrs(masked), m: mh.m}
}

func (mh maskHandler) WithGroup(name string) slog.Handler {
	return maskHandler{h: mh.h.WithGroup(name), m: mh.m}
}

// selection is one run's --only filter; it remembers which globs matched an address, so that a glob that
// matches nothing can be reported instead of silently selecting nothing.
type selection struct {
	globs   []string
	res     []*regexp.Regexp
	mu      sync.Mutex
	matched []bool
}

// newSelection compiles the globs; no globs select every change.
func newSelection(globs []string) *selection {
	s := &selection{globs: globs, matched: make([]bool, len(globs))}
	for _, g := range globs {
		s.res = append(s.res, plan.GlobRegexp(g))
	}
	return s
}

// filter is the selection as planHost takes it: nil, selecting everything, when there are no globs.
func (s *selection) filter() func(addr string) bool {
	if len(s.globs) == 0 {
		return nil
	}
	return s.match
}

// match reports whether the address is selected, and records the globs it matches.
func (s *selection) match(addr string) bool {
	ok := false
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, re := range s.res {
		if re.MatchString(addr) {
			s.matched[i], ok = true, true
		}
	}
	return ok
}

// unmatched lists the globs that matched no address so far.
func (s *selection) unmatched() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i, g := range s.globs {
		if !s.matched[i] {
			out = append(out, g)
		}
	}
	return out
}
