package ansible

import (
	"fmt"
	"regexp"
	"strings"
)

// The INI format, read as Ansible's ini inventory plugin reads it: lines before any section are hosts of
// "ungrouped"; [NAME] lists hosts, [NAME:children] group names, [NAME:vars] key=value lines. Host lines are split
// like a shell would (shlex), and "#" starts a comment there, even inside a word. A [NAME:vars] line is split at
// its first "=" only: a trailing "# comment" is part of the value, as in Ansible.

var (
	iniSection   = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	iniGroupName = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

type pending struct {
	pos     Pos
	state   string
	parents []*Group
}

// parseINI adds the hosts and groups of one INI file to inv.
func (inv *Inventory) parseINI(file string, data []byte, errs *errorList) {
	group := inv.group("ungrouped", Pos{})
	state := "hosts"
	waiting := map[string]*pending{}
	var order []string // pending names in the order first seen, for stable messages
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		p := Pos{file, i + 1}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := iniSection.FindStringSubmatch(line); m != nil {
			name, kind := m[1], m[2]
			if kind == "" {
				kind = "hosts"
			}
			if kind != "hosts" && kind != "children" && kind != "vars" {
				errs.add(p, "", "use [NAME], [NAME:children] or [NAME:vars]", "section [%s:%s] has unknown type %q", name, kind, kind)
				state = "skip"
				continue
			}
			if inv.byName[name] == nil {
				if kind == "vars" && waiting[name] == nil {
					waiting[name] = &pending{pos: p, state: "vars"}
					order = append(order, name)
				}
			}
			group, state = inv.group(name, p), kind
			if w := waiting[name]; w != nil && kind != "vars" {
				if w.state == "children" {
					inv.resolvePending(name, waiting, errs)
				} else {
					delete(waiting, name)
				}
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			errs.add(p, "", "write [NAME], [NAME:children] or [NAME:vars] with no spaces inside the brackets", "invalid section header %s", line)
			state = "skip"
			continue
		}
		switch state {
		case "skip":
		case "hosts":
			inv.iniHosts(p, line, group, errs)
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				errs.add(p, "", "write NAME=VALUE", "expected a variable assignment in [%s:vars], got %q", group.Name, line)
				continue
			}
			inv.setGroupVar(group, Var{Name: strings.TrimSpace(k), Value: pyLiteral(strings.TrimSpace(v)), Pos: p,
				Owner: fmt.Sprintf("group %q", group.Name)}, errs)
		case "children":
			m := iniGroupName.FindStringSubmatch(line)
			if m == nil {
				errs.add(p, "", "write one group name per line", "expected a group name in [%s:children], got %q", group.Name, line)
				continue
			}
			child := m[1]
			if inv.byName[child] == nil {
				w := waiting[child]
				if w == nil {
					w = &pending{pos: p, state: "children"}
					waiting[child] = w
					order = append(order, child)
				}
				w.parents = append(w.parents, group)
				continue
			}
			if err := inv.addChild(group, inv.byName[child]); err != nil {
				errs.add(p, "", "remove the loop", "%v", err)
			}
		}
	}
	for _, name := range order {
		w := waiting[name]
		if w == nil {
			continue
		}
		if w.state == "vars" {
			errs.add(w.pos, "", fmt.Sprintf("declare the group with a [%s] or [%s:children] section, or fix the name", name, name),
				"section [%s:vars] is for a group that is never defined", name)
		} else {
			errs.add(w.pos, "", fmt.Sprintf("define it with a [%s] section", name),
				"[%s:children] names group %q, which is never defined", w.parents[len(w.parents)-1].Name, name)
		}
	}
}

// resolvePending adds a group that was named as a child before it was defined to its parents, and any of those
// parents waiting in turn.
func (inv *Inventory) resolvePending(name string, waiting map[string]*pending, errs *errorList) {
	w := waiting[name]
	delete(waiting, name)
	for _, parent := range w.parents {
		if err := inv.addChild(parent, inv.byName[name]); err != nil {
			errs.add(w.pos, "", "remove the loop", "%v", err)
		}
		if pw := waiting[parent.Name]; pw != nil && pw.state == "children" {
			inv.resolvePending(parent.Name, waiting, errs)
		}
	}
}

// iniHosts reads a host line: a host pattern, then NAME=VALUE pairs.
func (inv *Inventory) iniHosts(p Pos, line string, group *Group, errs *errorList) {
	words, err := shlexSplit(line)
	if err != nil {
		errs.add(p, "", "close the quote, or quote the backslash", "host line %q: %v", line, err)
		return
	}
	if len(words) == 0 {
		return
	}
	names, port, err := expandHostPattern(words[0])
	if err != nil {
		errs.add(p, "", "", "%v", err)
		return
	}
	owner := fmt.Sprintf("host %q", words[0])
	if len(names) > 1 || words[0] != names[0] {
		owner = fmt.Sprintf("hosts %q", words[0])
	}
	var vars []Var
	for _, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			errs.add(p, "", "write NAME=VALUE after the host name, quoting values with spaces", "expected a host variable assignment, got %q", w)
			return
		}
		vars = append(vars, Var{Name: k, Value: pyLiteral(v), Pos: p, Owner: owner})
	}
	inv.populate(p, names, port, vars, group, errs)
}

// populate adds hosts to a group with their variables. A port in the pattern sets ansible_port, but only where
// the host is new: Ansible ignores the port of a later mention, and so does the import, with a note.
func (inv *Inventory) populate(p Pos, names []string, port int, vars []Var, group *Group, errs *errorList) {
	for _, name := range names {
		h, isNew := inv.byHost[name], false
		if h == nil {
			h, isNew = inv.host(name, p), true
		}
		inv.addHost(group, h)
		if port != 0 {
			if isNew {
				setVar(h.Vars, Var{Name: "ansible_port", Value: Value{V: int64(port)}, Pos: p, Owner: fmt.Sprintf("host %q", name)})
			} else {
				inv.unread = append(inv.unread, Note{p, fmt.Sprintf("host %q: port %d: ignored, as Ansible ignores it: only a host's first mention (%s) sets its port (set ansible_port instead)", name, port, h.Pos)})
			}
		}
		for _, v := range vars {
			setVar(h.Vars, v)
		}
	}
}

// setGroupVar sets a group variable from the inventory file; ansible_group_priority changes the group's order
// among its peers instead, as in Ansible.
func (inv *Inventory) setGroupVar(g *Group, v Var, errs *errorList) {
	if v.Name == "ansible_group_priority" {
		switch n := v.Value.V.(type) {
		case int64:
			g.Priority = int(n)
		case string:
			var x int
			if _, err := fmt.Sscan(strings.TrimSpace(n), &x); err != nil {
				errs.add(v.Pos, "ansible_group_priority", "write an integer", "%q is not an integer", n)
				return
			}
			g.Priority = x
		default:
			errs.add(v.Pos, "ansible_group_priority", "write an integer", "not an integer")
		}
		return
	}
	setVar(g.Vars, v)
}
