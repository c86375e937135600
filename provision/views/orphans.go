package views

import (
	"fmt"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// orphansHeader introduces a plan's orphans: what they are, and whether this run deletes them.
func orphansHeader(p *plan.Plan) string {
	n := len(p.PendingOrphans())
	what := fmt.Sprintf("%d %s of fleetctl's on the servers %s to no host of the inventory", len(p.Orphans),
		plural(len(p.Orphans), "object", "objects"), plural(len(p.Orphans), "belongs", "belong"))
	switch {
	case p.Prune:
		return fmt.Sprintf("Orphans: %s; --prune deletes %d", what, n)
	case n > 0:
		return fmt.Sprintf("Orphans: %s; apply --prune deletes %d", what, n)
	}
	return "Orphans: " + what
}

// writeOrphans adds the plan's orphans section to a text view (nothing when there are none).
func writeOrphans(b *strings.Builder, p *plan.Plan, c palette) {
	if p.OrphansError != "" {
		fmt.Fprintf(b, "%sWarning:%s orphans not looked for: %s.\n", c.mod, c.reset, p.OrphansError)
	}
	if len(p.Orphans) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s%s:%s\n", c.bold, orphansHeader(p), c.reset)
	for _, ch := range p.Orphans {
		writeChange(b, ch, false, c)
	}
}

// mdOrphans adds the plan's orphans section to a markdown view.
func mdOrphans(b *strings.Builder, p *plan.Plan) {
	if p.OrphansError != "" {
		fmt.Fprintf(b, "\n> **Warning:** orphans not looked for: %s.\n", mdCell(p.OrphansError))
	}
	if len(p.Orphans) == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details><summary>%s</summary>\n\n| action | address | why |\n|---|---|---|\n", mdCell(orphansHeader(p)))
	for _, ch := range p.Orphans {
		fmt.Fprintf(b, "| %s | `%s` | %s |\n", ch.Action, mdCell(ch.Address), mdCell(ch.Reason))
	}
	b.WriteString("\n</details>\n")
}
