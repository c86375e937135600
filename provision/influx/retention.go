package influx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// KindRetentionPolicy is the Kind of RetentionPolicy resources.
const KindRetentionPolicy = "influxdb.retention_policy"

// RetentionPolicySpec is the desired state of one retention policy.
type RetentionPolicySpec struct {
	Database string
	Name     string
	// Duration is how long data is kept, in any form ParseDuration reads ("30d", "720h0m0s"); "" or "INF" keeps
	// data forever.
	Duration string
	// ShardGroupDuration is optional; "" leaves it to the server (and out of the diff).
	ShardGroupDuration string
	// Replication is the replication factor; 0 means 1.
	Replication int
	// Default makes this the database's default policy. False leaves the default alone: InfluxDB cannot unset a
	// default, only make another policy the default.
	Default bool
}

// RetentionPolicy is one retention policy of one database: created when missing, altered field by field when it
// differs. Durations are compared normalised, so "30d" matches the server's "720h0m0s".
type RetentionPolicy struct {
	c    *Client
	spec RetentionPolicySpec
	want rpState

	actual rpState
	exists bool
	// absent: drop the policy and its data; retain: leave it alone (its database is kept).
	absent, retain bool
}

// Absent plans the policy dropped, with its data.
func (r *RetentionPolicy) Absent() { r.absent, r.retain = true, false }

// Retain plans the policy left as it is (a NoOp): its database and data are kept.
func (r *RetentionPolicy) Retain() { r.absent, r.retain = false, true }

// rpState is a policy with normalised values; shard 0 means "not managed" in desired state.
type rpState struct {
	duration    time.Duration
	shard       time.Duration
	replication int
	def         bool
}

// NewRetentionPolicy checks spec and returns the resource.
func NewRetentionPolicy(c *Client, spec RetentionPolicySpec) (*RetentionPolicy, error) {
	if spec.Database == "" || spec.Name == "" {
		return nil, errors.New("influxdb retention policy: database and name are required")
	}
	r := &RetentionPolicy{c: c, spec: spec}
	if err := checkName(spec.Database); err != nil {
		return nil, fmt.Errorf("influxdb retention policy %q: database: %w", r.Name(), err)
	}
	if err := checkName(spec.Name); err != nil {
		return nil, fmt.Errorf("influxdb retention policy %q: %w", r.Name(), err)
	}
	var err error
	if r.want.duration, err = ParseDuration(spec.Duration); err != nil {
		return nil, fmt.Errorf("influxdb retention policy %q: duration: %w", r.Name(), err)
	}
	if spec.ShardGroupDuration != "" {
		if r.want.shard, err = ParseDuration(spec.ShardGroupDuration); err != nil {
			return nil, fmt.Errorf("influxdb retention policy %q: shard group duration: %w", r.Name(), err)
		}
	}
	r.want.replication = spec.Replication
	if r.want.replication == 0 {
		r.want.replication = 1
	}
	if r.want.replication < 0 {
		return nil, fmt.Errorf("influxdb retention policy %q: replication %d: want 1 or more", r.Name(), spec.Replication)
	}
	r.want.def = spec.Default
	return r, nil
}

func (r *RetentionPolicy) Kind() string { return KindRetentionPolicy }

// Name is "DATABASE/POLICY".
func (r *RetentionPolicy) Name() string { return r.spec.Database + "/" + r.spec.Name }

func (r *RetentionPolicy) Read(ctx context.Context) error {
	rps, err := r.c.RetentionPolicies(ctx, r.spec.Database)
	if err != nil {
		return fmt.Errorf("read influxdb retention policy %q: %w", r.Name(), err)
	}
	r.exists = false
	r.actual = rpState{}
	for _, p := range rps {
		if p.Name == r.spec.Name {
			r.exists = true
			r.actual = rpState{duration: p.Duration, shard: p.ShardGroupDuration, replication: p.Replication, def: p.Default}
		}
	}
	return nil
}

func (r *RetentionPolicy) Diff(prior []plan.Change) []plan.Change {
	ch := plan.Change{Kind: KindRetentionPolicy, Name: r.Name(), Action: plan.NoOp, ReadDigest: r.readDigest()}
	if r.retain || r.absent {
		if r.absent && r.exists {
			ch.Action = plan.Delete
			ch.Fields = []plan.Field{field("database", r.spec.Database, ""), field("name", r.spec.Name, "")}
		}
		return []plan.Change{ch}
	}
	w, a := r.target(), r.actual
	fmtOr := func(exists bool, s string) string {
		if !exists {
			return ""
		}
		return s
	}
	ch.Fields = []plan.Field{
		field("database", fmtOr(r.exists, r.spec.Database), r.spec.Database),
		field("name", fmtOr(r.exists, r.spec.Name), r.spec.Name),
		field("duration", fmtOr(r.exists, FormatDuration(a.duration)), FormatDuration(w.duration)),
	}
	if r.spec.ShardGroupDuration != "" {
		ch.Fields = append(ch.Fields, field("shard_group_duration", fmtOr(r.exists, FormatDuration(a.shard)), FormatDuration(w.shard)))
	}
	ch.Fields = append(ch.Fields,
		field("replication", fmtOr(r.exists, strconv.Itoa(a.replication)), strconv.Itoa(w.replication)),
		field("default", fmtOr(r.exists, boolString(a.def)), boolString(w.def)),
	)
	if r.exists {
		ch.Fields = onlyChanged(ch.Fields)
	}
	if len(ch.Fields) > 0 {
		ch.Action = action(r.exists)
	}
	return []plan.Change{ch}
}

// target is the desired state with unmanaged values filled from actual.
func (r *RetentionPolicy) target() rpState {
	w := r.want
	if r.spec.ShardGroupDuration == "" {
		w.shard = r.actual.shard
	}
	if !r.spec.Default && r.exists {
		w.def = r.actual.def
	}
	return w
}

func (r *RetentionPolicy) readDigest() string {
	a := r.actual
	return digest("exists", boolString(r.exists), a.duration.String(), a.shard.String(), strconv.Itoa(a.replication), boolString(a.def))
}

func (r *RetentionPolicy) Apply(ctx context.Context, changes []plan.Change) error {
	for _, ch := range changes {
		var stmt string
		switch ch.Action {
		case plan.Create:
			stmt = r.statement("CREATE", ch.Fields)
		case plan.Update:
			stmt = r.statement("ALTER", ch.Fields)
		case plan.Delete:
			stmt = "DROP RETENTION POLICY " + QuoteIdent(r.spec.Name) + " ON " + QuoteIdent(r.spec.Database)
		default:
			return fmt.Errorf("apply influxdb retention policy %q: action %s not supported", r.Name(), ch.Action)
		}
		if err := r.c.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s influxdb retention policy %q: %w", strings.ToLower(string(ch.Action)), r.Name(), err)
		}
	}
	return nil
}

// statement builds CREATE or ALTER from the planned fields (a create lists every field, an update only the changed
// ones), so apply does exactly what the plan showed.
func (r *RetentionPolicy) statement(verb string, fields []plan.Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s RETENTION POLICY %s ON %s", verb, QuoteIdent(r.spec.Name), QuoteIdent(r.spec.Database))
	for _, f := range fields {
		switch f.Name {
		case "duration":
			b.WriteString(" DURATION " + f.After)
		case "shard_group_duration":
			b.WriteString(" SHARD DURATION " + f.After)
		case "replication":
			b.WriteString(" REPLICATION " + f.After)
		case "default":
			if f.After == "true" {
				b.WriteString(" DEFAULT")
			}
		}
	}
	return b.String()
}

// RetentionPolicyInfo is one row of SHOW RETENTION POLICIES.
type RetentionPolicyInfo struct {
	Name               string
	Duration           time.Duration // 0: infinite
	ShardGroupDuration time.Duration
	Replication        int
	Default            bool
}

// RetentionPolicies lists the policies of db; a database that does not exist has none (not an error, so a plan
// on a fresh server can show the policy as created after its database).
func (c *Client) RetentionPolicies(ctx context.Context, db string) ([]RetentionPolicyInfo, error) {
	res, err := c.Query(ctx, "", "SHOW RETENTION POLICIES ON "+QuoteIdent(db))
	if isNotFound(err, "database") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("show retention policies: %w", err)
	}
	var out []RetentionPolicyInfo
	for _, r := range res {
		for _, s := range r.Series {
			cn, cd, cs, cr, cdef := column(s.Columns, "name"), column(s.Columns, "duration"),
				column(s.Columns, "shardGroupDuration"), column(s.Columns, "replicaN"), column(s.Columns, "default")
			for _, row := range s.Values {
				p := RetentionPolicyInfo{Name: cell(row, cn), Default: cell(row, cdef) == "true"}
				if p.Duration, err = ParseDuration(cell(row, cd)); err != nil {
					return nil, fmt.Errorf("show retention policies: policy %q: %w", p.Name, err)
				}
				if p.ShardGroupDuration, err = ParseDuration(cell(row, cs)); err != nil {
					return nil, fmt.Errorf("show retention policies: policy %q: %w", p.Name, err)
				}
				if p.Replication, err = strconv.Atoi(cell(row, cr)); err != nil {
					return nil, fmt.Errorf("show retention policies: policy %q: replicaN %q: %w", p.Name, cell(row, cr), err)
				}
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Format prints the resource without the client's credentials (see Client.Format).
func (r RetentionPolicy) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "influx.RetentionPolicy{%+v}", r.spec)
}
