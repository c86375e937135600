package views

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// TextReport writes what apply did: a table of the hosts that changed, failed or were not started (result,
// changes made, duration, error; the unchanged ones only counted), why hosts were left unstarted if any were, the
// changes made (once for hosts that made the same ones), and any change whose outcome differs from the plan.
func TextReport(w io.Writer, p *plan.Plan, hosts []plan.HostOutcome, stopReason string) error {
	var b strings.Builder
	b.WriteString("\n")
	counts := map[string]int{}
	var rows strings.Builder
	tw := tabwriter.NewWriter(&rows, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tRESULT\tCHANGES\tDURATION\tERROR")
	listed := 0
	for _, h := range hosts {
		result := hostResult(h)
		counts[result]++
		if result == "unchanged" && h.HostSkipped == "" {
			continue
		}
		listed++
		dur := "-"
		if h.Duration > 0 {
			dur = h.Duration.Round(time.Millisecond).String()
		}
		msg := h.Error
		if h.Skipped != "" {
			msg = h.Skipped
		}
		if h.HostSkipped != "" {
			msg = strings.TrimPrefix(msg+"; "+h.HostSkipped, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", h.Host, result, len(h.Applied), dur, strings.ReplaceAll(msg, "\n", " "))
	}
	tw.Flush()
	if listed > 0 {
		b.WriteString(rows.String())
		if n := counts["unchanged"]; n > 0 {
			fmt.Fprintf(&b, "(and %s unchanged)\n", hostCount(n))
		}
	}

	var made []plan.HostPlan
	for _, h := range hosts {
		if len(h.Applied) > 0 {
			made = append(made, plan.HostPlan{Host: h.Host, Changes: h.Applied})
		}
	}
	if groups := groupHosts(made); len(groups) > 0 {
		b.WriteString("\nChanges made:\n")
		for _, g := range groups {
			indent := "  "
			if g.Grouped() {
				fmt.Fprintf(&b, "  on %s (the same on each):\n", g.Names())
				indent = "    "
			}
			for _, c := range g.Shown {
				fmt.Fprintf(&b, "%s%s %s %s\n", indent, symbols[c.Action], c.Action, address(c, g.Grouped()))
			}
		}
	}

	if d := plan.Divergences(p, hosts); len(d) > 0 {
		skipped := map[string]bool{}
		for _, h := range hosts {
			skipped[h.Host] = h.Skipped != ""
		}
		b.WriteString("\nOutcome differs from the plan:\n")
		for i := 0; i < len(d); i++ {
			x := d[i]
			if skipped[x.Host] && x.Planned != "" {
				// A host never started: one line for all its planned changes.
				n := 1
				for i+1 < len(d) && d[i+1].Host == x.Host && d[i+1].Planned != "" {
					i++
					n++
				}
				fmt.Fprintf(&b, "  %s: not started; its %d planned %s not applied\n", x.Host, n, plural(n, "change was", "changes were"))
				continue
			}
			if x.Planned != "" {
				fmt.Fprintf(&b, "  %s: planned %s, not applied\n", x.Address, x.Planned)
			} else {
				fmt.Fprintf(&b, "  %s: applied %s, not planned\n", x.Address, x.Applied)
			}
		}
	}
	if stopReason != "" {
		fmt.Fprintf(&b, "\nStopped early: %s.\n", strings.TrimPrefix(stopReason, "not started: "))
	}
	fmt.Fprintf(&b, "\n%s: %d changed, %d unchanged, %d failed, %d not started.\n", hostCount(len(hosts)), counts["changed"], counts["unchanged"], counts["failed"], counts["not started"])
	_, err := io.WriteString(w, b.String())
	return err
}

func hostResult(h plan.HostOutcome) string {
	switch {
	case h.Skipped != "":
		return "not started"
	case h.Error != "":
		return "failed"
	case len(h.Applied) > 0:
		return "changed"
	default:
		return "unchanged"
	}
}
