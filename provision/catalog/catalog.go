package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/dashboards"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Servers are the fleet's servers, as fleetctl administers them.
type Servers struct {
	Influx    *influx.Client
	Grafana   *grafana.Client
	Kapacitor *kapacitor.Client
	// GrafanaInfluxURL is InfluxDB's URL as Grafana reaches it, for the datasources.
	GrafanaInfluxURL string
}

// Config is everything the catalog needs to know of a fleet besides its hosts.
type Config struct {
	Servers  Servers
	Telegraf TelegrafSettings
	Master   secret.Value // every host's passwords derive from it
	Masker   *secret.Masker
	Packs    *alertpacks.Set
	Handlers alertpacks.Handlers
	// Dashboards renders each host's dashboard and the fleet overview; FleetFolder puts every host's dashboard
	// in one folder instead of one per group.
	Dashboards  *dashboards.Set
	FleetFolder bool
	// Contacts are the handlers a host's routes name, by contact name, their secrets resolved.
	Contacts map[string]Contact
	// Services are Kapacitor's service settings ([kapacitor.services]); they belong to the fleet, not to a host,
	// so the first host of the run carries them (see Catalog.Resources).
	Services []kapacitor.ConfigSpec
}

// Contact is what a route makes in a host's topic: one Kapacitor handler of a kind, with its options (secret ones
// included, named in Sensitive so a plan shows only that they changed) and its match expression.
type Contact struct {
	Kind      string
	Options   map[string]any
	Match     string
	Sensitive []string
}

// Catalog is what a TICK fleet is: which resources each host gets, in which order, and what they watch. It is the
// engine's Builder.
type Catalog struct {
	cfg   Config
	hosts map[string]Host
	first string // the host that carries the fleet's shared resources (Kapacitor's service settings, the overview dashboard)
	// One limit per server, shared by every host in flight.
	influxLimit, grafanaLimit, kapacitorLimit *engine.Limit
}

// New makes the catalog of the given hosts.
func New(cfg Config, hosts []Host) *Catalog {
	c := &Catalog{cfg: cfg, hosts: map[string]Host{},
		influxLimit: engine.NewLimit(8, 4), grafanaLimit: engine.NewLimit(4, 1), kapacitorLimit: engine.NewLimit(8, 4)}
	for _, h := range hosts {
		c.hosts[h.Name] = h
	}
	if len(hosts) > 0 {
		c.first = hosts[0].Name
	}
	return c
}

// Query is what to read from a host: what its Telegraf resources need, whatever its OS.
func (c *Catalog) Query(eh engine.Host) system.Query {
	q := TelegrafQuery(c.cfg.Telegraf.Package)
	// The credentials the host's agent would have, if it can have them: the same rendering, in credential mode.
	var names []string
	h, ok := c.hosts[eh.Name]
	accessOf(h).query(&q)
	if ok {
		a := &AgentSecrets{Storage: SecretStorage{Credentials: true}}
		if _, err := telegrafFiles(system.Families()["apt"], h, c.agentOutput(), secret.Derive(c.cfg.Master, h.Name, RoleWrite), a); err == nil {
			names = a.names()
		}
	}
	credentialQuery(&q, names)
	return q
}

// Resources are the host's resources in apply order: its database, policy, users and grants on InfluxDB, its
// Grafana datasource, its Kapacitor tasks and their prune, then on the host the repository, package, configuration
// and service.
func (c *Catalog) Resources(ctx context.Context, eh engine.Host, conn *remote.Conn, facts *system.Facts) ([]engine.Declared, error) {
	h, ok := c.hosts[eh.Name]
	if !ok {
		return nil, fmt.Errorf("host %s is not in the fleet's catalog (a fleetctl bug: please report it)", eh.Name)
	}
	osInfo, err := system.Detect(facts.OSRelease, facts.Init)
	if err != nil {
		return nil, err
	}
	secrets := &AgentSecrets{Storage: c.storage(osInfo, facts)}
	d, err := desired(h, osInfo.Family, c.agentOutput(), secret.Derive(c.cfg.Master, h.Name, RoleWrite), secrets, c.cfg.Packs, c.cfg.Handlers)
	if err != nil {
		return nil, err
	}
	rs, err := c.serverResources(h, d.Scripts, nil)
	if err != nil {
		return nil, err
	}
	if rs, err = c.withFleetSettings(h, rs); err != nil {
		return nil, err
	}
	return append(rs, telegrafResources(h.Name, conn, facts, osInfo, d.Files, c.cfg.Telegraf, c.cfg.Masker, secrets, accessOf(h))...), nil
}

// agentOutput is where the agents write, as the hosts reach InfluxDB.
func (c *Catalog) agentOutput() AgentOutput {
	return AgentOutput{URL: c.cfg.Telegraf.AgentURL, CA: c.cfg.Telegraf.AgentCA}
}

// storage is where the host's agent keeps its secrets: as the host's facts allow, unless the inventory says files.
func (c *Catalog) storage(osInfo *system.OS, facts *system.Facts) SecretStorage {
	if c.cfg.Telegraf.FileSecrets {
		return SecretStorage{Why: "telegraf.credentials = false in the inventory"}
	}
	return DecideStorage(osInfo, facts.Systemd, facts.Packages[osInfo.Family.PackageDB+":"+c.cfg.Telegraf.Package], c.cfg.Telegraf.Version)
}

// Files are a host's desired files and scripts.
type Files struct {
	Files   []system.FileSpec   // Telegraf's configuration, in the OS family's paths
	Scripts []alertpacks.Script // the TICK scripts of its alert tasks
}

// Desired computes a host's desired files and scripts: its Telegraf configuration for an OS family, writing to
// out with the given password, and its alert packs' TICK scripts. It contacts nothing; render, plan and apply
// all get a host's files and scripts from it.
func Desired(h Host, f *system.Family, out AgentOutput, password secret.Value, packs *alertpacks.Set, handlers alertpacks.Handlers) (Files, error) {
	return desired(h, f, out, password, nil, packs, handlers)
}

// desired is Desired with the agent's secrets going through secrets (nil: in its files).
func desired(h Host, f *system.Family, out AgentOutput, password secret.Value, secrets *AgentSecrets, packs *alertpacks.Set, handlers alertpacks.Handlers) (Files, error) {
	files, err := telegrafFiles(f, h, out, password, secrets)
	if err != nil {
		return Files{}, err
	}
	scripts, err := hostScripts(h, packs, handlers)
	if err != nil {
		return Files{}, err
	}
	return Files{Files: files, Scripts: scripts}, nil
}

// hostScripts are the host's alert tasks' scripts, as apply defines them and status expects them.
func hostScripts(h Host, packs *alertpacks.Set, handlers alertpacks.Handlers) ([]alertpacks.Script, error) {
	// Every task publishes to the host's topic: a route's handler there is what delivers, so changing a contact
	// changes that handler, never the tasks.
	handlers.Topic = kapacitor.HostTopic(h.Name)
	scripts, err := packs.Render(h.AlertPacks, alertpacks.Target{Host: h.Name, Database: h.Database, RetentionPolicy: h.rp()}, h.Vars, handlers)
	if err != nil {
		return nil, fmt.Errorf("render alert packs for %s: %w", h.Name, err)
	}
	return scripts, nil
}

// serverResources are the host's resources on the fleet's servers, in dependency order.
//
// For a destroy (del not nil) every resource is planned absent (engine.Absenter) and the list is reversed, so what
// depends on another goes first; a resource holding the user's data (a database) is retained unless del.DeleteData.
func (c *Catalog) serverResources(h Host, scripts []alertpacks.Script, del *DestroyOptions) ([]engine.Declared, error) {
	s := c.cfg.Servers
	wpass, rpass := secret.Derive(c.cfg.Master, h.Name, RoleWrite), secret.Derive(c.cfg.Master, h.Name, RoleRead)
	wuser, ruser := WriteUser(h.Database), ReadUser(h.Database)
	var rs []engine.Declared
	var absentErr error
	add := func(l *engine.Limit, r engine.Resource) {
		if del != nil {
			if err := plannedAbsent(r, *del); err != nil {
				absentErr = errors.Join(absentErr, err)
			}
		}
		rs = append(rs, engine.OnServer(l.Wrap(r)))
	}
	add(c.influxLimit, influx.NewDatabase(s.Influx, h.Database))
	if p := h.RetentionPolicy; p != nil {
		dur := "INF"
		if p.Duration > 0 {
			dur = p.Duration.String()
		}
		rp, err := influx.NewRetentionPolicy(s.Influx, influx.RetentionPolicySpec{Database: h.Database, Name: p.Name,
			Duration: dur, Replication: p.Replication, Default: p.Default})
		if err != nil {
			return nil, err
		}
		add(c.influxLimit, rp)
	}
	add(c.influxLimit, influx.NewUser(s.Influx, influx.UserSpec{Name: wuser, Password: wpass}))
	add(c.influxLimit, influx.NewGrant(s.Influx, influx.GrantSpec{User: wuser, Database: h.Database, Privilege: influx.Write}))
	add(c.influxLimit, influx.NewUser(s.Influx, influx.UserSpec{Name: ruser, Password: rpass}))
	add(c.influxLimit, influx.NewGrant(s.Influx, influx.GrantSpec{User: ruser, Database: h.Database, Privilege: influx.Read}))
	ds, err := grafana.NewDatasource(s.Grafana, grafana.DatasourceSpec{UID: DatasourceUID(h.Name), Name: "InfluxDB " + h.Name,
		URL: s.GrafanaInfluxURL, Database: h.Database, User: ruser, Password: rpass, Master: c.cfg.Master})
	if err != nil {
		return nil, err
	}
	add(c.grafanaLimit, ds)
	if c.cfg.Dashboards != nil {
		dash, err := c.dashboardResources(h)
		if err != nil {
			return nil, err
		}
		for _, r := range dash {
			add(c.grafanaLimit, r)
		}
	}
	// The handlers before the tasks, so the first alert of a new task finds them.
	topic := kapacitor.HostTopic(h.Name)
	topicListing := kapacitor.NewTopicListing(s.Kapacitor, topic)
	for _, route := range h.Routes {
		ct, ok := c.cfg.Contacts[route]
		if !ok {
			return nil, fmt.Errorf("host %s: route %q names no contact", h.Name, route)
		}
		hd, err := kapacitor.NewHandler(s.Kapacitor, topic, kapacitor.HandlerSpec{ID: route, Kind: ct.Kind, Options: ct.Options, Match: ct.Match}, ct.Sensitive, topicListing)
		if err != nil {
			return nil, err
		}
		add(c.kapacitorLimit, hd)
	}
	hprune, err := kapacitor.NewHandlerPrune(s.Kapacitor, topic, h.Routes, topicListing)
	if err != nil {
		return nil, err
	}
	add(c.kapacitorLimit, hprune)
	var keep []string
	// One listing of the server's tasks serves its tasks and its prune: one request instead of one per task.
	listing := kapacitor.NewListing(s.Kapacitor, h.Name)
	for _, sc := range scripts {
		t, err := kapacitor.NewTask(s.Kapacitor, h.Name, sc.Alert, []kapacitor.DBRP{{DB: h.Database, RP: h.rp()}}, sc.Text)
		if err != nil {
			return nil, err
		}
		add(c.kapacitorLimit, t.ReadFrom(listing))
		keep = append(keep, t.Name())
	}
	prune, err := kapacitor.NewPrune(s.Kapacitor, h.Name, keep)
	if err != nil {
		return nil, err
	}
	add(c.kapacitorLimit, prune.ReadFrom(listing))
	if del != nil {
		if absentErr != nil {
			return nil, absentErr
		}
		slices.Reverse(rs)
	}
	return rs, nil
}

// dashboardResources are the host's dashboard and its folder, and on the fleet's first host the shared folder and
// overview.
func (c *Catalog) dashboardResources(h Host) ([]engine.Resource, error) {
	s := c.cfg.Servers.Grafana
	var rs []engine.Resource
	folder := FleetFolderUID
	title := "Fleet (fleetctl)"
	if !c.cfg.FleetFolder && h.Group != "" {
		folder, title = GroupFolderUID(h.Group), h.Group+" (fleetctl)"
	}
	f, err := grafana.NewFolder(s, grafana.FolderSpec{UID: folder, Title: title})
	if err != nil {
		return nil, err
	}
	rs = append(rs, f)
	model, err := c.cfg.Dashboards.Host(dashboards.HostData{Host: h.Name, Database: h.Database, DatasourceUID: DatasourceUID(h.Name), Title: h.Name})
	if err != nil {
		return nil, fmt.Errorf("dashboard of %s: %w", h.Name, err)
	}
	d, err := grafana.NewDashboard(s, grafana.DashboardSpec{UID: DashboardUID(h.Name), FolderUID: folder, Model: model})
	if err != nil {
		return nil, err
	}
	rs = append(rs, d)
	if h.Name != c.first {
		return rs, nil
	}
	if folder != FleetFolderUID {
		ff, err := grafana.NewFolder(s, grafana.FolderSpec{UID: FleetFolderUID, Title: "Fleet (fleetctl)"})
		if err != nil {
			return nil, err
		}
		rs = append(rs, ff)
	}
	overview, err := c.cfg.Dashboards.Fleet(dashboards.FleetData{Title: "Fleet overview"})
	if err != nil {
		return nil, fmt.Errorf("fleet overview dashboard: %w", err)
	}
	o, err := grafana.NewDashboard(s, grafana.DashboardSpec{UID: OverviewUID, FolderUID: FleetFolderUID, Model: overview, Shared: true})
	if err != nil {
		return nil, err
	}
	return append(rs, o), nil
}

// The uids of the fleet's shared Grafana objects. A double dash never starts a host's uid (host names start with a
// letter or digit), so they cannot collide with one.
const (
	FleetFolderUID = "fleetctl--fleet"
	OverviewUID    = "fleetctl--overview"
)

// DashboardUID is the uid of a host's dashboard: the same as its datasource's (Grafana keeps the two apart).
func DashboardUID(host string) string { return DatasourceUID(host) }

// GroupFolderUID is the uid of a group's dashboard folder.
func GroupFolderUID(group string) string { return boundedUID("fleetctl--group-", group) }

var uidUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// boundedUID is prefix and name, or prefix, a cleaned cut of the name and a hash of it when that does not fit
// Grafana's 40 characters or its alphabet.
func boundedUID(prefix, name string) string {
	uid := prefix + name
	if len(uid) <= 40 && !uidUnsafe.MatchString(uid) {
		return uid
	}
	sum := sha256.Sum256([]byte(name))
	clean := uidUnsafe.ReplaceAllString(name, "_")
	if n := 40 - len(prefix) - 13; len(clean) > n {
		clean = clean[:n]
	}
	return prefix + clean + "-" + hex.EncodeToString(sum[:])[:12]
}

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

// withFleetSettings puts the fleet's Kapacitor service settings before the first host's Kapacitor resources, so
// every handler that needs them finds them set. They belong to the fleet, not to a host: they are not among a
// host's server resources, so destroying a host never resets them.
func (c *Catalog) withFleetSettings(h Host, rs []engine.Declared) ([]engine.Declared, error) {
	if h.Name != c.first || len(c.cfg.Services) == 0 {
		return rs, nil
	}
	k := c.cfg.Servers.Kapacitor
	fps := kapacitor.NewSettingsListing(k)
	var settings []engine.Declared
	for _, spec := range c.cfg.Services {
		spec.Master = c.cfg.Master
		r, err := kapacitor.NewConfig(k, spec, fps)
		if err != nil {
			return nil, err
		}
		settings = append(settings, engine.OnServer(c.kapacitorLimit.Wrap(r)))
	}
	at := len(rs)
	for i, d := range rs {
		if strings.HasPrefix(d.Kind(), "kapacitor.") {
			at = i
			break
		}
	}
	return append(rs[:at:at], append(settings, rs[at:]...)...), nil
}
