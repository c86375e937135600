package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/fleetctl/fleetctl/provision"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/plan/planfile"
	"github.com/fleetctl/fleetctl/provision/views"
	ucli "github.com/urfave/cli/v2"
)

func inventoryFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Value: "inventory.toml", EnvVars: []string{"FLEETCTL_INVENTORY"},
		Usage: "the inventory file"}
}

func runFlags() []ucli.Flag {
	return []ucli.Flag{
		inventoryFlag(),
		&ucli.StringSliceFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only hosts matching a name glob or group (repeatable, or comma-separated)"},
		&ucli.StringSliceFlag{Name: "only", Usage: "only resources whose address matches a glob, e.g. '*/file:*fleetctl-inputs.conf' (repeatable)"},
		&ucli.IntFlag{Name: "forks", Aliases: []string{"f"}, Value: 10, Usage: "hosts in flight at once"},
		&ucli.BoolFlag{Name: "accept-new-host-keys", Usage: "trust and record the host key of a host not in known_hosts (never a changed key)"},
		&ucli.StringFlag{Name: "format", Value: "text", Usage: "output: text, markdown (for a pull-request comment) or json"},
		&ucli.BoolFlag{Name: "no-color", Usage: "no colours even on a terminal (NO_COLOR is honoured too)"},
		&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log each host's steps to stderr"},
	}
}

// open makes the one engine session a command works with.
func open(ctx context.Context, c *ucli.Context, io IO) (*provision.Session, error) {
	lvl := slog.LevelWarn
	if c.Bool("verbose") {
		lvl = slog.LevelDebug
	}
	return provision.Open(ctx, provision.Options{
		InventoryPath:     c.String("inventory"),
		Limit:             append(splitList(c.StringSlice("limit")), splitList(c.StringSlice("host"))...),
		Only:              splitList(c.StringSlice("only")),
		Forks:             c.Int("forks"),
		AcceptNewHostKeys: c.Bool("accept-new-host-keys"),
		Lock:              c.Command.Name == "apply" || c.Command.Name == "destroy" && c.String("out") == "",
		Destroy:           destroyOptions(c),
		PlanOnly:          c.Command.Name == "plan",
		LockWait:          c.Duration("lock-timeout"),
		Getenv:            io.Getenv,
		Now:               io.Now,
		Log:               slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: lvl})),
	})
}

func splitList(items []string) []string {
	var out []string
	for _, it := range items {
		for _, p := range strings.Split(it, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// jsonOutput reports whether the command prints JSON: then stdout holds exactly one document.
func jsonOutput(c *ucli.Context) bool { return c.String("format") == "json" }

// renderPlan prints the plan in the chosen format. Colour is decided on the process's own stdout, never on the
// masking wrapper w around it, which is no terminal.
func renderPlan(c *ucli.Context, io IO, w io.Writer, p *plan.Plan) error {
	switch c.String("format") {
	case "json":
		return views.JSON(w, p)
	case "markdown", "md":
		return views.Markdown(w, p)
	case "text", "":
		return views.Text(w, p, views.TextOptions{Color: useColor(c, io, io.Stdout)})
	default:
		return withCode(ExitUsage, fmt.Errorf("unknown --format %q: use text, markdown or json", c.String("format")))
	}
}

func useColor(c *ucli.Context, io IO, w io.Writer) bool {
	if c.Bool("no-color") || io.Getenv("NO_COLOR") != "" || io.Getenv("TERM") == "dumb" {
		return false
	}
	return io.Terminal != nil && io.Terminal(asReader(w))
}

// asReader lets the terminal check look at an output stream (an *os.File is both).
func asReader(w io.Writer) io.Reader {
	if r, ok := w.(io.Reader); ok {
		return r
	}
	return nil
}

// planAndShow opens the session, plans every host with progress on stderr and prints the plan; for apply (ro is
// not nil) with --format json the plan is printed later, in the one document with the report. When ro is not nil
// its canary (--canary) is resolved against the selected hosts first, so a typo fails before any host is
// contacted. The caller closes the session and the run when they are not nil, whatever the error.
func planAndShow(c *ucli.Context, io IO, st *runState, ro *engine.Rollout) (*provision.Session, *engine.Run, io.Writer, error) {
	apply := ro != nil
	s, err := open(c.Context, c, io)
	if err != nil {
		return nil, nil, nil, withCode(ExitError, err)
	}
	if ro != nil {
		if ro.Canary, err = canary(c, s); err != nil {
			s.Close()
			return nil, nil, nil, err
		}
	}
	prog := newProgress(c, io)
	run := s.Plan(c.Context, engine.Rollout{Stop: st.stop, OnHost: prog.onHost})
	prog.end()
	out := s.MaskWriter(io.Stdout)
	if err := lookForOrphans(c, s, run.Plan); err != nil {
		return s, run, out, err
	}
	if !apply || !jsonOutput(c) {
		if err := renderPlan(c, io, out, run.Plan); err != nil {
			return s, run, out, err
		}
	}
	if err := interruptedPlanning(st, run); err != nil {
		return s, run, out, err
	}
	if err := selectionError(run.Plan); err != nil {
		return s, run, out, err
	}
	return s, run, out, nil
}

// interruptedPlanning is the error of a run whose planning Ctrl-C cut short: the hosts never read are counted as
// not planned, not as failed.
func interruptedPlanning(st *runState, run *engine.Run) error {
	if !st.interrupted() {
		return nil
	}
	if n := len(run.NotPlanned); n > 0 {
		return withCode(ExitInterrupted, fmt.Errorf("interrupted while planning: %d of %s not planned; nothing was applied",
			n, count(n+len(run.Plan.Hosts), "host")))
	}
	return withCode(ExitInterrupted, errors.New("interrupted before anything was applied"))
}

// canary resolves --canary against the session's selected hosts.
func canary(c *ucli.Context, s *provision.Session) ([]string, error) {
	pats := splitList(c.StringSlice("canary"))
	if len(pats) == 0 {
		return nil, nil
	}
	names, err := s.CanaryHosts(pats)
	if err != nil {
		return nil, withCode(ExitError, err)
	}
	return names, nil
}

// checkOptions refuses option values that cannot work, before the inventory is read or any host contacted.
func checkOptions(c *ucli.Context) error {
	switch f := c.String("format"); f {
	case "text", "", "markdown", "md", "json":
	default:
		return withCode(ExitUsage, fmt.Errorf("unknown --format %q: use text, markdown or json", f))
	}
	if n := c.Int("forks"); n < 1 {
		return withCode(ExitUsage, fmt.Errorf("--forks %d: give the number of hosts in flight at once, at least 1", n))
	}
	if c.Command.Name != "destroy" && c.Bool("delete-data") && !c.Bool("prune") {
		return withCode(ExitUsage, errors.New("--delete-data goes with --prune (the orphans' databases), or with fleetctl destroy"))
	}
	if d := c.Duration("lock-timeout"); d < 0 {
		return withCode(ExitUsage, fmt.Errorf("--lock-timeout %s: give how long to wait for another run, such as 30s, or 0 to fail at once", d))
	}
	return nil
}

// selectionError refuses a plan whose --only globs did not all match: a mistyped glob would otherwise select
// nothing, silently, and a drift check would pass.
func selectionError(p *plan.Plan) error {
	if len(p.Unmatched) == 0 {
		return nil
	}
	quoted := make([]string, len(p.Unmatched))
	for i, g := range p.Unmatched {
		quoted[i] = fmt.Sprintf("%q", g)
	}
	return withCode(ExitError, fmt.Errorf("--only %s %s no change on the %s planned: fix the glob (addresses are HOST/KIND:NAME as the plan prints them, e.g. '*/file:*fleetctl-inputs.conf')",
		strings.Join(quoted, ", "), plural(len(quoted), "matches", "match"), count(len(p.Hosts)-len(p.Failed()), "host")))
}

// nothingApplied ends an apply that applied nothing, returning err (nil: success). With --format json it first
// prints the one document: the plan and a report in which the hosts that could not be planned failed and the others
// are unchanged (why is empty: there was nothing to apply) or not started, for the reason why.
func nothingApplied(c *ucli.Context, out io.Writer, p *plan.Plan, why string, err error) error {
	if !jsonOutput(c) {
		return err
	}
	if why != "" {
		why = "not started: " + why
	}
	hosts := make([]plan.HostOutcome, len(p.Hosts))
	for i, h := range p.Hosts {
		hosts[i] = plan.HostOutcome{Host: h.Host, Error: h.Error}
		if h.Error == "" {
			hosts[i].Skipped = why
		}
	}
	return errors.Join(err, views.JSONApply(out, p, hosts, why))
}

// plannedError is the error of a run in which hosts could not be planned.
func plannedError(p *plan.Plan) error {
	if failed := p.Failed(); len(failed) > 0 {
		return withCode(ExitError, fmt.Errorf("%d of %s could not be planned", len(failed), count(len(p.Hosts), "host")))
	}
	return nil
}

// count is "1 host", "2 hosts".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func newProgress(c *ucli.Context, io IO) *progress {
	// With -v the log lines go to stderr too: a status line redrawn in place would be torn by them.
	return &progress{w: io.Stderr, terminal: !c.Bool("verbose") && io.Terminal != nil && io.Terminal(asReader(io.Stderr)) && io.Getenv("TERM") != "dumb"}
}

func planCommand(io IO, st *runState) *ucli.Command {
	return &ucli.Command{
		Name:  "plan",
		Usage: "show what apply would change, changing nothing",
		Flags: append(runFlags(),
			&ucli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when nothing would change, 2 when something would, 1 on error"},
			&ucli.StringFlag{Name: "out", Usage: "also save the plan to `FILE` for `fleetctl apply FILE` (it holds no secret)"},
			&ucli.BoolFlag{Name: "prune", Usage: "show the orphans as apply --prune would delete them"},
			&ucli.BoolFlag{Name: "delete-data", Usage: "with --prune, show the orphans' databases dropped too"}),
		Action: func(c *ucli.Context) error {
			if err := noArgs(c, io); err != nil {
				return err
			}
			if err := checkOptions(c); err != nil {
				return err
			}
			s, run, _, err := planAndShow(c, io, st, nil)
			if s != nil {
				defer s.Close()
				defer run.Close()
			}
			path := c.String("out")
			if err != nil {
				if path != "" {
					fmt.Fprintf(io.Stderr, "fleetctl: the plan was not saved to %s\n", path)
				}
				return err
			}
			if path != "" {
				if err := savePlan(io, path, s, run, splitList(c.StringSlice("limit"))); err != nil {
					return withCode(ExitError, err)
				}
			}
			if err := plannedError(run.Plan); err != nil {
				return err
			}
			if c.Bool("detailed-exitcode") && (!run.Plan.Empty() || len(run.Plan.PendingOrphans()) > 0 && run.Plan.Prune) {
				return withCode(ExitChanges, errors.New(""))
			}
			return nil
		},
	}
}

func applyCommand(io IO, st *runState) *ucli.Command {
	return &ucli.Command{
		Name:      "apply",
		Usage:     "show the plan, ask, then make the changes; or carry out a saved plan exactly",
		ArgsUsage: "[SAVED-PLAN]",
		Flags: append(runFlags(),
			&ucli.BoolFlag{Name: "auto-approve", Usage: "apply without asking (required when stdin is not a terminal)"},
			&ucli.StringFlag{Name: "batch", Usage: "apply `N` hosts (or P%) at a time; the first batch is a canary: if one of its hosts fails, the run stops"},
			&ucli.StringFlag{Name: "max-fail", Usage: "stop starting hosts once more than `N` (or P%) of them failed (unreachable counts)"},
			&ucli.BoolFlag{Name: "prune", Usage: "also delete the orphans: objects of fleetctl's on the servers that belong to no host of the inventory (databases only with --delete-data)"},
			&ucli.BoolFlag{Name: "delete-data", Usage: "with --prune, also drop the orphans' databases, their history"},
			&ucli.StringSliceFlag{Name: "canary", Usage: "the hosts matching `PATTERN` (as --limit) form the first batch, the canary (repeatable, or comma-separated)"},
			&ucli.DurationFlag{Name: "lock-timeout", Value: engine.DefaultLockWait, Usage: "wait up to `DURATION` for another run applying to a host to finish (0: fail at once, naming it)"},
			waitReportingFlag()),
		Action: func(c *ucli.Context) error {
			if c.NArg() > 1 {
				msg := fmt.Sprintf("unexpected argument %q: apply takes at most one argument, a saved plan file", c.Args().Get(1))
				if hint := argHint(c, io, c.Args().Get(1)); hint != "" {
					msg += "; " + hint
				}
				return withCode(ExitUsage, errors.New(msg))
			}
			if err := checkOptions(c); err != nil {
				return err
			}
			ro, err := rollout(c, st)
			if err != nil {
				return err
			}
			saved := c.Args().First()
			if saved != "" {
				if err := checkSavedArg(c, io, saved); err != nil {
					return err
				}
			}
			// Every stdin that is not a terminal (a pipe, a file, /dev/null) is refused alike, before anything is
			// read: a prompt nobody can answer is never shown.
			interactive := io.Terminal != nil && io.Terminal(io.Stdin)
			if !c.Bool("auto-approve") && !interactive {
				if saved != "" {
					return withCode(ExitError, fmt.Errorf("apply asks for confirmation and stdin is not a terminal: to apply the reviewed plan, run fleetctl apply %s --auto-approve", shellWord(saved)))
				}
				return withCode(ExitError, errors.New("apply asks for confirmation and stdin is not a terminal: review with `fleetctl plan`, then run apply --auto-approve"))
			}
			if saved != "" {
				return applySaved(c, io, st, ro, saved)
			}
			s, run, out, err := planAndShow(c, io, st, &ro)
			if s != nil {
				defer s.Close()
				defer run.Close()
			}
			if err != nil {
				if run != nil {
					return nothingApplied(c, out, run.Plan, err.Error(), err)
				}
				return err
			}
			if run.Plan.Counts().Total() == 0 && len(run.Plan.PendingOrphans()) == 0 {
				return nothingApplied(c, out, run.Plan, "", plannedError(run.Plan))
			}
			if err := confirm(c, io, s, out, run.Plan); err != nil {
				return err
			}
			ro.Gate = reportingGate(c, s)
			return applyRun(c, io, st, out, s, run, ro)
		},
	}
}

// confirm asks before applying, unless --auto-approve; only "yes" goes on.
func confirm(c *ucli.Context, io IO, s *provision.Session, out io.Writer, p *plan.Plan) error {
	if c.Bool("auto-approve") {
		return nil
	}
	prompt := out
	if jsonOutput(c) {
		// stdout is for the one JSON document: the person answering reads the plan on stderr.
		prompt = s.MaskWriter(io.Stderr)
		if err := views.Text(prompt, p, views.TextOptions{Color: useColor(c, io, io.Stderr)}); err != nil {
			return err
		}
	}
	question := "Apply these changes?"
	if c.Command.Name == "destroy" {
		question = "Destroy these hosts' monitoring as planned?"
	}
	fmt.Fprintf(prompt, "\n%s Only 'yes' is accepted: ", question)
	if readLine(io.Stdin) != "yes" {
		cancelled := c.Command.Name + " cancelled"
		return nothingApplied(c, out, p, cancelled, withCode(ExitError, errors.New(cancelled)))
	}
	return nil
}

// checkSavedArg refuses an argument of apply that is not a saved plan, saying what was probably meant: an
// inventory (-i) or hosts (--limit).
func checkSavedArg(c *ucli.Context, io IO, path string) error {
	if looksLikeInventory(path) {
		return withCode(ExitUsage, fmt.Errorf("%s is an inventory, and apply's argument is a plan saved by plan --out; did you mean -i %s?", path, shellWord(path)))
	}
	if _, err := os.Stat(path); err != nil && namesHosts(c, io, path) {
		return withCode(ExitUsage, fmt.Errorf("no saved plan %q; did you mean --limit %s?", path, shellWord(path)))
	}
	// FLEETCTL_INVENTORY in the environment is no -i on the command line: the saved plan's inventory wins.
	fromEnv := c.String("inventory") == io.Getenv("FLEETCTL_INVENTORY")
	if c.Bool("prune") || c.Bool("delete-data") {
		return withCode(ExitUsage, errors.New("a saved plan prunes nothing: run fleetctl apply --prune to review and delete the orphans"))
	}
	if c.IsSet("limit") || c.IsSet("only") || (c.IsSet("inventory") && !fromEnv) {
		return withCode(ExitUsage, errors.New("a saved plan carries its own inventory, --limit and --only: give none of them"))
	}
	return nil
}

// rollout reads --batch and --max-fail.
func rollout(c *ucli.Context, st *runState) (engine.Rollout, error) {
	batch, err := engine.ParseAmount("batch", c.String("batch"))
	if err != nil {
		return engine.Rollout{}, withCode(ExitUsage, err)
	}
	if batch.Set && batch.N == 0 {
		return engine.Rollout{}, withCode(ExitUsage, fmt.Errorf("--batch %s: a batch holds at least one host; give a number of hosts (5) or a percentage above 0 (20%%)", c.String("batch")))
	}
	maxFail, err := engine.ParseAmount("max-fail", c.String("max-fail"))
	if err != nil {
		return engine.Rollout{}, withCode(ExitUsage, err)
	}
	if err := checkWaitReporting(c); err != nil {
		return engine.Rollout{}, err
	}
	return engine.Rollout{Batch: batch, MaxFail: maxFail, Stop: st.stop}, nil
}

// applyRun applies a planned run with progress, prints the summary, and picks the exit code.
func applyRun(c *ucli.Context, io IO, st *runState, out io.Writer, s *provision.Session, run *engine.Run, ro engine.Rollout) error {
	prog := newProgress(c, io)
	ro.OnHost, ro.OnBatch = prog.onHost, prog.onBatch
	rep := run.Apply(c.Context, ro)
	prog.end()
	if pruned := prune(c, st, io.Now, s, run.Plan, rep); pruned != nil {
		rep.Hosts = append(rep.Hosts, *pruned)
	}
	if err := renderReport(c, out, run.Plan, rep); err != nil {
		return err
	}
	switch failed := rep.Failed(); {
	case st.interrupted():
		return withCode(ExitInterrupted, fmt.Errorf("interrupted: %d of %s failed, %d not started", len(failed), count(len(rep.Hosts), "host"), len(rep.Skipped())))
	case len(failed) > 0 || rep.StopReason != "":
		return withCode(ExitError, fmt.Errorf("%d of %s failed, %d not started", len(failed), count(len(rep.Hosts), "host"), len(rep.Skipped())))
	}
	return nil
}

// savePlan saves the plan of the hosts that could be planned and says so on stderr, naming the hosts it leaves out.
func savePlan(io IO, path string, s *provision.Session, run *engine.Run, limit []string) error {
	left, err := s.SavePlan(path, run.Plan, limit)
	if err != nil {
		return err
	}
	saved := len(run.Plan.Hosts) - len(left)
	fmt.Fprintf(io.Stderr, "Saved the plan of %s to %s; apply exactly it with: fleetctl apply %s\n", count(saved, "host"), path, path)
	if len(left) > 0 {
		names := make([]string, len(left))
		for i, h := range left {
			names[i] = h.Host
		}
		fmt.Fprintf(io.Stderr, "fleetctl: the saved plan leaves out %s that could not be planned: %s\n", count(len(left), "host"), strings.Join(names, ", "))
	}
	return nil
}

// applySaved carries out a saved plan: it plans again with the options the plan was made with, for the hosts it
// covers, and refuses, naming host and resource, when anything differs from what the plan was made from. Like
// apply, it shows the plan and asks unless --auto-approve.
func applySaved(c *ucli.Context, io IO, st *runState, ro engine.Rollout, path string) error {
	saved, err := planfile.Load(path)
	if err != nil {
		return withCode(ExitError, err)
	}
	lvl := slog.LevelWarn
	if c.Bool("verbose") {
		lvl = slog.LevelDebug
	}
	s, err := provision.Open(c.Context, provision.Options{
		InventoryPath: saved.Inventory, Limit: saved.Options.Limit, Only: saved.Options.Only, Forks: c.Int("forks"),
		AcceptNewHostKeys: c.Bool("accept-new-host-keys"),
		Getenv:            io.Getenv, Now: io.Now, Log: slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: lvl})),
		Lock: true, LockWait: c.Duration("lock-timeout"), Destroy: savedDestroy(saved.Options.Destroy),
	})
	if err != nil {
		return withCode(ExitError, err)
	}
	defer s.Close()
	if ro.Canary, err = canary(c, s); err != nil {
		return err
	}
	if err := s.Keep(saved.Hosts()); err != nil {
		return withCode(ExitError, fmt.Errorf("%w: %w; make a new plan", planfile.ErrStale, err))
	}
	if len(saved.LeftOut) > 0 {
		names := make([]string, len(saved.LeftOut))
		for i, h := range saved.LeftOut {
			names[i] = h.Host
		}
		fmt.Fprintf(io.Stderr, "fleetctl: this saved plan leaves out %s that could not be planned when it was made: %s\n",
			count(len(names), "host"), strings.Join(names, ", "))
	}
	prog := newProgress(c, io)
	run := s.Plan(c.Context, engine.Rollout{Stop: st.stop, OnHost: prog.onHost})
	prog.end()
	defer run.Close()
	out := s.MaskWriter(io.Stdout)
	refuse := func(why string, err error) error { return nothingApplied(c, out, run.Plan, why, err) }
	if err := interruptedPlanning(st, run); err != nil {
		return refuse("interrupted before anything was applied", err)
	}
	if mm := planfile.Compare(saved.Plan, run.Plan); len(mm) > 0 {
		var b strings.Builder
		for _, m := range mm {
			b.WriteString("\n  " + m.String())
		}
		return refuse("the saved plan is stale", withCode(ExitError, fmt.Errorf("%w: nothing was applied; make a new plan. What moved on:%s", planfile.ErrStale, b.String())))
	}
	if err := selectionError(run.Plan); err != nil {
		return refuse("--only matches nothing", err)
	}
	if run.Plan.Counts().Total() == 0 {
		if jsonOutput(c) {
			return nothingApplied(c, out, run.Plan, "", nil)
		}
		return renderPlan(c, io, out, run.Plan)
	}
	if !jsonOutput(c) {
		if err := renderPlan(c, io, out, run.Plan); err != nil {
			return err
		}
	}
	if err := confirm(c, io, s, out, run.Plan); err != nil {
		return err
	}
	ro.Gate = reportingGate(c, s)
	return applyRun(c, io, st, out, s, run, ro)
}

// renderReport prints what apply did: for JSON, the one document with the plan and the report.
func renderReport(c *ucli.Context, w io.Writer, p *plan.Plan, rep *plan.Outcome) error {
	if jsonOutput(c) {
		return views.JSONApply(w, p, rep.Hosts, rep.StopReason)
	}
	return views.TextReport(w, p, rep.Hosts, rep.StopReason)
}

func renderCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "render",
		Usage: "print every file and TICK script a host would get, secrets masked; contacts no server",
		Flags: []ucli.Flag{inventoryFlag(), &ucli.StringFlag{Name: "host", Usage: "the inventory host (required)"}},
		Action: func(c *ucli.Context) error {
			if err := noArgs(c, io); err != nil {
				return err
			}
			if c.String("host") == "" {
				return withCode(ExitUsage, errors.New("render needs --host NAME: the inventory host whose files and scripts to print"))
			}
			out, err := provision.Render(provision.Options{InventoryPath: c.String("inventory"), Getenv: io.Getenv}, c.String("host"))
			if err != nil {
				return withCode(ExitError, err)
			}
			for _, f := range out {
				fmt.Fprintf(io.Stdout, "### %s\n%s\n", f.Name, strings.TrimRight(f.Content, "\n"))
			}
			return nil
		},
	}
}

func validateCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "validate",
		Usage: "check the inventory, templates and alert packs without contacting any server",
		Flags: []ucli.Flag{inventoryFlag(), &ucli.BoolFlag{Name: "secrets",
			Usage: "also read every secret source the inventory names (environment variables, files), printing none"}},
		Action: func(c *ucli.Context) error {
			if err := noArgs(c, io); err != nil {
				return err
			}
			n, err := provision.Validate(provision.Options{InventoryPath: c.String("inventory"), Getenv: io.Getenv, CheckSecrets: c.Bool("secrets")})
			if err != nil {
				return withCode(ExitError, err)
			}
			fmt.Fprintf(io.Stdout, "%s: valid (%s; every template and TICK script renders and parses)\n", c.String("inventory"), count(n, "host"))
			return nil
		},
	}
}
