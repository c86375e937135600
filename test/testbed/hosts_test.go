package testbed_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// The fleet tests prove that the bed's hosts are real: reached over SSH only with the host key recorded for them, sudo
// without a password, the OS the description claims, systemd as PID 1 and an address of their own on systemd hosts,
// and a real package manager of each family installing telegraf from the bed's signed repository.

// hostOSID is the os-release ID of each family.
func hostOSID(family string) string {
	switch family {
	case "debian":
		return "debian"
	case "rocky":
		return "rocky"
	case "suse":
		return "opensuse-leap"
	}
	return ""
}

// hostTag is the tag a host's name ends with for its OS: debian12, rocky9, suse15.
func hostTag(family, versionID string) string {
	major, _, _ := strings.Cut(versionID, ".")
	return family + major
}

// TestHostsDescription: hosts of both kinds, known kinds and families, names and addresses unique.
func TestHostsDescription(t *testing.T) {
	bed := testbed.Require(t)
	if bed.SSH.User == "" || bed.SSH.ClientKey == "" || bed.SSH.KnownHosts == "" {
		t.Fatalf("ssh section incomplete: %+v", bed.SSH)
	}
	if len(bed.HostsOf("systemd", "")) == 0 || len(bed.HostsOf("chroot", "")) == 0 {
		t.Fatalf("want hosts of both kinds, got %d systemd and %d chroot",
			len(bed.HostsOf("systemd", "")), len(bed.HostsOf("chroot", "")))
	}
	names, addrs := map[string]bool{}, map[string]bool{}
	for _, h := range bed.Hosts {
		if h.Kind != "systemd" && h.Kind != "chroot" && h.Kind != "openrc" && h.Kind != "sysv" {
			t.Errorf("%s: kind %q", h.Name, h.Kind)
		}
		if hostOSID(h.Family) == "" || h.OSID != hostOSID(h.Family) {
			t.Errorf("%s: family %q with os_id %q", h.Name, h.Family, h.OSID)
		}
		if !strings.HasSuffix(h.Name, "-"+hostTag(h.Family, h.VersionID)) {
			t.Errorf("%s: name does not end in its family and version (%s %s)", h.Name, h.Family, h.VersionID)
		}
		if names[h.Name] || addrs[h.Addr()] {
			t.Errorf("%s (%s): name or address used twice", h.Name, h.Addr())
		}
		names[h.Name], addrs[h.Addr()] = true, true
		ip := net.ParseIP(h.Address)
		if ip == nil || (h.Kind == "chroot") != ip.IsLoopback() {
			t.Errorf("%s: address %q (systemd hosts have their own, chroot hosts a loopback one)", h.Name, h.Address)
		}
	}
}

// TestHostsKnownHosts: one line per host in OpenSSH's format ([addr]:port only for a port other than 22), holding the
// key that the host's root holds; the bastion has a line for each of its two addresses, the hosts behind it one each,
// and the certificate hosts one @cert-authority line for all of them.
func TestHostsKnownHosts(t *testing.T) {
	bed := testbed.Require(t)
	lines := hostKnownHostsLines(t, bed.SSH.KnownHosts)
	hosts, want := bed.Hosts, len(bed.Hosts)
	if bed.Bastion != nil {
		hosts = append(append([]testbed.Host{}, hosts...), bed.Bastion.Hosts...)
		want += 2 + len(bed.Bastion.Hosts)
	}
	if bed.Certs != nil {
		want++
	}
	if len(lines) != want {
		t.Errorf("%s has %d lines, want %d", bed.SSH.KnownHosts, len(lines), want)
	}
	for _, h := range hosts {
		pattern := knownhosts.Normalize(h.Addr())
		recorded, ok := lines[pattern]
		if !ok {
			t.Errorf("%s: no line for %s", h.Name, pattern)
			continue
		}
		if os.Geteuid() != 0 {
			continue // the roots are root's
		}
		pub, err := os.ReadFile(filepath.Join(h.Root, "etc/ssh/ssh_host_ed25519_key.pub"))
		if err != nil {
			t.Errorf("%s: %v", h.Name, err)
			continue
		}
		if fields := strings.Fields(string(pub)); len(fields) < 2 || fields[0]+" "+fields[1] != recorded {
			t.Errorf("%s: known_hosts has %q, the host's root %q", h.Name, recorded, pub)
		}
	}
}

// TestHostsAnswerSSH: every host logs the bed's user in with strict host key checking, gives password-less sudo and
// is what the description says: name, os-release, PID 1 (systemd, sysvinit's init on the OpenRC and SysV hosts, or
// sshd on a chroot host), and on systemd hosts a booted system (running, or degraded by a failed unit) with the host's
// own address on eth0. OpenRC and SysV hosts: booted by their rc (OpenRC's state, sysv-rc's runlevel 2) with sshd
// started by it, and systemd installed but not running.
func TestHostsAnswerSSH(t *testing.T) {
	bed := testbed.Require(t)
	for _, h := range bed.Hosts {
		t.Run(h.Name, func(t *testing.T) {
			t.Parallel()
			const script = `sudo -n true && echo sudo-ok; hostname; . /etc/os-release; echo "$ID"; echo "$VERSION_ID"; ` +
				`cat /proc/1/comm; id -un`
			got := strings.Split(strings.TrimSpace(bed.Run(t, h, script)), "\n")
			want := []string{"sudo-ok", h.Name, hostOSID(h.Family), h.VersionID, "systemd", bed.SSH.User}
			switch h.Kind {
			case "chroot":
				want[4] = "sshd"
			case "openrc", "sysv":
				want[4] = "init"
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("sudo, hostname, ID, VERSION_ID, PID 1, user: got %q, want %q", got, want)
			}
			switch h.Kind {
			case "openrc":
				// rc-status lists the default runlevel's services; sshd among them, started.
				got := bed.Run(t, h, "ls -d /run/systemd/system 2>&1; command -v systemctl; readlink -f /sbin/init; sudo rc-status default")
				for _, w := range []string{"No such file", "/usr/bin/systemctl", "/usr/sbin/init", "ssh", "started"} {
					if !strings.Contains(got, w) {
						t.Errorf("OpenRC host lacks %q:\n%s", w, got)
					}
				}
				return
			case "sysv":
				got := bed.Run(t, h, "ls -d /run/systemd/system 2>&1; command -v systemctl; readlink -f /sbin/init; sudo runlevel; ls /etc/rc2.d; sudo service ssh status")
				for _, w := range []string{"No such file", "/usr/bin/systemctl", "/usr/sbin/init", "N 2", "S01ssh", "sshd is running"} {
					if !strings.Contains(got, w) {
						t.Errorf("SysV host lacks %q:\n%s", w, got)
					}
				}
				return
			case "chroot":
				return
			}
			// degraded is still systemd running the host; a unit that a concurrent test broke may cause it.
			switch state := strings.TrimSpace(bed.Run(t, h, "systemctl is-system-running || true")); state {
			case "running":
			case "degraded":
				t.Logf("degraded, failed units:\n%s", bed.Run(t, h, "systemctl --failed --no-legend --plain || true"))
			default:
				t.Errorf("systemctl is-system-running: %q, want running", state)
			}
			if addr := bed.Run(t, h, "ip -4 -o addr show dev eth0"); !strings.Contains(addr, " "+h.Address+"/") {
				t.Errorf("eth0 does not have %s:\n%s", h.Address, addr)
			}
		})
	}
}

// TestSSHRefusesWrongHostKey: with a known_hosts that has another key for a host (a new key, or the key of another
// host of the bed) or no line for it, the handshake fails with a host key error, before any login.
func TestSSHRefusesWrongHostKey(t *testing.T) {
	bed := testbed.Require(t)
	recorded := hostKnownHostsLines(t, bed.SSH.KnownHosts)
	foreign, err := ssh.NewPublicKey(hostNewKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"systemd", "chroot"} {
		hosts := bed.HostsOf(kind, "")
		if len(hosts) < 2 {
			t.Fatalf("want two %s hosts, have %d", kind, len(hosts))
		}
		h, other := hosts[0], hosts[1]
		pattern := knownhosts.Normalize(h.Addr())
		cases := map[string]string{
			"new key":        pattern + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(foreign))),
			"other host key": pattern + " " + recorded[knownhosts.Normalize(other.Addr())],
			"unknown host":   "",
		}
		for name, line := range cases {
			t.Run(kind+"/"+name, func(t *testing.T) {
				file := filepath.Join(t.TempDir(), "known_hosts")
				if err := os.WriteFile(file, []byte(line+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg, err := bed.ClientConfig(file)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				client, err := testbed.DialConfig(ctx, h.Addr(), cfg)
				if err == nil {
					client.Close()
					t.Fatalf("%s (%s): login succeeded with known_hosts %q", h.Name, h.Addr(), line)
				}
				var keyErr *knownhosts.KeyError
				if !errors.As(err, &keyErr) {
					t.Fatalf("%s: want a host key error, got %v", h.Name, err)
				}
				if mismatch := len(keyErr.Want) > 0; mismatch != (line != "") {
					t.Errorf("%s: key error %v; want a mismatch: %v", h.Name, err, line != "")
				}
			})
		}
	}
}

// TestSSHDialHonoursContext: a cancelled context ends Dial at once.
func TestSSHDialHonoursContext(t *testing.T) {
	bed := testbed.Require(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	client, err := bed.Dial(ctx, bed.Hosts[0])
	if err == nil {
		client.Close()
		t.Fatal("Dial with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("Dial with a cancelled context: %v after %v; want context.Canceled at once", err, time.Since(start))
	}
}

// TestInstallTelegraf: apt, dnf and zypper each install telegraf from the bed's signed repository on a systemd host of
// their family; the binary runs and reports the bed's version, the unit and the telegraf user exist. The host used is
// the family's last one of the default twelve (the hosts after them belong to other tests), and it is left as it was
// found (package, repository, key and user removed).
func TestInstallTelegraf(t *testing.T) {
	bed := testbed.Require(t)
	if bed.Repo.AptURL == "" || bed.Repo.RPMURL == "" || bed.Repo.KeyURL == "" {
		t.Fatalf("the description has no repo section: %+v", bed.Repo)
	}
	for family, name := range map[string]string{"debian": "sd12-debian11", "rocky": "sd9-rocky9", "suse": "sd10-suse15"} {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			h := bed.Host(t, name)
			install, cleanup := hostInstallScripts(bed.Repo, family)
			t.Cleanup(func() { bed.Run(t, h, cleanup) })
			bed.Run(t, h, install)

			version := bed.Run(t, h, "telegraf --version")
			if !strings.Contains(version, bed.Repo.TelegrafVersion) {
				t.Errorf("%s: telegraf --version: %q, want version %s", h.Name, version, bed.Repo.TelegrafVersion)
			}
			bed.Run(t, h, "systemctl cat telegraf.service >/dev/null")
			if user := bed.Run(t, h, "getent passwd telegraf"); !strings.HasPrefix(user, "telegraf:") {
				t.Errorf("%s: no telegraf user: %q", h.Name, user)
			}
		})
	}
}

// hostInstallScripts: how an operator installs telegraf from the bed's repository with the family's package manager,
// and what undoes it (a fresh host has no telegraf user, repository, key or package manager cache of it).
func hostInstallScripts(r testbed.Repo, family string) (install, cleanup string) {
	const undoUser = `sudo userdel telegraf 2>/dev/null; sudo groupdel telegraf 2>/dev/null; ` +
		`sudo rm -rf /etc/telegraf /var/lib/telegraf /var/log/telegraf /etc/default/telegraf; true`
	switch family {
	case "debian":
		keyURL := strings.TrimSuffix(r.KeyURL, path.Base(r.KeyURL)) + "repo.gpg"
		install = fmt.Sprintf(`set -e
sudo curl -fsS -o /etc/apt/keyrings/influxdata-archive.gpg %s
echo 'deb [signed-by=/etc/apt/keyrings/influxdata-archive.gpg] %s stable main' | sudo tee /etc/apt/sources.list.d/influxdata.list >/dev/null
sudo apt-get update -q
sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q telegraf`, keyURL, r.AptURL)
		cleanup = `sudo DEBIAN_FRONTEND=noninteractive apt-get purge -y -q telegraf; ` +
			`sudo rm -rf /etc/apt/sources.list.d/influxdata.list /etc/apt/keyrings/influxdata-archive.gpg /var/lib/apt/lists/*; ` +
			undoUser
	case "rocky":
		install = fmt.Sprintf(`set -e
printf '[influxdata]\nname=InfluxData\nbaseurl=%s\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=%s\n' | sudo tee /etc/yum.repos.d/influxdata.repo >/dev/null
sudo dnf -y -q install telegraf`, r.RPMURL, r.KeyURL)
		cleanup = `sudo dnf -y -q remove telegraf; sudo rm -f /etc/yum.repos.d/influxdata.repo; sudo dnf clean all -q; ` +
			`sudo rpm -e --allmatches gpg-pubkey 2>/dev/null; ` + undoUser
	case "suse":
		install = fmt.Sprintf(`set -e
sudo zypper --non-interactive addrepo --gpgcheck '%s' influxdata
sudo zypper --non-interactive --gpg-auto-import-keys install telegraf`, r.RPMURL)
		cleanup = `sudo zypper --non-interactive remove telegraf; sudo zypper --non-interactive removerepo influxdata; ` +
			`sudo zypper --non-interactive clean --all; sudo rpm -e --allmatches gpg-pubkey 2>/dev/null; ` + undoUser
	}
	return install, cleanup
}

// hostKnownHostsLines reads a known_hosts file as pattern -> "keytype base64key", failing on anything unexpected.
func hostKnownHostsLines(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 4 && fields[0] == "@cert-authority" {
			fields = fields[1:] // the certificate hosts' CA: "@cert-authority" is part of its pattern here
			fields[0] = "@cert-authority " + fields[0]
		}
		if len(fields) != 3 {
			t.Fatalf("%s: line %q is not 'pattern keytype key'", file, sc.Text())
		}
		if _, dup := lines[fields[0]]; dup {
			t.Errorf("%s: two lines for %s", file, fields[0])
		}
		lines[fields[0]] = fields[1] + " " + fields[2]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func hostNewKey(t *testing.T) ed25519.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
