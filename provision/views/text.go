package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/pmezard/go-difflib/difflib"
)

// TextOptions tune the text view.
type TextOptions struct {
	Color bool // ANSI colours; the caller decides (a terminal, and NO_COLOR unset)
}

type palette struct{ add, del, mod, dim, bold, reset string }

func (o TextOptions) palette() palette {
	if !o.Color {
		return palette{}
	}
	return palette{add: "\x1b[32m", del: "\x1b[31m", mod: "\x1b[33m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m"}
}

var symbols = map[plan.Action]string{
	plan.Create: "+", plan.Update: "~", plan.Delete: "-", plan.Restart: "↻", plan.Reload: "↻", plan.Report: "?",
}

// Text writes the plan for a terminal: per host, every change that alters something (and every report), with
// unified diffs for file contents and before → after for fields, then a summary. Hosts with the same changes are
// shown once, together; a plan made with --only says what it leaves out.
func Text(w io.Writer, p *plan.Plan, o TextOptions) error {
	c := o.palette()
	var b strings.Builder
	for _, g := range groupHosts(p.Hosts) {
		same := ""
		if g.Grouped() {
			same = " (the same on each)"
		}
		if g.Plan.Error != "" {
			fmt.Fprintf(&b, "%s%s%s%s: %serror%s: %s\n\n", c.bold, g.Names(), c.reset, same, c.del, c.reset, g.Plan.Error)
			continue
		}
		fmt.Fprintf(&b, "%s%s%s%s: %s\n", c.bold, g.Names(), c.reset, same, summary(g.Plan.Counts()))
		for _, ch := range g.Shown {
			writeChange(&b, ch, g.Grouped(), c)
		}
		b.WriteString("\n")
	}
	n := p.Counts()
	failed := len(p.Failed())
	switch {
	case n.Total() == 0 && failed == 0:
		fmt.Fprintf(&b, "No changes on %s.\n", hostCount(len(p.Hosts)))
	default:
		fmt.Fprintf(&b, "Plan: %s on %d of %s", summary(n), p.HostsChanging(), hostCount(len(p.Hosts)))
		if failed > 0 {
			fmt.Fprintf(&b, "; %s%d failed%s", c.del, failed, c.reset)
		}
		b.WriteString(".\n")
	}
	for _, note := range selectionNotes(p) {
		fmt.Fprintf(&b, "%sWarning:%s %s.\n", c.mod, c.reset, note)
	}
	writeOrphans(&b, p, c)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChange(b *strings.Builder, ch plan.Change, grouped bool, c palette) {
	col := map[plan.Action]string{plan.Create: c.add, plan.Delete: c.del, plan.Update: c.mod, plan.Restart: c.mod, plan.Reload: c.mod, plan.Report: c.dim}[ch.Action]
	fmt.Fprintf(b, "  %s%s %s %s%s", col, symbols[ch.Action], ch.Action, address(ch, grouped), c.reset)
	if ch.Reason != "" {
		fmt.Fprintf(b, " %s(%s)%s", c.dim, ch.Reason, c.reset)
	}
	b.WriteString("\n")
	for _, f := range ch.Fields {
		switch {
		case f.Sensitive:
			fmt.Fprintf(b, "      %s: (sensitive value changed)\n", f.Name)
		case ch.Action == plan.Create:
			fmt.Fprintf(b, "      %s: %s\n", f.Name, quoteIfNeeded(f.After))
		case ch.Action == plan.Delete && f.After == "":
			fmt.Fprintf(b, "      %s: %s\n", f.Name, quoteIfNeeded(f.Before))
		default:
			fmt.Fprintf(b, "      %s: %s → %s\n", f.Name, quoteIfNeeded(f.Before), quoteIfNeeded(f.After))
		}
	}
	if ch.AfterText != nil || ch.BeforeText != nil {
		for _, line := range strings.Split(strings.TrimRight(UnifiedDiff(ch), "\n"), "\n") {
			if line == "" {
				continue
			}
			lc := ""
			switch {
			case strings.HasPrefix(line, "+"):
				lc = c.add
			case strings.HasPrefix(line, "-"):
				lc = c.del
			case strings.HasPrefix(line, "@@"):
				lc = c.dim
			}
			fmt.Fprintf(b, "      %s%s%s\n", lc, line, c.reset)
		}
	}
}

// UnifiedDiff is the change's text diff with 3 lines of context, without the file header lines. A created or
// deleted text is shown whole, every line marked.
func UnifiedDiff(ch plan.Change) string {
	if ch.BeforeText == nil || ch.AfterText == nil {
		text, mark := "", "+"
		if ch.AfterText != nil {
			text = *ch.AfterText
		} else if ch.BeforeText != nil {
			text, mark = *ch.BeforeText, "-"
		}
		var b strings.Builder
		for _, line := range strings.SplitAfter(ensureNewline(text), "\n") {
			if line != "" {
				b.WriteString(mark + line)
			}
		}
		return b.String()
	}
	var before, after string
	if ch.BeforeText != nil {
		before = *ch.BeforeText
	}
	if ch.AfterText != nil {
		after = *ch.AfterText
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: splitLines(before), B: splitLines(after), Context: 3})
	if err != nil {
		return ""
	}
	return d
}

// splitLines keeps each line's newline and, unlike difflib.SplitLines, adds no empty line after the last one. A
// missing final newline shows as a change of the last line, as it is one.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func ensureNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	if strings.ContainsAny(s, "\t\n") || strings.TrimSpace(s) != s {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func summary(n plan.Counts) string {
	parts := []string{fmt.Sprintf("%d to create", n.Create), fmt.Sprintf("%d to update", n.Update), fmt.Sprintf("%d to delete", n.Delete)}
	if n.Restart > 0 {
		parts = append(parts, fmt.Sprintf("%d to restart", n.Restart))
	}
	if n.Reload > 0 {
		parts = append(parts, fmt.Sprintf("%d to reload", n.Reload))
	}
	if n.Report > 0 {
		parts = append(parts, fmt.Sprintf("%d reported", n.Report))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
