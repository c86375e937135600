package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// HostOutcome is what applying one host did; provision.HostResult converts to it.
type HostOutcome = struct {
	Host     string        `json:"host"`
	Applied  []plan.Change `json:"applied"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// SSHSessions is how many remote commands (SSH sessions, each at least one round trip) the host cost, reads
	// and writes together; Uploads counts sftp file uploads.
	SSHSessions int64 `json:"ssh_sessions"`
	Uploads     int64 `json:"uploads"`
	// Skipped says why the host was never started (the canary failed, the failure budget ran out, Ctrl-C).
	Skipped string `json:"skipped,omitempty"`
}

// Divergence is a planned change that was not applied, or an applied change that was not planned.
type Divergence struct {
	Host    string `json:"host"`
	Address string `json:"address"`
	Planned string `json:"planned,omitempty"`
	Applied string `json:"applied,omitempty"`
}

// Divergences compares what was planned for each host with what was applied.
func Divergences(p *plan.Plan, hosts []HostOutcome) []Divergence {
	var out []Divergence
	applied := map[string]map[string]plan.Action{}
	for _, h := range hosts {
		m := map[string]plan.Action{}
		for _, c := range h.Applied {
			m[c.Address+"\x00"+string(c.Action)] = c.Action
		}
		applied[h.Host] = m
	}
	for _, hp := range p.Hosts {
		got := applied[hp.Host]
		for _, c := range hp.Pending() {
			key := c.Address + "\x00" + string(c.Action)
			if _, ok := got[key]; ok {
				delete(got, key)
				continue
			}
			out = append(out, Divergence{Host: hp.Host, Address: c.Address, Planned: string(c.Action)})
		}
	}
	for _, h := range hosts {
		for key, a := range applied[h.Host] {
			addr, _, _ := strings.Cut(key, "\x00")
			out = append(out, Divergence{Host: h.Host, Address: addr, Applied: string(a)})
		}
	}
	return out
}

// TextReport writes what apply did: a table of hosts (result, changes made, duration, error), why hosts were left
// unstarted if any were, and any change whose outcome differs from the plan.
func TextReport(w io.Writer, p *plan.Plan, hosts []HostOutcome, stopReason string) error {
	var b strings.Builder
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tRESULT\tCHANGES\tDURATION\tERROR")
	counts := map[string]int{}
	for _, h := range hosts {
		result := hostResult(h)
		counts[result]++
		dur := "-"
		if h.Duration > 0 {
			dur = h.Duration.Round(time.Millisecond).String()
		}
		msg := h.Error
		if h.Skipped != "" {
			msg = h.Skipped
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", h.Host, result, len(h.Applied), dur, strings.ReplaceAll(msg, "\n", " "))
	}
	tw.Flush()
	var made strings.Builder
	for _, h := range hosts {
		for _, c := range h.Applied {
			fmt.Fprintf(&made, "  %s %s %s\n", symbols[c.Action], c.Action, c.Address)
		}
	}
	if made.Len() > 0 {
		b.WriteString("\nChanges made:\n" + made.String())
	}
	if d := Divergences(p, hosts); len(d) > 0 {
		b.WriteString("\nOutcome differs from the plan:\n")
		for _, x := range d {
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
	fmt.Fprintf(&b, "\n%d %s: %d changed, %d unchanged, %d failed, %d not started.\n", len(hosts), plural(len(hosts), "host", "hosts"), counts["changed"], counts["unchanged"], counts["failed"], counts["not started"])
	_, err := io.WriteString(w, b.String())
	return err
}

func hostResult(h HostOutcome) string {
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

// JSONReport writes the apply outcome as JSON, in the plan's schema version.
func JSONReport(w io.Writer, p *plan.Plan, hosts []HostOutcome, stopReason string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	type row struct {
		HostOutcome
		Result string `json:"result"`
	}
	rows := make([]row, len(hosts))
	for i, h := range hosts {
		rows[i] = row{h, hostResult(h)}
	}
	return enc.Encode(struct {
		FormatVersion string       `json:"format_version"`
		Hosts         []row        `json:"hosts"`
		StopReason    string       `json:"stop_reason,omitempty"`
		Divergences   []Divergence `json:"divergences"`
	}{JSONFormatVersion, rows, stopReason, Divergences(p, hosts)})
}
