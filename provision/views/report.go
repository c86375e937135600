package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
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

// TextReport writes what apply did: per host the changes made, failures, and any change that differs from the plan.
func TextReport(w io.Writer, p *plan.Plan, hosts []HostOutcome) error {
	var b strings.Builder
	b.WriteString("\nApplied:\n")
	failed, changed := 0, 0
	for _, h := range hosts {
		status := "ok"
		switch {
		case h.Error != "":
			status = "FAILED: " + h.Error
			failed++
		case len(h.Applied) == 0:
			status = "unchanged"
		default:
			changed++
		}
		fmt.Fprintf(&b, "  %s: %d changed in %s, %s\n", h.Host, len(h.Applied), h.Duration.Round(time.Millisecond), status)
		for _, c := range h.Applied {
			fmt.Fprintf(&b, "      %s %s %s:%s\n", symbols[c.Action], c.Action, c.Kind, c.Name)
		}
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
	fmt.Fprintf(&b, "\n%d hosts: %d changed, %d unchanged, %d failed.\n", len(hosts), changed, len(hosts)-changed-failed, failed)
	_, err := io.WriteString(w, b.String())
	return err
}

// JSONReport writes the apply outcome as JSON, in the plan's schema version.
func JSONReport(w io.Writer, p *plan.Plan, hosts []HostOutcome) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		FormatVersion string        `json:"format_version"`
		Hosts         []HostOutcome `json:"hosts"`
		Divergences   []Divergence  `json:"divergences"`
	}{JSONFormatVersion, hosts, Divergences(p, hosts)})
}
