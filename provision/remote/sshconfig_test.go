package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes files (name -> content) under dir and returns the path of the first one, "config".
func writeConfig(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "config")
}

func TestSSHConfigLookupAsOpenSSH(t *testing.T) {
	home := t.TempDir()
	path := writeConfig(t, filepath.Join(home, ".ssh"), map[string]string{
		"config": `# the first value of each keyword wins
Include conf.d/*.conf
Host web1
    HostName 10.0.0.5
    User alice
    IdentityFile ~/.ssh/web1
Host web* !web9
    User bob
    Port 2222
    IdentityFile ~/.ssh/web
Match host 10.0.0.*
    ProxyJump bastion
Match host web1
    Port 2200
Host *
    StrictHostKeyChecking accept-new
`,
		"conf.d/a.conf": "Host web1\n    CertificateFile ~/.ssh/web1-cert.pub\n",
		"conf.d/b.conf": "Host db1\n    User carol\n",
	})
	cfg, err := LoadSSHConfig(path, home)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Lookup("WEB1")
	want := map[string]string{"HostName": "10.0.0.5", "User": "alice", "Port": "2222", "ProxyJump": "bastion",
		"StrictHostKeyChecking": "accept-new", "CertificateFile": "~/.ssh/web1-cert.pub"}
	for k, v := range want {
		if got, ok := o.Get(k); !ok || got.Value != v {
			t.Errorf("web1 %s = %q (%v), want %q", k, got.Value, ok, v)
		}
	}
	// Match host compares with the HostName configured so far, so "Match host web1" does not apply to web1.
	if p, _ := o.Get("Port"); p.Line != 9 || p.File != path || p.Where() != path+":9" {
		t.Errorf("Port comes from %s, want line 9", p.Where())
	}
	if ids := o.All("IdentityFile"); len(ids) != 2 || ids[0].Value != "~/.ssh/web1" || ids[1].Value != "~/.ssh/web" {
		t.Errorf("IdentityFile accumulates in order: %+v", ids)
	}
	if o := cfg.Lookup("web9"); len(o.All("User")) != 0 {
		t.Errorf("a negated pattern keeps the block out: %+v", o.All("User"))
	}
	if u, _ := cfg.Lookup("db1").Get("User"); u.Value != "carol" || !strings.HasSuffix(u.File, "b.conf") {
		t.Errorf("db1's User from the included file: %+v", u)
	}
	if _, ok := cfg.Lookup("other").Get("ProxyJump"); ok {
		t.Error("Match host 10.0.0.* applied to a host without that HostName")
	}
}

func TestSSHConfigIncludeInsideAHostBlock(t *testing.T) {
	home := t.TempDir()
	path := writeConfig(t, filepath.Join(home, ".ssh"), map[string]string{
		"config":  "Host a\n    Include inc\n    User after-a\nHost *\n    User everyone\n",
		"inc":     "Port 2201\nHost *\n    HostName from-include\n",
		"unused":  "",
		"unused2": "",
	})
	cfg, err := LoadSSHConfig(path, home)
	if err != nil {
		t.Fatal(err)
	}
	// Inside an inactive block an included file applies nothing, not even its Host * blocks.
	if o := cfg.Lookup("b"); len(o.All("Port"))+len(o.All("HostName")) != 0 {
		t.Errorf("b got values of a's include: %+v", o.values)
	}
	o := cfg.Lookup("a")
	for k, v := range map[string]string{"Port": "2201", "HostName": "from-include", "User": "after-a"} {
		if got, _ := o.Get(k); got.Value != v {
			t.Errorf("a %s = %q, want %q", k, got.Value, v)
		}
	}
}

func TestSSHConfigErrorsNameFileLineAndFix(t *testing.T) {
	for _, tc := range []struct {
		name, config, inc string
		want              []string
	}{
		{"unknown keyword", "Host a\n    Hostnmae 10.0.0.5\n", "", []string{"config:2: unknown keyword \"Hostnmae\"", `did you mean "HostName"?`}},
		{"ignored unknown keyword", "IgnoreUnknown UseKeychain,Foo*\nHost a\n    FooBar yes\n    UseKeychain yes\n", "", nil},
		{"no value", "Host a\n    User\n", "", []string{"config:2: User has no value", "write User VALUE"}},
		{"no pattern", "Host a\n    User x\nHost\n    Port 2\n", "", []string{"config:3: Host needs at least one pattern"}},
		{"bad port", "Host a\n    Port 22x\n", "", []string{`config:2: Port "22x" is not a port number`}},
		{"bad strict", "Host a\n    StrictHostKeyChecking maybe\n", "", []string{"config:2: StrictHostKeyChecking \"maybe\""}},
		{"bad proxyjump", "Host a\n    ProxyJump deploy@bastion:99999\n", "", []string{"config:2:", "not a port number"}},
		{"match user", "Host a\n    User x\nMatch user bob\n    Port 2\n", "", []string{"config:3: unsupported Match criterion \"user\"", "Match host PATTERNS"}},
		{"match two criteria", "Match host a user b\n    Port 2\n", "", []string{"config:1: Match host a user b is not supported"}},
		{"in an included file", "Include inc\n", "Host a\n    Bogus 1\n", []string{"inc:2: unknown keyword \"Bogus\""}},
		{"include loop", "Include config\n", "", []string{"nested too deeply"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			files := map[string]string{"config": tc.config}
			if tc.inc != "" {
				files["inc"] = tc.inc
			}
			path := writeConfig(t, filepath.Join(home, ".ssh"), files)
			_, err := LoadSSHConfig(path, home)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseProxyJump(t *testing.T) {
	for in, want := range map[string]string{
		"bastion":                     "bastion",
		"deploy@10.0.0.1:2222":        "deploy@10.0.0.1:2222",
		"a, b@c ,ssh://u@d:23":        "a|b@c|u@d:23",
		"[2001:db8::1]:22":            "[2001:db8::1]:22",
		"u@[::1]":                     "u@[::1]",
		"none":                        "",
		"bastion:0":                   "ERR",
		"u@":                          "ERR",
		"":                            "ERR",
		"[::1":                        "ERR",
		"a,,b":                        "ERR",
		"host with space":             "ERR",
		"deploy@bastion:22,bad:port:": "ERR",
	} {
		hops, err := ParseProxyJump(in)
		var got []string
		for _, h := range hops {
			got = append(got, h.String())
		}
		g := strings.Join(got, "|")
		if err != nil {
			g = "ERR"
		}
		if g != want {
			t.Errorf("ParseProxyJump(%q) = %q (%v), want %q", in, g, err, want)
		}
	}
}

func TestExpandTokens(t *testing.T) {
	tok := map[byte]string{'h': "10.0.0.5", 'r': "deploy", 'd': "/home/me", 'p': "22"}
	if got, err := ExpandTokens("~/.ssh/%r@%h:%p-%%", tok); err != nil || got != "/home/me/.ssh/deploy@10.0.0.5:22-%" {
		t.Errorf("got %q %v", got, err)
	}
	for _, bad := range []string{"%C", "x%"} {
		if _, err := ExpandTokens(bad, tok); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
