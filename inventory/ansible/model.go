package ansible

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/fleetctl/fleetctl/inventory"
)

// Pos is where something was written: a file as the user named it, and a 1-based line (0 when unknown).
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return p.File
}

func (p Pos) compare(q Pos) int {
	return cmp.Or(cmp.Compare(p.File, q.File), cmp.Compare(p.Line, q.Line))
}

// Value is a variable's value as Ansible would hold it before templating: a string, an int64, a float64, a bool,
// nil, or Other for lists, mappings and the rest (which no mapped variable accepts).
type Value struct {
	V     any
	Vault bool // encrypted with ansible-vault (a !vault tag or a $ANSIBLE_VAULT string): a secret never read
}

// Other stands for a value of a type no fleetctl setting takes (a list, a mapping, a date, a complex number); Kind
// names it for messages.
type Other struct{ Kind string }

// Var is one variable as defined in one place.
type Var struct {
	Name  string
	Value Value
	Pos   Pos
	Owner string // who it was set on, as written: `group "web"`, `host "web1"`, `hosts "web[01:20]"`
}

// Host is an inventory host.
type Host struct {
	Name     string
	Pos      Pos            // where it first appeared
	Vars     map[string]Var // set in the inventory file; a later definition replaces an earlier one
	FileVars map[string]Var // from host_vars/
	direct   []*Group
}

// Group is an inventory group.
type Group struct {
	Name     string
	Pos      Pos
	Vars     map[string]Var
	FileVars map[string]Var // from group_vars/
	Priority int            // ansible_group_priority, 1 by default
	children []*Group
	parents  []*Group
	hosts    []*Host // direct members
	depth    int
}

// Inventory is an Ansible inventory as Ansible reads it: every host and group, their relations and variables.
type Inventory struct {
	Source string // the path given to Load
	hosts  []*Host
	groups []*Group
	byHost map[string]*Host
	byName map[string]*Group
	// unread are vars files that could not be read (encrypted with ansible-vault), for the not-mapped list.
	unread []Note
}

// Note is one line of the not-mapped list.
type Note struct {
	Pos  Pos
	Text string
}

func newInventory(source string) *Inventory {
	inv := &Inventory{Source: source, byHost: map[string]*Host{}, byName: map[string]*Group{}}
	all := inv.group("all", Pos{})
	inv.addChild(all, inv.group("ungrouped", Pos{}))
	return inv
}

// group returns the named group, creating it at p.
func (inv *Inventory) group(name string, p Pos) *Group {
	if g := inv.byName[name]; g != nil {
		return g
	}
	g := &Group{Name: name, Pos: p, Vars: map[string]Var{}, FileVars: map[string]Var{}, Priority: 1}
	inv.byName[name] = g
	inv.groups = append(inv.groups, g)
	return g
}

// host returns the named host, creating it at p.
func (inv *Inventory) host(name string, p Pos) *Host {
	if h := inv.byHost[name]; h != nil {
		return h
	}
	h := &Host{Name: name, Pos: p, Vars: map[string]Var{}, FileVars: map[string]Var{}}
	inv.byHost[name] = h
	inv.hosts = append(inv.hosts, h)
	return h
}

func (inv *Inventory) addHost(g *Group, h *Host) {
	if !slices.Contains(g.hosts, h) {
		g.hosts = append(g.hosts, h)
		h.direct = append(h.direct, g)
	}
}

// addChild makes child a subgroup of parent; it refuses a loop, as Ansible does.
func (inv *Inventory) addChild(parent, child *Group) error {
	if parent == child || slices.Contains(child.descendants(), parent) {
		return fmt.Errorf("adding group %q as a child of %q makes a loop", child.Name, parent.Name)
	}
	if !slices.Contains(parent.children, child) {
		parent.children = append(parent.children, child)
		child.parents = append(child.parents, parent)
	}
	return nil
}

func (g *Group) descendants() []*Group {
	var out []*Group
	var walk func(*Group)
	walk = func(g *Group) {
		for _, c := range g.children {
			if !slices.Contains(out, c) {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(g)
	return out
}

// setGroupVar sets a variable of a group's inventory vars; ansible_group_priority sets its priority instead.
func setVar(vars map[string]Var, v Var) { vars[v.Name] = v }

// reconcile applies Ansible's rules after parsing: every group without a parent is a child of all; a host in no
// group but all is in ungrouped, and a host in another group is not. It computes group depths.
func (inv *Inventory) reconcile() {
	all, ungrouped := inv.byName["all"], inv.byName["ungrouped"]
	for _, g := range inv.groups {
		if g != all && len(g.parents) == 0 {
			inv.addChild(all, g)
		}
	}
	for _, h := range inv.hosts {
		others := slices.DeleteFunc(slices.Clone(h.direct), func(g *Group) bool { return g == all || g == ungrouped })
		inUngrouped := slices.Contains(h.direct, ungrouped)
		switch {
		case len(others) > 0 && inUngrouped:
			h.direct = slices.DeleteFunc(h.direct, func(g *Group) bool { return g == ungrouped })
			ungrouped.hosts = slices.DeleteFunc(ungrouped.hosts, func(x *Host) bool { return x == h })
		case len(others) == 0 && !inUngrouped:
			inv.addHost(ungrouped, h)
		}
	}
	// depth: the longest path from all (Ansible's Group.depth), so broader groups sort first.
	memo := map[*Group]int{}
	var depth func(*Group) int
	depth = func(g *Group) int {
		if d, ok := memo[g]; ok {
			return d
		}
		d := 0
		for _, p := range g.parents {
			d = max(d, depth(p)+1)
		}
		memo[g] = d
		return d
	}
	for _, g := range inv.groups {
		g.depth = depth(g)
	}
}

// groupsOf returns every group h belongs to, directly or through children, except all, in the order Ansible
// merges their variables: by depth, then priority, then name.
func (inv *Inventory) groupsOf(h *Host) []*Group {
	var out []*Group
	var up func(*Group)
	up = func(g *Group) {
		if g.Name == "all" || slices.Contains(out, g) {
			return
		}
		out = append(out, g)
		for _, p := range g.parents {
			up(p)
		}
	}
	for _, g := range h.direct {
		up(g)
	}
	slices.SortFunc(out, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(a.depth, b.depth), cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// hostsOf returns the hosts of g, directly or through its children.
func (g *Group) allHosts() []*Host {
	var out []*Host
	for _, x := range append([]*Group{g}, g.descendants()...) {
		for _, h := range x.hosts {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	return out
}

// effective returns a host's variables merged with Ansible's default precedence: all's inventory vars, the
// inventory vars of its groups (sorted), group_vars/all, group_vars of its groups (sorted), its own inventory vars,
// host_vars. A later source replaces a whole top-level variable.
func (inv *Inventory) effective(h *Host) map[string]Var {
	all := inv.byName["all"]
	groups := inv.groupsOf(h)
	out := map[string]Var{}
	merge := func(m map[string]Var) {
		for k, v := range m {
			out[k] = v
		}
	}
	merge(all.Vars)
	for _, g := range groups {
		merge(g.Vars)
	}
	merge(all.FileVars)
	for _, g := range groups {
		merge(g.FileVars)
	}
	merge(h.Vars)
	merge(h.FileVars)
	return out
}

// errorList collects located problems; it is an inventory.Errors so messages read like fleetctl's own.
// A problem of a group variable shows for each host it applies to: it is reported once.
type errorList struct {
	errs inventory.Errors
	seen map[inventory.Error]bool
	n    int // problems found, repeats included
}

func (l *errorList) add(p Pos, key, fix, format string, args ...any) {
	l.n++
	e := inventory.Error{File: p.File, Line: p.Line, Key: key, Msg: fmt.Sprintf(format, args...), Fix: fix}
	if l.seen == nil {
		l.seen = map[inventory.Error]bool{}
	}
	if !l.seen[e] {
		l.seen[e] = true
		l.errs = append(l.errs, &e)
	}
}

func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(l.errs, func(a, b *inventory.Error) int {
		return Pos{a.File, a.Line}.compare(Pos{b.File, b.Line})
	})
	return l.errs
}
