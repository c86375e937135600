package ansible

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/inventory"
)

func TestExpandRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "web", want: []string{"web"}},
		{in: "web[01:03]", want: []string{"web01", "web02", "web03"}},
		{in: "db-[a:c]", want: []string{"db-a", "db-b", "db-c"}},
		{in: "n[1:9:4]", want: []string{"n1", "n5", "n9"}},
		{in: "[:2].x", want: []string{"0.x", "1.x", "2.x"}},
		{in: "r[1:2]-[a:b]", want: []string{"r1-a", "r1-b", "r2-a", "r2-b"}},
		{in: "w[8:11]", want: []string{"w8", "w9", "w10", "w11"}},
		{in: "w[08:011]", err: "same length"},
		{in: "w[3:1]", err: "yields no hosts"},
		{in: "w[c:a]", err: "begin must not be after end"},
		{in: "w[1:]", err: "end value"},
		{in: "w[1:2:0]", err: "positive"},
		{in: "w[1:x]", err: "both be numbers"},
	} {
		got, err := expandRange(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestSplitHostPattern(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
	}{
		{"web1", "web1", 0},
		{"web1:2222", "web1", 2222},
		{"web[01:03]:2222", "web[01:03]", 2222},
		{"10.0.0.1:22", "10.0.0.1", 22},
		{"[::1]:2222", "::1", 2222},
		{"fe80::1", "fe80::1", 0},
		{"host:abc", "host:abc", 0},
		{"bad-:22", "bad-:22", 0}, // not a host name to Ansible, so the port is not split off either
	} {
		h, p := splitHostPattern(tc.in)
		if h != tc.host || p != tc.port {
			t.Errorf("%s: %q %d, want %q %d", tc.in, h, p, tc.host, tc.port)
		}
	}
}

func TestPyLiteral(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"2222", int64(2222)},
		{"0x16", int64(22)},
		{"1_000", int64(1000)},
		{"-5", int64(-5)},
		{"022", "022"}, // a SyntaxError to Python, so the text stays
		{"1.5", 1.5},
		{"True", true},
		{"None", nil},
		{"'deploy'", "deploy"},
		{`"a\tb"`, "a\tb"},
		{`r"a\tb"`, `a\tb`},
		{`'a' "b"`, "ab"},
		{"deploy", "deploy"},
		{"deploy  # comment", "deploy  # comment"},
		{"10.0.0.1", "10.0.0.1"},
		{"[1, 2]", Other{"a list or mapping"}},
		{"[::1]", "[::1]"}, // not valid Python: a string
		{"1j", Other{"a complex number"}},
	} {
		if got := pyLiteral(tc.in).V; got != tc.want {
			t.Errorf("%s: %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestShlex(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: `web1 a=1 b="two words"`, want: []string{"web1", "a=1", "b=two words"}},
		{in: `web1 a=x#comment b=2`, want: []string{"web1", "a=x"}},
		{in: `web1 a="x#kept"`, want: []string{"web1", "a=x#kept"}},
		{in: `web1 a='it\'s'`, err: true},
		{in: `web1 a="say \"hi\""`, want: []string{"web1", `a=say "hi"`}},
		{in: `web1 a=b\ c`, want: []string{"web1", "a=b c"}},
		{in: `web1 a="open`, err: true},
	} {
		got, err := shlexSplit(tc.in)
		if tc.err != (err != nil) || !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// write lays files out under a temporary folder, makes it the working directory (so messages name files as a
// user in that folder would see them) and returns the path of the first file.
func write(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	first := ""
	for i := 0; i+1 < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = files[i]
		}
	}
	return first
}

func importText(t *testing.T, files ...string) (*Result, error) {
	t.Helper()
	return Import(write(t, files...), Options{User: "tester", Getenv: testEnv})
}

func TestYAML11Scalars(t *testing.T) {
	res, err := importText(t, "inv.yml", `
all:
  hosts:
    a: {ansible_port: 0o26}
    b: {ansible_port: 026}
    c: {ansible_port: "2222", ansible_user: "yes"}
`)
	// 0o26 is a string in YAML 1.1 (octal is 026 there): not a port.
	if err == nil || !strings.Contains(err.Error(), `inv.yml:4: host "a": ansible_port: "0o26" is not a TCP port`) {
		t.Fatalf("got %v", err)
	}
	res, err = importText(t, "inv.yml", `
all:
  hosts:
    b: {ansible_port: 026}
    c: {ansible_port: "2222", ansible_user: "yes"}
    d: {ansible_user: yes}
`)
	if err == nil || !strings.Contains(err.Error(), `inv.yml:6: host "d": ansible_user: the boolean true is not a string (quote it)`) {
		t.Fatalf("got %v", err)
	}
	res, err = importText(t, "inv.yml", "all:\n  hosts:\n    b: {ansible_port: 026}\n    c: {ansible_port: \"2222\", ansible_user: \"yes\"}\n")
	if err != nil {
		t.Fatal(err)
	}
	inv := load(t, res)
	if b, _ := inv.Host("b"); b.Port != 22 {
		t.Errorf("026 is octal 22 in YAML 1.1: port %d", b.Port)
	}
	if c, _ := inv.Host("c"); c.Port != 2222 || c.User != "yes" {
		t.Errorf("c: %+v", c)
	}
}

func load(t *testing.T, res *Result) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Parse("out.toml", res.TOML, t.TempDir(), testEnv)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.TOML)
	}
	return inv
}

// Every refusal names the Ansible file and line and says what to do.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"uppercase host", []string{"inv", "Web1 ansible_host=10.0.0.1\n"},
			[]string{`inv:1: host "Web1": not a valid fleetctl host name: uppercase letters are not allowed`, `such as "web1"`}},
		{"bad group", []string{"inv", "[Web_Servers]\nweb1\n"},
			[]string{`inv:1: group "Web_Servers": not a valid fleetctl group name`}},
		{"host and group share a name", []string{"inv", "web\n[web]\nweb1\n"},
			[]string{`inv:1: host "web": is also the name of a group (at inv:2)`}},
		{"template", []string{"inv", "web1\n[all:vars]\nansible_host={{ lookup('env', 'X') }}\n"},
			[]string{`inv:3: group "all": ansible_host: "{{ lookup('env', 'X') }}" is a Jinja2 template`}},
		{"vaulted connection var", []string{"inv.yml", "all:\n  hosts:\n    web1:\n      ansible_user: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        3130\n"},
			[]string{`inv.yml:4: host "web1": ansible_user: is encrypted with ansible-vault`}},
		{"port out of range", []string{"inv", "web1 ansible_port=70000\n"},
			[]string{`inv:1: host "web1": ansible_port: the integer 70000 is not a TCP port`}},
		{"address with port", []string{"inv", "web1 ansible_host=10.0.0.1:22\n"},
			[]string{`inv:1: host "web1": ansible_host: "10.0.0.1:22": the address must not include a port`}},
		{"same machine twice", []string{"inv", "a ansible_host=10.0.0.1\nb ansible_host=10.0.0.1\n"},
			[]string{`inv:2: host "b": connects to 10.0.0.1 port 22 like host "a" (at inv:1)`}},
		{"same database", []string{"inv", "web.a\nweb-a\n"},
			[]string{`inv:2: host "web-a": its InfluxDB database "web_a" would be that of host "web.a" (at inv:1) too`}},
		{"unknown section type", []string{"inv", "[web:child]\nweb1\n"},
			[]string{`inv:1: section [web:child] has unknown type "child"`}},
		{"vars of an undefined group", []string{"inv", "web1\n[nosuch:vars]\nx=1\n"},
			[]string{`inv:2: section [nosuch:vars] is for a group that is never defined`}},
		{"undefined child", []string{"inv", "[web:children]\nfrontend\n"},
			[]string{`inv:2: [web:children] names group "frontend", which is never defined`}},
		{"host var without =", []string{"inv", "web1 ansible_host\n"},
			[]string{`inv:1: expected a host variable assignment, got "ansible_host"`}},
		{"unclosed quote", []string{"inv", "web1 a=\"x\n"},
			[]string{`inv:1: host line "web1 a=\"x": no closing quotation`}},
		{"section with spaces", []string{"inv", "[web servers]\n"},
			[]string{`inv:1: invalid section header [web servers]`}},
		{"loop", []string{"inv", "[a:children]\nb\n[b:children]\na\n"},
			[]string{`makes a loop`}},
		{"yaml typo", []string{"inv.yml", "all:\n  chidren:\n    web:\n      hosts: {web1: }\n"},
			[]string{`inv.yml:2: group "all": unknown key "chidren" (did you mean "children"?)`}},
		{"yaml hosts as a list", []string{"inv.yml", "all:\n  hosts:\n    - web1\n"},
			[]string{`inv.yml:3: group "all": hosts: must be a mapping, not a list`}},
		{"yaml group as a list", []string{"inv.yml", "web:\n  - web1\n"},
			[]string{`inv.yml:2: group "web": a group must be a mapping, not a list`}},
		{"yaml numeric host", []string{"inv.yml", "all:\n  hosts:\n    2001:\n"},
			[]string{`inv.yml:3: host pattern 2001 must be a string`}},
		{"yaml syntax", []string{"inv.yml", "all:\n  hosts: [web1\n"},
			[]string{`inv.yml:`, `YAML syntax error`}},
		{"plugin config", []string{"inv.yml", "plugin: amazon.aws.aws_ec2\n"},
			[]string{`inv.yml:1: an inventory plugin's configuration`}},
		{"script", []string{"inv", "#!/bin/sh\necho '{}'\n"},
			[]string{`inv:1: an inventory script`}},
		{"bad range", []string{"inv", "web[01:3]\n"},
			[]string{`inv:1: host range [01:3] in "web[01:3]"`}},
		{"comment swallowed by a vars line", []string{"inv", "web1\n[all:vars]\nansible_user=deploy # the user\n"},
			[]string{`inv:3: group "all": ansible_user: "deploy # the user" is not a valid user name`, `move the comment to its own line`}},
		{"no user", []string{"inv", "web1\n"}, nil}, // with a default user: fine
		{"no hosts", []string{"inv", "[web]\n"}, []string{`no hosts`}},
		{"bad vars file", []string{"inv", "web1\n", "host_vars/web1.yml", "- a\n- b\n"},
			[]string{`host_vars/web1.yml:1: a vars file must be a mapping, not a list`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importText(t, tc.files...)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestNoDefaultUser(t *testing.T) {
	_, err := Import(write(t, "inv", "web1\nweb2 ansible_user=ops\n"), Options{Getenv: testEnv})
	if err == nil || !strings.Contains(err.Error(), `inv:1: host "web1": has no ansible_user and no default user was given (set ansible_user in the Ansible inventory, or give import-ansible --user NAME)`) {
		t.Fatalf("got %v", err)
	}
}

// Every errors is reported in one run, in file order, and a group's bad variable once, not once per host.
func TestErrorsAllAtOnce(t *testing.T) {
	_, err := importText(t, "inv", "A1\nB2\n[all:vars]\nansible_port=x\n")
	var errs inventory.Errors
	if !asErrors(err, &errs) || len(errs) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	if errs[0].Line != 1 || errs[1].Line != 2 || errs[2].Line != 4 {
		t.Errorf("not in file order: %v", err)
	}
}

func asErrors(err error, out *inventory.Errors) bool {
	es, ok := err.(inventory.Errors)
	*out = es
	return ok
}

func TestNotMappedNeverShowsValues(t *testing.T) {
	res, err := importText(t,
		"inv", "web1 ansible_become_password=hunter2 ansible_ssh_pass=swordfish api_token=tok3n\n[all:vars]\nansible_become=yes\nansible_become_user=postgres\nansible_connection=local\nansible_ssh_common_args='-o ProxyJump=jump.example.com'\n",
		"group_vars/all/vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n3130\n",
		"group_vars/all/plain.yml", "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3130\n")
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.TOML)
	for _, secret := range []string{"hunter2", "swordfish", "tok3n", "postgres", "ProxyJump=jump", "3130"} {
		if strings.Contains(out, secret) {
			t.Errorf("output shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		`inv:1: host "web1": ansible_become_password: not mapped (secret, value omitted); give it to fleetctl as ssh.sudo_password`,
		`inv:1: host "web1": ansible_ssh_pass: not mapped (secret, value omitted)`,
		`inv:1: host "web1": api_token: not mapped (secret, value omitted)`,
		`inv:3: group "all": ansible_become: not needed`,
		`inv:4: group "all": ansible_become_user: not mapped (fleetctl's commands run as root)`,
		`inv:5: group "all": ansible_connection: not mapped (fleetctl reaches hosts only over SSH, not with "local")`,
		`inv:6: group "all": ansible_ssh_common_args: not mapped (fleetctl does not run ssh`,
		`group_vars/all/plain.yml:1: group "all": db_password: not mapped (secret, value omitted)`,
		`group_vars/all/vault.yml: group "all": not read (encrypted with ansible-vault`,
		`# sudo_password = { env = "SUDO_PASSWORD" }`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	load(t, res)
}

func TestOutput(t *testing.T) {
	res, err := importText(t, "inv", `
[web]
web1 ansible_host=10.0.0.1
web2 ansible_host=10.0.0.2 ansible_port=2222 ansible_user=admin
[eu:children]
web
[prod:children]
eu
[all:vars]
ansible_user=deploy
ansible_ssh_private_key_file=keys/id_fleet
`)
	if err != nil {
		t.Fatal(err)
	}
	inv := load(t, res)
	if inv.SSH.User != "deploy" || inv.SSH.Port != 22 {
		t.Errorf("ssh: %+v", inv.SSH)
	}
	if len(inv.SSH.IdentityFiles) != 1 || !filepath.IsAbs(inv.SSH.IdentityFiles[0]) || !strings.HasSuffix(inv.SSH.IdentityFiles[0], "keys/id_fleet") {
		t.Errorf("identity files: %v", inv.SSH.IdentityFiles)
	}
	w2, _ := inv.Host("web2")
	if w2.Port != 2222 || w2.User != "admin" || !slices.Equal(w2.Groups, []string{"prod", "eu", "web"}) {
		t.Errorf("web2: %+v", w2)
	}
	sel, err := inv.Select([]string{"prod"})
	if err != nil || len(sel) != 2 {
		t.Errorf("selecting the outer group selects its children's hosts: %v %v", sel, err)
	}
	if res.Hosts != 2 || res.Groups != 3 || len(res.NotMapped) != 0 {
		t.Errorf("counts: %d hosts, %d groups, not mapped %q", res.Hosts, res.Groups, res.NotMapped)
	}
	if !strings.Contains(string(res.TOML), "# Everything in the Ansible inventory was mapped.") {
		t.Errorf("no closing line:\n%s", res.TOML)
	}
}

// Ansible takes a host's port from its first mention only; a later pattern's port is noted, not applied.
func TestLaterPortNoted(t *testing.T) {
	res, err := importText(t, "inv", "web1\n[g]\nweb1:2222\n")
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := load(t, res).Host("web1"); h.Port != 22 {
		t.Errorf("port %d, want Ansible's 22", h.Port)
	}
	if !strings.Contains(string(res.TOML), `#   inv:3: host "web1": port 2222: ignored, as Ansible ignores it: only a host's first mention (inv:1) sets its port`) {
		t.Errorf("no note:\n%s", res.TOML)
	}
}
