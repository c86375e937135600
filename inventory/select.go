package inventory

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Select returns the hosts matched by patterns, in file order, each once. A pattern is a host name glob
// (path.Match syntax: *, ?, [a-z]) or a group name; one string may hold several, separated by commas. As in
// Ansible, a pattern may be prefixed: "&web" keeps only the hosts that also match web (intersection), "!web3"
// removes the hosts that match web3 (exclusion). The plain patterns are united first, then every & pattern
// intersects and every ! pattern subtracts, whatever their order; with no plain pattern the start is every host.
// No patterns selects every host. A pattern that matches nothing is an error naming it, and so is a selection
// left empty, so a typo never silently narrows (or empties) a run.
func (inv *Inventory) Select(patterns []string) ([]Host, error) {
	if len(patterns) == 0 {
		return inv.Hosts(), nil
	}
	var plain, and, not [][]bool
	var errs []error
	candidates := slices.Concat(inv.groups, inv.hostNames())
	for _, arg := range patterns {
		for _, p := range strings.Split(arg, ",") {
			p = strings.TrimSpace(p)
			op, bare := "", p
			if p != "" && (p[0] == '!' || p[0] == '&') {
				op, bare = p[:1], strings.TrimSpace(p[1:])
			}
			if bare == "" {
				errs = append(errs, fmt.Errorf("empty host pattern in %q", arg))
				continue
			}
			picked, err := inv.match(bare)
			switch {
			case err != nil:
				errs = append(errs, err)
				continue
			case !slices.Contains(picked, true) && slices.Contains(inv.groups, bare):
				errs = append(errs, fmt.Errorf("group %q has no hosts in %s", bare, inv.File))
				continue
			case !slices.Contains(picked, true):
				msg := fmt.Sprintf("%q matches no host or group in %s", p, inv.File)
				// The suggestion keeps the prefix: "!chrot" is a typo of "!chroot", never of "chroot".
				if best := Closest(bare, candidates); best != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", op+best)
				}
				errs = append(errs, errors.New(msg))
				continue
			}
			switch op {
			case "&":
				and = append(and, picked)
			case "!":
				not = append(not, picked)
			default:
				plain = append(plain, picked)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []Host
	for i, h := range inv.hosts {
		in := len(plain) == 0
		for _, m := range plain {
			in = in || m[i]
		}
		for _, m := range and {
			in = in && m[i]
		}
		for _, m := range not {
			in = in && !m[i]
		}
		if in {
			out = append(out, h.clone())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("host patterns %q select no host in %s: every host they match is excluded (!) or left out by an intersection (&)",
			strings.Join(patterns, ","), inv.File)
	}
	return out, nil
}

// match reports, per host in file order, whether the name glob or group name p matches it.
func (inv *Inventory) match(p string) ([]bool, error) {
	if _, err := path.Match(p, ""); err != nil {
		return nil, fmt.Errorf("host pattern %q: %w", p, err)
	}
	picked := make([]bool, len(inv.hosts))
	for i, h := range inv.hosts {
		ok, _ := path.Match(p, h.Name)
		picked[i] = ok || slices.Contains(h.Groups, p)
	}
	return picked, nil
}

func (inv *Inventory) hostNames() []string {
	names := make([]string, len(inv.hosts))
	for i, h := range inv.hosts {
		names[i] = h.Name
	}
	return names
}
