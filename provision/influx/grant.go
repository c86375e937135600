package influx

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// KindGrant is the Kind of Grant resources.
const KindGrant = "influxdb.grant"

// GrantSpec is the privilege one user should hold on one database.
type GrantSpec struct {
	User     string
	Database string
	// Privilege is READ, WRITE, ALL or NO PRIVILEGES (revoke); see ParsePrivilege.
	Privilege Privilege
}

// Absent plans the privilege revoked (NO PRIVILEGES).
func (g *Grant) Absent() { g.spec.Privilege = NoPrivileges }

// Grant is one user's privilege on one database. InfluxDB keeps exactly one per pair and a GRANT replaces it
// (READ then WRITE leaves only WRITE), so an update is a single GRANT; NO PRIVILEGES is a REVOKE ALL.
type Grant struct {
	c       *Client
	spec    GrantSpec
	specErr error // an unknown privilege, reported by Read

	actual Privilege
}

// NewGrant returns the resource for spec on c's server. The privilege is normalised (ParsePrivilege); an unknown
// one makes Read fail.
func NewGrant(c *Client, spec GrantSpec) *Grant {
	g := &Grant{c: c, spec: spec}
	g.spec.Privilege, g.specErr = ParsePrivilege(string(spec.Privilege))
	return g
}

func (g *Grant) Kind() string { return KindGrant }

// Name is "USER@DATABASE".
func (g *Grant) Name() string { return g.spec.User + "@" + g.spec.Database }

func (g *Grant) Read(ctx context.Context) error {
	if g.spec.User == "" || g.spec.Database == "" {
		return errors.New("read influxdb grant: user and database are required")
	}
	if g.specErr != nil {
		return fmt.Errorf("read influxdb grant %q: %w", g.Name(), g.specErr)
	}
	grants, err := g.c.Grants(ctx, g.spec.User)
	if err != nil {
		return fmt.Errorf("read influxdb grant %q: %w", g.Name(), err)
	}
	g.actual = NoPrivileges
	if p, ok := grants[g.spec.Database]; ok {
		g.actual = p
	}
	return nil
}

func (g *Grant) Diff(prior []plan.Change) []plan.Change {
	ch := plan.Change{Kind: KindGrant, Name: g.Name(), Action: plan.NoOp, ReadDigest: digest("privilege", string(g.actual))}
	before, after := string(g.actual), string(g.spec.Privilege)
	switch {
	case g.actual == g.spec.Privilege:
	case g.actual == NoPrivileges:
		ch.Action, before = plan.Create, ""
	case g.spec.Privilege == NoPrivileges:
		ch.Action, after = plan.Delete, ""
	default:
		ch.Action = plan.Update
	}
	user, db := g.spec.User, g.spec.Database
	switch ch.Action {
	case plan.Create:
		ch.Fields = []plan.Field{field("user", "", user), field("database", "", db), field("privilege", "", after)}
	case plan.Delete:
		ch.Fields = []plan.Field{field("user", user, ""), field("database", db, ""), field("privilege", before, "")}
	case plan.Update:
		ch.Fields = []plan.Field{field("privilege", before, after)}
	}
	return []plan.Change{ch}
}

func (g *Grant) Apply(ctx context.Context, changes []plan.Change) error {
	for _, ch := range changes {
		var stmt string
		switch ch.Action {
		case plan.Create, plan.Update:
			stmt = "GRANT " + g.spec.Privilege.grantKeyword() + " ON " + QuoteIdent(g.spec.Database) + " TO " + QuoteIdent(g.spec.User)
		case plan.Delete:
			stmt = "REVOKE ALL PRIVILEGES ON " + QuoteIdent(g.spec.Database) + " FROM " + QuoteIdent(g.spec.User)
		default:
			return fmt.Errorf("apply influxdb grant %q: action %s not supported", g.Name(), ch.Action)
		}
		if err := g.c.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s influxdb grant %q: %w", ch.Action, g.Name(), err)
		}
	}
	return nil
}

// Grants returns user's privilege per database, normalised. A user that does not exist has none (not an error,
// so a plan on a fresh server can show the grant after the user it needs).
func (c *Client) Grants(ctx context.Context, user string) (map[string]Privilege, error) {
	res, err := c.Query(ctx, "", "SHOW GRANTS FOR "+QuoteIdent(user))
	if isNotFound(err, "user") {
		return map[string]Privilege{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("show grants: %w", err)
	}
	out := map[string]Privilege{}
	for _, r := range res {
		for _, s := range r.Series {
			cd, cp := column(s.Columns, "database"), column(s.Columns, "privilege")
			for _, row := range s.Values {
				p, err := ParsePrivilege(cell(row, cp))
				if err != nil {
					return nil, fmt.Errorf("show grants: database %q: %w", cell(row, cd), err)
				}
				out[cell(row, cd)] = p
			}
		}
	}
	return out, nil
}

// Format prints the resource without the client's credentials (see Client.Format).
func (g Grant) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "influx.Grant{user: %q, database: %q, privilege: %q}", g.spec.User, g.spec.Database, g.spec.Privilege)
}
