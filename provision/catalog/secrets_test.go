package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

var okSystemd = system.SystemdFact{Running: true, Version: 252, Creds: true, DBus: true}

func TestDecideStorage(t *testing.T) {
	sd := &system.OS{Family: system.Families()["apt"], Init: "systemd"}
	installed := func(v string) system.PackageFact { return system.PackageFact{Installed: true, Version: v} }
	for _, c := range []struct {
		name      string
		os        *system.OS
		sd        system.SystemdFact
		installed system.PackageFact
		pinned    string
		creds     bool
		why       string
	}{
		{"systemd 252, telegraf 1.37", sd, okSystemd, installed("1.37.2-1"), "", true, "systemd 252, telegraf 1.37.2-1"},
		{"the first telegraf with the store", sd, okSystemd, installed("1.29.0-1"), "", true, "systemd 252, telegraf 1.29.0-1"},
		{"telegraf too old", sd, okSystemd, installed("1.28.5-1"), "", false, "telegraf 1.28.5-1 has no systemd secret store (it needs 1.29)"},
		{"an rpm epoch", sd, okSystemd, installed("1:1.30.1-1"), "", true, "systemd 252, telegraf 1:1.30.1-1"},
		{"not installed, no pin: the repository's newest", sd, okSystemd, system.PackageFact{}, "", true,
			"systemd 252; telegraf not installed yet: the repository's newest, assumed >= 1.29"},
		{"not installed, pinned old", sd, okSystemd, system.PackageFact{}, "1.27.4", false, "telegraf 1.27.4 has no systemd secret store (it needs 1.29)"},
		{"not installed, pinned new", sd, okSystemd, system.PackageFact{}, "1.30.0", true, "systemd 252, telegraf 1.30.0"},
		{"installed new, pinned to an old one it is going to", sd, okSystemd, installed("1.37.2-1"), "1.28.0", false,
			"telegraf 1.28.0 has no systemd secret store (it needs 1.29)"},
		{"installed at its pin", sd, okSystemd, installed("1.37.2-1"), "1.37", true, "systemd 252, telegraf 1.37.2-1"},
		{"systemd 247", sd, system.SystemdFact{Running: true, Version: 247, DBus: true}, installed("1.37.2-1"), "", false,
			"systemd 247 has no encrypted credentials (they need 250)"},
		{"a chroot with a stand-in systemctl", sd, system.SystemdFact{Creds: true}, installed("1.37.2-1"), "", false, "systemd is not the host's init"},
		{"openrc", &system.OS{Family: system.Families()["apk"], Init: "openrc"}, system.SystemdFact{}, installed("1.37.2-r0"), "", false,
			"the host's service manager is openrc, not systemd"},
		{"a version fleetctl cannot read", sd, okSystemd, installed("nightly"), "", false, `telegraf version "nightly" is not one fleetctl can compare`},
	} {
		got := DecideStorage(c.os, c.sd, c.installed, c.pinned)
		if got.Credentials != c.creds || got.Why != c.why {
			t.Errorf("%s: %+v, want credentials=%t %q", c.name, got, c.creds, c.why)
		}
	}
}

// TestStorageOptOut: telegraf.credentials = false keeps the password in the file on a host that allows credentials.
func TestStorageOptOut(t *testing.T) {
	osInfo := &system.OS{Family: system.Families()["apt"], Init: "systemd"}
	facts := &system.Facts{Systemd: okSystemd, Packages: map[string]system.PackageFact{"dpkg:telegraf": {Installed: true, Version: "1.37.2-1"}}}
	if got := New(Config{Telegraf: TelegrafSettings{Package: "telegraf"}}, nil).storage(osInfo, facts); !got.Credentials {
		t.Errorf("by default: %+v", got)
	}
	got := New(Config{Telegraf: TelegrafSettings{Package: "telegraf", FileSecrets: true}}, nil).storage(osInfo, facts)
	if got.Credentials || got.Why != "telegraf.credentials = false in the inventory" {
		t.Errorf("opted out: %+v", got)
	}
}

// TestAgentSecretsRendering: with credentials the outputs file declares fleetctl's systemd secret store and
// refers to the password, which no file holds and which becomes the credential telegraf.influxdb_password; without,
// the files are exactly the fallback's, the password in the outputs file.
func TestAgentSecretsRendering(t *testing.T) {
	f := system.Families()["apt"]
	h := Host{Host: engine.Host{Name: "web1"}, Database: "web1", Inputs: []string{"cpu"}}
	pass := secret.New("the-agents-password-xyz")
	a := &AgentSecrets{Storage: SecretStorage{Credentials: true}}
	files, err := telegrafFiles(f, h, AgentOutput{URL: "http://influx:8086"}, pass, a)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.Contains(string(file.Content), pass.Reveal()) {
			t.Errorf("%s holds the password", file.Path)
		}
	}
	var out struct {
		SecretStores struct {
			Systemd []map[string]any `toml:"systemd"`
		} `toml:"secretstores"`
		Outputs struct {
			InfluxDB []map[string]any `toml:"influxdb"`
		} `toml:"outputs"`
	}
	if _, err := toml.Decode(string(files[1].Content), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.SecretStores.Systemd) != 1 || out.SecretStores.Systemd[0]["id"] != "fleetctl" || out.Outputs.InfluxDB[0]["password"] != "@{fleetctl:influxdb_password}" {
		t.Errorf("outputs file: %+v", out)
	}
	creds := a.Credentials()
	if len(creds) != 1 || creds[0].Name != "telegraf.influxdb_password" || creds[0].Value.Reveal() != pass.Reveal() {
		t.Errorf("credentials: %+v", creds)
	}
	if ref := a.Ref("a-key.with dots", pass); ref != "@{fleetctl:a_key_with_dots}" || len(a.Credentials()) != 2 {
		t.Errorf("a key Telegraf cannot reference: %q, %d credentials", ref, len(a.Credentials()))
	}

	plain, err := TelegrafFiles(f, h, AgentOutput{URL: "http://influx:8086"}, pass)
	if err != nil {
		t.Fatal(err)
	}
	fallback, err := telegrafFiles(f, h, AgentOutput{URL: "http://influx:8086"}, pass, &AgentSecrets{Storage: SecretStorage{Why: "systemd 247"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		if string(plain[i].Content) != string(fallback[i].Content) {
			t.Errorf("fallback %s differs from the file storage", plain[i].Path)
		}
	}
	if !strings.Contains(string(plain[1].Content), `password = "the-agents-password-xyz"`) || strings.Contains(string(plain[1].Content), "secretstores") {
		t.Errorf("file storage's outputs: %s", plain[1].Content)
	}
	// The agent's check gets a placeholder per credential, in a directory of its own.
	if check := telegrafCheck(f, "telegraf", a.names()); !strings.Contains(check, `export CREDENTIALS_DIRECTORY="$S/credentials-check"`) ||
		!strings.Contains(check, `printf placeholder > "$CREDENTIALS_DIRECTORY"/'telegraf.influxdb_password'`) {
		t.Errorf("check without placeholders:\n%s", check)
	}
}

// TestDropInReloadsUnits: a change of the credentials' drop-in restarts the agent after systemd reloads its units
// (it would start with the old unit otherwise); a credential's new value restarts it alone.
func TestDropInReloadsUnits(t *testing.T) {
	watch, units := credentialWatch("web1")
	for _, c := range []struct {
		prior  plan.Change
		reload bool
	}{
		{plan.Change{Address: "web1/file:" + credentialsDropIn, Kind: system.KindFile, Name: credentialsDropIn, Action: plan.Create}, true},
		{plan.Change{Address: "web1/credential:telegraf.influxdb_password", Kind: system.KindCredential, Action: plan.Update,
			Fields: []plan.Field{{Name: "content", Sensitive: true}}}, false},
	} {
		facts := &system.Facts{Services: map[string]system.ServiceFact{"telegraf": {Exists: true, Enabled: "enabled", Active: "active"}}}
		svc := system.NewService(nil, facts, system.Service{Unit: "telegraf", Init: "systemd", Watch: watch, Units: units})
		chs := svc.Diff([]plan.Change{c.prior})
		if len(chs) != 2 || chs[1].Action != plan.Restart {
			t.Fatalf("%s: no restart: %+v", c.prior.Address, chs)
		}
		frag, err := svc.Fragment(chs[1:])
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(frag.Script, "systemctl daemon-reload\nsystemctl restart"); got != c.reload {
			t.Errorf("%s: daemon-reload %t, want %t:\n%s", c.prior.Address, got, c.reload, frag.Script)
		}
	}
}

// TestCredentialPlans plans a host's agent side from facts: a fresh systemd 252 host gets the credential, its
// drop-in, the outputs file with the reference, and a restart after a reload of systemd's units; an onboarded
// host that keeps its password in the file moves it into a credential; a host on systemd 247 gets the file, and
// the plan reports it.
func TestCredentialPlans(t *testing.T) {
	f := system.Families()["apt"]
	h := Host{Host: engine.Host{Name: "web1"}, Database: "web1", Inputs: []string{"cpu"}}
	pass := secret.New("the-agents-password-xyz")
	render := func(a *AgentSecrets) []system.FileSpec {
		files, err := telegrafFiles(f, h, AgentOutput{URL: "http://influx:8086"}, pass, a)
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	onHost := func(files []system.FileSpec) *system.Facts {
		facts := &system.Facts{Files: map[string]system.FileFact{credentialsDropIn: {}, agentGroupsRecord: {}, agentSudoers: {}}, Dirs: map[string][]string{},
			Users:       map[string]system.UserFact{agentUser: {Exists: true, Groups: []string{agentUser}}},
			Credentials: map[string]system.CredentialFact{credentialsDir + "/telegraf.influxdb_password": {}},
			Packages:    map[string]system.PackageFact{"dpkg:telegraf": {Installed: true, Version: "1.37.2-1"}, "queried:telegraf": {}},
			Services:    map[string]system.ServiceFact{"telegraf": {Exists: true, Enabled: "enabled", Active: "active", Started: 200}}}
		for _, p := range system.RepoFilePaths() {
			facts.Files[p] = system.FileFact{}
		}
		for _, s := range render(nil) {
			facts.Files[s.Path] = system.FileFact{}
		}
		for _, s := range files {
			facts.Files[s.Path] = system.FileFact{Exists: true, Mode: s.Mode, Owner: s.Owner, Group: s.Group, MTime: 100, Content: s.Content}
		}
		return facts
	}
	planned := func(facts *system.Facts, a *AgentSecrets) (string, error) {
		t.Helper()
		rs := telegrafResources("web1", nil, facts, &system.OS{Family: f, Init: "systemd"}, render(a), TelegrafSettings{Package: "telegraf"}, secret.NewMasker(), a, agentAccess{})
		hp, _, err := engine.PlanHost(context.Background(), "web1", rs)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, ch := range hp.Changes {
			// The repository's files are not this test's.
			if ch.Action != plan.NoOp && !strings.Contains(ch.Address, "/etc/apt/") {
				lines = append(lines, string(ch.Action)+" "+ch.Address)
			}
		}
		return strings.Join(lines, "\n"), nil
	}
	creds := func() *AgentSecrets {
		return &AgentSecrets{Storage: SecretStorage{Credentials: true, Why: "systemd 252, telegraf 1.37.2-1"}}
	}

	got, _ := planned(onHost(nil), creds())
	want := "create web1/file:/etc/telegraf/telegraf.conf\ncreate web1/file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf\n" +
		"create web1/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf\ncreate web1/credential:telegraf.influxdb_password\n" +
		"create web1/file:" + credentialsDropIn + "\nrestart web1/service:telegraf#restart"
	if got != want {
		t.Errorf("fresh host:\n%s\nwant:\n%s", got, want)
	}

	got, _ = planned(onHost(render(nil)), creds())
	want = "update web1/file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf\ncreate web1/credential:telegraf.influxdb_password\n" +
		"create web1/file:" + credentialsDropIn + "\nrestart web1/service:telegraf#restart"
	if got != want {
		t.Errorf("from the file to a credential:\n%s\nwant:\n%s", got, want)
	}

	// Converged: the credential decrypts to the password, the drop-in is in place. Unless the credential is newer
	// than the running agent (a run stopped before its restart), nothing is planned.
	a := creds()
	facts := onHost(render(a))
	sum := sha256.Sum256([]byte("salt" + pass.Reveal()))
	credPath := credentialsDir + "/telegraf.influxdb_password"
	facts.Credentials[credPath] = system.CredentialFact{Exists: true, Mode: 0o600, Owner: "root", Group: "root", Salt: "salt", Digest: hex.EncodeToString(sum[:])}
	facts.Files[credentialsDropIn] = system.FileFact{Exists: true, Mode: 0o644, Owner: "root", Group: "root", MTime: 100,
		Content: (&system.Credentials{Dir: credentialsDir, Creds: a.Credentials()}).DropInContent()}
	if got, _ := planned(facts, a); got != "" {
		t.Errorf("credential host, converged: %s", got)
	}
	facts.Files[credPath] = system.FileFact{Exists: true, MTime: 300}
	if got, _ := planned(facts, a); got != "restart web1/service:telegraf#restart" {
		t.Errorf("credential newer than the agent: %q", got)
	}

	old := &AgentSecrets{Storage: SecretStorage{Why: "systemd 247 has no encrypted credentials (they need 250)"}}
	got, _ = planned(onHost(nil), old)
	want = "create web1/file:/etc/telegraf/telegraf.conf\ncreate web1/file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf\n" +
		"create web1/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf\nreport web1/credential:telegraf\nrestart web1/service:telegraf#restart"
	if got != want {
		t.Errorf("systemd 247:\n%s\nwant:\n%s", got, want)
	}
	if got, _ := planned(onHost(render(old)), old); got != "" {
		t.Errorf("systemd 247, converged: %s", got)
	}
}
