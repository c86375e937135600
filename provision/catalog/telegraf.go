package catalog

import (
	"fmt"

	"github.com/fleetctl/fleetctl/provision/engine"
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
)

// TelegrafSettings is the fleet-wide part of the agent's desired state.
type TelegrafSettings struct {
	Repo     system.Repo
	Package  string
	Version  string
	AgentURL string // InfluxDB URL as the hosts reach it
}

// TelegrafQuery is what to read from a host for its Telegraf resources, whatever its OS turns out to be: the paths
// of every family, so detection and reading take one round trip.
func TelegrafQuery(pkg string) system.Query {
	q := system.Query{Files: system.RepoFilePaths(), Packages: []string{pkg}, Services: []string{"telegraf"}}
	mains, dirs := system.ConfigPaths()
	for i := range mains {
		q.Files = append(q.Files, mains[i], dirs[i]+"/"+outputsFileName, dirs[i]+"/"+inputsFileName)
		q.Dirs = append(q.Dirs, dirs[i])
	}
	return q
}

// TelegrafFiles renders the managed configuration files of a host into the family's paths, the agent writing to
// agentURL as the host's write user with the given password. The password is inside the outputs file; every file
// is marked as TOML that may hold secrets.
func TelegrafFiles(f *system.Family, h Host, agentURL string, password secret.Value) ([]system.FileSpec, error) {
	agent, err := templates.RenderAgent(templates.Agent{Hostname: h.Name})
	if err != nil {
		return nil, err
	}
	outputs, err := templates.RenderOutputs(templates.Outputs{InfluxURL: agentURL, Database: h.Database, RetentionPolicy: h.agentRP(),
		Username: WriteUser(h.Database), Password: password.Reveal()})
	if err != nil {
		return nil, err
	}
	inputs, err := templates.RenderInputs(h.Inputs)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", h.Name, err)
	}
	// Each file may hold a credential on the host, whatever fleetctl writes into it (a telegraf.conf configured by
	// hand before fleetctl took over): plans show them all masked by parsing.
	secretKeys := []string{"password"}
	return []system.FileSpec{
		{Path: f.ConfigMain, Content: []byte(agent), Mode: 0o644, Owner: "root", Group: "root", SecretKeys: secretKeys},
		// The password is in here: readable by root and the agent's group only.
		{Path: f.ConfigDir + "/" + outputsFileName, Content: []byte(outputs), Mode: 0o640, Owner: "root", Group: "telegraf", SecretKeys: secretKeys},
		{Path: f.ConfigDir + "/" + inputsFileName, Content: []byte(inputs), Mode: 0o644, Owner: "root", Group: "root", SecretKeys: secretKeys},
	}, nil
}

// telegrafCheck validates the installed configuration with the agent itself before anything restarts it:
// `telegraf config check` from 1.32 on, a one-shot `--test` run on older agents. The version comes from the package
// database; the agent is asked only when the database has none (an agent installed by other means).
func telegrafCheck(f *system.Family, pkg string) string {
	args := "--config " + remote.Quote(f.ConfigMain) + " --config-directory " + remote.Quote(f.ConfigDir)
	return `v=$( (` + f.InstalledVersion(pkg) + `) | grep '^[0-9]')
[ -n "$v" ] || v=$(telegraf --version 2>/dev/null | sed -n 's/^Telegraf v\{0,1\}\([0-9][0-9.]*\).*/\1/p')
v=${v#*:}; major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
case "$major$minor" in ''|*[!0-9]*) major=0 minor=0 ;; esac
if [ "$major" -gt 1 ] || [ "$minor" -ge 32 ]; then
  out=$(telegraf config check ` + args + ` 2>&1) || { printf '%s\n' "$out" | grep ' E! ' || printf '%s\n' "$out"; exit 1; }
else
  out=$(timeout 60 telegraf --test ` + args + ` 2>&1 >/dev/null) || { printf '%s\n' "$out" | grep ' E! ' || printf '%s\n' "$out"; exit 1; }
fi`
}

// telegrafResources returns the host side, in apply order: repository and key, package, configuration, service.
// The service watches the package and the configuration files by address: a new package or new content restarts it.
func telegrafResources(host string, r system.Runner, facts *system.Facts, os *system.OS, files []system.FileSpec, s TelegrafSettings, m *secret.Masker) []engine.Declared {
	return newTelegrafSide(host, r, facts, os, files, s, m).declared()
}

// telegrafSide is the host side's resources, by role (repo is nil for a family with no repository files).
type telegrafSide struct {
	repo *system.FileSet
	pkg  *system.Package
	conf *system.FileSet
	svc  *system.Service
}

func newTelegrafSide(host string, r system.Runner, facts *system.Facts, os *system.OS, files []system.FileSpec, s TelegrafSettings, m *secret.Masker) telegrafSide {
	f := os.Family
	var t telegrafSide
	if repoFiles := f.RepoFiles(s.Repo); len(repoFiles) > 0 {
		t.repo = system.NewFileSet(r, facts, system.FileSet{Label: "telegraf repository", Files: repoFiles, Masker: m})
	}
	t.pkg = system.NewPackage(r, facts, system.Package{Pkg: s.Package, Version: s.Version, Family: f})
	t.conf = system.NewFileSet(r, facts, system.FileSet{Label: "telegraf config", Files: files, Watch: f.ConfigDir,
		OwnedPrefix: ownedPrefix, Check: telegrafCheck(f, s.Package), Masker: m})
	var config []string
	for _, file := range files {
		config = append(config, file.Path)
	}
	t.svc = system.NewService(r, facts, system.Service{Unit: "telegraf", Init: os.Init, Config: config,
		Package: plan.Address(host, t.pkg.Kind(), t.pkg.Name()),
		Watch:   []string{system.FileAddress(host, f.ConfigMain), system.FileAddress(host, f.ConfigDir+"/*")}})
	return t
}

func (t telegrafSide) declared() []engine.Declared {
	var rs []engine.Declared
	if t.repo != nil {
		rs = append(rs, engine.OnHost(t.repo))
	}
	return append(rs, engine.OnHost(t.pkg), engine.OnHost(t.conf), engine.OnHost(t.svc))
}

// absent is the host side of a destroy, in apply order: the service stopped and disabled, fleetctl's files
// deleted, and with purge the package, then the repository and its key, removed.
func (t telegrafSide) absent(purge bool) []engine.Declared {
	t.svc.Absent()
	t.conf.Absent()
	rs := []engine.Declared{engine.OnHost(t.svc), engine.OnHost(t.conf)}
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
