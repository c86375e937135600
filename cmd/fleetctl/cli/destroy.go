package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

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
				if err := confirmDataLoss(c, io, s, run.Plan, yes, interactive); err != nil {
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
			if err := confirmDataLoss(c, io, s, run.Plan, yes, interactive); err != nil {
				return nothingApplied(c, out, run.Plan, "destroy cancelled", err)
			}
			return applyRun(c, io, st, out, run, ro)
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
// finds it in --yes-delete-data. A name given to --yes-delete-data whose database is not dropped is refused too:
// the confirmation and the plan must agree.
func confirmDataLoss(c *ucli.Context, io IO, s *provision.Session, p *plan.Plan, yes []string, interactive bool) error {
	hosts := dataLoss(p)
	if len(yes) > 0 {
		var missing, extra []string
		for _, h := range hosts {
			if !slices.Contains(yes, h) {
				missing = append(missing, h)
			}
		}
		for _, y := range yes {
			if !slices.Contains(hosts, y) {
				extra = append(extra, y)
			}
		}
		switch {
		case len(missing) > 0:
			return withCode(ExitError, fmt.Errorf("--delete-data would drop the database of %s, not confirmed by --yes-delete-data: nothing was destroyed", strings.Join(missing, ", ")))
		case len(extra) > 0:
			return withCode(ExitError, fmt.Errorf("--yes-delete-data %s: the plan drops no database of %s: nothing was destroyed", strings.Join(extra, ","), plural(len(extra), "this host", "these hosts")))
		}
		return nil
	}
	if len(hosts) == 0 {
		return nil
	}
	if !interactive {
		return withCode(ExitError, errors.New("--delete-data needs each host's name typed on a terminal, or --yes-delete-data=HOST"))
	}
	prompt := s.MaskWriter(io.Stderr)
	if !jsonOutput(c) {
		prompt = s.MaskWriter(io.Stdout)
	}
	for _, h := range hosts {
		fmt.Fprintf(prompt, "\nThis drops the InfluxDB database of %s, every point it ever wrote. Type the host's name to confirm: ", h)
		if line := readLine(io.Stdin); line != h {
			return withCode(ExitError, fmt.Errorf("%q is not %s: nothing was destroyed", line, h))
		}
	}
	return nil
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
