package grafana

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/grafana-tools/sdk"
)

// KindDatasource is the Kind of Datasource resources.
const KindDatasource = "grafana.datasource"

// FingerprintKey is the jsonData key holding secret.Fingerprint of the password fleetctl last set.
const FingerprintKey = "fleetctlPasswordFingerprint"

// DatasourceSpec is the desired state of one host's InfluxQL datasource.
type DatasourceSpec struct {
	// UID identifies the datasource: deterministic (derived from the host by the caller), 1 to 40 of [A-Za-z0-9_-].
	UID  string
	Name string
	// URL is the InfluxDB API as Grafana's server reaches it.
	URL      string
	Database string
	// User and Password are the InfluxDB credentials Grafana queries with: the host's READ user, never the
	// write-only one.
	User     string
	Password secret.Value
	// Master keys the password fingerprint stored in jsonData (secret.Fingerprint).
	Master secret.Value
	// HTTPMode is how Grafana sends queries: "GET" (default) or "POST".
	HTTPMode string
}

// Datasource is one Grafana InfluxQL datasource, read and written by uid. Diff compares only the fields fleetctl
// manages (name, type, access, url, user, jsonData.dbName, jsonData.httpMode, jsonData.version and the password
// by fingerprint); id, orgId, version, readOnly and any other jsonData keys are left as Grafana or the user set
// them, and an update sends them back unchanged.
type Datasource struct {
	c    *Client
	spec DatasourceSpec
	fp   string // fingerprint of spec.Password

	actual *RemoteDatasource // nil: missing
	absent bool
}

// Absent plans the datasource deleted.
func (d *Datasource) Absent() { d.absent = true }

// NewDatasource checks spec and returns the resource.
func NewDatasource(c *Client, spec DatasourceSpec) (*Datasource, error) {
	if !ValidUID(spec.UID) {
		return nil, fmt.Errorf("grafana datasource %q: uid must be 1 to 40 of [A-Za-z0-9_-]", spec.UID)
	}
	if spec.Name == "" || spec.URL == "" || spec.Database == "" || spec.User == "" {
		return nil, fmt.Errorf("grafana datasource %q: name, url, database and user are required", spec.UID)
	}
	if spec.Password.IsZero() || spec.Master.IsZero() {
		return nil, fmt.Errorf("grafana datasource %q: password and master secret are required", spec.UID)
	}
	switch spec.HTTPMode = strings.ToUpper(spec.HTTPMode); spec.HTTPMode {
	case "":
		spec.HTTPMode = "GET"
	case "GET", "POST":
	default:
		return nil, fmt.Errorf("grafana datasource %q: http mode %q: want GET or POST", spec.UID, spec.HTTPMode)
	}
	return &Datasource{c: c, spec: spec, fp: secret.Fingerprint(spec.Master, spec.Password)}, nil
}

func (d *Datasource) Kind() string { return KindDatasource }

// Name is the uid.
func (d *Datasource) Name() string { return d.spec.UID }

// Actual is what the last Read found (nil: missing).
func (d *Datasource) Actual() *RemoteDatasource { return d.actual }

func (d *Datasource) Read(ctx context.Context) error {
	ds, found, err := d.c.GetDatasource(ctx, d.spec.UID)
	if err != nil {
		return fmt.Errorf("read grafana datasource %q: %w", d.spec.UID, err)
	}
	d.actual = nil
	if found {
		d.actual = ds
	}
	return nil
}

// managed is the non-secret state fleetctl manages, in field order.
type managed struct{ name, typ, access, url, user, dbName, httpMode, version string }

func (m managed) fields() [][2]string {
	return [][2]string{
		{"name", m.name}, {"type", m.typ}, {"access", m.access}, {"url", m.url}, {"user", m.user},
		{"jsonData.dbName", m.dbName}, {"jsonData.httpMode", m.httpMode}, {"jsonData.version", m.version},
	}
}

func (d *Datasource) want() managed {
	return managed{
		name: d.spec.Name, typ: "influxdb", access: "proxy", url: d.spec.URL, user: d.spec.User,
		dbName: d.spec.Database, httpMode: d.spec.HTTPMode, version: "InfluxQL",
	}
}

func have(a *RemoteDatasource) managed {
	m := managed{
		name: a.Name, typ: a.Type, access: a.Access, url: a.URL,
		dbName: a.JSONString("dbName"), httpMode: a.JSONString("httpMode"), version: a.JSONString("version"),
	}
	if a.User != nil {
		m.user = *a.User
	}
	return m
}

// passwordCurrent reports whether Grafana holds a password and it is the one fleetctl would set.
func (d *Datasource) passwordCurrent() bool {
	a := d.actual
	return a != nil && a.SecureJSONFields["password"] && a.JSONString(FingerprintKey) == d.fp
}

func (d *Datasource) Diff(prior []plan.Change) []plan.Change {
	ch := plan.Change{Kind: KindDatasource, Name: d.spec.UID, Action: plan.NoOp, ReadDigest: d.readDigest()}
	w := d.want().fields()
	if d.absent {
		if d.actual != nil {
			ch.Action = plan.Delete
			for _, f := range have(d.actual).fields() {
				ch.Fields = append(ch.Fields, plan.Field{Name: f[0], Before: f[1]})
			}
		}
		return []plan.Change{ch}
	}
	if d.actual == nil {
		ch.Action = plan.Create
		ch.Fields = append(ch.Fields, plan.Field{Name: "uid", After: d.spec.UID})
		for _, f := range w {
			ch.Fields = append(ch.Fields, plan.Field{Name: f[0], After: f[1]})
		}
		ch.Fields = append(ch.Fields, plan.Field{Name: "secureJsonData.password", Sensitive: true})
		return []plan.Change{ch}
	}
	h := have(d.actual).fields()
	for i, f := range w {
		if h[i][1] != f[1] {
			ch.Fields = append(ch.Fields, plan.Field{Name: f[0], Before: h[i][1], After: f[1]})
		}
	}
	if !d.passwordCurrent() {
		ch.Fields = append(ch.Fields, plan.Field{Name: "secureJsonData.password", Sensitive: true})
	}
	if len(ch.Fields) > 0 {
		ch.Action = plan.Update
	}
	return []plan.Change{ch}
}

// readDigest hashes the managed actual state (the fingerprint is keyed and public by design) and the version.
func (d *Datasource) readDigest() string {
	parts := []string{"missing"}
	if a := d.actual; a != nil {
		parts = []string{"version", strconv.Itoa(a.Version)}
		for _, f := range have(a).fields() {
			parts = append(parts, f[0], f[1])
		}
		parts = append(parts, "password_set", strconv.FormatBool(a.SecureJSONFields["password"]), "fp", a.JSONString(FingerprintKey))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func (d *Datasource) Apply(ctx context.Context, changes []plan.Change) error {
	for _, ch := range changes {
		switch ch.Action {
		case plan.Create:
			if err := d.c.CreateDatasource(ctx, d.spec.UID, d.createBody(), d.spec.Password); err != nil {
				if IsConflict(err) {
					return fmt.Errorf("create grafana datasource %q: a datasource named %q already exists with another uid: rename or delete it: %w", d.spec.UID, d.spec.Name, err)
				}
				return fmt.Errorf("create grafana datasource %q: %w", d.spec.UID, err)
			}
		case plan.Update:
			if d.actual == nil {
				return fmt.Errorf("update grafana datasource %q: not read", d.spec.UID)
			}
			if err := d.c.UpdateDatasource(ctx, d.spec.UID, d.updateBody(), d.spec.Password); err != nil {
				return fmt.Errorf("update grafana datasource %q: %w", d.spec.UID, err)
			}
		case plan.Delete:
			if err := d.c.DeleteDatasource(ctx, d.spec.UID); err != nil {
				return err
			}
		default:
			return fmt.Errorf("apply grafana datasource %q: action %s not supported", d.spec.UID, ch.Action)
		}
	}
	return nil
}

func (d *Datasource) jsonData(base map[string]any) map[string]any {
	jd := map[string]any{}
	for k, v := range base {
		jd[k] = v
	}
	jd["dbName"] = d.spec.Database
	jd["httpMode"] = d.spec.HTTPMode
	jd["version"] = "InfluxQL"
	jd[FingerprintKey] = d.fp
	return jd
}

func (d *Datasource) secureJSONData() map[string]string {
	return map[string]string{"password": d.spec.Password.Reveal()}
}

func (d *Datasource) createBody() any {
	user := d.spec.User
	return sdk.Datasource{
		UID: d.spec.UID, Name: d.spec.Name, Type: "influxdb", Access: "proxy", URL: d.spec.URL, User: &user,
		JSONData: d.jsonData(nil), SecureJSONData: d.secureJSONData(),
	}
}

// updateBody is the datasource as read, with the managed fields set: PUT replaces the whole object, so what
// fleetctl does not manage (isDefault, basicAuth, withCredentials, other jsonData keys…) is sent back as it was.
// The version read makes Grafana refuse the update if someone changed the datasource in between.
func (d *Datasource) updateBody() map[string]any {
	body := map[string]any{}
	for k, v := range d.actual.Raw {
		body[k] = v
	}
	for _, k := range []string{"id", "orgId", "secureJsonFields", "typeLogoUrl", "readOnly"} {
		delete(body, k)
	}
	base, _ := d.actual.JSONData.(map[string]any)
	body["uid"] = d.spec.UID
	body["name"] = d.spec.Name
	body["type"] = "influxdb"
	body["access"] = "proxy"
	body["url"] = d.spec.URL
	body["user"] = d.spec.User
	body["jsonData"] = d.jsonData(base)
	body["secureJsonData"] = d.secureJSONData()
	body["version"] = d.actual.Version
	return body
}

// Health asks Grafana to test this datasource with the credentials it stores (see Client.Health).
func (d *Datasource) Health(ctx context.Context) (HealthResult, error) {
	return d.c.Health(ctx, d.spec.UID)
}

// Format prints the resource without its password or master secret (see Client.Format).
func (d Datasource) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "grafana.Datasource{uid: %q, name: %q, url: %s, database: %q, user: %q}",
		d.spec.UID, d.spec.Name, d.spec.URL, d.spec.Database, d.spec.User)
}

// Datasources lists every datasource of the organisation (GET /api/datasources).
func (c *Client) Datasources(ctx context.Context) ([]RemoteDatasource, error) {
	body, err := c.do(ctx, http.MethodGet, "api/datasources", nil)
	if err != nil {
		return nil, fmt.Errorf("list grafana datasources: %w", err)
	}
	var out []RemoteDatasource
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("list grafana datasources: decode: %w", err)
	}
	return out, nil
}
