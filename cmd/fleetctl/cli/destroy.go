package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/plan/planfile"
	ucli "github.com/urfave/cli/v2"
)

// kindDatabase is the kind of the change that drops a host's database (provision/influx).
const kindDatabase = "influxdb.database"

func destroyCommand(io IO, st *runState) *ucli.Command {
	return &ucli.Command{
		Name:  "destroy",
		Usage: "show the plan of removing hosts from monitoring, ask, then remove them; the data is kept unless --delete-data",
		Flags: append(runFlags(),
			&ucli.StringSliceFlag{Name: "host", Usage: "destroy the host named `NAME` (repeatable, or comma-separated; with --limit, both are taken)"},
			&ucli.BoolFlag{Name: "delete-data", Usage: "also drop each host's InfluxDB database, its history: confirmed by typing the host's name"},
			&ucli.StringSliceFlag{Name: "yes-delete-data", Usage: "confirm dropping the database of `HOST` without a terminal (with --delete-data; repeatable, one for each such host)"},
			&ucli.BoolFlag{Name: "purge-agent", Usage: "also remove the telegraf package, its repository and key from each host"},
			&ucli.BoolFlag{Name: "auto-approve", Usage: "destroy without asking 'yes' (required when stdin is not a terminal)"},
			&ucli.StringFlag{Name: "out", Usage: "only save the plan to `FILE`, for `fleetctl apply FILE`; destroy nothing now"},
			&ucli.DurationFlag{Name: "lock-timeout", Value: engine.DefaultLockWait, Usage: "wait up to `DURATION` for another run applying to a host to finish (0: fail at once, naming it)"}),
		Action: func(c *ucli.Context) error {
			if err := noArgs(c, io); err != nil {
				return err
			}
			if err := checkOptions(c); err != nil {
				return err
			}
			if len(splitList(c.StringSlice("limit"))) == 0 && len(splitList(c.StringSlice("host"))) == 0 {
				return withCode(ExitUsage, errors.New("destroy needs --host NAME or --limit PATTERN: it never takes the whole fleet by default"))
			}
			yes := splitList(c.StringSlice("yes-delete-data"))
			if len(yes) > 0 && !c.Bool("delete-data") {
				return withCode(ExitUsage, errors.New("--yes-delete-data confirms --delete-data: give --delete-data too, or neither"))
			}
			interactive := io.Terminal != nil && io.Terminal(io.Stdin)
			saving := c.String("out") != ""
			if !saving && !c.Bool("auto-approve") && !interactive {
				return withCode(ExitError, errors.New("destroy asks for confirmation and stdin is not a terminal: review with `fleetctl destroy --out FILE`, then run destroy --auto-approve (or apply FILE --auto-approve)"))
			}
			if c.Bool("delete-data") && !interactive && len(yes) == 0 {
				return withCode(ExitError, errors.New("--delete-data drops each host's history and is confirmed by typing the host's name on a terminal; stdin is not one: give --yes-delete-data=HOST for each host"))
			}
			ro, err := rollout(c, st)
			if err != nil {
				return err
			}
			var apply *engine.Rollout
			if !saving {
				apply = &ro
			}
			s, run, out, err := planAndShow(c, io, st, apply)
			if s != nil {
				defer s.Close()
				defer run.Close()
			}
			if err != nil {
				if run != nil && !saving {
					return nothingApplied(c, out, run.Plan, err.Error(), err)
				}
				return err
			}
			if saving {
				if err := confirmDataLoss(dataPrompt(c, io, s), io.Stdin, run.Plan, yes, interactive); err != nil {
					fmt.Fprintf(io.Stderr, "fleetctl: the plan was not saved to %s\n", c.String("out"))
					return err
				}
				if err := savePlan(io, c.String("out"), s, run, destroyLimit(c)); err != nil {
					return withCode(ExitError, err)
				}
				return plannedError(run.Plan)
			}
			if run.Plan.Counts().Total() == 0 {
				return nothingApplied(c, out, run.Plan, "", plannedError(run.Plan))
			}
			if err := confirm(c, io, s, out, run.Plan); err != nil {
				return err
			}
			if err := confirmDataLoss(dataPrompt(c, io, s), io.Stdin, run.Plan, yes, interactive); err != nil {
				return nothingApplied(c, out, run.Plan, "destroy cancelled", err)
			}
			return applyRun(c, io, st, out, s, run, ro)
		},
	}
}

// destroyLimit is the selection of a destroy: its --limit and --host together.
func destroyLimit(c *ucli.Context) []string {
	return append(splitList(c.StringSlice("limit")), splitList(c.StringSlice("host"))...)
}

// destroyOptions are the destroy options of a command: nil unless it is destroy.
func destroyOptions(c *ucli.Context) *provision.DestroyOptions {
	if c.Command.Name != "destroy" {
		return nil
	}
	return &provision.DestroyOptions{DeleteData: c.Bool("delete-data"), PurgeAgent: c.Bool("purge-agent")}
}

// dataLoss lists the hosts whose database the plan drops, in plan order.
func dataLoss(p *plan.Plan) []string {
	var hosts []string
	for _, h := range p.Hosts {
		if slices.ContainsFunc(h.Changes, func(ch plan.Change) bool { return ch.Kind == kindDatabase && ch.Action == plan.Delete }) {
			hosts = append(hosts, h.Host)
		}
	}
	return hosts
}

// confirmDataLoss asks, for each host whose database the plan drops, that its name be typed on the terminal, or
// finds it in --yes-delete-data. A name given to --yes-delete-data that the destroy does not select is refused too:
// the confirmation and the plan must agree (a host whose database is already gone is fine, so a CI job can run
// again).
func confirmDataLoss(prompt io.Writer, stdin io.Reader, p *plan.Plan, yes []string, interactive bool) error {
	hosts := dataLoss(p)
	if len(yes) > 0 {
		var missing, extra []string
		for _, h := range hosts {
			if !slices.Contains(yes, h) {
				missing = append(missing, h)
			}
		}
		for _, y := range yes {
			if !slices.ContainsFunc(p.Hosts, func(h plan.HostPlan) bool { return h.Host == y }) {
				extra = append(extra, y)
			}
		}
		switch {
		case len(missing) > 0:
			return withCode(ExitError, fmt.Errorf("--delete-data would drop the database of %s, not confirmed by --yes-delete-data: nothing was destroyed", strings.Join(missing, ", ")))
		case len(extra) > 0:
			return withCode(ExitError, fmt.Errorf("--yes-delete-data %s: not a host this destroy selects: nothing was destroyed", strings.Join(extra, ",")))
		}
		return nil
	}
	if len(hosts) == 0 {
		return nil
	}
	if !interactive {
		return withCode(ExitError, errors.New("--delete-data needs each host's name typed on a terminal, or --yes-delete-data=HOST"))
	}
	for _, h := range hosts {
		fmt.Fprintf(prompt, "\nThis drops the InfluxDB database of %s, every point it ever wrote. Type the host's name to confirm: ", h)
		if line := readLine(stdin); line != h {
			return withCode(ExitError, fmt.Errorf("%q is not %s: nothing was destroyed", line, h))
		}
	}
	return nil
}

// dataPrompt is where the data-loss question goes: stdout, or stderr when stdout is for the one JSON document.
func dataPrompt(c *ucli.Context, io IO, s *provision.Session) io.Writer {
	if jsonOutput(c) {
		return s.MaskWriter(io.Stderr)
	}
	return s.MaskWriter(io.Stdout)
}

// readLine reads one line, byte by byte so that nothing after it is consumed, without its line ending.
func readLine(r io.Reader) string {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				break
			}
			b = append(b, one[0])
		}
		if err != nil {
			break
		}
	}
	return strings.TrimSpace(string(b))
}

// savedDestroy are the destroy options of a saved plan: nil for an onboarding plan.
func savedDestroy(o *planfile.DestroyOptions) *provision.DestroyOptions {
	if o == nil {
		return nil
	}
	return &provision.DestroyOptions{DeleteData: o.DeleteData, PurgeAgent: o.PurgeAgent}
}

// lookForOrphans finds the orphans for plan and apply (not for destroy, whose plan is of hosts only) into the
// plan. Not finding them is a warning in the plan, unless --prune asked to delete them.
func lookForOrphans(c *ucli.Context, s *provision.Session, p *plan.Plan) error {
	if c.Command.Name == "destroy" {
		return nil
	}
	p.Prune = c.Bool("prune")
	chs, err := s.PlanOrphans(c.Context, c.Bool("delete-data"))
	if err != nil {
		if p.Prune {
			return withCode(ExitError, fmt.Errorf("--prune: %w", err))
		}
		p.OrphansError = err.Error()
		return nil
	}
	p.Orphans = chs
	return nil
}

// prune deletes the planned orphans after the hosts were applied, unless the run stopped or was interrupted; the
// outcome is reported as one more "host", named as the orphans' changes are. nil: nothing to prune.
func prune(c *ucli.Context, st *runState, now func() time.Time, s *provision.Session, p *plan.Plan, rep *plan.Outcome) *plan.HostOutcome {
	pending := p.PendingOrphans()
	if !p.Prune || len(pending) == 0 {
		return nil
	}
	res := &plan.HostOutcome{Host: pending[0].Host}
	if rep.StopReason != "" || st.interrupted() || c.Context.Err() != nil {
		res.Skipped = "not started: the run stopped before the orphans were pruned"
		return res
	}
	if now == nil {
		now = time.Now
	}
	t0 := now()
	applied, err := s.Prune(c.Context)
	res.Applied, res.Duration = applied, now().Sub(t0)
	if err != nil {
		res.Error = err.Error()
	}
	return res
}
