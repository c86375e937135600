package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/provision/views"
)

// HostSpec is one host as the engine needs it: where it is and everything desired of it, already merged from the
// inventory's defaults, groups and host entry.
type HostSpec struct {
	Name    string
	Address string
	Port    int
	User    string // empty: the fleet's SSH user

	Database        string
	RetentionPolicy *RetentionPolicy // nil: the database's default (autogen)
	Inputs          []string         // final Telegraf input list, in order
	AlertPacks      []string
	Vars            map[string]any
	GlobalTags      map[string]string
}

// RetentionPolicy is the optional per-database retention policy.
type RetentionPolicy struct {
	Name        string
	Duration    string
	Replication int
	Default     bool
}

// Builder turns one host into its ordered resources, given its open connection and the facts read from it. The
// fleet's endpoints and secrets live in the Builder, so the engine stays ignorant of InfluxDB, Grafana and
// Kapacitor.
type Builder interface {
	// Query is what to read from every host in the one batched read.
	Query(h HostSpec) system.Query
	// Resources returns the host's resources in apply order.
	Resources(ctx context.Context, h HostSpec, conn *remote.Conn, facts *system.Facts) ([]Resource, error)
}

// Engine plans and applies hosts in parallel. One Engine serves one run.
type Engine struct {
	SSH     remote.Config
	Builder Builder
	Forks   int // hosts in flight; <1 means 10
	// Only keeps the changes whose address matches one of these globs (* matches any run of characters, / too).
	Only []string
	Log     *slog.Logger
	Masker  *secret.Masker
	Now     func() time.Time
}

// Run is a planned run: its plan, and for each planned host the open connection and steps needed to apply it.
type Run struct {
	Plan  *plan.Plan
	e     *Engine
	hosts map[string]*hostRun
}

type hostRun struct {
	spec  HostSpec
	conn  *remote.Conn
	steps []Step
}

// Close ends every connection of the run.
func (r *Run) Close() {
	for _, h := range r.hosts {
		if h.conn != nil {
			h.conn.Close()
		}
	}
}

// Plan connects to every host (Forks at a time), reads its state and diffs it. A host that fails is recorded in
// the plan with its error; the others go on.
func (e *Engine) Plan(ctx context.Context, hosts []HostSpec) *Run {
	run := &Run{Plan: &plan.Plan{Created: e.now()}, e: e, hosts: map[string]*hostRun{}}
	var mu sync.Mutex
	e.each(ctx, hosts, func(ctx context.Context, h HostSpec) {
		start := e.now()
		hr, hp := e.planHost(ctx, h)
		e.log().Debug("planned host", "host", h.Name, "changes", hp.Counts().Total(), "error", hp.Error, "took", e.now().Sub(start))
		mu.Lock()
		defer mu.Unlock()
		run.Plan.Hosts = append(run.Plan.Hosts, hp)
		if hr != nil {
			run.hosts[h.Name] = hr
		}
	})
	run.Plan.Sort()
	return run
}

func (e *Engine) planHost(ctx context.Context, h HostSpec) (*hostRun, plan.HostPlan) {
	fail := func(err error) (*hostRun, plan.HostPlan) {
		return nil, plan.HostPlan{Host: h.Name, Error: e.Masker.Mask(err.Error())}
	}
	cfg := e.SSH
	if h.User != "" {
		cfg.User = h.User
	}
	conn, err := remote.Dial(ctx, h.Name, fmt.Sprintf("%s:%d", h.Address, h.Port), cfg)
	if err != nil {
		return fail(err)
	}
	facts, err := system.Read(ctx, conn, e.Builder.Query(h))
	if err != nil {
		conn.Close()
		return fail(err)
	}
	rs, err := e.Builder.Resources(ctx, h, conn, facts)
	if err != nil {
		conn.Close()
		return fail(err)
	}
	hp, steps, err := planHost(ctx, h.Name, rs, e.selector())
	if err != nil {
		conn.Close()
		return fail(err)
	}
	return &hostRun{spec: h, conn: conn, steps: steps}, hp
}

// HostResult is what applying one host did.
type HostResult = views.HostOutcome

// Report is what an apply did, host by host.
type Report struct {
	Hosts []HostResult `json:"hosts"`
}

// Failed lists the hosts that failed to plan or apply.
func (r *Report) Failed() []HostResult {
	var out []HostResult
	for _, h := range r.Hosts {
		if h.Error != "" {
			out = append(out, h)
		}
	}
	return out
}

// Apply carries out the run's plan on every host that planned without error, Forks at a time. Hosts whose plan
// failed are reported failed and left untouched.
func (r *Run) Apply(ctx context.Context) *Report {
	rep := &Report{}
	var mu sync.Mutex
	var todo []HostSpec
	for _, hp := range r.Plan.Hosts {
		if hr, ok := r.hosts[hp.Host]; ok && hp.Error == "" {
			todo = append(todo, hr.spec)
			continue
		}
		rep.Hosts = append(rep.Hosts, HostResult{Host: hp.Host, Error: hp.Error})
	}
	r.e.each(ctx, todo, func(ctx context.Context, h HostSpec) {
		start := r.e.now()
		hr := r.hosts[h.Name]
		done, err := ApplyHost(ctx, hr.steps)
		res := HostResult{Host: h.Name, Applied: done, Duration: r.e.now().Sub(start),
			SSHSessions: hr.conn.Stats.Sessions.Load(), Uploads: hr.conn.Stats.Uploads.Load()}
		if err != nil {
			res.Error = r.e.Masker.Mask(err.Error())
		}
		r.e.log().Debug("applied host", "host", h.Name, "changes", len(done), "error", res.Error)
		mu.Lock()
		rep.Hosts = append(rep.Hosts, res)
		mu.Unlock()
	})
	sort.Slice(rep.Hosts, func(i, j int) bool { return rep.Hosts[i].Host < rep.Hosts[j].Host })
	return rep
}

// selector is the --only filter, or nil.
func (e *Engine) selector() func(string) bool {
	if len(e.Only) == 0 {
		return nil
	}
	var res []*regexp.Regexp
	for _, g := range e.Only {
		res = append(res, GlobRegexp(g))
	}
	return func(addr string) bool {
		for _, re := range res {
			if re.MatchString(addr) {
				return true
			}
		}
		return false
	}
}

// GlobRegexp compiles a resource address glob: * matches any run of characters (slashes included, since addresses
// hold file paths), ? one character, everything else itself.
func GlobRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// each runs fn for every host, at most Forks at a time. A cancelled context starts no new host.
func (e *Engine) each(ctx context.Context, hosts []HostSpec, fn func(context.Context, HostSpec)) {
	forks := e.Forks
	if forks < 1 {
		forks = 10
	}
	sem := make(chan struct{}, forks)
	var wg sync.WaitGroup
	for _, h := range hosts {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(h HostSpec) {
			defer func() { <-sem; wg.Done() }()
			fn(ctx, h)
		}(h)
	}
	wg.Wait()
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

// ErrNoHosts means the selection matched no host.
var ErrNoHosts = errors.New("no host selected")
