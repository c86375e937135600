package inventory

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// level is the settings one place of the file contributes to a host: [defaults], one [groups.NAME], or the
// [[hosts]] entry itself. All three accept the same keys, so moving a setting between them never needs renaming.
type level struct {
	packs      []string
	setPacks   bool // alert_packs given: replaces the list built so far
	packsAdd   []string
	packsDrop  []string
	routes     []string
	setRoutes  bool // alert_routes given: replaces the list built so far
	routesAdd  []string
	routesDrop []string
	inputsAdd  []string
	inputsDrop []string
	profile    string
	vars       map[string]any
	inputVars  map[string]map[string]any // input → variable → value (a SecretRef for a secret)
	tags       map[string]string
	agent      agentLevel
}

// The keys of a level, with what kind of name each list holds.
var levelLists = []struct{ key, kind string }{
	{"alert_packs", "alert_pack"},
	{"alert_packs_add", "alert_pack"},
	{"alert_packs_drop", "alert_pack"},
	{"inputs_add", "input"},
	{"inputs_drop", "input"},
	{"alert_routes", "route"},
	{"alert_routes_add", "route"},
	{"alert_routes_drop", "route"},
}

func (b *builder) level(t *table) *level {
	l := &level{vars: map[string]any{}}
	lists := map[string][]string{}
	for _, ll := range levelLists {
		lists[ll.key] = b.items(t, ll.key, ll.kind)
	}
	l.packs, l.setPacks = lists["alert_packs"], t.has("alert_packs")
	l.packsAdd, l.packsDrop = lists["alert_packs_add"], lists["alert_packs_drop"]
	l.inputsAdd, l.inputsDrop = lists["inputs_add"], lists["inputs_drop"]
	b.contradiction(t, "alert_packs_add", "alert_packs_drop", l.packsAdd, l.packsDrop)
	b.contradiction(t, "inputs_add", "inputs_drop", l.inputsAdd, l.inputsDrop)
	l.routes, l.setRoutes = lists["alert_routes"], t.has("alert_routes")
	l.routesAdd, l.routesDrop = lists["alert_routes_add"], lists["alert_routes_drop"]
	b.contradiction(t, "alert_routes_add", "alert_routes_drop", l.routesAdd, l.routesDrop)

	if p, ok := t.str("profile"); ok {
		if !itemRE.MatchString(p) {
			t.errorf("profile", `use lowercase letters, digits, "_" and "-", such as "base"`, "%q is not a valid profile name", p)
		} else {
			l.profile = p
			b.ref("profile", p, t.key("profile"))
		}
	}

	if vt := t.sub("vars"); vt != nil && !vt.missing {
		for _, k := range slices.Sorted(maps.Keys(vt.m)) {
			v, _ := vt.get(k)
			if !varRE.MatchString(k) {
				vt.errorf(k, `use letters, digits and "_", starting with a letter or "_", such as "cpu_crit"`, "%q is not a valid var name: vars are TICK script variables", k)
				continue
			}
			if why := checkVarValue(v); why != "" {
				vt.errorf(k, "use a string, number, boolean, or an array of those", "%s", why)
				continue
			}
			l.vars[k] = v
			b.ref("var", k, vt.key(k))
			b.inv.refs[len(b.inv.refs)-1].Value = v
		}
		vt.done()
	}
	b.inputLevel(t, l)
	return l
}

// items reads a list of alert pack or input names, rejecting malformed names and repeats.
func (b *builder) items(t *table, k, kind string) []string {
	list, ok := t.strings(k)
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, name := range list {
		ek := indexKey(t.key(k), i)
		switch {
		case !itemRE.MatchString(name):
			b.d.add(ek, b.d.at(ek), `use lowercase letters, digits, "_" and "-"`, "%q is not a valid %s name", name, kindWord(kind))
		case seen[name]:
			b.d.add(ek, b.d.at(ek), "list it once", "%q listed twice", name)
		case kind == "route":
			// Contacts are checked once all are read (checkRoutes); they are not a Ref kind.
			out = append(out, name)
			b.routeRefs = append(b.routeRefs, routeRef{name: name, key: ek})
		default:
			out = append(out, name)
			b.ref(kind, name, ek)
		}
		seen[name] = true
	}
	return out
}

func kindWord(kind string) string {
	switch kind {
	case "alert_pack":
		return "alert pack"
	case "route":
		return "route"
	}
	return kind
}

// contradiction rejects a name both added and dropped at one level: which one was meant cannot be guessed.
func (b *builder) contradiction(t *table, addKey, dropKey string, add, drop []string) {
	for _, name := range drop {
		if slices.Contains(add, name) {
			t.errorf(dropKey, "keep it in one of the two lists", "%q is in both %s and %s", name, addKey, dropKey)
		}
	}
}

func (b *builder) ref(kind, name, key string) {
	p := b.d.at(key)
	b.inv.refs = append(b.inv.refs, Ref{Kind: kind, Name: name, Key: key, File: b.d.file, Line: p.line, col: p.col, scope: b.scope})
}

// checkScalarOrArray judges a TOML value that is a string, number, boolean or array: "" when it is one of those or
// an array of them, else what is wrong with the array; ok is false for any other value, which the caller judges.
// TICK vars and input variables take the same values.
func checkScalarOrArray(v any) (msg string, ok bool) {
	switch v := v.(type) {
	case string, int64, float64, bool:
		return "", true
	case []any:
		for _, e := range v {
			switch e.(type) {
			case string, int64, float64, bool:
			default:
				return fmt.Sprintf("array elements must be strings, numbers or booleans, not %s", typeName(e)), true
			}
		}
		return "", true
	}
	return "", false
}

// checkVarValue accepts the values a TICK var can take from TOML.
func checkVarValue(v any) string {
	if msg, ok := checkScalarOrArray(v); ok {
		return msg
	}
	switch v.(type) {
	case time.Time:
		return `a date-time has no TICK equivalent (write durations as strings, such as "15m")`
	}
	return fmt.Sprintf("%s has no TICK equivalent", typeName(v))
}

// merge applies levels in order (defaults, then the host's groups in the order it lists them, then the host) to h.
func merge(h *Host, levels []*level) {
	h.Profile = "base"
	h.Vars = map[string]any{}
	var packs, add, drop, routes []string
	for _, l := range levels {
		if l == nil {
			continue
		}
		// Routes follow the alert packs' rules: a list replaces, then adds append and drops remove.
		if l.setRoutes {
			routes = slices.Clone(l.routes)
		}
		for _, r := range l.routesAdd {
			if !slices.Contains(routes, r) {
				routes = append(routes, r)
			}
		}
		for _, r := range l.routesDrop {
			routes = remove(routes, r)
		}
		if l.setPacks {
			packs = slices.Clone(l.packs)
		}
		for _, p := range l.packsAdd {
			if !slices.Contains(packs, p) {
				packs = append(packs, p)
			}
		}
		for _, p := range l.packsDrop {
			packs = remove(packs, p)
		}
		// Inputs stay relative to the profile: an add cancels an earlier drop and the other way round.
		for _, in := range l.inputsAdd {
			drop = remove(drop, in)
			if !slices.Contains(add, in) {
				add = append(add, in)
			}
		}
		for _, in := range l.inputsDrop {
			add = remove(add, in)
			if !slices.Contains(drop, in) {
				drop = append(drop, in)
			}
		}
		if l.profile != "" {
			h.Profile = l.profile
		}
		for k, v := range l.vars {
			h.Vars[k] = v
		}
	}
	h.AlertPacks, h.InputsAdd, h.InputsDrop, h.Routes = packs, add, drop, routes
	mergeTelegraf(h, levels)
}

func remove(list []string, s string) []string {
	return slices.DeleteFunc(list, func(e string) bool { return e == s })
}
