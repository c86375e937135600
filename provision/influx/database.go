package influx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// KindDatabase is the Kind of Database resources.
const KindDatabase = "influxdb.database"

// Database is one InfluxDB database, created when missing. It is dropped only when asked for by Absent (destroy
// --delete-data): the data is the user's. Retain plans it kept, reported as such, when the rest of its host goes.
type Database struct {
	c    *Client
	name string
	// absent: drop it; retain: leave it and say so.
	absent, retain bool

	exists bool
}

// Absent plans the database dropped, with every point it holds.
func (d *Database) Absent() { d.absent, d.retain = true, false }

// Retain plans the database left as it is while its host is destroyed: reported, never dropped.
func (d *Database) Retain() { d.absent, d.retain = false, true }

// ReasonRetained is why a destroy keeps a host's database.
const ReasonRetained = "kept: it holds the host's history; destroy --delete-data drops it"

// NewDatabase returns the resource for database name on c's server.
func NewDatabase(c *Client, name string) *Database { return &Database{c: c, name: name} }

func (d *Database) Kind() string { return KindDatabase }
func (d *Database) Name() string { return d.name }

// Exists reports what the last Read found.
func (d *Database) Exists() bool { return d.exists }

func (d *Database) Read(ctx context.Context) error {
	if err := checkName(d.name); err != nil {
		return fmt.Errorf("read influxdb database %q: %w", d.name, err)
	}
	exists, err := d.c.DatabaseExists(ctx, d.name)
	if err != nil {
		return fmt.Errorf("read influxdb database %q: %w", d.name, err)
	}
	d.exists = exists
	return nil
}

func (d *Database) Diff(prior []plan.Change) []plan.Change {
	ch := plan.Change{
		Kind: KindDatabase, Name: d.name, Action: plan.NoOp,
		ReadDigest: digest("exists", boolString(d.exists)),
	}
	switch {
	case d.retain:
		if d.exists {
			ch.Action, ch.Reason = plan.Report, ReasonRetained
		}
	case d.absent:
		if d.exists {
			ch.Action = plan.Delete
			ch.Fields = []plan.Field{field("name", d.name, "")}
			ch.Reason = "drops every point the host wrote"
		}
	case !d.exists:
		ch.Action = plan.Create
		ch.Fields = []plan.Field{field("name", "", d.name)}
	}
	return []plan.Change{ch}
}

func (d *Database) Apply(ctx context.Context, changes []plan.Change) error {
	for _, ch := range changes {
		if ch.Action == plan.Delete && d.absent {
			if err := d.c.DropDatabase(ctx, d.name); err != nil {
				return err
			}
			continue
		}
		if ch.Action != plan.Create {
			return fmt.Errorf("apply influxdb database %q: action %s not supported", d.name, ch.Action)
		}
		// CREATE DATABASE is idempotent, so a concurrent creator is harmless.
		if err := d.c.Exec(ctx, "CREATE DATABASE "+QuoteIdent(d.name)); err != nil {
			return fmt.Errorf("create influxdb database %q: %w", d.name, err)
		}
	}
	return nil
}

// checkName applies the server's rule for database and retention policy names (they become directory names):
// not empty, not "." or "..", printable, no '/' or '\'. Checking it here makes a plan fail instead of an apply.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return errors.New(`invalid name: must not be empty, "." or "..", nor contain '/' or '\'`)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return errors.New("invalid name: unprintable character")
		}
	}
	return nil
}

// DatabaseExists reports whether SHOW DATABASES lists name.
func (c *Client) DatabaseExists(ctx context.Context, name string) (bool, error) {
	res, err := c.Query(ctx, "", "SHOW DATABASES")
	if err != nil {
		return false, fmt.Errorf("show databases: %w", err)
	}
	for _, r := range res {
		for _, s := range r.Series {
			col := column(s.Columns, "name")
			for _, row := range s.Values {
				if cell(row, col) == name {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// DropDatabase drops a database and its data (DROP DATABASE; a missing one is not an error).
func (c *Client) DropDatabase(ctx context.Context, name string) error {
	if err := c.Exec(ctx, "DROP DATABASE "+QuoteIdent(name)); err != nil {
		return fmt.Errorf("drop influxdb database %q: %w", name, err)
	}
	return nil
}

// Format prints the resource without the client's credentials (see Client.Format).
func (d Database) Format(f fmt.State, verb rune) { fmt.Fprintf(f, "influx.Database{name: %q}", d.name) }
