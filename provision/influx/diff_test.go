package influx

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// fieldsString renders the changed fields compactly: "name:before→after" joined by spaces; sensitive fields as
// "name:(sensitive)".
func changedFields(ch plan.Change) string {
	var out []string
	for _, f := range ch.Fields {
		if !f.Changed() {
			continue
		}
		if f.Sensitive {
			out = append(out, f.Name+":(sensitive)")
			continue
		}
		out = append(out, f.Name+":"+f.Before+"→"+f.After)
	}
	return strings.Join(out, " ")
}

func one(t *testing.T, chs []plan.Change) plan.Change {
	t.Helper()
	if len(chs) != 1 {
		t.Fatalf("want one change, got %d: %+v", len(chs), chs)
	}
	if chs[0].ReadDigest == "" {
		t.Error("change has no ReadDigest")
	}
	return chs[0]
}

func TestDatabaseNameChecked(t *testing.T) {
	for _, n := range []string{"", ".", "..", "a/b", `a\b`, "nl\n"} {
		if err := NewDatabase(nil, n).Read(t.Context()); err == nil || !strings.Contains(err.Error(), "invalid name") {
			t.Errorf("%q: %v", n, err)
		}
	}
}

func TestDatabaseDiff(t *testing.T) {
	for _, tc := range []struct {
		exists bool
		action plan.Action
		fields string
	}{
		{false, plan.Create, "name:→web1"},
		{true, plan.NoOp, ""},
	} {
		d := NewDatabase(nil, "web1")
		d.exists = tc.exists
		ch := one(t, d.Diff(nil))
		if ch.Action != tc.action || changedFields(ch) != tc.fields || ch.Kind != KindDatabase || ch.Name != "web1" {
			t.Errorf("exists=%v: got %s %q %s/%s", tc.exists, ch.Action, changedFields(ch), ch.Kind, ch.Name)
		}
	}
}

func TestRetentionPolicyDiff(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name    string
		exists  bool
		actual  rpState
		spec    RetentionPolicySpec
		action  plan.Action
		fields  string
		command string // the statement Apply would run
	}{
		{
			name: "missing", spec: RetentionPolicySpec{Duration: "30d", Default: true},
			action: plan.Create, fields: "database:→db name:→rp duration:→30d replication:→1 default:→true",
			command: `CREATE RETENTION POLICY "rp" ON "db" DURATION 30d REPLICATION 1 DEFAULT`,
		},
		{
			name: "missing, infinite, not default, shard managed", spec: RetentionPolicySpec{Duration: "INF", ShardGroupDuration: "1w"},
			action: plan.Create, fields: "database:→db name:→rp duration:→INF shard_group_duration:→7d replication:→1 default:→false",
			command: `CREATE RETENTION POLICY "rp" ON "db" DURATION INF SHARD DURATION 7d REPLICATION 1`,
		},
		{
			name: "same, server spelling", exists: true,
			actual: rpState{duration: 30 * day, shard: day, replication: 1, def: true},
			spec:   RetentionPolicySpec{Duration: "720h0m0s", Default: true}, action: plan.NoOp,
		},
		{
			name: "same, 30d == 720h", exists: true,
			actual: rpState{duration: 720 * time.Hour, shard: day, replication: 1, def: true},
			spec:   RetentionPolicySpec{Duration: "30d", Replication: 1, Default: true}, action: plan.NoOp,
		},
		{
			name: "duration differs", exists: true,
			actual: rpState{duration: 7 * day, shard: day, replication: 1, def: true},
			spec:   RetentionPolicySpec{Duration: "30d", Default: true},
			action: plan.Update, fields: "duration:7d→30d",
			command: `ALTER RETENTION POLICY "rp" ON "db" DURATION 30d`,
		},
		{
			name: "shard group duration unmanaged is ignored", exists: true,
			actual: rpState{duration: 30 * day, shard: 7 * day, replication: 1},
			spec:   RetentionPolicySpec{Duration: "30d"}, action: plan.NoOp,
		},
		{
			name: "shard group duration managed", exists: true,
			actual: rpState{duration: 30 * day, shard: 7 * day, replication: 1},
			spec:   RetentionPolicySpec{Duration: "30d", ShardGroupDuration: "24h"},
			action: plan.Update, fields: "shard_group_duration:7d→1d",
			command: `ALTER RETENTION POLICY "rp" ON "db" SHARD DURATION 1d`,
		},
		{
			name: "becomes default, replication", exists: true,
			actual: rpState{duration: 0, shard: 7 * day, replication: 1},
			spec:   RetentionPolicySpec{Duration: "INF", Replication: 2, Default: true},
			action: plan.Update, fields: "replication:1→2 default:false→true",
			command: `ALTER RETENTION POLICY "rp" ON "db" REPLICATION 2 DEFAULT`,
		},
		{
			name: "default false leaves a default alone", exists: true,
			actual: rpState{duration: 0, shard: 7 * day, replication: 1, def: true},
			spec:   RetentionPolicySpec{Duration: "INF"}, action: plan.NoOp,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Database, tc.spec.Name = "db", "rp"
			r, err := NewRetentionPolicy(nil, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			r.exists, r.actual = tc.exists, tc.actual
			ch := one(t, r.Diff(nil))
			if ch.Action != tc.action || changedFields(ch) != tc.fields {
				t.Fatalf("got %s %q, want %s %q", ch.Action, changedFields(ch), tc.action, tc.fields)
			}
			if tc.command != "" {
				verb := map[plan.Action]string{plan.Create: "CREATE", plan.Update: "ALTER"}[ch.Action]
				if got := r.statement(verb, ch.Fields); got != tc.command {
					t.Errorf("statement %q, want %q", got, tc.command)
				}
			}
		})
	}
}

func TestRetentionPolicySpecErrors(t *testing.T) {
	for _, spec := range []RetentionPolicySpec{
		{Name: "rp", Duration: "30d"},
		{Database: "db", Duration: "30d"},
		{Database: "db", Name: "rp", Duration: "thirty days"},
		{Database: "db", Name: "rp", Duration: "30d", ShardGroupDuration: "x"},
		{Database: "db", Name: "rp", Duration: "30d", Replication: -1},
		{Database: `a\b`, Name: "rp", Duration: "30d"},
		{Database: "db", Name: "a/b", Duration: "30d"},
		{Database: "..", Name: "rp", Duration: "30d"},
		{Database: "db", Name: "tab\there", Duration: "30d"},
	} {
		if _, err := NewRetentionPolicy(nil, spec); err == nil {
			t.Errorf("%+v: want error", spec)
		}
	}
}

func TestUserDiff(t *testing.T) {
	pw := secret.New("s3cr3t-pa$$word-'quoted'")
	for _, tc := range []struct {
		name                      string
		exists, admin, passwordOK bool
		wantAdmin                 bool
		action                    plan.Action
		fields                    string
	}{
		{name: "missing", action: plan.Create, fields: "name:→u admin:→false password:(sensitive)"},
		{name: "in sync", exists: true, passwordOK: true, action: plan.NoOp},
		{name: "password drift", exists: true, action: plan.Update, fields: "password:(sensitive)"},
		{name: "admin to revoke", exists: true, admin: true, passwordOK: true, action: plan.Update, fields: "admin:true→false"},
		{name: "admin wanted", exists: true, passwordOK: true, wantAdmin: true, action: plan.Update, fields: "admin:false→true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := NewUser(nil, UserSpec{Name: "u", Password: pw, Admin: tc.wantAdmin})
			u.exists, u.admin, u.passwordOK = tc.exists, tc.admin, tc.passwordOK
			chs := u.Diff(nil)
			ch := one(t, chs)
			if ch.Action != tc.action || changedFields(ch) != tc.fields {
				t.Fatalf("got %s %q, want %s %q", ch.Action, changedFields(ch), tc.action, tc.fields)
			}
			resourcetest.NoSecret(t, chs, pw.Reveal(), "s3cr3t")
			for _, f := range ch.Fields {
				if f.Name == "password" && !f.Sensitive {
					t.Fatal("password field not sensitive")
				}
			}
		})
	}
}

func TestUserDigestDiffersByPasswordState(t *testing.T) {
	a := NewUser(nil, UserSpec{Name: "u", Password: secret.New("x")})
	a.exists, a.passwordOK = true, true
	b := NewUser(nil, UserSpec{Name: "u", Password: secret.New("x")})
	b.exists = true
	if one(t, a.Diff(nil)).ReadDigest == one(t, b.Diff(nil)).ReadDigest {
		t.Fatal("digest ignores password drift")
	}
}

func TestGrantDiff(t *testing.T) {
	for _, tc := range []struct {
		actual Privilege
		want   string
		action plan.Action
		fields string
	}{
		{NoPrivileges, "WRITE", plan.Create, "user:→u database:→db privilege:→WRITE"},
		{Write, "write", plan.NoOp, ""},
		{All, "ALL", plan.NoOp, ""},
		{All, "all privileges", plan.NoOp, ""},
		{Read, "WRITE", plan.Update, "privilege:READ→WRITE"},
		{Write, "READ", plan.Update, "privilege:WRITE→READ"},
		{Read, "ALL", plan.Update, "privilege:READ→ALL PRIVILEGES"},
		{Write, "NO PRIVILEGES", plan.Delete, "user:u→ database:db→ privilege:WRITE→"},
		{NoPrivileges, "", plan.NoOp, ""},
	} {
		g := NewGrant(nil, GrantSpec{User: "u", Database: "db", Privilege: Privilege(tc.want)})
		if g.specErr != nil {
			t.Fatal(g.specErr)
		}
		g.actual = tc.actual
		ch := one(t, g.Diff(nil))
		if ch.Action != tc.action || changedFields(ch) != tc.fields || ch.Name != "u@db" {
			t.Errorf("%s → %s: got %s %q %s, want %s %q", tc.actual, tc.want, ch.Action, changedFields(ch), ch.Name, tc.action, tc.fields)
		}
	}
	if g := NewGrant(nil, GrantSpec{User: "u", Database: "db", Privilege: "SUPER"}); g.Read(t.Context()) == nil {
		t.Error("unknown privilege: Read must fail")
	}
}

func TestMaskErrHidesSecretsInServerErrors(t *testing.T) {
	pw := secret.New(`pa'ss\word`)
	err := maskErr(&ServerError{StatusCode: 200, Message: `error parsing query: found pa\'ss\\word, expected ...; raw pa'ss\word`}, []secret.Value{pw})
	if strings.Contains(err.Error(), "ss") {
		t.Fatalf("secret survived masking: %v", err)
	}
}

func TestNewClientChecksURL(t *testing.T) {
	for _, u := range []string{"", "influx:8086", "ftp://influx", "http://admin:hunter2@influx:8086"} {
		_, err := NewClient(Config{URL: u, Username: "admin", Password: secret.New("hunter2")})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: err = %v", u, err)
		}
	}
	c, err := NewClient(Config{URL: "http://influx:8086/", Username: "admin", Password: secret.New("hunter2")})
	if err != nil || c.URL() != "http://influx:8086" || c.endpoint("query", nil) != "http://influx:8086/query" {
		t.Fatalf("%v %v", c, err)
	}
	if strings.Contains(fmt.Sprintf("%+v %#v", c, c), "hunter2") {
		t.Fatal("client prints its password")
	}
}

func TestResourcesAndClientNeverPrintSecrets(t *testing.T) {
	c, err := NewClient(Config{URL: "http://influx:8086", Username: "admin", Password: secret.New("admin-hunter2")})
	if err != nil {
		t.Fatal(err)
	}
	u := NewUser(c, UserSpec{Name: "u", Password: secret.New("user-hunter2")})
	rp, err := NewRetentionPolicy(c, RetentionPolicySpec{Database: "db", Name: "rp", Duration: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	d, g := NewDatabase(c, "db"), NewGrant(c, GrantSpec{User: "u", Database: "db", Privilege: Read})
	for _, v := range []any{c, *c, u, *u, rp, *rp, d, *d, g, *g, UserSpec{Name: "u", Password: secret.New("user-hunter2")}} {
		out := fmt.Sprintf("%v %+v %#v %s %d", v, v, v, v, v)
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}
