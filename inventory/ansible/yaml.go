package ansible

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	"gopkg.in/yaml.v3"
)

// YAML is parsed into nodes, for line numbers. Ansible reads YAML with PyYAML, which follows YAML 1.1: plain
// scalars such as yes, off, 0755 and 1:30 are booleans and numbers there, not strings as in YAML 1.2. yaml11
// applies those rules, so a value means here what it means to Ansible.

var (
	y11Bool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	y11Null  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	y11Int   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	y11Float = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	y11Time  = regexp.MustCompile(`^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$`)
)

// yaml11 returns the value of a scalar node as PyYAML (YAML 1.1) resolves it.
func yaml11(n *yaml.Node) Value {
	// yaml.v3 fills in Tag with its own (YAML 1.2) resolution; only a tag written in the file counts here.
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!vault":
			return Value{V: n.Value, Vault: true}
		case "!unsafe", "!!str":
			return stringValue(n.Value)
		}
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return stringValue(n.Value)
	}
	s := n.Value
	switch {
	case y11Null.MatchString(s):
		return Value{V: nil}
	case y11Bool.MatchString(s):
		c := s[0] | 0x20
		return Value{V: c == 'y' || c == 't' || strings.EqualFold(s, "on")}
	case y11Int.MatchString(s):
		return Value{V: yaml11Int(s)}
	case y11Float.MatchString(s):
		return Value{V: Other{"a number"}}
	case y11Time.MatchString(s):
		return Value{V: Other{"a date"}}
	}
	return stringValue(s)
}

func yaml11Int(s string) any {
	t := strings.ReplaceAll(s, "_", "")
	sign := int64(1)
	if t[0] == '-' || t[0] == '+' {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	var n int64
	var err error
	switch {
	case strings.Contains(t, ":"): // sexagesimal: 1:30 is 90
		for _, part := range strings.Split(t, ":") {
			d, e := strconv.ParseInt(part, 10, 64)
			if e != nil || n > math.MaxInt64/60 {
				return Other{"a large integer"}
			}
			n = n*60 + d
		}
	case strings.HasPrefix(t, "0b"):
		n, err = strconv.ParseInt(t[2:], 2, 64)
	case strings.HasPrefix(t, "0x"):
		n, err = strconv.ParseInt(t[2:], 16, 64)
	case len(t) > 1 && t[0] == '0':
		n, err = strconv.ParseInt(t[1:], 8, 64)
	default:
		n, err = strconv.ParseInt(t, 10, 64)
	}
	if err != nil {
		return Other{"a large integer"}
	}
	return sign * n
}

// yamlDoc parses one YAML document; it reports a syntax error with the file and line.
func yamlDoc(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(file, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, inventory.Errors{{File: file, Line: more.Line, Msg: "a second YAML document; Ansible reads one document per file", Fix: "remove the \"---\" and what follows, or move it to its own file"}}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return resolve(doc.Content[0]), nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return inventory.Errors{{File: file, Line: line, Msg: "YAML syntax error: " + m[2]}}
	}
	return inventory.Errors{{File: file, Msg: "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")}}
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

type yamlPair struct{ key, value *yaml.Node }

// pairs returns a mapping's entries in order, merge keys (<<) expanded first as PyYAML does.
func pairs(m *yaml.Node) []yamlPair {
	var merged, own []yamlPair
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = nil
				for _, s := range v.Content {
					srcs = append(srcs, resolve(s))
				}
			}
			for _, s := range srcs {
				if s.Kind == yaml.MappingNode {
					merged = append(merged, pairs(s)...)
				}
			}
			continue
		}
		own = append(own, yamlPair{k, v})
	}
	return append(merged, own...)
}

// isNull reports whether a node is YAML 1.1 null (an empty value).
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Style == 0 && y11Null.MatchString(n.Value)
}

// keyString returns a mapping key as a string, or false when YAML 1.1 makes it something else (yes, 1.5, 2001).
func keyString(k *yaml.Node) (string, bool) {
	if k.Kind != yaml.ScalarNode {
		return "", false
	}
	s, ok := yaml11(k).V.(string)
	return s, ok
}

// nodeValue is a variable's value: a scalar as YAML 1.1 reads it; a list or mapping as Other.
func nodeValue(n *yaml.Node) Value {
	switch n.Kind {
	case yaml.ScalarNode:
		return yaml11(n)
	case yaml.SequenceNode:
		return Value{V: Other{"a list"}}
	default:
		return Value{V: Other{"a mapping"}}
	}
}

// varsOf reads a mapping of variables.
func varsOf(file string, m *yaml.Node, owner string, errs *errorList) []Var {
	var out []Var
	for _, kv := range pairs(m) {
		name, ok := keyString(kv.key)
		if !ok {
			errs.add(Pos{file, kv.key.Line}, "", "quote the name", "variable name %s is not a string", kv.key.Value)
			continue
		}
		out = append(out, Var{Name: name, Value: nodeValue(kv.value), Pos: Pos{file, kv.key.Line}, Owner: owner})
	}
	return out
}

var yamlGroupKeys = []string{"hosts", "children", "vars"}

// parseYAML adds the groups and hosts of a YAML inventory: top-level keys are groups, each with hosts, children
// (groups, recursively) and vars. Where Ansible only warns and skips (an unknown key, a group that is not a
// mapping), the import refuses, since skipping would import fewer hosts or groups than the file means.
func (inv *Inventory) parseYAML(file string, root *yaml.Node, errs *errorList) {
	if root == nil {
		errs.add(Pos{file, 0}, "", "", "empty YAML file")
		return
	}
	if root.Kind != yaml.MappingNode {
		errs.add(Pos{file, root.Line}, "", "a YAML inventory is a mapping of group names, such as all:", "not a YAML inventory: the top level is not a mapping")
		return
	}
	for _, kv := range pairs(root) {
		if s, _ := keyString(kv.key); s == "plugin" {
			errs.add(Pos{file, kv.key.Line}, "", "run `ansible-inventory -i FILE --list > inventory.json` and import that", "an inventory plugin's configuration, not an inventory; import-ansible does not run plugins")
			return
		}
	}
	for _, kv := range pairs(root) {
		inv.yamlGroup(file, kv.key, kv.value, errs)
	}
}

func (inv *Inventory) yamlGroup(file string, key, data *yaml.Node, errs *errorList) *Group {
	name, ok := keyString(key)
	p := Pos{file, key.Line}
	if !ok || name == "" {
		errs.add(p, "", "quote the group name", "group name %q is not a string", key.Value)
		return nil
	}
	if !isNull(data) && data.Kind != yaml.MappingNode {
		errs.add(Pos{file, data.Line}, fmt.Sprintf("group %q", name), "write hosts:, children: and vars: under it", "a group must be a mapping, not %s", kindName(data))
		return nil
	}
	g := inv.group(name, p)
	if isNull(data) {
		return g
	}
	for _, kv := range pairs(data) {
		section, _ := keyString(kv.key)
		kp := Pos{file, kv.key.Line}
		if !slices.Contains(yamlGroupKeys, section) {
			fix := inventory.DidYouMean(section, yamlGroupKeys)
			if fix == "" {
				fix = "a group has only hosts, children and vars"
			}
			errs.add(kp, fmt.Sprintf("group %q", name), fix, "unknown key %q", section)
			continue
		}
		v := kv.value
		if isNull(v) {
			continue
		}
		// A single name stands for a mapping of that name to nothing, as Ansible allows.
		var entries []yamlPair
		switch {
		case v.Kind == yaml.ScalarNode:
			entries = []yamlPair{{v, nil}}
		case v.Kind == yaml.MappingNode:
			entries = pairs(v)
		default:
			errs.add(Pos{file, v.Line}, fmt.Sprintf("group %q: %s", name, section), fmt.Sprintf("write %s: as a mapping (NAME: followed by its settings, or nothing)", section), "must be a mapping, not %s", kindName(v))
			continue
		}
		switch section {
		case "vars":
			vars := []Var{{Name: v.Value, Value: Value{V: nil}, Pos: Pos{file, v.Line}, Owner: fmt.Sprintf("group %q", name)}}
			if v.Kind == yaml.MappingNode {
				vars = varsOf(file, v, fmt.Sprintf("group %q", name), errs)
			}
			for _, x := range vars {
				inv.setGroupVar(g, x, errs)
			}
		case "children":
			for _, e := range entries {
				if child := inv.yamlGroup(file, e.key, e.value, errs); child != nil {
					if err := inv.addChild(g, child); err != nil {
						errs.add(Pos{file, e.key.Line}, "", "remove the loop", "%v", err)
					}
				}
			}
		case "hosts":
			for _, e := range entries {
				inv.yamlHost(file, g, e.key, e.value, errs)
			}
		}
	}
	return g
}

func (inv *Inventory) yamlHost(file string, g *Group, key, data *yaml.Node, errs *errorList) {
	p := Pos{file, key.Line}
	pattern, ok := keyString(key)
	if !ok {
		errs.add(p, "", "enclose numbers in quotes", "host pattern %s must be a string", key.Value)
		return
	}
	names, port, err := expandHostPattern(pattern)
	if err != nil {
		errs.add(p, "", "", "%v", err)
		return
	}
	owner := fmt.Sprintf("host %q", pattern)
	if len(names) > 1 || pattern != names[0] {
		owner = fmt.Sprintf("hosts %q", pattern)
	}
	var vars []Var
	if !isNull(data) {
		if data.Kind != yaml.MappingNode {
			errs.add(Pos{file, data.Line}, owner, "write the host's variables as a mapping, or nothing", "must be a mapping, not %s", kindName(data))
			return
		}
		vars = varsOf(file, data, owner, errs)
	}
	inv.populate(p, names, port, vars, g, errs)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	default:
		return fmt.Sprintf("the scalar %q", n.Value)
	}
}
