package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/repokey"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Options is what a command tells the engine.
type Options struct {
	InventoryPath     string
	Limit             []string // host name globs or groups; empty: every host
	Forks             int
	Only              []string // resource address globs; empty: every resource
	AcceptNewHostKeys bool
	Getenv            func(string) string
	Now               func() time.Time
	Log               *slog.Logger
	HTTPClient        *http.Client
}

// Session is an opened inventory with its endpoints connected and secrets resolved: ready to plan.
type Session struct {
	Inventory    *inventory.Inventory
	Hosts        []HostSpec
	engine       *Engine
	masker       *secret.Masker
	closeSSH     func()
	closeGrafana func()
}

// Close releases the session's resources: the ssh-agent connection and the Grafana login.
func (s *Session) Close() {
	if s.closeSSH != nil {
		s.closeSSH()
	}
	if s.closeGrafana != nil {
		s.closeGrafana()
	}
}

// MaskWriter wraps w so that no secret the session knows can pass through it. The wrapper is no terminal: decide
// colour on w itself.
func (s *Session) MaskWriter(w io.Writer) io.Writer { return &maskWriter{w: w, m: s.masker} }

type maskWriter struct {
	w io.Writer
	m *secret.Masker
}

func (mw *maskWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(mw.w, mw.m.Mask(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Plan plans every selected host; ro.Stop and ro.OnHost apply (batches and the failure budget are apply's).
func (s *Session) Plan(ctx context.Context, ro Rollout) *Run { return s.engine.Plan(ctx, s.Hosts, ro) }

func (o *Options) defaults() {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Open loads and checks the inventory, selects hosts, resolves every secret, fetches and verifies the repository
// key, and prepares the clients. Everything that would fail for every host fails here, before any host is touched.
func Open(ctx context.Context, o Options) (*Session, error) {
	o.defaults()
	inv, packs, err := loadChecked(o)
	if err != nil {
		return nil, err
	}
	selected, err := inv.Select(o.Limit)
	if err != nil {
		return nil, err
	}
	specs, err := HostSpecs(inv, selected)
	if err != nil {
		return nil, err
	}
	if err := inv.CheckSecrets(); err != nil {
		return nil, err
	}
	m := secret.NewMasker()
	resolve := func(r inventory.SecretRef) secret.Value {
		v, _ := r.Resolve() // CheckSecrets proved every configured secret resolves
		m.Add(v)
		return v
	}
	b := &fleetBuilder{
		masker: m, packs: packs, inv: inv,
		influxLimit: NewLimit(8, 4), grafanaLimit: NewLimit(4, 1), kapacitorLimit: NewLimit(8, 4),
		master: resolve(inv.Secrets.Master),
		settings: TelegrafSettings{
			Package: inv.Telegraf.Package, Version: inv.Telegraf.Version, AgentURL: inv.InfluxDB.AgentURL,
		},
		handlers: alertpacks.Handlers{LogPath: inv.Alerts.Log, Email: inv.Alerts.Email, Webhook: inv.Alerts.Webhook},
	}
	if b.influx, err = influx.NewClient(influx.Config{URL: inv.InfluxDB.URL, Username: inv.InfluxDB.AdminUser,
		Password: resolve(inv.InfluxDB.AdminPassword), HTTPClient: o.HTTPClient}); err != nil {
		return nil, err
	}
	gcfg := grafana.Config{URL: inv.Grafana.URL, User: inv.Grafana.User, HTTPClient: o.HTTPClient}
	if inv.Grafana.Token.IsSet() {
		gcfg.Token = resolve(inv.Grafana.Token)
	} else {
		gcfg.Password = resolve(inv.Grafana.Password)
	}
	if b.grafana, err = grafana.NewClient(gcfg); err != nil {
		return nil, err
	}
	if b.kapacitor, err = kapacitor.NewClient(kapacitor.Config{URL: inv.Kapacitor.URL, HTTPClient: o.HTTPClient}); err != nil {
		return nil, err
	}
	raw, err := repokey.Fetch(ctx, o.HTTPClient, inv.Telegraf.KeyURL)
	if err != nil {
		return nil, fmt.Errorf("telegraf.key_url: %w", err)
	}
	key, err := repokey.Verify(raw, inv.Telegraf.KeyFingerprint)
	if err != nil {
		return nil, fmt.Errorf("telegraf.key_url %s: %w", inv.Telegraf.KeyURL, err)
	}
	b.settings.Repo = system.Repo{AptURL: inv.Telegraf.AptURL, RPMURL: inv.Telegraf.RPMURL, Key: key.Binary, KeyArmored: key.Armored}
	sshCfg, closeSSH, err := SSHConfig(inv, o.AcceptNewHostKeys, o.Getenv)
	if err != nil {
		return nil, err
	}
	m.Add(sshCfg.SudoPassword)
	for _, h := range specs {
		m.Add(secret.Derive(b.master, h.Name, RoleWrite), secret.Derive(b.master, h.Name, RoleRead))
	}
	closeGrafana := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.grafana.Close(ctx)
	}
	return &Session{
		Inventory: inv, Hosts: specs, masker: m, closeSSH: closeSSH, closeGrafana: closeGrafana,
		engine: &Engine{SSH: sshCfg, Builder: b, Forks: o.Forks, Only: o.Only, Log: o.Log, Masker: m, Now: o.Now},
	}, nil
}

// Roles of the per-host InfluxDB users; each user's password is secret.Derive(master, host, role).
const (
	RoleWrite = "telegraf" // write-only, Telegraf's
	RoleRead  = "grafana"  // read-only, Grafana's
)

// fleetBuilder knows the fleet's endpoints and turns each host into its resources.
type fleetBuilder struct {
	inv       *inventory.Inventory
	masker    *secret.Masker
	master    secret.Value
	packs     *alertpacks.Set
	handlers  alertpacks.Handlers
	settings  TelegrafSettings
	influx    *influx.Client
	grafana   *grafana.Client
	kapacitor *kapacitor.Client
	// One limit per server, shared by every host in flight.
	influxLimit, grafanaLimit, kapacitorLimit *Limit
}

func (b *fleetBuilder) Query(h HostSpec) system.Query { return TelegrafQuery(b.settings.Package) }

// Users are named after the database and their purpose, so an operator reading SHOW USERS knows each one.
func writeUser(h HostSpec) string { return WriteUser(h.Database) }
func readUser(h HostSpec) string  { return ReadUser(h.Database) }

// WriteUser and ReadUser name a database's InfluxDB users.
func WriteUser(db string) string { return db + "_" + RoleWrite }
func ReadUser(db string) string  { return db + "_" + RoleRead }

func (b *fleetBuilder) rp(h HostSpec) string {
	if h.RetentionPolicy != nil {
		return h.RetentionPolicy.Name
	}
	return "autogen"
}

// apiResources are the host's resources on the fleet's servers, in dependency order.
func (b *fleetBuilder) apiResources(h HostSpec, scripts []alertpacks.Script) ([]Declared, error) {
	wpass, rpass := secret.Derive(b.master, h.Name, RoleWrite), secret.Derive(b.master, h.Name, RoleRead)
	var rs []Declared
	wrap := func(l *Limit, r Resource) { rs = append(rs, OnServer(l.Wrap(r))) }
	wrap(b.influxLimit, influx.NewDatabase(b.influx, h.Database))
	if p := h.RetentionPolicy; p != nil {
		rp, err := influx.NewRetentionPolicy(b.influx, influx.RetentionPolicySpec{Database: h.Database, Name: p.Name,
			Duration: p.Duration, Replication: p.Replication, Default: p.Default})
		if err != nil {
			return nil, err
		}
		wrap(b.influxLimit, rp)
	}
	wrap(b.influxLimit, influx.NewUser(b.influx, influx.UserSpec{Name: writeUser(h), Password: wpass}))
	wrap(b.influxLimit, influx.NewGrant(b.influx, influx.GrantSpec{User: writeUser(h), Database: h.Database, Privilege: influx.Write}))
	wrap(b.influxLimit, influx.NewUser(b.influx, influx.UserSpec{Name: readUser(h), Password: rpass}))
	wrap(b.influxLimit, influx.NewGrant(b.influx, influx.GrantSpec{User: readUser(h), Database: h.Database, Privilege: influx.Read}))
	ds, err := grafana.NewDatasource(b.grafana, grafana.DatasourceSpec{UID: DatasourceUID(h.Name), Name: "InfluxDB " + h.Name,
		URL: b.inv.InfluxDB.GrafanaURL, Database: h.Database, User: readUser(h), Password: rpass, Master: b.master})
	if err != nil {
		return nil, err
	}
	wrap(b.grafanaLimit, ds)
	var keep []string
	// One listing of the server's tasks serves its tasks and its prune: one request instead of one per task.
	listing := kapacitor.NewListing(b.kapacitor, h.Name)
	for _, sc := range scripts {
		t, err := kapacitor.NewTask(b.kapacitor, h.Name, sc.Alert, []kapacitor.DBRP{{DB: h.Database, RP: b.rp(h)}}, sc.Text)
		if err != nil {
			return nil, err
		}
		wrap(b.kapacitorLimit, t.ReadFrom(listing))
		keep = append(keep, t.Name())
	}
	prune, err := kapacitor.NewPrune(b.kapacitor, h.Name, keep)
	if err != nil {
		return nil, err
	}
	wrap(b.kapacitorLimit, prune.ReadFrom(listing))
	return rs, nil
}

func (b *fleetBuilder) scripts(h HostSpec) ([]alertpacks.Script, error) {
	scripts, err := b.packs.Render(h.AlertPacks, alertpacks.Target{Host: h.Name, Database: h.Database, RetentionPolicy: b.rp(h)}, h.Vars, b.handlers)
	if err != nil {
		return nil, fmt.Errorf("render alert packs for %s: %w", h.Name, err)
	}
	return scripts, nil
}

func (b *fleetBuilder) Resources(ctx context.Context, h HostSpec, conn *remote.Conn, facts *system.Facts) ([]Declared, error) {
	osInfo, err := system.Detect(facts.OSRelease, facts.Init)
	if err != nil {
		return nil, err
	}
	scripts, err := b.scripts(h)
	if err != nil {
		return nil, err
	}
	rs, err := b.apiResources(h, scripts)
	if err != nil {
		return nil, err
	}
	files, err := TelegrafFiles(osInfo.Family, h, b.settings.AgentURL, b.rpForAgent(h), writeUser(h), secret.Derive(b.master, h.Name, RoleWrite), b.settings.Interval)
	if err != nil {
		return nil, err
	}
	return append(rs, telegrafResources(h.Name, conn, facts, osInfo, files, b.settings, b.masker)...), nil
}

// rpForAgent is the retention policy Telegraf writes to: empty means the database's default.
func (b *fleetBuilder) rpForAgent(h HostSpec) string {
	if h.RetentionPolicy != nil && !h.RetentionPolicy.Default {
		return h.RetentionPolicy.Name
	}
	return ""
}

var uidUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// DatasourceUID is the Grafana uid of a host's datasource: "fleetctl-" and the host name, or a hash of the name
// when that does not fit Grafana's 40 characters or its alphabet.
func DatasourceUID(host string) string {
	uid := "fleetctl-" + host
	if len(uid) <= 40 && !uidUnsafe.MatchString(uid) {
		return uid
	}
	sum := sha256.Sum256([]byte(host))
	clean := uidUnsafe.ReplaceAllString(host, "_")
	if len(clean) > 18 {
		clean = clean[:18]
	}
	return "fleetctl-" + clean + "-" + hex.EncodeToString(sum[:])[:12]
}

// RenderedFile is one file or script as `render` shows it.
type RenderedFile struct {
	Name    string
	Content string
}

// Render returns every file and TICK script a host would get, with secrets masked. It contacts no server and
// needs only the master secret (to mask the derived passwords consistently, the passwords are never shown).
func Render(o Options, host string) ([]RenderedFile, error) {
	o.defaults()
	inv, packs, err := loadChecked(o)
	if err != nil {
		return nil, err
	}
	return renderHost(inv, packs, host)
}

func renderHost(inv *inventory.Inventory, packs *alertpacks.Set, host string) ([]RenderedFile, error) {
	h, ok := inv.Host(host)
	if !ok {
		names := []string{}
		for _, x := range inv.Hosts() {
			names = append(names, x.Name)
		}
		msg := fmt.Sprintf("%s has no host %q", inv.File, host)
		if dym := inventory.DidYouMean(host, names); dym != "" {
			msg += "; " + dym
		}
		return nil, errors.New(msg)
	}
	specs, err := HostSpecs(inv, []inventory.Host{h})
	if err != nil {
		return nil, err
	}
	spec := specs[0]
	b := &fleetBuilder{inv: inv, packs: packs, handlers: alertpacks.Handlers{LogPath: inv.Alerts.Log, Email: inv.Alerts.Email, Webhook: inv.Alerts.Webhook}}
	// Render shows the Linux layout most hosts have (apt, dnf, yum, zypper); Alpine's differs only in paths.
	files, err := TelegrafFiles(system.Families()["apt"], spec, inv.InfluxDB.AgentURL, b.rpForAgent(spec), writeUser(spec), secret.New(secret.Mask), "")
	if err != nil {
		return nil, err
	}
	var out []RenderedFile
	for _, f := range files {
		out = append(out, RenderedFile{Name: fmt.Sprintf("%s (mode %04o, %s:%s)", f.Path, f.Mode, f.Owner, f.Group), Content: string(f.Content)})
	}
	scripts, err := b.scripts(spec)
	if err != nil {
		return nil, err
	}
	for _, s := range scripts {
		out = append(out, RenderedFile{Name: fmt.Sprintf("kapacitor task %s-%s (pack %s, %s, dbrp %s.%s)", spec.Name, s.Alert, s.Pack, filepath.Base(s.File), spec.Database, b.rp(spec)), Content: s.Text})
	}
	return out, nil
}
