package catalog

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/templates"
)

// Host is one host of a TICK fleet: where it is, for the engine, and everything desired of it, already merged from
// the inventory's defaults, groups and host entry.
type Host struct {
	engine.Host
	Database        string
	RetentionPolicy *inventory.RetentionPolicy // nil: the database's default
	Inputs          []string                   // final Telegraf input list, in order
	AlertPacks      []string
	Routes          []string // contacts whose handlers the host's topic gets
	Vars            map[string]any
	Group           string // the first group the host lists ("" for none): its dashboard's folder

	// InputSet holds the snippets Inputs names (the shipped ones when nil). InputValues are the values of their
	// variables, checked against their declarations (input → variable → value); InputSecretRefs the secret
	// variables' sources by "input.variable", and InputSecrets their values once resolved (ResolveInputSecrets):
	// without them, as in render and validate, a secret renders masked.
	InputSet        *templates.Set
	InputValues     map[string]map[string]any
	InputSecretRefs map[string]inventory.SecretRef
	InputSecrets    map[string]secret.Value
	GlobalTags      map[string]string
	Agent           inventory.Agent
}

// FromInventory resolves inventory hosts into fleet hosts: the profile's inputs with the host's adds and drops
// applied, the values of their variables, the agent's settings and tags, and the database's retention policy.
// inputs is the fleet's set of snippets and profiles (nil: the shipped ones).
func FromInventory(inv *inventory.Inventory, inputs *templates.Set, hosts []inventory.Host) ([]Host, error) {
	if inputs == nil {
		var err error
		if inputs, err = templates.Shipped(); err != nil {
			return nil, err
		}
	}
	var out []Host
	for _, h := range hosts {
		profile := h.Profile
		if profile == "" {
			profile = templates.DefaultProfile
		}
		prof, err := inputs.Profile(profile)
		if err != nil {
			return nil, fmt.Errorf("%s: host %s: %w", h.Where(), h.Name, err)
		}
		fh := Host{
			Host:     engine.Host{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User},
			Database: h.Database, RetentionPolicy: inv.InfluxDB.RetentionPolicy,
			Inputs:     templates.ResolveInputs(prof.Inputs, h.InputsAdd, h.InputsDrop),
			AlertPacks: h.AlertPacks, Routes: h.Routes, Vars: h.Vars, Group: firstGroup(h.Groups),
			InputSet: inputs, InputValues: map[string]map[string]any{}, InputSecretRefs: map[string]inventory.SecretRef{},
			GlobalTags: h.GlobalTags, Agent: h.Agent,
		}
		for _, name := range fh.Inputs {
			in, ok := inputs.Input(name)
			if !ok {
				return nil, fmt.Errorf("%s: host %s: unknown telegraf input %q: known inputs are %s", h.Where(), h.Name, name, strings.Join(inputs.Names(), ", "))
			}
			values := map[string]any{}
			for _, v := range in.Vars {
				val, set := h.InputVars[name][v.Name]
				switch {
				case v.Type == templates.Secret && set:
					ref, ok := val.(inventory.SecretRef)
					if !ok {
						return nil, fmt.Errorf("%s: host %s: input_vars.%s.%s is a secret: write { env = \"NAME\" } or { file = \"path\" }", h.Where(), h.Name, name, v.Name)
					}
					fh.InputSecretRefs[name+"."+v.Name] = ref
				case v.Type == templates.Secret || !set && !v.HasDefault:
					return nil, fmt.Errorf("%s: host %s: input %s needs input_vars.%s.%s (it has no default)", h.Where(), h.Name, name, name, v.Name)
				case set:
					norm, err := v.Check(val)
					if err != nil {
						return nil, fmt.Errorf("%s: host %s: input_vars.%s.%s: %w", h.Where(), h.Name, name, v.Name, err)
					}
					values[v.Name] = norm
				}
			}
			fh.InputValues[name] = values
		}
		out = append(out, fh)
	}
	return out, nil
}

// ResolveInputSecrets reads the secret variables of the hosts' inputs into their InputSecrets, reporting every
// source that fails (a variable not set, a missing file) at its place in the inventory. It returns the values read,
// for the masker.
func ResolveInputSecrets(hosts []Host) ([]secret.Value, error) {
	var values []secret.Value
	var errs inventory.Errors
	seen := map[string]bool{}
	for i := range hosts {
		h := &hosts[i]
		h.InputSecrets = map[string]secret.Value{}
		for _, key := range slices.Sorted(maps.Keys(h.InputSecretRefs)) {
			ref := h.InputSecretRefs[key]
			v, err := ref.Resolve()
			if err != nil {
				var e *inventory.Error
				if msg := err.Error(); !seen[msg] {
					seen[msg] = true
					if errors.As(err, &e) {
						errs = append(errs, e)
					}
				}
				continue
			}
			h.InputSecrets[key] = v
			values = append(values, v)
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return values, nil
}

// Roles of the per-host InfluxDB users; each user's password is secret.Derive(master, host, role).
const (
	RoleWrite = "telegraf" // write-only, Telegraf's
	RoleRead  = "grafana"  // read-only, Grafana's
)

// WriteUser and ReadUser name a database's InfluxDB users: after the database and their purpose, so an operator
// reading SHOW USERS knows each one.
func WriteUser(db string) string { return db + "_" + RoleWrite }
func ReadUser(db string) string  { return db + "_" + RoleRead }

// rp is the retention policy the host's tasks read: the configured one, else the database's default.
func (h Host) rp() string { return h.RetentionPolicy.NameOrDefault() }

// agentRP is the retention policy Telegraf writes to: empty means the database's default.
func (h Host) agentRP() string {
	if p := h.RetentionPolicy; p != nil && !p.Default {
		return p.Name
	}
	return ""
}

func firstGroup(groups []string) string {
	if len(groups) == 0 {
		return ""
	}
	return groups[0]
}
