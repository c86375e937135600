package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/templates"
)

// A host whose inputs hold a secret gets it, quoted, in an inputs file only root and the agent's group can read;
// with its values, agent settings and tags rendered as TOML. Unresolved (render, validate), the secret is masked.
func TestInputSecretsAndAgentSettings(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.toml")
	mine := filepath.Join(dir, "mine")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(mine, 0o755))
	must(os.WriteFile(filepath.Join(mine, "site_check.conf"), []byte("[[inputs.http_response]]\n  urls = [{{ .url }}]\n  password = {{ .password }}\n  response_timeout = {{ .timeout }}\n"), 0o644))
	must(os.WriteFile(filepath.Join(mine, "site_check.toml"), []byte("[vars.url]\ntype = \"string\"\n[vars.password]\ntype = \"secret\"\n[vars.timeout]\ntype = \"duration\"\ndefault = \"5s\"\n"), 0o644))
	must(os.WriteFile(inv, []byte(`[influxdb]
url = "http://127.0.0.1:8086"
admin_user = "admin"
admin_password = { env = "INFLUX_PW" }
[grafana]
url = "http://127.0.0.1:3000"
token = { env = "GRAFANA_TOKEN" }
[kapacitor]
url = "http://127.0.0.1:9092"
[secrets]
master = { env = "MASTER" }
[ssh]
user = "deploy"
[telegraf]
inputs_dir = "mine"
[defaults]
global_tags = { customer = "acme \"corp\"" }
agent = { interval = "90s", metric_batch_size = 500 }
[[hosts]]
name = "web1"
address = "10.0.0.5"
inputs_add = ["site_check"]
input_vars.site_check = { url = "https://acme.example/\"x\"", password = { env = "ACME_TOKEN" }, timeout = "1m" }
[[hosts]]
name = "web2"
address = "10.0.0.6"
`), 0o600))
	getenv := func(k string) string { return map[string]string{"ACME_TOKEN": "s3cr3t\"token"}[k] }
	parsed, err := inventory.Load(inv, getenv)
	must(err)
	set, err := templates.Shipped()
	must(err)
	set, _, err = set.WithDir(parsed.Telegraf.InputsDir)
	must(err)
	hosts, err := FromInventory(parsed, set, parsed.Hosts())
	must(err)
	f := system.Families()["apt"]

	masked, err := TelegrafFiles(f, hosts[0], AgentOutput{URL: "http://influx:8086"}, secret.New("pw"))
	must(err)
	if got := string(masked[2].Content); !strings.Contains(got, `password = "`+secret.Mask+`"`) {
		t.Errorf("unresolved secret not masked:\n%s", got)
	}
	values, err := ResolveInputSecrets(hosts)
	must(err)
	if len(values) != 1 || values[0].Reveal() != "s3cr3t\"token" {
		t.Fatalf("resolved %v", values)
	}
	files, err := TelegrafFiles(f, hosts[0], AgentOutput{URL: "http://influx:8086"}, secret.New("pw"))
	must(err)
	in := files[2]
	if in.Mode != 0o640 || in.Group != "telegraf" {
		t.Errorf("inputs file with a secret: mode %04o group %s", in.Mode, in.Group)
	}
	var m map[string]any
	if _, err := toml.Decode(string(in.Content), &m); err != nil {
		t.Fatalf("inputs file is not TOML: %v\n%s", err, in.Content)
	}
	hr := m["inputs"].(map[string]any)["http_response"].([]map[string]any)[0]
	if hr["password"] != "s3cr3t\"token" || hr["urls"].([]any)[0] != "https://acme.example/\"x\"" || hr["response_timeout"] != "1m" {
		t.Errorf("inputs: %v\n%s", hr, in.Content)
	}
	var agent map[string]any
	if _, err := toml.Decode(string(files[0].Content), &agent); err != nil {
		t.Fatal(err)
	}
	a := agent["agent"].(map[string]any)
	if a["interval"] != "1m30s" || a["flush_interval"] != "1m30s" || a["metric_batch_size"] != int64(500) || a["metric_buffer_limit"] != int64(10000) {
		t.Errorf("agent: %v", a)
	}
	if agent["global_tags"].(map[string]any)["customer"] != "acme \"corp\"" {
		t.Errorf("tags: %v", agent["global_tags"])
	}

	other, err := TelegrafFiles(f, hosts[1], AgentOutput{URL: "http://influx:8086"}, secret.New("pw"))
	must(err)
	if other[2].Mode != 0o644 || other[2].Group != "root" || strings.Contains(string(other[2].Content), "http_response") {
		t.Errorf("a host without the input: mode %04o group %s\n%s", other[2].Mode, other[2].Group, other[2].Content)
	}
}

// An input's secret goes where the agent's password goes: a reference into the systemd secret store and one more
// credential on a host that keeps credentials (the inputs file then holds no secret), the quoted value in a 0640
// inputs file elsewhere.
func TestInputSecretFollowsTheAgentsStorage(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "site_check.conf"), []byte("[[inputs.http_response]]\n  urls = [\"http://x/\"]\n  password = {{ .password }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "site_check.toml"), []byte("[vars.password]\ntype = \"secret\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := templates.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if set, _, err = set.WithDir(mine); err != nil {
		t.Fatal(err)
	}
	h := Host{Host: engine.Host{Name: "web1"}, Database: "web1", Inputs: []string{"cpu", "site_check"}, InputSet: set,
		InputSecrets: map[string]secret.Value{"site_check.password": secret.New("s3cret-input")}}
	f := system.Families()["apt"]
	inputsFile := func(files []system.FileSpec) system.FileSpec {
		for _, fs := range files {
			if strings.HasSuffix(fs.Path, "/"+inputsFileName) {
				return fs
			}
		}
		t.Fatalf("no inputs file in %d files", len(files))
		return system.FileSpec{}
	}

	a := &AgentSecrets{Storage: SecretStorage{Credentials: true}}
	files, err := telegrafFiles(f, h, AgentOutput{URL: "http://influx:8086"}, secret.New("pw"), a)
	if err != nil {
		t.Fatal(err)
	}
	in := inputsFile(files)
	if strings.Contains(string(in.Content), "s3cret-input") || !strings.Contains(string(in.Content), `"@{fleetctl:input_site_check_password}"`) {
		t.Errorf("inputs file with credentials:\n%s", in.Content)
	}
	if in.Mode != 0o644 {
		t.Errorf("inputs file holding only references: mode %o, want 644", in.Mode)
	}
	found := false
	for _, c := range a.Credentials() {
		found = found || (c.Name == "telegraf.input_site_check_password" && c.Value.Reveal() == "s3cret-input")
	}
	if !found {
		t.Errorf("credentials %v: none for the input's secret", a.names())
	}

	files, err = telegrafFiles(f, h, AgentOutput{URL: "http://influx:8086"}, secret.New("pw"), &AgentSecrets{Storage: SecretStorage{Why: "systemd 247"}})
	if err != nil {
		t.Fatal(err)
	}
	if in := inputsFile(files); !strings.Contains(string(in.Content), `"s3cret-input"`) || in.Mode != 0o640 || in.Group != "telegraf" {
		t.Errorf("fallback inputs file (mode %o, group %s):\n%s", in.Mode, in.Group, in.Content)
	}
}
