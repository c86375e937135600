package planfile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// needs says in words what a resource needs for an action: "now it needs to be created".
func needs(a plan.Action) string {
	switch a {
	case plan.NoOp:
		return "no change"
	case plan.Create, plan.Update, plan.Delete, plan.Report:
		return "to be " + strings.TrimSuffix(string(a), "e") + "ed"
	case plan.Restart, plan.Reload:
		return "a " + string(a)
	}
	return string(a)
}

// does says in words what the saved plan does to a resource: "the saved plan updates it".
func does(a plan.Action) string {
	if a == plan.NoOp {
		return "leaves it unchanged"
	}
	return string(a) + "s it"
}

// Compare lists every difference between a saved plan and a fresh plan of the same hosts made with the same
// options: a host planned then and not now (or failing now), a change that appeared, disappeared or changed action,
// and any resource whose read state moved on, even one planned as no change.
func Compare(saved, fresh *plan.Plan) []Mismatch {
	index := func(p *plan.Plan) (map[string]map[string]plan.Change, map[string]string) {
		hosts, errs := map[string]map[string]plan.Change{}, map[string]string{}
		for _, h := range p.Hosts {
			m := map[string]plan.Change{}
			for _, c := range h.Changes {
				m[c.Address] = c
			}
			hosts[h.Host], errs[h.Host] = m, h.Error
		}
		return hosts, errs
	}
	was, wasErr := index(saved)
	now, nowErr := index(fresh)
	var out []Mismatch
	for host, changes := range was {
		if wasErr[host] != "" {
			out = append(out, Mismatch{host, host, "could not be planned when the plan was made"})
			continue
		}
		cur, ok := now[host]
		switch {
		case !ok:
			out = append(out, Mismatch{host, host, "not in the current selection"})
			continue
		case nowErr[host] != "":
			out = append(out, Mismatch{host, host, "cannot be planned now: " + nowErr[host]})
			continue
		}
		for addr, c := range changes {
			n, ok := cur[addr]
			switch {
			case !ok:
				out = append(out, Mismatch{host, addr, fmt.Sprintf("the saved plan %s; now nothing is planned for it", does(c.Action))})
			case n.Action != c.Action:
				out = append(out, Mismatch{host, addr, fmt.Sprintf("the saved plan %s; now it needs %s", does(c.Action), needs(n.Action))})
			case n.ReadDigest != c.ReadDigest:
				out = append(out, Mismatch{host, addr, "changed since the plan was made"})
			}
		}
		for addr, n := range cur {
			if _, ok := changes[addr]; ok {
				continue
			}
			if n.Action == plan.NoOp {
				out = append(out, Mismatch{host, addr, "not in the saved plan (now it needs no change)"})
			} else {
				out = append(out, Mismatch{host, addr, fmt.Sprintf("now it needs %s, and the saved plan does not have it", needs(n.Action))})
			}
		}
	}
	for host := range now {
		if _, ok := was[host]; !ok {
			out = append(out, Mismatch{host, host, "not in the saved plan"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address+out[i].Why < out[j].Address+out[j].Why })
	return out
}
