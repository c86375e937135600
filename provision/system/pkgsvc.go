package system

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
)

// Package is a package that must be installed (at Version, when pinned).
type Package struct {
	Pkg     string
	Version string
	Family  *Family
	// LockWait bounds the wait, before each step, for another run of the package manager; 0 is LockWait.
	LockWait time.Duration

	bound
	absent bool
}

// Absent plans the package removed.
func (p *Package) Absent() { p.absent = true }

// NewPackage binds a package to a host.
func NewPackage(r Runner, f *Facts, p Package) *Package {
	p.bound = bound{r, f}
	return &p
}

func (p *Package) Kind() string { return "package" }
func (p *Package) Name() string { return p.Pkg }

func (p *Package) Read(ctx context.Context) error {
	if _, ok := p.facts.Packages["queried:"+p.Pkg]; !ok {
		return fmt.Errorf("package %s was not read from the host", p.Pkg)
	}
	return nil
}

func (p *Package) fact() PackageFact { return p.facts.Packages[p.Family.PackageDB+":"+p.Pkg] }

func (p *Package) Diff(prior []plan.Change) []plan.Change {
	got := p.fact()
	want := p.Version
	if want == "" {
		want = "any"
	}
	ch := plan.Change{ReadDigest: fmt.Sprintf("%t %s", got.Installed, got.Version)}
	switch {
	case p.absent && got.Installed:
		ch.Action = plan.Delete
		ch.Fields = []plan.Field{{Name: "version", Before: got.Version}, {Name: "manager", Before: p.Family.Name}}
	case p.absent:
		ch.Action = plan.NoOp
	case !got.Installed:
		ch.Action = plan.Create
		ch.Fields = []plan.Field{{Name: "version", After: want}, {Name: "manager", After: p.Family.Name}}
	case p.Version != "" && !strings.HasPrefix(got.Version, p.Version):
		ch.Action = plan.Update
		ch.Fields = []plan.Field{{Name: "version", Before: got.Version, After: p.Version}}
	default:
		ch.Action = plan.NoOp
	}
	return []plan.Change{ch}
}

func (p *Package) Apply(ctx context.Context, changes []plan.Change) error {
	return runOne(ctx, p, changes)
}

// Fragment installs the package (at its pinned version) from the declared repository. It reports (Note) when it
// has to wait for a lock, naming the lock and its holder.
func (p *Package) Fragment([]plan.Change) (Fragment, error) {
	wait := p.LockWait
	if wait <= 0 {
		wait = LockWait
	}
	if p.absent {
		return Fragment{
			Script: "set -e\n" + p.Family.Remove(p.Pkg) + "\n",
			Explain: func(status int, output string) error {
				return fmt.Errorf("remove package %s with %s: %w", p.Pkg, p.Family.Name, &FragmentError{Status: status, Output: output})
			},
		}, nil
	}
	return Fragment{
		Script: "set -e\n" + p.Family.Install(p.Pkg, p.Version, wait),
		Explain: func(status int, output string) error {
			err := &FragmentError{Status: status, Output: output}
			if status == ExitLockTimeout {
				return fmt.Errorf("install package %s with %s: %w: %w", p.Pkg, p.Family.Name, ErrLockBusy, err)
			}
			return fmt.Errorf("install package %s with %s: %w", p.Pkg, p.Family.Name, err)
		},
		Note: func(string) {},
	}, nil
}

// StartWait bounds how long a service started by an init script may take to say it runs.
const StartWait = 15 * time.Second

// waitRunning waits until ctl's status says the service runs. An init script may return before its daemon is up
// (InfluxData's backgrounds start-stop-daemon, and the daemon writes its own PID file), and may return 0 without
// starting anything (it refuses a stale PID file): without the wait, the next plan would find it stopped.
func waitRunning(ctl, unit string, wait time.Duration) string {
	if wait <= 0 {
		wait = StartWait
	}
	n := int(wait / (200 * time.Millisecond))
	return fmt.Sprintf("i=0; until %s status >/dev/null 2>&1; do i=$((i+1)); if [ $i -gt %d ]; then "+
		"echo %s >&2; exit 1; fi; sleep 0.2; done\n", ctl, n,
		remote.Quote(fmt.Sprintf("%s is not running %s after its init script returned: see its log (telegraf: /var/log/telegraf/telegraf.log) and its PID file", unit, wait)))
}

// ErrLockBusy is an install that gave up waiting for another program's lock; the error names the lock and its
// holder.
var ErrLockBusy = errors.New("another package manager kept its lock")

// Service is a service that must be enabled and running, restarted when something it reads changed.
type Service struct {
	Unit string
	Init string // "systemd", "openrc", "sysv"
	// Package is the address of the package resource the service runs from: any change of it restarts the
	// service, and reloads the init system's units (the unit file may have changed).
	Package string
	// Watch are the address globs (plan.GlobRegexp) of the files the service reads: a change of the content of
	// one (created, deleted or rewritten; not a mode or owner alone) restarts it.
	Watch []string
	// Config lists the files the service reads: one modified after its process started means it still runs an
	// older configuration (an earlier run changed them and stopped before restarting it), so it is restarted.
	Config []string
	// Units are the address globs of files systemd itself reads for the unit (drop-ins): a change of one
	// reloads systemd's units before the service is restarted.
	Units []string
	// StartWait bounds how long an init script's service may take to say it runs after start; 0 is StartWait.
	StartWait time.Duration

	bound
	// packageChanged is set by Diff when the package is installed or upgraded in this run, or one of Units
	// changes: only then can the unit have changed, and only then is systemd asked to reload every unit.
	packageChanged bool
	absent         bool
}

// Absent plans the service stopped and disabled (its package may stay).
func (s *Service) Absent() { s.absent = true }

// diffAbsent plans an absent service: stopped when running, disabled when enabled.
func (s *Service) diffAbsent(got ServiceFact) []plan.Change {
	ch := plan.Change{ReadDigest: got.Enabled + " " + got.Active, Action: plan.NoOp}
	if !got.Exists {
		return []plan.Change{ch}
	}
	if got.Active != "inactive" && got.Active != "failed" && got.Active != "" {
		ch.Fields = append(ch.Fields, plan.Field{Name: "active", Before: got.Active, After: "inactive"})
	}
	if got.Enabled == "enabled" {
		ch.Fields = append(ch.Fields, plan.Field{Name: "enabled", Before: got.Enabled, After: "disabled"})
	}
	if len(ch.Fields) > 0 {
		ch.Action, ch.Reason = plan.Update, "stopped and disabled: the host leaves the fleet"
	}
	return []plan.Change{ch}
}

// stopFragment stops and disables the service, in the init system's words.
func (s *Service) stopFragment() Fragment {
	u := remote.Quote(s.Unit)
	var script string
	switch s.Init {
	case "openrc":
		script = "rc-service " + u + " stop >/dev/null 2>&1 || true\nrc-update del " + u + " default >/dev/null 2>&1 || true\n"
	case "sysv":
		script = "service " + u + " stop >/dev/null 2>&1 || true\n" +
			"if command -v update-rc.d >/dev/null; then update-rc.d " + u + " disable >/dev/null; else chkconfig " + u + " off; fi\n"
	default:
		script = "systemctl disable -q --now " + u + "\n"
	}
	return Fragment{
		Script: "set -e\n" + script,
		Explain: func(status int, output string) error {
			return fmt.Errorf("stop service %s: %w", s.Unit, &FragmentError{Status: status, Output: output})
		},
	}
}

// NewService binds a service to a host.
func NewService(r Runner, f *Facts, s Service) *Service {
	s.bound = bound{r, f}
	return &s
}

func (s *Service) Kind() string { return "service" }
func (s *Service) Name() string { return s.Unit }

func (s *Service) Read(ctx context.Context) error {
	if _, ok := s.facts.Services[s.Unit]; !ok {
		return fmt.Errorf("service %s was not read from the host", s.Unit)
	}
	return nil
}

func (s *Service) Diff(prior []plan.Change) []plan.Change {
	got := s.facts.Services[s.Unit]
	if s.absent {
		return s.diffAbsent(got)
	}
	enabled, active := got.Enabled, got.Active
	if !got.Exists {
		enabled, active = "absent", "absent"
	}
	ch := plan.Change{ReadDigest: enabled + " " + active, Action: plan.NoOp}
	if enabled != "enabled" {
		ch.Action = plan.Update
		ch.Fields = append(ch.Fields, plan.Field{Name: "enabled", Before: enabled, After: "enabled"})
	}
	var because []string
	for _, c := range prior {
		if !c.Action.Changes() {
			continue
		}
		pkg := s.Package != "" && c.Address == s.Package
		if pkg || (ChangesContent(c) && plan.MatchAddress(s.Watch, c.Address)) {
			because = append(because, c.Kind+":"+c.Name)
		}
		s.packageChanged = s.packageChanged || pkg || plan.MatchAddress(s.Units, c.Address)
	}
	if len(because) == 0 && active == "active" && got.Started > 0 {
		for _, p := range s.Config {
			// Both times are whole seconds, and the start time is computed from the boot time, itself rounded
			// down: it may read up to two seconds early. Only a file two seconds newer is surely newer.
			if f := s.facts.Files[p]; f.Exists && f.MTime > got.Started+1 {
				because = append(because, p+" is newer than the running agent")
			}
		}
	}
	out := []plan.Change{}
	if len(because) == 0 && active != "active" {
		ch.Action = plan.Update
		ch.Fields = append(ch.Fields, plan.Field{Name: "active", Before: active, After: "active"})
	}
	out = append(out, ch)
	if len(because) > 0 {
		out = append(out, plan.Change{Name: s.Unit, Action: plan.Restart, ReadDigest: ch.ReadDigest,
			Reason: "changed: " + strings.Join(because, ", ")})
	}
	return out
}

func (s *Service) Apply(ctx context.Context, changes []plan.Change) error {
	return runOne(ctx, s, changes)
}

// Fragment does what the changes ask and no more: enable when the plan found the service not enabled, restart when
// something it reads changed, start when it was not running. Every call is one service-manager process, and on a
// real systemd one request to PID 1.
func (s *Service) Fragment(changes []plan.Change) (Fragment, error) {
	if s.absent {
		return s.stopFragment(), nil
	}
	restart, enable := false, false
	for _, c := range changes {
		switch {
		case c.Action == plan.Restart:
			restart = true
		case c.Action == plan.Update:
			enable = enable || hasField(c, "enabled")
		}
	}
	u := remote.Quote(s.Unit)
	var script string
	switch s.Init {
	case "openrc":
		if enable {
			script += "rc-update add " + u + " default >/dev/null\n"
		}
		if restart {
			script += "rc-service " + u + " restart\n"
		} else {
			script += "rc-service " + u + " status >/dev/null 2>&1 || rc-service " + u + " start\n"
		}
		script += waitRunning("rc-service "+u, s.Unit, s.StartWait)
	case "sysv":
		if enable {
			script += "if command -v update-rc.d >/dev/null; then update-rc.d " + u + " defaults >/dev/null; else chkconfig " + u + " on; fi\n"
		}
		if restart {
			script += "service " + u + " restart\n"
		} else {
			script += "service " + u + " status >/dev/null 2>&1 || service " + u + " start\n"
		}
		script += waitRunning("service "+u, s.Unit, s.StartWait)
	default:
		if s.packageChanged {
			script = "systemctl daemon-reload\n"
		}
		switch {
		case restart && enable:
			script += "systemctl enable -q " + u + "\nsystemctl restart " + u + "\n"
		case restart:
			script += "systemctl restart " + u + "\n"
		case enable:
			// start is a no-op for a running unit; --now starts it in the same call.
			script += "systemctl enable -q --now " + u + "\n"
		default:
			script += "systemctl start " + u + "\n"
		}
	}
	return Fragment{
		Script: "set -e\n" + script,
		Explain: func(status int, output string) error {
			return fmt.Errorf("start service %s: %w", s.Unit, &FragmentError{Status: status, Output: output})
		},
		// The agent starts (or restarts) only once everything planned before it is in place, the server side
		// included: an agent running before its InfluxDB user exists would only fail its writes.
		Gated: true,
	}, nil
}
