package influx

import (
	"context"
	"errors"
	"fmt"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// KindUser is the Kind of User resources.
const KindUser = "influxdb.user"

// UserSpec is the desired state of one InfluxDB user.
type UserSpec struct {
	Name     string
	Password secret.Value
	// Admin makes the user a cluster admin. fleetctl's per-host users are never admins.
	Admin bool
}

// User is one InfluxDB user: created when missing, its password set again when the server no longer accepts it,
// its admin flag granted or revoked. SHOW USERS shows no password hash, so Read authenticates as the user to learn
// whether the password still matches; the plan shows only that the password changes, never anything about it.
type User struct {
	c    *Client
	spec UserSpec

	exists     bool
	admin      bool
	passwordOK bool
	absent     bool
}

// Absent plans the user dropped (its grants go with it).
func (u *User) Absent() { u.absent = true }

// NewUser returns the resource for spec on c's server.
func NewUser(c *Client, spec UserSpec) *User { return &User{c: c, spec: spec} }

func (u *User) Kind() string { return KindUser }
func (u *User) Name() string { return u.spec.Name }

func (u *User) Read(ctx context.Context) error {
	if u.spec.Name == "" {
		return errors.New("read influxdb user: empty name")
	}
	if u.spec.Password.IsZero() && !u.absent {
		return fmt.Errorf("read influxdb user %q: no password given", u.spec.Name)
	}
	users, err := u.c.Users(ctx)
	if err != nil {
		return fmt.Errorf("read influxdb user %q: %w", u.spec.Name, err)
	}
	u.exists, u.admin, u.passwordOK = false, false, false
	for _, x := range users {
		if x.Name == u.spec.Name {
			u.exists, u.admin = true, x.Admin
		}
	}
	if !u.exists || u.absent {
		return nil
	}
	if u.passwordOK, err = u.c.CheckCredentials(ctx, u.spec.Name, u.spec.Password); err != nil {
		return fmt.Errorf("read influxdb user %q: check password: %w", u.spec.Name, err)
	}
	return nil
}

func (u *User) Diff(prior []plan.Change) []plan.Change {
	ch := plan.Change{
		Kind: KindUser, Name: u.spec.Name, Action: plan.NoOp,
		ReadDigest: digest("exists", boolString(u.exists), "admin", boolString(u.admin), "password_ok", boolString(u.passwordOK)),
	}
	if u.absent {
		if u.exists {
			ch.Action = plan.Delete
			ch.Fields = []plan.Field{field("name", u.spec.Name, "")}
		}
		return []plan.Change{ch}
	}
	if !u.exists {
		ch.Action = plan.Create
		ch.Fields = []plan.Field{
			field("name", "", u.spec.Name),
			field("admin", "", boolString(u.spec.Admin)),
			sensitiveField("password"),
		}
		return []plan.Change{ch}
	}
	ch.Fields = onlyChanged([]plan.Field{field("admin", boolString(u.admin), boolString(u.spec.Admin))})
	if !u.passwordOK {
		ch.Fields = append(ch.Fields, sensitiveField("password"))
	}
	if len(ch.Fields) > 0 {
		ch.Action = plan.Update
	}
	return []plan.Change{ch}
}

func (u *User) Apply(ctx context.Context, changes []plan.Change) error {
	for _, ch := range changes {
		switch ch.Action {
		case plan.Create:
			stmt := "CREATE USER " + QuoteIdent(u.spec.Name) + " WITH PASSWORD " + QuoteString(u.spec.Password.Reveal())
			if u.spec.Admin {
				stmt += " WITH ALL PRIVILEGES"
			}
			if err := u.c.execSecret(ctx, stmt, u.spec.Password); err != nil {
				return fmt.Errorf("create influxdb user %q: %w", u.spec.Name, err)
			}
		case plan.Update:
			for _, f := range ch.Fields {
				var err error
				switch f.Name {
				case "password":
					err = u.c.execSecret(ctx, "SET PASSWORD FOR "+QuoteIdent(u.spec.Name)+" = "+QuoteString(u.spec.Password.Reveal()), u.spec.Password)
				case "admin":
					if u.spec.Admin {
						err = u.c.Exec(ctx, "GRANT ALL PRIVILEGES TO "+QuoteIdent(u.spec.Name))
					} else {
						err = u.c.Exec(ctx, "REVOKE ALL PRIVILEGES FROM "+QuoteIdent(u.spec.Name))
					}
				}
				if err != nil {
					return fmt.Errorf("update influxdb user %q: %s: %w", u.spec.Name, f.Name, err)
				}
			}
		case plan.Delete:
			if err := u.c.DropUser(ctx, u.spec.Name); err != nil {
				return err
			}
		default:
			return fmt.Errorf("apply influxdb user %q: action %s not supported", u.spec.Name, ch.Action)
		}
	}
	return nil
}

// UserInfo is one row of SHOW USERS.
type UserInfo struct {
	Name  string
	Admin bool
}

// Users lists the server's users.
func (c *Client) Users(ctx context.Context) ([]UserInfo, error) {
	res, err := c.Query(ctx, "", "SHOW USERS")
	if err != nil {
		return nil, fmt.Errorf("show users: %w", err)
	}
	var out []UserInfo
	for _, r := range res {
		for _, s := range r.Series {
			cu, ca := column(s.Columns, "user"), column(s.Columns, "admin")
			for _, row := range s.Values {
				out = append(out, UserInfo{Name: cell(row, cu), Admin: cell(row, ca) == "true"})
			}
		}
	}
	return out, nil
}

// DropUser drops a user and its grants. A missing user is not an error.
func (c *Client) DropUser(ctx context.Context, name string) error {
	err := c.Exec(ctx, "DROP USER "+QuoteIdent(name))
	if err != nil && !isNotFound(err, "user") {
		return fmt.Errorf("drop influxdb user %q: %w", name, err)
	}
	return nil
}

// Format prints the resource without its password (see Client.Format).
func (u User) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "influx.User{name: %q, admin: %t}", u.spec.Name, u.spec.Admin)
}
