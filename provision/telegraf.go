package provision

import (
	"fmt"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/templates"
)

// Where Telegraf's configuration lives on every supported Linux variant.
const (
	TelegrafMain    = "/etc/telegraf/telegraf.conf"
	TelegrafDir     = "/etc/telegraf/telegraf.d"
	TelegrafOutputs = TelegrafDir + "/fleetctl-outputs.conf"
	TelegrafInputs  = TelegrafDir + "/fleetctl-inputs.conf"
	// ownedPrefix marks files in TelegrafDir that fleetctl wrote and may delete.
	ownedPrefix = "fleetctl-"
)

// TelegrafSettings is the fleet-wide part of the agent's desired state.
type TelegrafSettings struct {
	Repo     system.Repo
	Package  string
	Version  string
	AgentURL string // InfluxDB URL as the hosts reach it
	Interval string
}

// TelegrafQuery is what to read from a host for its Telegraf resources, whatever its OS turns out to be.
func TelegrafQuery(pkg string) system.Query {
	return system.Query{
		Files:    append(system.RepoFilePaths(), TelegrafMain, TelegrafOutputs, TelegrafInputs),
		Dirs:     []string{TelegrafDir},
		Packages: []string{pkg},
		Services: []string{"telegraf"},
	}
}

// TelegrafFiles renders the managed configuration files of a host. The password is inside the outputs file; the
// caller's masker must know it.
func TelegrafFiles(h HostSpec, agentURL, rp, user string, password secret.Value, interval string) ([]system.FileSpec, error) {
	agent, err := templates.RenderAgent(templates.Agent{Hostname: h.Name, Interval: interval, GlobalTags: h.GlobalTags})
	if err != nil {
		return nil, err
	}
	outputs, err := templates.RenderOutputs(templates.Outputs{InfluxURL: agentURL, Database: h.Database, RetentionPolicy: rp,
		Username: user, Password: password.Reveal()})
	if err != nil {
		return nil, err
	}
	inputs, err := templates.RenderInputs(h.Inputs)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", h.Name, err)
	}
	return []system.FileSpec{
		{Path: TelegrafMain, Content: []byte(agent), Mode: 0o644, Owner: "root", Group: "root"},
		// The password is in here: readable by root and the agent's group only.
		{Path: TelegrafOutputs, Content: []byte(outputs), Mode: 0o640, Owner: "root", Group: "telegraf", SecretKeys: []string{"password"}},
		{Path: TelegrafInputs, Content: []byte(inputs), Mode: 0o644, Owner: "root", Group: "root"},
	}, nil
}

// telegrafCheck validates the installed configuration with the agent itself before anything restarts it:
// `telegraf config check` from 1.32 on, a one-shot `--test` run on older agents.
const telegrafCheck = `v=$(telegraf --version 2>/dev/null | sed -n 's/^Telegraf v\{0,1\}\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
set -- $v
if [ "${1:-0}" -gt 1 ] || [ "${2:-0}" -ge 32 ]; then
  out=$(telegraf config check --config ` + TelegrafMain + ` --config-directory ` + TelegrafDir + ` 2>&1) || { printf '%s\n' "$out" | grep ' E! ' || printf '%s\n' "$out"; exit 1; }
else
  out=$(timeout 60 telegraf --test --config ` + TelegrafMain + ` --config-directory ` + TelegrafDir + ` 2>&1 >/dev/null) || { printf '%s\n' "$out" | grep ' E! ' || printf '%s\n' "$out"; exit 1; }
fi`

// telegrafResources returns the host side, in apply order: repository and key, package, configuration, service.
func telegrafResources(r system.Runner, facts *system.Facts, os *system.OS, files []system.FileSpec, s TelegrafSettings, m *secret.Masker) []Resource {
	repo := system.NewFileSet(r, facts, system.FileSet{Label: "telegraf repository", Files: os.Variant.RepoFiles(s.Repo), Masker: m})
	pkg := system.NewPackage(r, facts, system.Package{Pkg: s.Package, Version: s.Version, Variant: os.Variant})
	conf := system.NewFileSet(r, facts, system.FileSet{Label: "telegraf config", Files: files, Watch: TelegrafDir,
		OwnedPrefix: ownedPrefix, Check: telegrafCheck, Masker: m})
	svc := system.NewService(r, facts, system.Service{Unit: "telegraf", Init: os.Init, RestartOn: func(c plan.Change) bool {
		return c.Kind == "package" || (c.Kind == "file" && strings.HasPrefix(c.Name, "/etc/telegraf/"))
	}})
	return []Resource{repo, pkg, conf, svc}
}
