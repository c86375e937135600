package provision

import (
	"maps"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// contacts turns the inventory's contacts into the handlers the catalog writes, their secret options resolved
// (and so added to the masker by resolve). A secret header goes into the headers table; any other secret option
// is set under its own name. Every secret option is named sensitive, so a plan shows only that it changed.
func contacts(inv *inventory.Inventory, resolve func(inventory.SecretRef) secret.Value) map[string]catalog.Contact {
	out := map[string]catalog.Contact{}
	for name, c := range inv.Alerts.Contacts {
		opts := maps.Clone(c.Options)
		var sensitive []string
		for _, k := range slices.Sorted(maps.Keys(c.Secrets)) {
			v := resolve(c.Secrets[k]).Reveal()
			if table, key, ok := strings.Cut(k, "."); ok {
				h, _ := opts[table].(map[string]string)
				h = maps.Clone(h)
				if h == nil {
					h = map[string]string{}
				}
				h[key] = v
				opts[table] = h
				k = table
			} else {
				opts[k] = v
			}
			if !slices.Contains(sensitive, k) {
				sensitive = append(sensitive, k)
			}
		}
		out[name] = catalog.Contact{Kind: c.Kind, Options: opts, Match: c.Match, Sensitive: sensitive}
	}
	return out
}

// services turns [kapacitor.services] into the config elements the catalog sets, secrets resolved.
func services(inv *inventory.Inventory, resolve func(inventory.SecretRef) secret.Value) []kapacitor.ConfigSpec {
	var out []kapacitor.ConfigSpec
	for _, s := range inv.Kapacitor.Services {
		spec := kapacitor.ConfigSpec{Section: s.Section, Element: s.Element, Options: maps.Clone(s.Options), Secrets: map[string]secret.Value{}}
		for _, k := range slices.Sorted(maps.Keys(s.Secrets)) {
			v := resolve(s.Secrets[k])
			// A secret header goes into the headers table, which Kapacitor returns in clear: compared as read,
			// shown only as changed.
			if table, key, ok := strings.Cut(k, "."); ok {
				h, _ := spec.Options[table].(map[string]string)
				h = maps.Clone(h)
				if h == nil {
					h = map[string]string{}
				}
				h[key] = v.Reveal()
				spec.Options[table] = h
				if !slices.Contains(spec.Sensitive, table) {
					spec.Sensitive = append(spec.Sensitive, table)
				}
				continue
			}
			spec.Secrets[k] = v
		}
		out = append(out, spec)
	}
	return out
}
