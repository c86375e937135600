package provision

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/remote"
	"golang.org/x/crypto/ssh"
)

// reachFixture is an inventory (its [ssh] section and hosts given) and an ssh_config in a temporary home.
type reachFixture struct {
	t    *testing.T
	home string
	inv  *inventory.Inventory
	log  bytes.Buffer
}

func newReachFixture(t *testing.T, sshSection, hosts, sshConfig string) *reachFixture {
	t.Helper()
	f := &reachFixture{t: t, home: t.TempDir()}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	os.MkdirAll(filepath.Join(f.home, ".ssh"), 0o700)
	for _, k := range []string{"id_fleet", "id_bastion", ".ssh/id_web"} {
		os.WriteFile(filepath.Join(f.home, k), pem.EncodeToMemory(block), 0o600)
	}
	os.WriteFile(filepath.Join(f.home, ".ssh", "known_hosts"), nil, 0o600)
	if sshConfig != "" {
		os.WriteFile(filepath.Join(f.home, ".ssh", "config"), []byte(sshConfig), 0o600)
	}
	src := `[influxdb]
url = "http://127.0.0.1:8086"
admin_user = "admin"
admin_password = { env = "X" }
[grafana]
url = "http://127.0.0.1:3000"
token = { env = "X" }
[kapacitor]
url = "http://127.0.0.1:9092"
[secrets]
master = { env = "X" }
[ssh]
use_agent = false
` + sshSection + "\n" + hosts
	getenv := func(k string) string {
		if k == "HOME" {
			return f.home
		}
		return ""
	}
	inv, err := inventory.Parse("inventory.toml", []byte(src), f.home, getenv)
	if err != nil {
		t.Fatal(err)
	}
	f.inv = inv
	return f
}

// resolve works out every host's endpoint, or returns the error.
func (f *reachFixture) resolve(acceptNew bool) (map[string]*remote.Endpoint, error) {
	f.t.Helper()
	cfg, keyring, closeFn, err := SSHConfig(f.inv, acceptNew, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var specs []catalog.Host
	for _, h := range f.inv.Hosts() {
		specs = append(specs, catalog.Host{Host: engine.Host{Name: h.Name}})
	}
	getenv := func(k string) string {
		if k == "HOME" {
			return f.home
		}
		return ""
	}
	log := slog.New(slog.NewTextHandler(&f.log, nil))
	if err := ResolveReach(f.inv, specs, &cfg, keyring, acceptNew, getenv, log); err != nil {
		return nil, err
	}
	out := map[string]*remote.Endpoint{}
	for _, s := range specs {
		out[s.Name] = s.Reach
	}
	return out, nil
}

func hopList(ep *remote.Endpoint) string {
	var out []string
	for _, h := range ep.Via {
		out = append(out, h.User+"@"+h.Addr)
	}
	return strings.Join(out, ",")
}

func TestReachInventoryWinsOverSSHConfig(t *testing.T) {
	f := newReachFixture(t, `identity_files = ["id_fleet"]`, `
[[hosts]]
name = "web1"
address = "web1"
[[hosts]]
name = "web2"
address = "web2"
user = "admin"
port = 2200
`, `Host web*
    HostName %h.example.com
    User alice
    Port 2222
    IdentityFile ~/.ssh/id_web
    StrictHostKeyChecking accept-new
`)
	eps, err := f.resolve(false)
	if err != nil {
		t.Fatal(err)
	}
	// web1 writes no user or port: ssh_config's HostName, User and Port apply.
	if ep := eps["web1"]; ep.Addr != "web1.example.com:2222" || ep.User != "alice" || ep.HostKeys == nil || !ep.HostKeys.AcceptNew {
		t.Errorf("web1: %+v", ep)
	}
	// web2's own user and port win; the HostName (what address means to ssh) still applies.
	if ep := eps["web2"]; ep.Addr != "web2.example.com:2200" || ep.User != "admin" {
		t.Errorf("web2: %+v", ep)
	}
}

func TestReachSSHConfigOffStandsAlone(t *testing.T) {
	f := newReachFixture(t, "config_file = \"none\"\nuser = \"deploy\"\nidentity_files = [\"id_fleet\"]", `
[[hosts]]
name = "web1"
address = "web1"
`, "Host web1\n    HostName 10.9.9.9\n    User alice\n")
	eps, err := f.resolve(false)
	if err != nil {
		t.Fatal(err)
	}
	if ep := eps["web1"]; ep.Addr != "web1:22" || ep.User != "deploy" || len(ep.Via) != 0 {
		t.Errorf("config_file = none still read ssh_config: %+v", ep)
	}
}

func TestReachProxyJump(t *testing.T) {
	f := newReachFixture(t, "user = \"deploy\"\nidentity_files = [\"id_fleet\"]\nproxy_jump = \"jump1\"", `
[groups.dmz]
proxy_jump = "ops@jump2:2022,jump3"
[groups.direct]
proxy_jump = "none"
[[hosts]]
name = "web1"
address = "10.0.0.5"
[[hosts]]
name = "db1"
address = "10.0.0.6"
groups = ["dmz"]
[[hosts]]
name = "lan1"
address = "10.0.0.7"
groups = ["dmz", "direct"]
[[hosts]]
name = "via-config"
address = "inner.example"
proxy_jump = "none"
`, `Host jump1
    HostName 192.0.2.10
    User jumper
    Port 2201
Host jump3
    ProxyJump should-be-ignored
Host inner.example
    ProxyJump jump1
`)
	eps, err := f.resolve(false)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"web1":       "jumper@192.0.2.10:2201",         // the fleet's proxy_jump; the hop's own ssh_config entry
		"db1":        "ops@jump2:2022,deploy@jump3:22", // the group's two hops; a later hop's own ProxyJump is ignored
		"lan1":       "",                               // the last group says none
		"via-config": "",                               // the host's own none beats ssh_config's ProxyJump
	} {
		if got := hopList(eps[host]); got != want {
			t.Errorf("%s goes through %q, want %q", host, got, want)
		}
	}
	if eps["web1"].Via[0].Name != "jump host jump1" {
		t.Errorf("hop name %q", eps["web1"].Via[0].Name)
	}
}

func TestReachProxyJumpLoopsAndChainsFromSSHConfig(t *testing.T) {
	cfg := `Host a
    ProxyJump b
Host b
    ProxyJump c
Host c
    ProxyJump a
Host x
    ProxyJump y
Host y
    ProxyJump z
Host selfish
    ProxyJump selfish
`
	f := newReachFixture(t, "user = \"deploy\"\nidentity_files = [\"id_fleet\"]", `
[[hosts]]
name = "web1"
address = "a"
`, cfg)
	_, err := f.resolve(false)
	if err == nil || !strings.Contains(err.Error(), "host web1") || !strings.Contains(err.Error(), "ProxyJump loop: a → b → c → a") {
		t.Fatalf("loop: %v", err)
	}
	f = newReachFixture(t, "user = \"deploy\"\nidentity_files = [\"id_fleet\"]", `
[[hosts]]
name = "web1"
address = "x"
[[hosts]]
name = "web2"
address = "selfish"
`, cfg)
	_, err = f.resolve(false)
	if err == nil || !strings.Contains(err.Error(), "host web2") || !strings.Contains(err.Error(), "ProxyJump loop") {
		t.Fatalf("a host that jumps through itself: %v", err)
	}
	// x → y → z: y's own ProxyJump applies to the first hop, recursively, so the chain is z, y.
	f = newReachFixture(t, "user = \"deploy\"\nidentity_files = [\"id_fleet\"]", `
[[hosts]]
name = "web1"
address = "x"
`, cfg)
	eps, err := f.resolve(false)
	if err != nil {
		t.Fatal(err)
	}
	if got := hopList(eps["web1"]); got != "deploy@z:22,deploy@y:22" {
		t.Errorf("chain %q", got)
	}
}

func TestReachStrictHostKeyCheckingNoIsAcceptNewAtMost(t *testing.T) {
	f := newReachFixture(t, "user = \"deploy\"\nidentity_files = [\"id_fleet\"]", `
[[hosts]]
name = "web1"
address = "10.0.0.5"
[[hosts]]
name = "web2"
address = "10.0.0.6"
`, "Host 10.0.0.5\n    StrictHostKeyChecking no\n    UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2\nHost *\n    StrictHostKeyChecking yes\n")
	eps, err := f.resolve(false)
	if err != nil {
		t.Fatal(err)
	}
	hk := eps["web1"].HostKeys
	if hk == nil || !hk.AcceptNew || hk.Path != filepath.Join(f.home, ".ssh/kh1") || len(hk.Extra) != 1 {
		t.Fatalf("web1 host keys: %+v", hk)
	}
	if !strings.Contains(f.log.String(), "StrictHostKeyChecking no is followed only as far as accept-new") {
		t.Errorf("no warning: %s", f.log.String())
	}
	if hk := eps["web2"].HostKeys; hk != nil && hk.AcceptNew {
		t.Errorf("web2 must stay strict: %+v", hk)
	}
	// The inventory's explicit setting wins over ssh_config's.
	f = newReachFixture(t, "user = \"deploy\"\nidentity_files = [\"id_fleet\"]\naccept_new_host_keys = false\nknown_hosts = \"kh\"", `
[[hosts]]
name = "web1"
address = "10.0.0.5"
`, "Host 10.0.0.5\n    StrictHostKeyChecking accept-new\n    UserKnownHostsFile ~/.ssh/kh1\n")
	eps, err = f.resolve(false)
	if err != nil {
		t.Fatal(err)
	}
	if hk := eps["web1"].HostKeys; hk != nil {
		t.Fatalf("the inventory's known_hosts and strict policy must win over ssh_config's: %+v", hk)
	}
}

func TestReachRefusals(t *testing.T) {
	for name, tc := range map[string]struct{ ssh, hosts, cfg, want string }{
		"no user anywhere": {`identity_files = ["id_fleet"]`, "[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.5\"\n", "Host other\n    User x\n",
			"host web1: no SSH user for 10.0.0.5"},
		"proxycommand": {"user = \"d\"\nidentity_files = [\"id_fleet\"]", "[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.5\"\n", "Host *\n    ProxyCommand nc %h %p\n",
			"ProxyCommand at"},
		"syntax error": {"user = \"d\"\nidentity_files = [\"id_fleet\"]", "[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.5\"\n", "Host *\n    Prot 22\n",
			`.ssh/config:2: unknown keyword "Prot": ssh would refuse this file (did you mean "Port"?)`},
		"missing configured file": {"user = \"d\"\nidentity_files = [\"id_fleet\"]\nconfig_file = \"nope\"", "[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.5\"\n", "",
			"ssh.config_file"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newReachFixture(t, tc.ssh, tc.hosts, tc.cfg)
			_, err := f.resolve(false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
}
