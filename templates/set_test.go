package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// userDir writes files (name → content) into a new folder and returns it.
func userDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const siteCheckConf = `[[inputs.http_response]]
  urls = [{{ .url }}]
  response_timeout = {{ .timeout }}
  username = {{ .user }}
  password = {{ .password }}
  [inputs.http_response.tags]
    check = {{ .label }}
{{- range $.extra }}
[[inputs.http_response]]
  urls = [{{ . }}]
{{- end }}
`

const siteCheckDecl = `doc = "one customer's site"

[vars.url]
type = "string"
doc = "the URL to check"

[vars.timeout]
type = "duration"
default = "5s"

[vars.user]
type = "string"
default = "monitor"

[vars.password]
type = "secret"

[vars.label]
type = "string"
default = "site"

[vars.extra]
type = "strings"
default = []
`

func TestUserInputRendersTypedValues(t *testing.T) {
	dir := userDir(t, map[string]string{"site_check.conf": siteCheckConf, "site_check.toml": siteCheckDecl,
		"profiles/customer.toml": `description = "a customer's web server"` + "\n" + `inputs = ["cpu", "site_check"]` + "\n"})
	s, _, err := mustShipped(t).WithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	in, ok := s.Input("site_check")
	if !ok || !in.HasSecret() {
		t.Fatalf("site_check not loaded with its secret: %+v", in)
	}
	url, _ := in.Var("url")
	v, err := url.Check("https://acme.example/\"quoted\"\nx")
	if err != nil {
		t.Fatal(err)
	}
	timeout, _ := in.Var("timeout")
	d, err := timeout.Check("1m30s")
	if err != nil {
		t.Fatal(err)
	}
	extra, _ := in.Var("extra")
	l, err := extra.Check([]any{"https://a.example/", "https://b.example/"})
	if err != nil {
		t.Fatal(err)
	}
	text, err := s.Render([]string{"cpu", "site_check"}, map[string]map[string]any{"site_check": {"url": v, "timeout": d, "extra": l}},
		func(key string) string { return TOMLString("<" + key + ">") })
	if err != nil {
		t.Fatal(err)
	}
	m := parses(t, text)
	checks := m["inputs"].(map[string]any)["http_response"].([]map[string]any)
	if len(checks) != 3 {
		t.Fatalf("want 3 http_response tables (one, then one per extra URL), got %d:\n%s", len(checks), text)
	}
	first := checks[0]
	if got := first["urls"].([]any)[0]; got != "https://acme.example/\"quoted\"\nx" {
		t.Errorf("url not escaped into a TOML string: %q\n%s", got, text)
	}
	if first["response_timeout"] != "1m30s" || first["username"] != "monitor" || first["password"] != "<site_check.password>" {
		t.Errorf("values: %v\n%s", first, text)
	}
	if p, err := s.Profile("customer"); err != nil || strings.Join(p.Inputs, ",") != "cpu,site_check" {
		t.Errorf("user profile: %v %v", p, err)
	}
}

func TestUserInputProblems(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // each must appear in the error
	}{
		{"collides with a shipped snippet", map[string]string{"nginx.conf": "[[inputs.nginx]]\n"},
			[]string{"nginx.conf: input \"nginx\" is also shipped with fleetctl (templates/inputs/nginx.conf)", "overrides_shipped = true in nginx.toml"}},
		{"not TOML", map[string]string{"bad.conf": "[[inputs.http]]\n  urls = [\"http://x\"\n"},
			[]string{"bad.conf:2: not valid TOML"}},
		{"a table that is no plugin", map[string]string{"tags.conf": "[[inputs.cpu]]\n\n[agent]\n  interval = \"1s\"\n"},
			[]string{"tags.conf:3: \"agent\" is not a Telegraf plugin table", "global_tags and agent keys"}},
		{"a single-bracket plugin", map[string]string{"one.conf": "[inputs.cpu]\n"},
			[]string{"one.conf:1: inputs.cpu is not an array of tables (write [[inputs.cpu]] (double brackets))"}},
		{"an undeclared variable", map[string]string{"site.conf": "[[inputs.http_response]]\n\n  urls = [{{ .url }}]\n"},
			[]string{"site.conf:3: variable \"url\" is not declared (declare it in site.toml as [vars.url]"}},
		{"a bad template", map[string]string{"tpl.conf": "[[inputs.cpu]]\n  x = {{ .y \n"},
			[]string{"tpl.conf:3: not a valid template: unclosed action"}},
		{"a wrong default", map[string]string{"w.conf": "[[inputs.net]]\n  interfaces = {{ .ifs }}\n",
			"w.toml": "[vars.ifs]\ntype = \"strings\"\ndefault = \"eth0\"\n"},
			[]string{"w.toml:1: vars.ifs: default: want an array of strings"}},
		{"an unknown type", map[string]string{"w.conf": "[[inputs.net]]\n", "w.toml": "\n[vars.ifs]\ntype = \"list\"\n"},
			[]string{"w.toml:2: vars.ifs: type \"list\" is not a variable type (one of string, strings"}},
		{"an unknown key", map[string]string{"w.conf": "[[inputs.net]]\n", "w.toml": "doc = \"x\"\noverride = true\n"},
			[]string{"w.toml:2: unknown key override"}},
		{"a group that is no group name", map[string]string{"g.conf": "[[inputs.cpu]]\n", "g.toml": "doc = \"x\"\nagent_groups = [\"docker\", \"Docker Users\"]\n"},
			[]string{`g.toml:2: agent_groups: "Docker Users" is not a group name (a group name as the host has it`}},
		{"a sudo command that is not absolute", map[string]string{"s.conf": "[[inputs.cpu]]\n", "s.toml": "\nsudo_commands = [\"smartctl\"]\n"},
			[]string{`s.toml:2: sudo_commands: "smartctl" is not an absolute command path (the command's absolute path, without arguments, such as "/usr/sbin/smartctl")`}},
		{"a sudo command with arguments", map[string]string{"s.conf": "[[inputs.cpu]]\n", "s.toml": "sudo_commands = [\"/usr/sbin/smartctl --scan\"]\n"},
			[]string{`s.toml:1: sudo_commands: "/usr/sbin/smartctl --scan" is not an absolute command path`}},
		{"a sudo command that climbs", map[string]string{"s.conf": "[[inputs.cpu]]\n", "s.toml": "sudo_commands = [\"/usr/sbin/../bin/sh\"]\n"},
			[]string{`s.toml:1: sudo_commands: "/usr/sbin/../bin/sh" is not an absolute command path`}},
		{"sudo commands of the wrong type", map[string]string{"s.conf": "[[inputs.cpu]]\n", "s.toml": "doc = \"x\"\nsudo_commands = \"/usr/sbin/smartctl\"\n"},
			[]string{`s.toml:2: not valid TOML`}},
		{"a profile of an unknown input", map[string]string{"profiles/p.toml": "inputs = [\"cpu\", \"nosuch\"]\n"},
			[]string{"profiles/p.toml:1: unknown telegraf input \"nosuch\""}},
		{"a profile colliding with a shipped one", map[string]string{"profiles/web.toml": "inputs = [\"cpu\"]\n"},
			[]string{"profiles/web.toml: profile \"web\" is also shipped"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := userDir(t, c.files)
			_, _, err := mustShipped(t).WithDir(dir)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := strings.ReplaceAll(err.Error(), dir+"/", "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestOverrideReplacesShipped(t *testing.T) {
	dir := userDir(t, map[string]string{"nginx.conf": "[[inputs.nginx]]\n  urls = [\"http://127.0.0.1:8080/status\"]\n",
		"nginx.toml": "overrides_shipped = true\n"})
	s, _, err := mustShipped(t).WithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	text, err := s.Render([]string{"nginx"}, nil, nil)
	if err != nil || !strings.Contains(text, "8080/status") {
		t.Fatalf("override not used: %v\n%s", err, text)
	}
	dir = userDir(t, map[string]string{"mine.conf": "[[inputs.cpu]]\n", "mine.toml": "overrides_shipped = true\n"})
	if _, _, err := mustShipped(t).WithDir(dir); err == nil || !strings.Contains(err.Error(), "fleetctl ships no input \"mine\"") {
		t.Fatalf("an override of nothing: %v", err)
	}
}

// A snippet declares what its agent needs on the host: the groups it joins and the commands it runs with sudo,
// sorted and without repeats; the shipped docker and smart snippets declare theirs.
func TestInputDeclaresAgentNeeds(t *testing.T) {
	dir := userDir(t, map[string]string{"disks.conf": "[[inputs.cpu]]\n",
		"disks.toml": "agent_groups = [\"disk\", \"adm\", \"disk\"]\nsudo_commands = [\"/usr/sbin/smartctl\", \"/usr/sbin/nvme\"]\n"})
	s, _, err := mustShipped(t).WithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.Input("disks")
	if got := strings.Join(in.AgentGroups, ","); got != "adm,disk" {
		t.Errorf("agent groups: %s", got)
	}
	if got := strings.Join(in.SudoCommands, ","); got != "/usr/sbin/nvme,/usr/sbin/smartctl" {
		t.Errorf("sudo commands: %s", got)
	}
	for name, want := range map[string][2]string{"docker": {"docker", ""}, "smart": {"", "/usr/sbin/smartctl"}, "cpu": {"", ""}} {
		in, _ := s.Input(name)
		if g, c := strings.Join(in.AgentGroups, ","), strings.Join(in.SudoCommands, ","); g != want[0] || c != want[1] {
			t.Errorf("%s: groups %q, sudo commands %q; want %q", name, g, c, want)
		}
	}
}

// Every shipped snippet is a valid snippet at its defaults (Shipped checks it on load) and declares what it uses.
func TestShippedSnippetsCheck(t *testing.T) {
	s := mustShipped(t)
	for _, name := range s.Names() {
		text, err := s.Render([]string{name}, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p := CheckSnippet(text); p != nil {
			t.Errorf("%s: %v", name, p)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", time.Second: "1s", time.Minute: "1m", 90 * time.Second: "1m30s",
		time.Hour: "1h", 500 * time.Millisecond: "500ms", time.Hour + time.Second: "1h0m1s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("%v: got %q, want %q", d, got, want)
		}
	}
}

func mustShipped(t *testing.T) *Set {
	t.Helper()
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
