package catalog

import (
	"fmt"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/engine"
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
	Vars            map[string]any
	Group           string // the first group the host lists ("" for none): its dashboard's folder
}

// FromInventory resolves inventory hosts into fleet hosts: the profile's inputs with the host's adds and drops
// applied, and the database's retention policy.
func FromInventory(inv *inventory.Inventory, hosts []inventory.Host) ([]Host, error) {
	var out []Host
	for _, h := range hosts {
		profile := h.Profile
		if profile == "" {
			profile = templates.DefaultProfile
		}
		prof, err := templates.LoadProfile(profile)
		if err != nil {
			return nil, fmt.Errorf("%s: host %s: %w", h.Where(), h.Name, err)
		}
		out = append(out, Host{
			Host:     engine.Host{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User},
			Database: h.Database, RetentionPolicy: inv.InfluxDB.RetentionPolicy,
			Inputs:     templates.ResolveInputs(prof.Inputs, h.InputsAdd, h.InputsDrop),
			AlertPacks: h.AlertPacks, Vars: h.Vars, Group: firstGroup(h.Groups),
		})
	}
	return out, nil
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
