package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Inventory is a loaded, validated inventory. Sections are plain values with defaults applied; hosts are reached
// through Hosts, Host and Select because they are resolved (groups and defaults merged in).
type Inventory struct {
	File string // the path given to Load (or the name given to Parse); every message starts with it
	Dir  string // the folder relative paths in the inventory are resolved against

	InfluxDB  InfluxDB
	Grafana   Grafana
	Kapacitor Kapacitor
	Secrets   Secrets
	Telegraf  Telegraf
	SSH       SSH
	Alerts    Alerts

	hosts  []Host
	groups []string
	refs   []Ref
	getenv func(string) string
	home   string
	pos    map[string]position // where each key is, for errors found after loading (see Err)
}

// InfluxDB is the [influxdb] section: the InfluxDB 1.x server that gets one database and two users per host.
type InfluxDB struct {
	URL             string           // admin API, used by fleetctl; no trailing slash
	AgentURL        string           // what Telegraf on the hosts writes to; defaults to URL
	GrafanaURL      string           // what Grafana queries; defaults to URL
	AdminUser       string           //
	AdminPassword   SecretRef        //
	RetentionPolicy *RetentionPolicy // nil: databases keep InfluxDB's default policy, "autogen"
	TLS             TLS              // how fleetctl checks the server at URL
	// AgentCAFile is the CA the agents trust for AgentURL (agent_ca_file, else ca_file when AgentURL is https; ""
	// for their system roots), AgentCA its PEM content, installed on every host.
	AgentCAFile string
	AgentCA     []byte
}

// RP is the retention policy name for Kapacitor dbrps and Telegraf output: the configured one, else "autogen".
func (i InfluxDB) RP() string { return i.RetentionPolicy.NameOrDefault() }

// DefaultRetentionPolicy is the policy InfluxDB gives every database it creates.
const DefaultRetentionPolicy = "autogen"

// NameOrDefault is the policy's name; a nil policy is the database's default, DefaultRetentionPolicy.
func (p *RetentionPolicy) NameOrDefault() string {
	if p != nil {
		return p.Name
	}
	return DefaultRetentionPolicy
}

// RetentionPolicy is created (or altered) on every host database.
type RetentionPolicy struct {
	Name        string
	Duration    time.Duration // 0 means infinite (InfluxQL INF)
	Replication int           // default 1
	Default     bool          // default true: Telegraf writes to the default policy
}

// Grafana is the [grafana] section. Exactly one of Token (a service-account token, sent as Bearer) or User with
// Password (basic auth) is set.
type Grafana struct {
	URL      string
	Token    SecretRef
	User     string
	Password SecretRef
	TLS      TLS
	// DashboardFolders is where hosts' dashboards go: "group" (a folder per host's first group, the default) or
	// "fleet" (one folder).
	DashboardFolders string
	// DashboardsDir is a folder (absolute) whose host.json or fleet.json replace the shipped dashboard
	// templates; "" for none.
	DashboardsDir string
}

// Kapacitor is the [kapacitor] section.
type Kapacitor struct {
	URL string
	TLS TLS
	// Services are the [kapacitor.services.SECTION] settings, in section order.
	Services []Service
}

// Secrets is the [secrets] section.
type Secrets struct {
	Master SecretRef // per-host passwords are derived from it with secret.Derive
}

// Telegraf is the [telegraf] section: where the agent package comes from. Defaults are InfluxData's repositories.
type Telegraf struct {
	AptURL         string // the "deb" line's URL; suite "stable", component "main"
	RPMURL         string // yum/dnf/zypper baseurl, may contain $basearch
	KeyURL         string
	KeyFingerprint string // primary key fingerprint: 40 uppercase hex digits, no spaces
	Package        string // default "telegraf"
	Version        string // "" means the newest
	// InputsDir is a folder of the user's own input snippets and profiles (absolute), used beside the shipped ones;
	// "" for none.
	InputsDir string
	// FileSecrets (credentials = false) keeps the agent's password in its 0640 file on every host, never an
	// encrypted systemd credential.
	FileSecrets bool
}

// SSH is the [ssh] section: how fleetctl reaches the hosts.
type SSH struct {
	User              string        // default user; a host's user key overrides it
	Port              int           // default port, 22; a host's port key overrides it
	IdentityFiles     []string      // absolute paths
	UseAgent          bool          // default true: also use the ssh-agent at SSH_AUTH_SOCK
	KnownHosts        string        // absolute path; default ~/.ssh/known_hosts
	AcceptNewHostKeys bool          // trust and record keys of hosts not yet in KnownHosts (never changed keys)
	SudoPassword      SecretRef     // unset: sudo must be password-less
	ConnectTimeout    time.Duration // default 10s
	CommandTimeout    time.Duration // default 5m
	// ConfigFile is the OpenSSH client configuration read for each host (absolute; default ~/.ssh/config); "" when
	// config_file = "none". ConfigFileSet: written in the inventory, so a missing file is an error.
	ConfigFile    string
	ConfigFileSet bool
	ProxyJump     string // the fleet's jump hosts in OpenSSH syntax; "" when unset, "none" to go direct
	ProxyJumpFrom string // where ProxyJump is written, for messages: "inventory.toml:12 (ssh.proxy_jump)"
	// Which of the settings above the inventory writes: those win over ssh_config; the others are defaults that
	// ssh_config's values replace.
	UserSet, PortSet, IdentityFilesSet, KnownHostsSet, AcceptNewHostKeysSet bool
}

// Alerts is the [alerts] section: the handlers every alert pack's alerts go to. Values are safe inside TICK
// single-quoted string literals.
type Alerts struct {
	Log     string   // absolute path of Kapacitor's alert log; "" means no log handler
	Email   []string // addresses; empty means no email handler
	Webhook string   // URL for a post handler; "" means none
	// PacksDir is a folder of the team's own alert packs (absolute), used beside the shipped ones; "" for none.
	PacksDir string
	// Contacts are the [alerts.contacts.NAME] entries: what a host's routes name.
	Contacts     map[string]Contact
	contactNames []string
}

// Host is one [[hosts]] entry with defaults and groups merged in (see the package doc for the rules). Treat it as a
// value: Hosts and Select return copies.
type Host struct {
	Name    string
	Address string // IP address or DNS name, without port
	Port    int
	User    string
	Groups  []string // in the order the host lists them

	Profile    string         // input profile, "base" unless set
	InputsAdd  []string       // inputs to add to the profile's
	InputsDrop []string       // inputs to remove from the profile's (may name inputs the profile lacks)
	AlertPacks []string       // final list, in order of first mention
	Routes     []string       // contacts the host's alerts go to, in order of first mention
	Vars       map[string]any // string, int64, float64, bool, or []any of those
	Database   string
	// InputVars are the values of the inputs' variables: input → variable → string, int64, float64, bool, []any,
	// or a SecretRef. GlobalTags are Telegraf's [global_tags]; Agent its [agent] settings.
	InputVars  map[string]map[string]any
	GlobalTags map[string]string
	Agent      Agent

	// PortSet and UserSet say whether the inventory gives Port and User (the host, or ssh.port and ssh.user): those
	// win over ssh_config. ProxyJump is the host's jump hosts (its own proxy_jump, else its last group's, else
	// ssh.proxy_jump), "" when none of them sets it; ProxyJumpFrom says where it is written.
	PortSet, UserSet bool
	ProxyJump        string
	ProxyJumpFrom    string

	Index int // position in the file's hosts array: the N in hosts[N]
	Line  int // line of the host's [[hosts]] header
	file  string
}

// Where returns "inventory.toml:12" for the host, for messages.
func (h Host) Where() string { return where(h.file, h.Line) }

// Err returns an error located at the host, for checks the engine makes (an unknown alert pack, say).
func (h Host) Err(msg, fix string) *Error {
	return &Error{File: h.file, Line: h.Line, Key: fmt.Sprintf("hosts[%d]", h.Index), Msg: msg, Fix: fix}
}

func (h Host) clone() Host {
	h.Groups = slices.Clone(h.Groups)
	h.InputsAdd = slices.Clone(h.InputsAdd)
	h.InputsDrop = slices.Clone(h.InputsDrop)
	h.AlertPacks = slices.Clone(h.AlertPacks)
	h.Routes = slices.Clone(h.Routes)
	vars := make(map[string]any, len(h.Vars))
	for k, v := range h.Vars {
		if l, ok := v.([]any); ok {
			v = slices.Clone(l)
		}
		vars[k] = v
	}
	h.Vars = vars
	inputVars := make(map[string]map[string]any, len(h.InputVars))
	for in, vs := range h.InputVars {
		inputVars[in] = maps.Clone(vs)
	}
	h.InputVars, h.GlobalTags = inputVars, maps.Clone(h.GlobalTags)
	return h
}

// Ref is one mention of a name the inventory cannot check on its own (an alert pack, an input, a profile, a var),
// with its place, so the engine can check it against what it ships and report it like any inventory error.
type Ref struct {
	Kind string // "alert_pack", "input", "profile" or "var"
	Name string
	Key  string // e.g. "groups.web.inputs_add[0]"
	File string
	Line int
	col  int

	Value any      // a var's value as written at this place; nil for other kinds
	scope refScope // the level the mention is at, which decides the hosts it applies to
}

// Err returns an error located at the reference.
func (r Ref) Err(msg, fix string) *Error {
	return &Error{File: r.File, Line: r.Line, Key: r.Key, Msg: msg, Fix: fix}
}

// Hosts returns every host in file order.
func (inv *Inventory) Hosts() []Host {
	out := make([]Host, len(inv.hosts))
	for i, h := range inv.hosts {
		out[i] = h.clone()
	}
	return out
}

// Host returns the host with the given name.
func (inv *Inventory) Host(name string) (Host, bool) {
	for _, h := range inv.hosts {
		if h.Name == name {
			return h.clone(), true
		}
	}
	return Host{}, false
}

// Groups returns the defined group names, sorted.
func (inv *Inventory) Groups() []string { return slices.Clone(inv.groups) }

// Refs returns every alert pack, input, profile and var name mentioned anywhere (defaults, groups, hosts, drop
// lists included), in file order, so the engine can reject a typo even where it changes nothing.
func (inv *Inventory) Refs() []Ref { return slices.Clone(inv.refs) }

// secretRefs are the configured secrets.
func (inv *Inventory) secretRefs() []SecretRef {
	var out []SecretRef
	for _, r := range []SecretRef{inv.InfluxDB.AdminPassword, inv.Grafana.Token, inv.Grafana.Password, inv.Secrets.Master, inv.SSH.SudoPassword} {
		if r.IsSet() {
			out = append(out, r)
		}
	}
	return append(out, inv.routingSecretRefs()...)
}

// CheckSecrets resolves every configured secret and reports all that fail; for a preflight before any change.
func (inv *Inventory) CheckSecrets() error {
	var errs Errors
	for _, r := range inv.secretRefs() {
		if _, err := r.Resolve(); err != nil {
			var e *Error
			if errors.As(err, &e) {
				errs = append(errs, e)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	errs.Sort()
	return errs
}

// Load reads and validates the inventory at path. Relative paths inside it are relative to its folder. getenv
// (os.Getenv when nil) gives HOME for ~ (falling back to os.UserHomeDir) and is what SecretRef.Resolve reads env
// secrets with later; no secret is read here.
func Load(path string, getenv func(string) string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return Parse(path, data, dir, getenv)
}

// Parse validates an inventory held in memory; name is used in messages and dir resolves relative paths. On
// failure the error is an Errors listing every problem in file order.
func Parse(name string, data []byte, dir string, getenv func(string) string) (*Inventory, error) {
	inv, errs, err := parseAll(name, data, dir, getenv)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return inv, nil
}

// parseAll builds what it can of the inventory and returns it with every problem found; err is a syntax error, after
// which nothing could be built.
func parseAll(name string, data []byte, dir string, getenv func(string) string) (*Inventory, Errors, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, nil, syntaxError(name, err)
	}
	home := getenv("HOME")
	if home == "" {
		// A getenv written for a test rarely bothers with HOME; the default known_hosts still needs one.
		home, _ = os.UserHomeDir()
	}
	inv := &Inventory{File: name, Dir: dir, getenv: getenv, home: home}
	inv.pos = positions(string(data))
	b := &builder{inv: inv, d: &decoder{file: name, pos: inv.pos}}
	b.root = b.d.table("", raw)
	b.build()
	slices.SortStableFunc(inv.refs, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.col, b.col))
	})
	b.d.errs.Sort()
	return inv, b.d.errs, nil
}

func syntaxError(file string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg += fmt.Sprintf(" (after key %q)", pe.LastKey)
		}
		return Errors{{File: file, Line: pe.Position.Line, Col: pe.Position.Col, Msg: "syntax error: " + msg}}
	}
	return Errors{{File: file, Msg: "syntax error: " + err.Error()}}
}

// builder turns the decoded TOML into an Inventory, reporting into its decoder.
type builder struct {
	inv  *Inventory
	d    *decoder
	root *table

	defaults   *level
	groups     map[string]*level
	scope      refScope             // the level being read, recorded in its Refs
	groupJumps map[string][2]string // each group's proxy_jump and where it is written
	routeRefs  []routeRef           // every contact a route list names
}

func (b *builder) build() {
	r := b.root
	b.influxdb(r.sub("influxdb"))
	b.grafana(r.sub("grafana"))
	b.kapacitor(r.sub("kapacitor"))
	b.secrets(r.sub("secrets"))
	b.telegraf(r.sub("telegraf"))
	b.ssh(r.sub("ssh"))
	b.alerts(r.sub("alerts"))
	if t := r.sub("defaults"); t != nil {
		b.scope = refScope{}
		b.defaults = b.level(t)
		t.done()
	}
	b.groupsSection(r.sub("groups"))
	b.hostsSection()
	b.checkRoutes()
	r.done()
}

// section reports a required section that is absent. t is nil when the key exists but is not a table.
func (b *builder) section(t *table, required bool, fix string) bool {
	if t == nil {
		return false
	}
	if t.missing && required {
		b.d.add(t.path, position{}, fix, "required section is missing")
	}
	return true
}

func (b *builder) influxdb(t *table) {
	if !b.section(t, true, "add an [influxdb] section with url, admin_user and admin_password") {
		return
	}
	in := &b.inv.InfluxDB
	in.URL = t.url("url", true, `url = "http://127.0.0.1:8086"`)
	in.AgentURL = t.url("agent_url", false, "")
	if in.AgentURL == "" {
		in.AgentURL = in.URL
	}
	in.GrafanaURL = t.url("grafana_url", false, "")
	if in.GrafanaURL == "" {
		in.GrafanaURL = in.URL
	}
	in.TLS = b.tls(t, in.URL)
	in.AgentCAFile, in.AgentCA = b.agentCA(t, in)
	in.AdminUser = t.requiredStr("admin_user", `admin_user = "admin"`)
	in.AdminPassword = t.requiredSecret("admin_password", b.inv)
	if rt := t.sub("retention_policy"); rt != nil && !rt.missing {
		in.RetentionPolicy = b.retention(rt)
		rt.done()
	}
	t.done()
}

func (b *builder) retention(t *table) *RetentionPolicy {
	rp := &RetentionPolicy{Replication: 1, Default: true}
	rp.Name = t.requiredStr("name", `name = "fleet"`)
	if rp.Name != "" && !databaseRE.MatchString(rp.Name) {
		t.errorf("name", `use letters, digits, "_", "." and "-"`, "%q is not a valid retention policy name", rp.Name)
	}
	if s, ok := t.str("duration"); ok {
		if strings.EqualFold(s, "inf") {
			rp.Duration = 0
		} else if d, err := parseDuration(s); err != nil {
			t.errorf("duration", `write a duration such as "30d" or "52w", or "INF" to keep data forever`, "%v", err)
		} else if d < time.Hour && d != 0 {
			t.errorf("duration", `write at least "1h", or "INF" to keep data forever`, "%s is shorter than InfluxDB's minimum of 1h", s)
		} else {
			rp.Duration = d
		}
	} else if !t.has("duration") {
		t.required("duration", `add duration = "30d" (or "INF" to keep data forever)`)
	}
	if n, ok := t.integer("replication"); ok {
		if n < 1 {
			t.errorf("replication", "use 1 for a single InfluxDB server", "must be at least 1")
		} else {
			rp.Replication = int(n)
		}
	}
	if v, ok := t.boolean("default"); ok {
		rp.Default = v
	}
	return rp
}

func (b *builder) grafana(t *table) {
	if !b.section(t, true, "add a [grafana] section with url, and token or user and password") {
		return
	}
	g := &b.inv.Grafana
	g.URL = t.url("url", true, `url = "http://127.0.0.1:3000"`)
	g.Token = t.secret("token", b.inv)
	g.User, _ = t.user("user")
	g.Password = t.secret("password", b.inv)
	g.TLS = b.tls(t, g.URL)
	g.DashboardFolders = "group"
	if s, ok := t.str("dashboard_folders"); ok {
		switch s {
		case "group", "fleet":
			g.DashboardFolders = s
		default:
			t.errorf("dashboard_folders", `write "group" (a folder per group) or "fleet" (one folder)`, "unknown value %q", s)
		}
	}
	if s, ok := t.str("dashboards_dir"); ok && s != "" {
		p, err := expandPath(s, b.inv.Dir, b.inv.home)
		if err != nil {
			t.errorf("dashboards_dir", "write a folder path, relative to the inventory's folder or absolute", "%v", err)
		}
		g.DashboardsDir = p
	}
	hasToken, hasUser, hasPassword := t.has("token"), t.has("user"), t.has("password")
	switch {
	case t.missing:
	case hasToken && (hasUser || hasPassword):
		t.errorf("token", "keep either token, or user and password", "token and basic auth are both set")
	case hasUser && !hasPassword:
		t.errorf("password", `add password = { env = "GRAFANA_PASSWORD" }`, "required with user")
	case hasPassword && !hasUser:
		t.errorf("user", `add user = "admin"`, "required with password")
	case !hasToken && !hasUser:
		t.errorf("token", `add token = { env = "GRAFANA_TOKEN" } (a service-account token), or user and password`, "required: Grafana needs credentials")
	}
	t.done()
}

func (b *builder) kapacitor(t *table) {
	if !b.section(t, true, `add a [kapacitor] section with url = "http://127.0.0.1:9092"`) {
		return
	}
	b.inv.Kapacitor.URL = t.url("url", true, `url = "http://127.0.0.1:9092"`)
	b.inv.Kapacitor.TLS = b.tls(t, b.inv.Kapacitor.URL)
	b.services(t.sub("services"))
	t.done()
}

func (b *builder) secrets(t *table) {
	if !b.section(t, true, `add a [secrets] section with master = { file = "secrets/master" }`) {
		return
	}
	b.inv.Secrets.Master = t.requiredSecret("master", b.inv)
	t.done()
}

// InfluxData's repositories and signing key (see the project's notes on packaging).
const (
	defaultAptURL      = "https://repos.influxdata.com/debian"
	defaultRPMURL      = "https://repos.influxdata.com/stable/$basearch/main"
	defaultKeyURL      = "https://repos.influxdata.com/influxdata-archive.key"
	defaultFingerprint = "24C975CBA61A024EE1B631787C3D57159FC2F927"
)

func (b *builder) telegraf(t *table) {
	if !b.section(t, false, "") {
		return
	}
	tg := &b.inv.Telegraf
	tg.AptURL = orDefault(t.url("apt_url", false, ""), defaultAptURL)
	tg.RPMURL = orDefault(t.url("rpm_url", false, ""), defaultRPMURL)
	tg.KeyURL = orDefault(t.url("key_url", false, ""), defaultKeyURL)
	tg.KeyFingerprint = defaultFingerprint
	if s, ok := t.str("key_fingerprint"); ok {
		fp := strings.ToUpper(strings.Join(strings.Fields(s), ""))
		if len(fp) != 40 || strings.Trim(fp, "0123456789ABCDEF") != "" {
			t.errorf("key_fingerprint", "copy the primary key's fingerprint as printed by gpg --show-keys FILE", "not a key fingerprint: want 40 hex digits, got %d characters", len(fp))
		}
		tg.KeyFingerprint = fp
	} else if t.has("key_url") && !t.has("key_fingerprint") {
		// A different key without its fingerprint would be trusted blindly, or fail against InfluxData's.
		t.errorf("key_fingerprint", "add the primary fingerprint of the key at key_url", "required when key_url is set")
	}
	tg.Package = "telegraf"
	if s, ok := t.str("package"); ok {
		if !packageRE.MatchString(s) {
			t.errorf("package", `use a package name such as "telegraf"`, "%q is not a valid package name", s)
		}
		tg.Package = s
	}
	if s, ok := t.str("version"); ok && s != "" {
		if !versionRE.MatchString(s) {
			t.errorf("version", `use a version such as "1.37.2" or "1.37.2-1"`, "%q is not a valid package version", s)
		}
		tg.Version = s
	}
	if s, ok := t.str("inputs_dir"); ok {
		p, err := expandPath(s, b.inv.Dir, b.inv.home)
		if s == "" {
			err = errEmptyPath
		}
		if err != nil {
			t.errorf("inputs_dir", pathFix(err), "%v", err)
		}
		tg.InputsDir = p
	}
	if v, ok := t.boolean("credentials"); ok {
		tg.FileSecrets = !v
	}
	t.done()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (b *builder) ssh(t *table) {
	s := &b.inv.SSH
	s.Port, s.UseAgent = 22, true
	s.ConnectTimeout, s.CommandTimeout = 10*time.Second, 5*time.Minute
	known := "~/.ssh/known_hosts"
	if p, err := expandPath("~/.ssh/config", b.inv.Dir, b.inv.home); err == nil {
		s.ConfigFile = p
	}
	if p, err := expandPath(known, b.inv.Dir, b.inv.home); err == nil {
		s.KnownHosts = p
	}
	if !b.section(t, false, "") {
		return
	}
	s.User, _ = t.user("user")
	s.Port = t.port("port", 22)
	s.UserSet, s.PortSet = s.User != "", t.has("port")
	s.KnownHostsSet, s.AcceptNewHostKeysSet, s.IdentityFilesSet = t.has("known_hosts"), t.has("accept_new_host_keys"), t.has("identity_files")
	if v, ok := t.str("config_file"); ok {
		s.ConfigFileSet = true
		switch p, err := expandPath(v, b.inv.Dir, b.inv.home); {
		case v == "none":
			s.ConfigFile = ""
		case v == "" || err != nil:
			if err == nil {
				err = errEmptyPath
			}
			t.errorf("config_file", pathFix(err)+`, or "none" to read no ssh_config`, "%v", err)
		default:
			s.ConfigFile = p
		}
	}
	s.ProxyJump, s.ProxyJumpFrom = b.proxyJump(t)
	files, _ := t.strings("identity_files")
	for i, f := range files {
		p, err := expandPath(f, b.inv.Dir, b.inv.home)
		if f == "" {
			err = errEmptyPath
		}
		if err != nil {
			k := indexKey(t.key("identity_files"), i)
			b.d.add(k, b.d.at(k), pathFix(err), "%v", err)
			continue
		}
		s.IdentityFiles = append(s.IdentityFiles, p)
	}
	if v, ok := t.boolean("use_agent"); ok {
		s.UseAgent = v
	}
	if v, ok := t.str("known_hosts"); ok {
		known = v
	}
	p, err := expandPath(known, b.inv.Dir, b.inv.home)
	if known == "" {
		err = errEmptyPath
	}
	if err != nil {
		t.errorf("known_hosts", pathFix(err), "%v", err)
	} else {
		s.KnownHosts = p
	}
	if v, ok := t.boolean("accept_new_host_keys"); ok {
		s.AcceptNewHostKeys = v
	}
	s.SudoPassword = t.secret("sudo_password", b.inv)
	for _, k := range []string{"connect_timeout", "command_timeout"} {
		d, ok := t.duration(k)
		switch {
		case !ok:
		case d <= 0:
			t.errorf(k, `use a positive duration such as "30s"`, "must be positive")
		case k == "connect_timeout":
			s.ConnectTimeout = d
		default:
			s.CommandTimeout = d
		}
	}
	if !s.UseAgent && len(files) == 0 {
		t.errorf("use_agent", `set identity_files = ["~/.ssh/id_ed25519"] or use_agent = true`, "no way to authenticate: no identity_files and use_agent is false")
	}
	t.done()
}

func (b *builder) alerts(t *table) {
	if !b.section(t, false, "") {
		return
	}
	a := &b.inv.Alerts
	if s, ok := t.str("log"); ok && s != "" {
		switch {
		case !strings.HasPrefix(s, "/"):
			t.errorf("log", `write an absolute path on the Kapacitor server, such as "/var/log/kapacitor/alerts.log"`, "must be an absolute path")
		case tickUnsafe(s):
			t.errorf("log", "remove quotes, backslashes and newlines", "would break the TICK string literal it is written into")
		}
		a.Log = s
	}
	if list, ok := t.strings("email"); ok {
		for i, s := range list {
			k := indexKey(t.key("email"), i)
			if addr, err := mailAddress(s); err != nil || addr != s || tickUnsafe(s) {
				b.d.add(k, b.d.at(k), `write a bare address such as "ops@example.com"`, "%q is not an email address", s)
				continue
			}
			a.Email = append(a.Email, s)
		}
	}
	if u := t.url("webhook", false, ""); u != "" {
		if tickUnsafe(u) {
			t.errorf("webhook", "percent-encode quotes and backslashes", "would break the TICK string literal it is written into")
		}
		a.Webhook = u
	}
	if s, ok := t.str("packs_dir"); ok && s != "" {
		p, err := expandPath(s, b.inv.Dir, b.inv.home)
		if err != nil {
			t.errorf("packs_dir", "write a folder path, relative to the inventory's folder or absolute", "%v", err)
		}
		a.PacksDir = p
	}
	b.contacts(t.sub("contacts"))
	t.done()
}

func (b *builder) groupsSection(t *table) {
	b.groups = map[string]*level{}
	b.groupJumps = map[string][2]string{}
	if t == nil || t.missing {
		return
	}
	names := slices.Sorted(maps.Keys(t.m))
	for _, name := range names {
		gt := t.sub(name)
		if gt == nil {
			continue
		}
		if why := checkName(name); why != "" {
			t.errorf(name, nameFix(name), "invalid group name %q: %s", name, why)
		}
		b.scope = refScope{group: name}
		pj, from := b.proxyJump(gt)
		b.groupJumps[name] = [2]string{pj, from}
		b.groups[name] = b.level(gt)
		b.inv.groups = append(b.inv.groups, name)
		gt.done()
	}
	t.done()
}

func (b *builder) hostsSection() {
	r := b.root
	v, ok := r.get("hosts")
	fix := `add a [[hosts]] section per host, with name and address`
	if !ok {
		b.d.add("hosts", position{}, fix, "at least one host is required")
		return
	}
	var list []map[string]any // nil entries are elements that are not tables, reported here
	switch v := v.(type) {
	case []map[string]any:
		list = v
	case []any:
		list = make([]map[string]any, len(v))
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				k := indexKey("hosts", i)
				b.d.add(k, b.d.at(k), `write { name = "web1", address = "10.0.0.5" }`, "must be a table, not %s", typeName(e))
				continue
			}
			list[i] = m
		}
	case map[string]any:
		r.errorf("hosts", "write [[hosts]] (double brackets) before each host", "must be an array of tables, not a single table")
		return
	default:
		r.wrongType("hosts", v, "an array of tables", "[[hosts]] sections")
		return
	}
	if len(list) == 0 {
		r.errorf("hosts", fix, "at least one host is required")
		return
	}

	firstName := map[string]Host{}
	firstDB := map[string]Host{}
	firstAddr := map[string]Host{}
	for i, m := range list {
		if m == nil {
			continue
		}
		h := b.host(i, m)
		ht := b.d.table(indexKey("hosts", i), m)
		dupName := false
		if h.Name != "" {
			lower := strings.ToLower(h.Name)
			if prev, dup := firstName[lower]; dup {
				dupName = true
				also := prev.Where()
				if prev.Name != h.Name {
					also += fmt.Sprintf(" as %q; names are compared ignoring case", prev.Name)
				}
				ht.errorf("name", "rename one of them", "duplicate host name %q, also at %s", h.Name, also)
			} else {
				firstName[lower] = h
			}
			if _, clash := b.groups[h.Name]; clash {
				ht.errorf("name", "rename the host or the group", "%q is also a group name, so selecting it would be ambiguous", h.Name)
			}
		}
		if h.Database != "" && !dupName { // a duplicate name has a duplicate default database: say it once
			if prev, dup := firstDB[h.Database]; dup {
				ht.errorf("database", "set a distinct database for one of them", "database %q is also used by host %q at %s", h.Database, prev.Name, prev.Where())
			} else {
				firstDB[h.Database] = h
			}
		}
		if h.Address != "" {
			addr := strings.ToLower(strings.TrimSuffix(h.Address, "."))
			if ip, err := netip.ParseAddr(h.Address); err == nil {
				addr = ip.String()
			}
			addr = fmt.Sprintf("%s port %d", addr, h.Port)
			if prev, dup := firstAddr[addr]; dup {
				ht.errorf("address", "each host owns its Telegraf configuration, so list a machine once", "%s is also host %q at %s", addr, prev.Name, prev.Where())
			} else {
				firstAddr[addr] = h
			}
		}
		b.inv.hosts = append(b.inv.hosts, h)
	}
}

func (b *builder) host(i int, m map[string]any) Host {
	key := indexKey("hosts", i)
	t := b.d.table(key, m)
	h := Host{Index: i, Line: b.d.at(key).line, file: b.d.file}

	h.Name = t.requiredStr("name", `name = "web1"`)
	if h.Name != "" {
		if why := checkName(h.Name); why != "" {
			t.errorf("name", nameFix(h.Name), "invalid host name %q: %s", h.Name, why)
		}
	}
	h.Address = t.requiredStr("address", `address = "10.0.0.5", an IP address or DNS name`)
	if h.Address != "" {
		if problem, fix := checkAddress(h.Address); problem != "" {
			t.errorf("address", fix, "%q: %s", h.Address, problem)
		}
	}
	h.Port = t.port("port", b.inv.SSH.Port)
	h.User = b.inv.SSH.User
	if u, ok := t.user("user"); ok {
		h.User = u
	}
	h.PortSet, h.UserSet = t.has("port") || b.inv.SSH.PortSet, h.User != ""
	// With an ssh_config file the user may come from its User; provision checks that one is found.
	if h.User == "" && !t.has("user") && b.inv.SSH.ConfigFile == "" {
		t.errorf("user", `set user here, or ssh.user for all hosts (or User in an ssh_config file)`, "no SSH user")
	}
	h.ProxyJump, h.ProxyJumpFrom = b.inv.SSH.ProxyJump, b.inv.SSH.ProxyJumpFrom
	if groups, ok := t.strings("groups"); ok {
		seen := map[string]bool{}
		for j, g := range groups {
			k := indexKey(t.key("groups"), j)
			switch {
			case seen[g]:
				b.d.add(k, b.d.at(k), "list it once", "group %q listed twice", g)
			case b.groups[g] == nil:
				fix := DidYouMean(g, b.inv.groups)
				if fix == "" {
					fix = fmt.Sprintf("define it with a [groups.%s] section", joinKey("", g))
				}
				b.d.add(k, b.d.at(k), fix, "unknown group %q", g)
			default:
				h.Groups = append(h.Groups, g)
			}
			seen[g] = true
		}
	}
	h.Database = defaultDatabase(h.Name)
	if db, ok := t.str("database"); ok {
		if !databaseRE.MatchString(db) {
			t.errorf("database", `use letters, digits, "_", "." and "-", starting with a letter, digit or "_"`, "%q is not a valid database name", db)
		}
		h.Database = db
	}
	b.scope = refScope{host: i + 1}
	ownJump, ownJumpFrom := b.proxyJump(t)
	own := b.level(t)
	t.done()

	levels := []*level{b.defaults}
	for _, g := range h.Groups {
		levels = append(levels, b.groups[g])
		if j := b.groupJumps[g]; j[0] != "" {
			h.ProxyJump, h.ProxyJumpFrom = j[0], j[1]
		}
	}
	if ownJump != "" {
		h.ProxyJump, h.ProxyJumpFrom = ownJump, ownJumpFrom
	}
	levels = append(levels, own)
	merge(&h, levels)
	b.checkAgent(t, h)
	return h
}
