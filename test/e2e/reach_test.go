package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// bastionLogins counts the logins the bastion's sshd has logged so far.
func bastionLogins(t *testing.T, e *env) int {
	t.Helper()
	b, err := os.ReadFile(e.bed.Bastion.Log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "Accepted publickey for ")
}

func behindHosts(t *testing.T) []string {
	b := requireBastion(t)
	var names []string
	for _, h := range b.Bastion.Hosts {
		names = append(names, h.Name)
	}
	return names
}

// TestBastion onboards the hosts that only the bastion reaches, through it: plan, apply and a re-plan that is empty,
// each run logging in to the bastion once for all the hosts (one connection, a channel per host). The agents behind
// it report to InfluxDB.
func TestBastion(t *testing.T) {
	t.Parallel()
	hosts := behindHosts(t)
	e := newEnv(t, hosts, "", fmt.Sprintf("proxy_jump = %q", "deploy@"+requireBastion(t).Bastion.Address))
	logins := bastionLogins(t, e)
	step := func(what string, args ...string) string {
		t.Helper()
		out := e.must(args...)
		// After an apply the harness itself logs in to each host, through the bastion, to check that no staging
		// directory survived: those logins are the test's, not fleetctl's.
		harness := 0
		if args[0] == "apply" {
			harness = len(hosts)
		}
		if n := bastionLogins(t, e) - harness; n != logins+1 {
			t.Errorf("%s: the bastion saw %d logins of fleetctl for %d hosts, want 1", what, n-logins, len(hosts))
		}
		logins = bastionLogins(t, e)
		return out
	}
	if out := step("plan", "plan"); len(createsOf("package:telegraf").FindAllString(out, -1)) != len(hosts) || len(createsOf("influxdb.database:").FindAllString(out, -1)) != len(hosts) {
		t.Fatalf("plan through the bastion:\n%s", out)
	}
	if out := step("apply", "apply", "--auto-approve"); !strings.Contains(out, fmt.Sprintf("%d hosts: %d changed, 0 unchanged, 0 failed", len(hosts), len(hosts))) || strings.Contains(out, "Outcome differs") {
		t.Fatalf("apply through the bastion:\n%s", out)
	}
	if out := step("re-plan", "plan"); !strings.Contains(out, fmt.Sprintf("No changes on %d hosts.", len(hosts))) {
		t.Fatalf("re-plan through the bastion:\n%s", out)
	}
	db := strings.NewReplacer("-", "_", ".", "_").Replace(hosts[0])
	eventually(t, 90*time.Second, "points of "+hosts[0]+" from behind the bastion", func() (bool, string) {
		_, body := e.influxQuery(db, e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, `SELECT count("uptime") FROM "system"`)
		s := fmt.Sprint(body)
		return strings.Contains(s, "series"), s
	})
}

// TestBastionChainsAndRefusals: two hops (the bastion, then a host behind it) from the inventory, and the bastion
// and the host named only in an ssh_config file; a bastion that does not answer, and one whose key is not known,
// fail the host before anything is read or changed, naming the host and the hop.
func TestBastionChainsAndRefusals(t *testing.T) {
	t.Parallel()
	bed := requireBastion(t)
	hosts := behindHosts(t)
	first, second, third := bed.Host(t, hosts[0]), bed.Host(t, hosts[1]), bed.Host(t, hosts[2])
	jump := "deploy@" + bed.Bastion.Address

	// Two hops: the second hop is the first host behind the bastion.
	e := newEnv(t, []string{second.Name}, "", fmt.Sprintf("proxy_jump = %q", jump+",deploy@"+first.Address))
	e.must("plan") // the hosts behind the bastion may be onboarded already: what matters is that it gets there
	hop2Log, err := os.ReadFile(filepath.Join(bed.Dir, "log", "fleet", first.Name+".log"))
	if err != nil || !strings.Contains(string(hop2Log), "Accepted publickey for deploy from "+bed.Bastion.InnerAddress) {
		t.Errorf("the second hop saw no login from the bastion (%v):\n%s", err, hop2Log)
	}

	// The whole route from an ssh_config file: the inventory names the host by an alias only that file knows.
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("Host jumpbox\n    HostName %s\n    User deploy\nHost %s\n    HostName %s\n    ProxyJump jumpbox\n",
		bed.Bastion.Address, third.Name, third.Address)), 0o600)
	e = newEnv(t, nil, "", "")
	e.edit(`use_agent = false`, fmt.Sprintf("use_agent = false\nconfig_file = %q", cfg))
	e.addHost(fmt.Sprintf("name = %q\naddress = %q", third.Name, third.Name))
	e.must("plan")

	// A bastion nobody answers at: the host fails, named with its hop; nothing was read from it.
	e = newEnv(t, []string{third.Name}, "", fmt.Sprintf("proxy_jump = %q", "deploy@"+unreachable))
	e.edit(`use_agent = false`, "use_agent = false\nconnect_timeout = \"3s\"")
	out, _, code := e.run("apply", "--auto-approve")
	if code != 1 || !strings.Contains(out, third.Name) || !strings.Contains(out, "jump host deploy@"+unreachable) || strings.Contains(out, "+ create") {
		t.Fatalf("unreachable bastion: exit %d\n%s", code, out)
	}

	// A bastion whose key is not in known_hosts: refused like any host, until accepted.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	src, _ := os.ReadFile(bed.SSH.KnownHosts)
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		if !strings.HasPrefix(l, bed.Bastion.Address+" ") {
			keep = append(keep, l)
		}
	}
	os.WriteFile(kh, []byte(strings.Join(keep, "\n")+"\n"), 0o600)
	e = newEnv(t, []string{third.Name}, "", fmt.Sprintf("proxy_jump = %q", jump))
	e.edit(fmt.Sprintf("known_hosts = %q", bed.SSH.KnownHosts), fmt.Sprintf("known_hosts = %q", kh))
	out, _, code = e.run("plan")
	if code != 1 || !strings.Contains(out, "host key unknown: jump host "+jump) || !strings.Contains(out, third.Name) {
		t.Fatalf("unknown bastion key: exit %d\n%s", code, out)
	}
	e.must("plan", "--accept-new-host-keys")
	if b, _ := os.ReadFile(kh); !strings.Contains(string(b), bed.Bastion.Address+" ssh-ed25519 ") {
		t.Fatalf("the bastion's key was not recorded:\n%s", b)
	}
}

// TestCertificates: the certificate hosts are reached with a known_hosts that has only the bed's host CA and with
// the user certificate beside the key (or named by CertificateFile); without the certificate the login is refused,
// and a CA that did not sign the host key leaves it unknown.
func TestCertificates(t *testing.T) {
	t.Parallel()
	bed := testbedRequire(t)
	if bed.Certs == nil {
		t.Fatal("the bed has no certificate hosts")
	}
	var names []string
	for _, h := range bed.Certs.Hosts {
		names = append(names, h.Name)
	}
	dir := t.TempDir()
	ca, err := os.ReadFile(bed.Certs.HostCA)
	if err != nil {
		t.Fatal(err)
	}
	port := bed.Certs.Hosts[0].Port
	pattern := "127.3.0.*"
	if port != 22 {
		pattern = fmt.Sprintf("[127.3.0.*]:%d", port)
	}
	kh := filepath.Join(dir, "known_hosts")
	os.WriteFile(kh, []byte("@cert-authority "+pattern+" "+string(ca)), 0o600)
	setup := func(key string) *env {
		e := newEnv(t, names, "", "")
		e.edit(fmt.Sprintf("identity_files = [%q]", bed.SSH.ClientKey), fmt.Sprintf("identity_files = [%q]", key))
		e.edit(fmt.Sprintf("known_hosts = %q", bed.SSH.KnownHosts), fmt.Sprintf("known_hosts = %q", kh))
		return e
	}

	if out := setup(bed.Certs.UserKey).must("plan"); len(createsOf("package:telegraf").FindAllString(out, -1)) != len(names) {
		t.Fatalf("plan with certificates:\n%s", out)
	}

	// The same key without its certificate beside it: no authorized key, so no login.
	bare := filepath.Join(dir, "bare")
	key, _ := os.ReadFile(bed.Certs.UserKey)
	os.WriteFile(bare, key, 0o600)
	e := setup(bare)
	if out, _, code := e.run("plan"); code != 1 || !strings.Contains(out, "ssh login as \"deploy\"") {
		t.Fatalf("without the certificate: exit %d\n%s", code, out)
	}
	// ...and with it named by CertificateFile in an ssh_config file.
	cert, _ := os.ReadFile(bed.Certs.UserCert)
	certFile := filepath.Join(dir, "elsewhere-cert.pub")
	os.WriteFile(certFile, cert, 0o600)
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte("Host 127.3.0.*\n    CertificateFile "+certFile+"\n"), 0o600)
	e.edit(`use_agent = false`, fmt.Sprintf("use_agent = false\nconfig_file = %q", cfg))
	e.must("plan")

	// A known_hosts trusting another CA: the host's certificate proves nothing, its key is unknown.
	other := filepath.Join(dir, "other_ca")
	if out, err := runCmd("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other); err != nil {
		t.Fatal(out)
	}
	otherPub, _ := os.ReadFile(other + ".pub")
	os.WriteFile(kh, []byte("@cert-authority "+pattern+" "+string(otherPub)), 0o600)
	if out, _, code := setup(bed.Certs.UserKey).run("plan"); code != 1 || !strings.Contains(out, "host key unknown") {
		t.Fatalf("a CA that did not sign the host: exit %d\n%s", code, out)
	}
}

func requireBastion(t *testing.T) *testbed.Bed {
	t.Helper()
	b := testbed.Require(t)
	if b.Bastion == nil || len(b.Bastion.Hosts) < 3 {
		t.Fatalf("the bed has no bastion with three hosts behind it: %+v", b.Bastion)
	}
	return b
}

func testbedRequire(t *testing.T) *testbed.Bed { return testbed.Require(t) }

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// createsOf matches the plan's create lines of one resource kind and name prefix on any one host
// ("+ create bh1-debian12/package:telegraf").
func createsOf(kindName string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^  \+ create [^/\s*]+/` + regexp.QuoteMeta(kindName))
}
