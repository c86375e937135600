package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/templates"
)

// The files fleetctl writes into the agent's configuration directory; the prefix marks the files it owns there and
// may delete. The main file and the directory depend on the OS family (system.Family).
const (
	ownedPrefix     = "fleetctl-"
	outputsFileName = ownedPrefix + "outputs.conf"
	inputsFileName  = ownedPrefix + "inputs.conf"
	// caFileName is the CA certificate the agent trusts for an https InfluxDB with a private CA. Telegraf loads only
	// *.conf files of its directory, so the certificate can live there, owned and pruned like the others.
	caFileName = ownedPrefix + "ca.pem"
)

// TelegrafSettings is the fleet-wide part of the agent's desired state.
type TelegrafSettings struct {
	Repo     system.Repo
	Package  string
	Version  string
	AgentURL string // InfluxDB URL as the hosts reach it
	AgentCA  []byte // PEM CA certificate the agents trust for AgentURL; nil for their system roots
	// FileSecrets keeps the agent's secrets in its files on every host (the inventory's telegraf.credentials = false).
	FileSecrets bool
}

// AgentOutput is where a host's agent writes: InfluxDB's URL as the host reaches it, and the CA certificate it
// trusts for it (PEM; nil for the system's roots).
type AgentOutput struct {
	URL string
	CA  []byte
}

// TelegrafQuery is what to read from a host for its Telegraf resources, whatever its OS turns out to be: the paths
// of every family, so detection and reading take one round trip.
func TelegrafQuery(pkg string) system.Query {
	q := system.Query{Files: system.RepoFilePaths(), Packages: []string{pkg}, Services: []string{"telegraf"}}
	mains, dirs := system.ConfigPaths()
	for i := range mains {
		q.Files = append(q.Files, mains[i], dirs[i]+"/"+outputsFileName, dirs[i]+"/"+inputsFileName, dirs[i]+"/"+caFileName)
		q.Dirs = append(q.Dirs, dirs[i])
	}
	return q
}

// TelegrafFiles renders the managed configuration files of a host into the family's paths, the agent writing to
// out's URL as the host's write user with the given password, kept in the outputs file (the fallback storage),
// trusting out's CA (a file of its own) when there is one. Every file is marked as TOML that may hold secrets.
func TelegrafFiles(f *system.Family, h Host, out AgentOutput, password secret.Value) ([]system.FileSpec, error) {
	return telegrafFiles(f, h, out, password, nil)
}

// telegrafFiles renders the files with every secret going through secrets (nil: in the files themselves).
func telegrafFiles(f *system.Family, h Host, out AgentOutput, password secret.Value, secrets *AgentSecrets) ([]system.FileSpec, error) {
	agent, err := templates.RenderAgent(agentSettings(h))
	if err != nil {
		return nil, err
	}
	caPath := ""
	if len(out.CA) > 0 {
		caPath = f.ConfigDir + "/" + caFileName
	}
	outputs, err := templates.RenderOutputs(templates.Outputs{InfluxURL: out.URL, Database: h.Database, RetentionPolicy: h.agentRP(),
		Username: WriteUser(h.Database), Password: secrets.Ref(keyInfluxPassword, password), SecretStore: storeID(secrets), TLSCA: caPath})
	if err != nil {
		return nil, err
	}
	set := h.InputSet
	if set == nil {
		if set, err = templates.Shipped(); err != nil {
			return nil, err
		}
	}
	inputs, err := set.Render(h.Inputs, h.InputValues, func(key string) string { return h.inputSecretText(secrets, key) })
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", h.Name, err)
	}
	// An input's secret is in the inputs file: then it is readable by root and the agent's group only, as the outputs
	// file is.
	inputsMode, inputsGroup := uint32(0o644), "root"
	for _, name := range h.Inputs {
		if in, ok := set.Input(name); ok && in.HasSecret() && !secrets.Store() {
			inputsMode, inputsGroup = 0o640, "telegraf"
		}
	}
	// Each file may hold a credential on the host, whatever fleetctl writes into it (a telegraf.conf configured by
	// hand before fleetctl took over): plans show them all masked by parsing.
	secretKeys := []string{"password"}
	files := []system.FileSpec{
		{Path: f.ConfigMain, Content: []byte(agent), Mode: 0o644, Owner: "root", Group: "root", SecretKeys: secretKeys},
		// The password is in here, or a reference to it: readable by root and the agent's group only.
		{Path: f.ConfigDir + "/" + outputsFileName, Content: []byte(outputs), Mode: 0o640, Owner: "root", Group: "telegraf", SecretKeys: secretKeys},
		{Path: f.ConfigDir + "/" + inputsFileName, Content: []byte(inputs), Mode: inputsMode, Owner: "root", Group: inputsGroup, SecretKeys: secretKeys},
	}
	if caPath != "" {
		// Public: shown in plans by subject, expiry and fingerprint rather than as a block of base64.
		files = append(files, system.FileSpec{Path: caPath, Content: out.CA, Mode: 0o644, Owner: "root", Group: "root",
			Summary: httpx.DescribeCertificates})
	}
	return files, nil
}

// inputSecretText is the one way an input's secret gets into a Telegraf file: the TOML text written for the secret
// variable key ("input.variable") of the host's snippets. It goes where the agent's password goes (secrets.Ref): a
// reference into the systemd secret store on a host that keeps credentials, else the value itself, quoted, in the
// inputs file (which then has mode 0640, group telegraf). Unresolved (render, validate), it is the mask.
func (h Host) inputSecretText(secrets *AgentSecrets, key string) string {
	v, ok := h.InputSecrets[key]
	if !ok {
		return templates.TOMLString(secret.Mask)
	}
	return templates.TOMLString(secrets.Ref("input_"+key, v))
}

// agentSettings are the host's [agent] and [global_tags] for its telegraf.conf.
func agentSettings(h Host) templates.Agent {
	d := func(v time.Duration) string {
		if v == 0 {
			return "" // the template's default
		}
		return templates.FormatDuration(v)
	}
	return templates.Agent{Hostname: h.Name, Interval: d(h.Agent.Interval), FlushInterval: d(h.Agent.FlushInterval),
		CollectionJitter: d(h.Agent.CollectionJitter), FlushJitter: d(h.Agent.FlushJitter),
		MetricBatchSize: h.Agent.MetricBatchSize, MetricBufferLimit: h.Agent.MetricBufferLimit, GlobalTags: h.GlobalTags}
}

// storeID is the id of the secret store the outputs file declares, "" for none.
func storeID(a *AgentSecrets) string {
	if a.Store() {
		return secretStoreID
	}
	return ""
}

// telegrafCheck validates the installed configuration with the agent itself before anything restarts it:
// `telegraf config check` from 1.32 on, a one-shot `--test` run on older agents. The version comes from the package
// database; the agent is asked only when the database has none (an agent installed by other means). The agent
// resolves secret references while it loads its configuration: the check gets a placeholder for each credential
// (nothing secret), in a directory of its own, as systemd would give the service the real ones.
func telegrafCheck(f *system.Family, pkg string, credentials []string) string {
	args := "--config " + remote.Quote(f.ConfigMain) + " --config-directory " + remote.Quote(f.ConfigDir)
	placeholders := ""
	if len(credentials) > 0 {
		placeholders = "export CREDENTIALS_DIRECTORY=\"$S/credentials-check\"\nmkdir -p -m 0700 \"$CREDENTIALS_DIRECTORY\"\n"
		for _, n := range credentials {
			placeholders += "printf placeholder > \"$CREDENTIALS_DIRECTORY\"/" + remote.Quote(n) + "\n"
		}
	}
	return placeholders + `v=$( (` + f.InstalledVersion(pkg) + `) | grep '^[0-9]')
[ -n "$v" ] || v=$(telegraf --version 2>/dev/null | sed -n 's/^Telegraf v\{0,1\}\([0-9][0-9.]*\).*/\1/p')
v=${v#*:}; major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
case "$major$minor" in ''|*[!0-9]*) major=0 minor=0 ;; esac
if [ "$major" -gt 1 ] || [ "$minor" -ge 32 ]; then
  out=$(telegraf config check ` + args + ` 2>&1) || { printf '%s\n' "$out" | grep ' E! ' || printf '%s\n' "$out"; exit 1; }
else
  out=$(timeout 60 telegraf --test ` + args + ` 2>&1 >/dev/null) || { printf '%s\n' "$out" | grep ' E! ' || printf '%s\n' "$out"; exit 1; }
fi`
}

// telegrafResources returns the host side, in apply order: repository and key, package, configuration, the
// agent's groups and sudo rule, service. The service watches the package, the configuration files and the agent's
// groups by address: a new package, new content or new groups restart it.
func telegrafResources(host string, r system.Runner, facts *system.Facts, os *system.OS, files []system.FileSpec, s TelegrafSettings, m *secret.Masker, secrets *AgentSecrets, access agentAccess) []engine.Declared {
	return newTelegrafSide(host, r, facts, os, files, s, m, secrets, access).declared()
}

// What the agent is granted on a host for its inputs (their agent_groups and sudo_commands): fleetctl owns the
// record of the groups it added the agent's user to, and the sudo rule.
const (
	agentUser         = "telegraf"
	agentGroupsRecord = "/etc/telegraf/fleetctl-groups"
	agentSudoers      = "/etc/sudoers.d/fleetctl-telegraf"
)

// agentAccess is the groups the host's agent must be in and the commands it runs with sudo, each with the inputs
// needing it.
type agentAccess struct {
	Groups, Commands []system.Need
}

// accessOf collects what the host's inputs declare they need.
func accessOf(h Host) agentAccess {
	set := h.InputSet
	if set == nil {
		var err error
		if set, err = templates.Shipped(); err != nil {
			return agentAccess{}
		}
	}
	groups, commands := map[string][]string{}, map[string][]string{}
	for _, name := range h.Inputs {
		in, ok := set.Input(name)
		if !ok {
			continue
		}
		by := name + " (" + strings.TrimSuffix(in.File, ".conf") + ".toml)"
		for _, g := range in.AgentGroups {
			groups[g] = append(groups[g], by)
		}
		for _, c := range in.SudoCommands {
			commands[c] = append(commands[c], by)
		}
	}
	needs := func(m map[string][]string) []system.Need {
		var out []system.Need
		for _, n := range slices.Sorted(maps.Keys(m)) {
			out = append(out, system.Need{Name: n, By: m[n]})
		}
		return out
	}
	return agentAccess{Groups: needs(groups), Commands: needs(commands)}
}

func (a agentAccess) membership(r system.Runner, facts *system.Facts, f *system.Family) *system.Membership {
	return system.NewMembership(r, facts, system.Membership{User: agentUser, Groups: a.Groups, Record: agentGroupsRecord, Family: f})
}

func (a agentAccess) sudoers(r system.Runner, facts *system.Facts) *system.Sudoers {
	return system.NewSudoers(r, facts, system.Sudoers{Path: agentSudoers, User: agentUser, Commands: a.Commands})
}

// query adds what the two resources read to q.
func (a agentAccess) query(q *system.Query) {
	for _, sub := range []system.Query{a.membership(nil, nil, nil).Query(), a.sudoers(nil, nil).Query()} {
		q.Files = append(q.Files, sub.Files...)
		q.Users = append(q.Users, sub.Users...)
		q.Groups = append(q.Groups, sub.Groups...)
		q.Commands = append(q.Commands, sub.Commands...)
	}
}

// telegrafSide is the host side's resources, by role (repo is nil for a family with no repository files).
type telegrafSide struct {
	repo  *system.FileSet
	pkg   *system.Package
	conf  *system.FileSet
	creds *system.Credentials
	// groups and sudo are what the agent is granted for its inputs.
	groups *system.Membership
	sudo   *system.Sudoers
	svc    *system.Service
}

func newTelegrafSide(host string, r system.Runner, facts *system.Facts, os *system.OS, files []system.FileSpec, s TelegrafSettings, m *secret.Masker, secrets *AgentSecrets, access agentAccess) telegrafSide {
	f := os.Family
	var t telegrafSide
	if repoFiles := f.RepoFiles(s.Repo); len(repoFiles) > 0 {
		t.repo = system.NewFileSet(r, facts, system.FileSet{Label: "telegraf repository", Files: repoFiles, Masker: m})
	}
	t.pkg = system.NewPackage(r, facts, system.Package{Pkg: s.Package, Version: s.Version, Family: f})
	t.conf = system.NewFileSet(r, facts, system.FileSet{Label: "telegraf config", Files: files, Watch: f.ConfigDir,
		OwnedPrefix: ownedPrefix, Check: telegrafCheck(f, s.Package, secrets.names()), Masker: m})
	t.creds = credentialsResource(host, r, facts, f, secrets)
	t.groups, t.sudo = access.membership(r, facts, f), access.sudoers(r, facts)
	var config []string
	for _, file := range files {
		config = append(config, file.Path)
	}
	watchCreds, units := credentialWatch(host)
	config = append(config, credentialFiles(secrets)...)
	// A process's groups are fixed when it starts: a group joined or left restarts the agent, and so does a record
	// of them newer than the agent (a run that stopped between the two).
	config = append(config, agentGroupsRecord)
	watch := []string{system.FileAddress(host, f.ConfigMain), system.FileAddress(host, f.ConfigDir+"/*"),
		plan.Address(host, system.KindGroup, "*"), system.FileAddress(host, agentGroupsRecord)}
	t.svc = system.NewService(r, facts, system.Service{Unit: "telegraf", Init: os.Init, Config: config,
		Package: plan.Address(host, t.pkg.Kind(), t.pkg.Name()),
		Watch:   append(watch, watchCreds...),
		Units:   units})
	return t
}

func (t telegrafSide) declared() []engine.Declared {
	var rs []engine.Declared
	if t.repo != nil {
		rs = append(rs, engine.OnHost(t.repo))
	}
	return append(rs, engine.OnHost(t.pkg), engine.OnHost(t.conf), engine.OnHost(t.creds), engine.OnHost(t.groups), engine.OnHost(t.sudo), engine.OnHost(t.svc))
}

// absent is the host side of a destroy, in apply order: the service stopped and disabled, fleetctl's files and
// credentials deleted, the agent taken out of the groups fleetctl added it to and its sudo rule deleted, and with
// purge the package, then the repository and its key, removed.
func (t telegrafSide) absent(purge bool) []engine.Declared {
	t.svc.Absent()
	t.conf.Absent()
	t.creds.Absent()
	t.groups.Absent()
	t.sudo.Absent()
	rs := []engine.Declared{engine.OnHost(t.svc), engine.OnHost(t.conf), engine.OnHost(t.creds), engine.OnHost(t.groups), engine.OnHost(t.sudo)}
	if purge {
		t.pkg.Absent()
		rs = append(rs, engine.OnHost(t.pkg))
		if t.repo != nil {
			t.repo.Absent()
			rs = append(rs, engine.OnHost(t.repo))
		}
	}
	return rs
}
