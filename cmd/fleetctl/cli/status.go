package cli

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/fleetctl/fleetctl/provision"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/views"
	ucli "github.com/urfave/cli/v2"
)

// DefaultStaleAfter is how old a host's newest point may be for status to count it as reporting: a few of the
// agent's 10 s intervals and flushes.
const DefaultStaleAfter = 2 * time.Minute

// reportingPoll is how often apply --wait-reporting asks InfluxDB whether the batch's agents reported.
const reportingPoll = 2 * time.Second

func statusCommand(io IO, st *runState) *ucli.Command {
	return &ucli.Command{
		Name:  "status",
		Usage: "say per host whether it is reporting: agent, newest point, tasks, alerts firing, datasource; exit 3 if any is not",
		Flags: []ucli.Flag{
			inventoryFlag(),
			&ucli.StringSliceFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only hosts matching a name glob or group (repeatable, or comma-separated)"},
			&ucli.IntFlag{Name: "forks", Aliases: []string{"f"}, Value: 10, Usage: "hosts asked over SSH at once"},
			&ucli.DurationFlag{Name: "stale-after", Value: DefaultStaleAfter, Usage: "a host whose newest point is older than `DURATION` is stale"},
			&ucli.BoolFlag{Name: "no-ssh", Usage: "ask the servers only, not the hosts (the agents' state is not shown)"},
			&ucli.BoolFlag{Name: "accept-new-host-keys", Usage: "trust and record the host key of a host not in known_hosts (never a changed key)"},
			&ucli.StringFlag{Name: "format", Value: "text", Usage: "output: text, markdown or json"},
			&ucli.BoolFlag{Name: "no-color", Usage: "no colours even on a terminal (NO_COLOR is honoured too)"},
			&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log to stderr"},
		},
		Action: func(c *ucli.Context) error {
			if err := noArgs(c, io); err != nil {
				return err
			}
			if err := checkOptions(c); err != nil {
				return err
			}
			if d := c.Duration("stale-after"); d <= 0 {
				return withCode(ExitUsage, fmt.Errorf("--stale-after %s: give how old a host's newest point may be, such as 2m", d))
			}
			lvl := slog.LevelWarn
			if c.Bool("verbose") {
				lvl = slog.LevelDebug
			}
			s, err := provision.Open(c.Context, provision.Options{
				InventoryPath: c.String("inventory"), Limit: splitList(c.StringSlice("limit")), Forks: c.Int("forks"),
				AcceptNewHostKeys: c.Bool("accept-new-host-keys"), NoRepoKey: true,
				Getenv: io.Getenv, Now: io.Now, Log: slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: lvl})),
			})
			if err != nil {
				return withCode(ExitError, err)
			}
			defer s.Close()
			res, err := s.Status(c.Context, provision.StatusOptions{StaleAfter: c.Duration("stale-after"), NoSSH: c.Bool("no-ssh"), Forks: c.Int("forks")})
			if err != nil {
				if st.interrupted() || c.Context.Err() != nil {
					return withCode(ExitInterrupted, fmt.Errorf("interrupted: %w", err))
				}
				return withCode(ExitError, err)
			}
			out := s.MaskWriter(io.Stdout)
			if err := renderStatus(c, io, out, res); err != nil {
				return err
			}
			if !res.Healthy() {
				n := res.Counts()
				return withCode(ExitNotReporting, fmt.Errorf("%d of %s not reporting", len(res.Hosts)-n[plan.Reporting], count(len(res.Hosts), "host")))
			}
			return nil
		},
	}
}

func renderStatus(c *ucli.Context, io IO, w interface{ Write([]byte) (int, error) }, s *plan.Status) error {
	switch c.String("format") {
	case "json":
		return views.StatusJSON(w, s)
	case "markdown", "md":
		return views.StatusMarkdown(w, s)
	default:
		return views.StatusText(w, s, views.TextOptions{Color: useColor(c, io, io.Stdout)})
	}
}

func waitReportingFlag() ucli.Flag {
	return &ucli.DurationFlag{Name: "wait-reporting", Usage: "after each batch, wait up to `DURATION` for its agents to write new points; a host whose agent stays silent fails (like a failed apply, so a silent canary stops the rollout)"}
}

func checkWaitReporting(c *ucli.Context) error {
	if d := c.Duration("wait-reporting"); d < 0 || c.IsSet("wait-reporting") && d == 0 {
		return withCode(ExitUsage, fmt.Errorf("--wait-reporting %s: give how long a batch's agents have to report after the apply, such as 2m", d))
	}
	return nil
}

// reportingGate is apply's batch gate for --wait-reporting; nil without it.
func reportingGate(c *ucli.Context, s *provision.Session) engine.Gate {
	d := c.Duration("wait-reporting")
	if d <= 0 {
		return nil
	}
	return s.ReportingGate(d, reportingPoll)
}
