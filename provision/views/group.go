package views

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// hostGroup is one or more hosts with the same changes to show (or the same error): a rollout to a group of hosts
// is read once, with the hosts it concerns, instead of once per host.
type hostGroup struct {
	Hosts []string
	Plan  plan.HostPlan // the first host's
	Shown []plan.Change // the first host's changes that alter or report something
}

// Grouped reports whether the group has more than one host; its changes are then shown with "*" for the host.
func (g hostGroup) Grouped() bool { return len(g.Hosts) > 1 }

// Names lists the group's hosts for a header.
func (g hostGroup) Names() string { return strings.Join(g.Hosts, ", ") }

// shownChanges are the changes a view lists: all but the no-ops.
func shownChanges(h plan.HostPlan) []plan.Change {
	var shown []plan.Change
	for _, ch := range h.Changes {
		if ch.Action != plan.NoOp {
			shown = append(shown, ch)
		}
	}
	return shown
}

// groupHosts gathers the hosts that have something to show by what they show, in plan order of each group's first
// host. Two hosts group when their changes are the same in every shown respect (kind, name, action, fields, texts,
// reason), or when they failed with the same error. Hosts with nothing to show are left out.
func groupHosts(hosts []plan.HostPlan) []hostGroup {
	var groups []hostGroup
	index := map[string]int{}
	for _, h := range hosts {
		shown := shownChanges(h)
		if len(shown) == 0 && h.Error == "" {
			continue
		}
		key := "error\x00" + h.Error
		if h.Error == "" {
			key = changesKey(shown)
		}
		if i, ok := index[key]; ok {
			groups[i].Hosts = append(groups[i].Hosts, h.Host)
			continue
		}
		index[key] = len(groups)
		groups = append(groups, hostGroup{Hosts: []string{h.Host}, Plan: h, Shown: shown})
	}
	return groups
}

// changesKey is what the changes look like without the host they belong to.
func changesKey(chs []plan.Change) string {
	type shape struct {
		Kind, Name string
		Action     plan.Action
		Fields     []plan.Field
		Before     *string
		After      *string
		Reason     string
	}
	shapes := make([]shape, len(chs))
	for i, c := range chs {
		shapes[i] = shape{c.Kind, c.Name, c.Action, c.Fields, c.BeforeText, c.AfterText, c.Reason}
	}
	b, _ := json.Marshal(shapes)
	return string(b)
}

// address is how a view names a change: its address as --only takes it, with "*" for the host when the change is
// shown once for a group of hosts.
func address(ch plan.Change, grouped bool) string {
	addr := ch.Address
	if addr == "" {
		addr = ch.Host + "/" + ch.Kind + ":" + ch.Name
	}
	if grouped {
		if _, rest, ok := strings.Cut(addr, "/"); ok {
			return "*/" + rest
		}
	}
	return addr
}

// selectionNotes are the warnings a plan carries: its fleet-wide warnings, then, made with --only, changes it
// leaves out and globs that matched nothing.
func selectionNotes(p *plan.Plan) []string {
	notes := append([]string(nil), p.Warnings...)
	if n, hosts := p.Hidden(); n > 0 {
		notes = append(notes, fmt.Sprintf("--only selects part of the plan: %d more %s on %d %s %s pending outside it, neither shown nor applied",
			n, plural(n, "change", "changes"), hosts, plural(hosts, "host", "hosts"), plural(n, "is", "are")))
	}
	for _, g := range p.Unmatched {
		notes = append(notes, fmt.Sprintf("--only %q matches no change on the planned hosts (addresses are HOST/KIND:NAME, for example %s)", g, exampleAddress(p)))
	}
	return notes
}

func exampleAddress(p *plan.Plan) string {
	for _, h := range p.Hosts {
		for _, c := range h.Changes {
			if c.Address != "" {
				return c.Address
			}
		}
	}
	return "web1/file:/etc/telegraf/telegraf.conf"
}

// hostCount is "1 host" or "3 hosts".
func hostCount(n int) string { return fmt.Sprintf("%d %s", n, plural(n, "host", "hosts")) }
