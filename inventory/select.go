package inventory

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Select returns the hosts matched by patterns, in file order, each once. A pattern is a host name glob
// (path.Match syntax: *, ?, [a-z]) or a group name; one string may hold several, separated by commas. No patterns
// selects every host. A pattern that matches nothing is an error naming it, so a typo never silently narrows a run.
func (inv *Inventory) Select(patterns []string) ([]Host, error) {
	if len(patterns) == 0 {
		return inv.Hosts(), nil
	}
	picked := make([]bool, len(inv.hosts))
	var errs []error
	candidates := slices.Concat(inv.groups, inv.hostNames())
	for _, arg := range patterns {
		for _, p := range strings.Split(arg, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				errs = append(errs, fmt.Errorf("empty host pattern in %q", arg))
				continue
			}
			matched, err := inv.match(p, picked)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !matched && slices.Contains(inv.groups, p) {
				errs = append(errs, fmt.Errorf("group %q has no hosts in %s", p, inv.File))
			} else if !matched {
				msg := fmt.Sprintf("%q matches no host or group in %s", p, inv.File)
				if hint := DidYouMean(p, candidates); hint != "" {
					msg += " (" + hint + ")"
				}
				errs = append(errs, errors.New(msg))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []Host
	for i, h := range inv.hosts {
		if picked[i] {
			out = append(out, h.clone())
		}
	}
	return out, nil
}

func (inv *Inventory) match(p string, picked []bool) (bool, error) {
	if _, err := path.Match(p, ""); err != nil {
		return false, fmt.Errorf("host pattern %q: %w", p, err)
	}
	matched := false
	for i, h := range inv.hosts {
		ok, _ := path.Match(p, h.Name)
		if ok || slices.Contains(h.Groups, p) {
			picked[i] = true
			matched = true
		}
	}
	return matched, nil
}

func (inv *Inventory) hostNames() []string {
	names := make([]string, len(inv.hosts))
	for i, h := range inv.hosts {
		names[i] = h.Name
	}
	return names
}
