package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Markdown writes the plan for a pull-request comment: a summary line, a table of hosts, then one collapsible
// section per host with its changes and diffs in fenced blocks.
func Markdown(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	n := p.Counts()
	b.WriteString("### fleetctl plan\n\n")
	if p.Empty() {
		fmt.Fprintf(&b, "**No changes** on %d %s.\n", len(p.Hosts), plural(len(p.Hosts), "host", "hosts"))
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "**%s** on %d of %d %s", summary(n), p.HostsChanging(), len(p.Hosts), plural(len(p.Hosts), "host", "hosts"))
	if f := len(p.Failed()); f > 0 {
		fmt.Fprintf(&b, ", **%d failed**", f)
	}
	b.WriteString(".\n\n| host | create | update | delete | restart/reload | reported | error |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, h := range p.Hosts {
		c := h.Counts()
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %d | %s |\n", h.Host, c.Create, c.Update, c.Delete, c.Restart+c.Reload, c.Report, mdCell(h.Error))
	}
	for _, h := range p.Hosts {
		var shown []plan.Change
		for _, ch := range h.Changes {
			if ch.Action != plan.NoOp {
				shown = append(shown, ch)
			}
		}
		if len(shown) == 0 && h.Error == "" {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary><code>%s</code>: %s</summary>\n\n", h.Host, hostSummary(h))
		if h.Error != "" {
			fmt.Fprintf(&b, "**Error:** %s\n\n", mdCell(h.Error))
		}
		for _, ch := range shown {
			fmt.Fprintf(&b, "- %s **%s** `%s:%s`", symbols[ch.Action], ch.Action, ch.Kind, ch.Name)
			if ch.Reason != "" {
				fmt.Fprintf(&b, " (%s)", ch.Reason)
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
