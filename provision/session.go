package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/dashboards"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/repokey"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Options is what a command tells the engine.
type Options struct {
	InventoryPath string
	// CheckSecrets makes validate resolve every secret source too (validate --secrets).
	CheckSecrets      bool
	Limit             []string // host name globs or groups; empty: every host
	Forks             int
	Only              []string // resource address globs; empty: every resource
	AcceptNewHostKeys bool
	// Lock takes each host's run lock (apply), waiting up to LockWait for another run to release it.
	Lock       bool
	LockWait   time.Duration
	Getenv     func(string) string
	Now        func() time.Time
	Log        *slog.Logger
	HTTPClient *http.Client
	// Destroy, when set, plans the selected hosts removed (fleetctl destroy) instead of onboarded.
	Destroy *catalog.DestroyOptions
	// NoRepoKey skips fetching the repository key: for commands that install nothing (status).
	NoRepoKey bool
	// PlanOnly: the run will not be applied (plan), so each host's connection ends once it is planned.
	PlanOnly bool
}

// DestroyOptions say how far `fleetctl destroy` goes (catalog.DestroyOptions).
type DestroyOptions = catalog.DestroyOptions

// Session is an opened inventory with its endpoints connected and secrets resolved: ready to plan.
type Session struct {
	Inventory    *inventory.Inventory
	Hosts        []catalog.Host
	engine       *engine.Engine
	masker       *secret.Masker
	cfg          catalog.Config
	closeSSH     func()
	closeGrafana func()
	destroy      *catalog.DestroyOptions // a destroy's session; nil: onboarding
	servers      catalog.Servers
	orphanSteps  []engine.Step // what PlanOrphans planned, for Prune
}

// OrphansHost is the name the orphans' changes carry for a host: they belong to none.
const OrphansHost = "orphans"

// PlanOrphans reads the servers for objects of fleetctl's that belong to no host of the inventory (selected or
// not) and plans them deleted (catalog.Orphans), a database only with deleteData; Prune carries that plan out.
func (s *Session) PlanOrphans(ctx context.Context, deleteData bool) ([]plan.Change, error) {
	chs, steps, err := s.orphans(ctx, deleteData)
	if err != nil {
		return nil, errors.New(s.masker.Mask(err.Error()))
	}
	s.orphanSteps = steps
	return chs, nil
}

// Prune deletes the orphans PlanOrphans planned, and returns the changes it made.
func (s *Session) Prune(ctx context.Context) ([]plan.Change, error) {
	applied, err := engine.ApplyHost(ctx, s.orphanSteps)
	if err != nil {
		err = errors.New(s.masker.Mask(err.Error()))
	}
	return applied, err
}

func (s *Session) orphans(ctx context.Context, deleteData bool) ([]plan.Change, []engine.Step, error) {
	dbs := map[string]string{}
	for _, h := range s.Inventory.Hosts() {
		dbs[h.Name] = h.Database
	}
	hp, steps, err := engine.PlanHost(ctx, OrphansHost, []engine.Declared{engine.OnServer(catalog.NewOrphans(s.servers, dbs, deleteData))})
	if err != nil {
		return nil, nil, err
	}
	var shown []plan.Change
	for _, ch := range hp.Changes {
		if ch.Action != plan.NoOp {
			shown = append(shown, ch)
		}
	}
	return shown, steps, nil
}

// Close releases the session's resources: the jump host connections, the ssh-agent connection and the Grafana
// login.
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
func (s *Session) Plan(ctx context.Context, ro engine.Rollout) *engine.Run {
	hosts := make([]engine.Host, len(s.Hosts))
	for i, h := range s.Hosts {
		hosts[i] = h.Host
	}
	run := s.engine.Plan(ctx, hosts, ro)
	run.Plan.Warnings = append(run.Plan.Warnings, InsecureServers(s.Inventory)...)
	return run
}

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

// Open loads and checks the inventory, selects hosts, resolves every secret, fetches and verifies the repository
// key, prepares the clients and checks each server's credentials once. Everything that would fail for every host
// fails here, before any host is touched.
func Open(ctx context.Context, o Options) (*Session, error) {
	o.defaults()
	inv, packs, inputs, err := loadChecked(o)
	if err != nil {
		return nil, err
	}
	selected, err := inv.Select(o.Limit)
	if err != nil {
		return nil, err
	}
	specs, err := catalog.FromInventory(inv, inputs, selected)
	if err != nil {
		return nil, err
	}
	if err := inv.CheckSecrets(); err != nil {
		return nil, err
	}
	inputSecrets, err := catalog.ResolveInputSecrets(specs) // the selected hosts' only
	if err != nil {
		return nil, err
	}
	for _, w := range inv.SecretFileWarnings() {
		o.Log.Warn(w)
	}
	// SSH settings first: ssh_config, jump hosts and keys are checked before any server is contacted.
	sshCfg, keyring, closeAgent, err := SSHConfig(inv, o.AcceptNewHostKeys, o.Getenv)
	if err != nil {
		return nil, err
	}
	if err := ResolveReach(inv, specs, &sshCfg, keyring, o.AcceptNewHostKeys, o.Getenv, o.Log); err != nil {
		closeAgent()
		return nil, err
	}
	closeSSH := func() {
		if sshCfg.Jumps != nil {
			sshCfg.Jumps.Close()
		}
		closeAgent()
	}
	var lock *engine.RunLock
	if o.Lock {
		lock = engine.NewRunLock(o.LockWait, o.Getenv, o.Now())
	}
	opened := false
	defer func() {
		if !opened {
			closeSSH()
		}
	}()
	m := secret.NewMasker()
	resolve := func(r inventory.SecretRef) secret.Value {
		v, _ := r.Resolve() // CheckSecrets proved every configured secret resolves
		m.Add(v)
		return v
	}
	cfg := catalog.Config{
		Masker: m, Packs: packs, Master: resolve(inv.Secrets.Master),
		Telegraf: catalog.TelegrafSettings{Package: inv.Telegraf.Package, Version: inv.Telegraf.Version, AgentURL: inv.InfluxDB.AgentURL,
			AgentCA: inv.InfluxDB.AgentCA, FileSecrets: inv.Telegraf.FileSecrets},
		Handlers: alertpacks.Handlers{LogPath: inv.Alerts.Log, Email: inv.Alerts.Email, Webhook: inv.Alerts.Webhook},
		Servers:  catalog.Servers{GrafanaInfluxURL: inv.InfluxDB.GrafanaURL},
		Contacts: contacts(inv, resolve), Services: services(inv, resolve),
		FleetFolder: inv.Grafana.DashboardFolders == "fleet",
	}
	if cfg.Dashboards, err = dashboards.Load(inv.Grafana.DashboardsDir); err != nil {
		return nil, fmt.Errorf("grafana.dashboards_dir in %s: %w", inv.File, err)
	}
	if cfg.Servers.Influx, err = influx.NewClient(influx.Config{URL: inv.InfluxDB.URL, Username: inv.InfluxDB.AdminUser,
		Password: resolve(inv.InfluxDB.AdminPassword), HTTPClient: o.HTTPClient, TLS: clientTLS("influxdb", inv.InfluxDB.TLS)}); err != nil {
		return nil, err
	}
	gcfg := grafana.Config{URL: inv.Grafana.URL, User: inv.Grafana.User, HTTPClient: o.HTTPClient, TLS: clientTLS("grafana", inv.Grafana.TLS)}
	if inv.Grafana.Token.IsSet() {
		gcfg.Token = resolve(inv.Grafana.Token)
	} else {
		gcfg.Password = resolve(inv.Grafana.Password)
	}
	if cfg.Servers.Grafana, err = grafana.NewClient(gcfg); err != nil {
		return nil, err
	}
	if cfg.Servers.Kapacitor, err = kapacitor.NewClient(kapacitor.Config{URL: inv.Kapacitor.URL, HTTPClient: o.HTTPClient,
		TLS: clientTLS("kapacitor", inv.Kapacitor.TLS)}); err != nil {
		return nil, err
	}
	warnCleartext(o.Log, inv)
	warnInsecure(o.Log, inv)
	if !o.NoRepoKey {
		raw, err := repokey.Fetch(ctx, o.HTTPClient, inv.Telegraf.KeyURL)
		if err != nil {
			return nil, fmt.Errorf("telegraf.key_url: %w", err)
		}
		key, err := repokey.Verify(raw, inv.Telegraf.KeyFingerprint)
		if err != nil {
			return nil, fmt.Errorf("telegraf.key_url %s: %w", inv.Telegraf.KeyURL, err)
		}
		cfg.Telegraf.Repo = system.Repo{AptURL: inv.Telegraf.AptURL, RPMURL: inv.Telegraf.RPMURL, Key: key.Binary, KeyArmored: key.Armored}
	}
	m.Add(sshCfg.SudoPassword)
	m.Add(inputSecrets...)
	for _, h := range specs {
		m.Add(secret.Derive(cfg.Master, h.Name, catalog.RoleWrite), secret.Derive(cfg.Master, h.Name, catalog.RoleRead))
	}
	closeGrafana := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg.Servers.Grafana.Close(ctx)
	}
	if err := checkServers(ctx, inv, cfg.Servers.Influx, cfg.Servers.Grafana); err != nil {
		closeGrafana()
		return nil, err
	}
	opened = true
	cat := catalog.New(cfg, specs)
	var builder engine.Builder = cat
	if o.Destroy != nil {
		builder = cat.Destroy(*o.Destroy)
	}
	return &Session{
		Inventory: inv, Hosts: specs, masker: m, cfg: cfg, closeSSH: closeSSH, closeGrafana: closeGrafana, destroy: o.Destroy, servers: cfg.Servers,
		engine: &engine.Engine{SSH: sshCfg, Builder: builder, Forks: o.Forks, Only: o.Only, Log: o.Log, Masker: m, Now: o.Now, Lock: lock,
			PlanOnly: o.PlanOnly},
	}, nil
}
