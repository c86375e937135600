package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Markdown writes the plan for a pull-request comment: a summary line, a table of the hosts that change or failed,
// then one collapsible section per host (or per group of hosts with the same changes) with its changes and diffs in
// fenced blocks.
func Markdown(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	n := p.Counts()
	b.WriteString("### fleetctl plan\n\n")
	notes := func() {
		for _, note := range selectionNotes(p) {
			fmt.Fprintf(&b, "\n> **Warning:** %s.\n", mdCell(note))
		}
	}
	if p.Empty() {
		fmt.Fprintf(&b, "**No changes** on %s.\n", hostCount(len(p.Hosts)))
		notes()
		mdOrphans(&b, p)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "**%s** on %d of %s", summary(n), p.HostsChanging(), hostCount(len(p.Hosts)))
	if f := len(p.Failed()); f > 0 {
		fmt.Fprintf(&b, ", **%d failed**", f)
	}
	b.WriteString(".\n")
	notes()
	b.WriteString("\n| host | create | update | delete | restart/reload | reported | error |\n|---|---:|---:|---:|---:|---:|---|\n")
	quiet := 0
	for _, h := range p.Hosts {
		c := h.Counts()
		if h.Error == "" && c.Total() == 0 && c.Report == 0 {
			quiet++
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %d | %s |\n", h.Host, c.Create, c.Update, c.Delete, c.Restart+c.Reload, c.Report, mdCell(h.Error))
	}
	if quiet > 0 {
		fmt.Fprintf(&b, "\n%d more %s with no changes.\n", quiet, plural(quiet, "host", "hosts"))
	}
	for _, g := range groupHosts(p.Hosts) {
		names := make([]string, len(g.Hosts))
		for i, h := range g.Hosts {
			names[i] = "<code>" + mdCell(h) + "</code>"
		}
		same := ""
		if g.Grouped() {
			same = " (the same on each)"
		}
		fmt.Fprintf(&b, "\n<details><summary>%s%s: %s</summary>\n\n", strings.Join(names, ", "), same, hostSummary(g.Plan))
		if g.Plan.Error != "" {
			fmt.Fprintf(&b, "**Error:** %s\n\n", mdCell(g.Plan.Error))
		}
		for _, ch := range g.Shown {
			// The symbol goes inside the bold text: a "+" or "-" after the item's "- " would open a nested list.
			fmt.Fprintf(&b, "- **%s %s** `%s`", symbols[ch.Action], ch.Action, mdCode(address(ch, g.Grouped())))
			if ch.Reason != "" {
				fmt.Fprintf(&b, " (%s)", mdCell(ch.Reason))
			}
			b.WriteString("\n")
			for _, f := range ch.Fields {
				switch {
				case f.Sensitive:
					fmt.Fprintf(&b, "  - `%s`: *(sensitive value changed)*\n", f.Name)
				case ch.Action == plan.Create:
					fmt.Fprintf(&b, "  - `%s`: `%s`\n", f.Name, mdCode(f.After))
				default:
					fmt.Fprintf(&b, "  - `%s`: `%s` → `%s`\n", f.Name, mdCode(f.Before), mdCode(f.After))
				}
			}
			if ch.BeforeText != nil || ch.AfterText != nil {
				fence := "```"
				d := UnifiedDiff(ch)
				for strings.Contains(d, fence) {
					fence += "`"
				}
				fmt.Fprintf(&b, "\n  %sdiff\n", fence)
				for _, line := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
					b.WriteString("  " + line + "\n")
				}
				fmt.Fprintf(&b, "  %s\n\n", fence)
			}
		}
		b.WriteString("\n</details>\n")
	}
	mdOrphans(&b, p)
	_, err := io.WriteString(w, b.String())
	return err
}

func hostSummary(h plan.HostPlan) string {
	if h.Error != "" {
		return "error"
	}
	return summary(h.Counts())
}

// mdCell keeps a value on one table row and out of the markup.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(strings.ReplaceAll(s, "<", "&lt;"), ">", "&gt;")
}

func mdCode(s string) string {
	if s == "" {
		return `""`
	}
	return strings.ReplaceAll(s, "`", "'")
}
