package influx

import (
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Planned absent (destroy), each kind deletes what exists and does nothing about what does not; a retained
// database is reported, never dropped.
func TestAbsentDiff(t *testing.T) {
	db := func(exists bool, mode string) *Database {
		d := NewDatabase(nil, "web1")
		d.exists = exists
		switch mode {
		case "absent":
			d.Absent()
		case "retain":
			d.Retain()
		}
		return d
	}
	user := func(exists bool) *User {
		u := NewUser(nil, UserSpec{Name: "web1_telegraf"})
		u.exists = exists
		u.Absent()
		return u
	}
	grant := func(actual Privilege) *Grant {
		g := NewGrant(nil, GrantSpec{User: "web1_grafana", Database: "web1", Privilege: Read})
		g.actual = actual
		g.Absent()
		return g
	}
	rp := func(exists bool, mode string) *RetentionPolicy {
		r, err := NewRetentionPolicy(nil, RetentionPolicySpec{Database: "web1", Name: "month", Duration: "30d"})
		if err != nil {
			t.Fatal(err)
		}
		r.exists = exists
		if mode == "absent" {
			r.Absent()
		} else {
			r.Retain()
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    interface {
			Diff([]plan.Change) []plan.Change
		}
		action plan.Action
		fields string
	}{
		{"database dropped", db(true, "absent"), plan.Delete, "name:web1→"},
		{"database gone already", db(false, "absent"), plan.NoOp, ""},
		{"database kept", db(true, "retain"), plan.Report, ""},
		{"database kept, gone already", db(false, "retain"), plan.NoOp, ""},
		{"user dropped", user(true), plan.Delete, "name:web1_telegraf→"},
		{"user gone already", user(false), plan.NoOp, ""},
		{"grant revoked", grant(Read), plan.Delete, "user:web1_grafana→ database:web1→ privilege:READ→"},
		{"no grant", grant(NoPrivileges), plan.NoOp, ""},
		{"policy dropped", rp(true, "absent"), plan.Delete, "database:web1→ name:month→"},
		{"policy kept with its database", rp(true, "retain"), plan.NoOp, ""},
	} {
		ch := one(t, tc.r.Diff(nil))
		if ch.Action != tc.action || changedFields(ch) != tc.fields {
			t.Errorf("%s: %s %q, want %s %q", tc.name, ch.Action, changedFields(ch), tc.action, tc.fields)
		}
		if tc.action == plan.Report && ch.Reason != ReasonRetained {
			t.Errorf("%s: reason %q", tc.name, ch.Reason)
		}
	}
}
