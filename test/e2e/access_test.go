package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Hosts of the agent access test.
const (
	hostSmart     = "c46-debian12" // smart: smartctl from Debian's smartmontools, run through sudo
	hostContainer = "c47-debian11" // the container profile, reading a real Docker daemon's socket
	hostNoDocker  = "c48-debian13" // the container profile where no docker group exists: refused
)

// TestAgentAccess onboards the inputs whose agent needs more than its own user: the container profile (docker reads
// the daemon's socket, owned by the host's docker group) on a host where Debian's dockerd serves a socket in the
// host's root, and smart (smartctl through sudo -n) on a host with Debian's smartmontools. fleetctl puts the agent in
// the docker group and writes the sudo rule; both inputs run without error and the docker measurement arrives; a
// re-plan is empty. smart dropped, the rule goes; destroy takes the agent out of the group it added. A host without a
// docker group is refused with the fix.
func TestAgentAccess(t *testing.T) {
	e := newEnv(t, []string{hostSmart, hostContainer}, "", "")
	fast := "\nagent.interval = \"2s\"\nagent.flush_interval = \"2s\""
	e.edit(`name = "`+hostContainer+`"`, `name = "`+hostContainer+`"`+"\nprofile = \"container\""+fast)
	e.edit(`name = "`+hostSmart+`"`, `name = "`+hostSmart+`"`+"\ninputs_add = [\"smart\", \"internal\"]"+fast)

	// The container host as Docker's package leaves a real one: a docker group, the daemon's socket owned by it.
	e.ssh(hostContainer, "getent group docker >/dev/null || sudo groupadd --system docker")
	gid := strings.TrimSpace(e.ssh(hostContainer, "getent group docker | cut -d: -f3"))
	startDockerd(t, e, hostContainer, gid)
	installHostDeb(t, e, hostSmart, "smartmontools")

	e.must("apply", "--auto-approve")
	for _, h := range []string{hostSmart, hostContainer} {
		if got := strings.TrimSpace(e.ssh(h, "systemctl is-active telegraf")); got != "active" {
			t.Errorf("%s: agent %s", h, got)
		}
	}
	if groups := strings.Fields(e.ssh(hostContainer, "id -Gn telegraf")); !slices.Contains(groups, "docker") {
		t.Errorf("%s: telegraf's groups %v lack docker", hostContainer, groups)
	}
	eventually(t, 60*time.Second, hostContainer+": docker points in InfluxDB", func() (bool, string) {
		v := e.influxLast(dbName(hostContainer), `SELECT last("n_containers") FROM "docker"`)
		return v != "", v
	})

	const sudoers = "/etc/sudoers.d/fleetctl-telegraf"
	if got := e.ssh(hostSmart, "sudo stat -c '%a %U %G' "+sudoers+" && sudo cat "+sudoers); !strings.HasPrefix(got, "440 root root\n") ||
		!strings.Contains(got, "telegraf ALL=(root) NOPASSWD: /usr/sbin/smartctl\n") {
		t.Errorf("%s: sudo rule:\n%s", hostSmart, got)
	}
	scan := e.ssh(hostSmart, "sudo -u telegraf sudo -n /usr/sbin/smartctl --scan")
	// Three gathers of smart, each without error: the agent counts every error an input logs.
	eventually(t, 60*time.Second, hostSmart+": three gathers of smart", func() (bool, string) {
		v := e.influxLast(dbName(hostSmart), `SELECT count("errors") FROM "internal_gather" WHERE "input" = 'smart'`)
		return v != "" && v != "0" && v != "1" && v != "2", v
	})
	if v := e.influxLast(dbName(hostSmart), `SELECT max("errors") FROM "internal_gather" WHERE "input" = 'smart'`); v != "0" {
		t.Errorf("%s: smart logged %s errors:\n%s", hostSmart, v, agentLog(e, hostSmart))
	}
	for _, l := range strings.Split(agentLog(e, hostSmart), "\n") {
		if strings.Contains(l, " E! ") && (strings.Contains(l, "[inputs.smart]") || strings.Contains(l, "sudo")) {
			t.Errorf("%s: the agent logged: %s", hostSmart, l)
		}
	}
	if strings.TrimSpace(scan) != "" {
		eventually(t, 60*time.Second, hostSmart+": smart_device points", func() (bool, string) {
			v := e.influxLast(dbName(hostSmart), `SELECT last("exit_status") FROM "smart_device"`)
			return v != "", v
		})
	} else {
		t.Logf("%s: smartctl --scan finds no device in the host's root: no smart_device point to wait for", hostSmart)
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 2 hosts.") {
		t.Fatalf("re-plan not empty:\n%s", out)
	}

	// smart dropped: the rule goes, nothing else changes and the agent is not restarted for it.
	e.edit("inputs_add = [\"smart\", \"internal\"]", "inputs_add = [\"internal\"]")
	plan := e.must("plan", "--limit", hostSmart)
	if !strings.Contains(plan, "- delete "+hostSmart+"/file:"+sudoers) {
		t.Errorf("plan after dropping smart:\n%s", plan)
	}
	e.must("apply", "--auto-approve", "--limit", hostSmart)
	if got := e.ssh(hostSmart, "sudo test -e "+sudoers+" && echo present || echo absent"); strings.TrimSpace(got) != "absent" {
		t.Errorf("%s: sudo rule %s after smart was dropped", hostSmart, got)
	}

	// destroy takes the agent out of the group fleetctl added it to; the group itself stays.
	e.must("destroy", "--host", hostContainer, "--auto-approve")
	if groups := strings.Fields(e.ssh(hostContainer, "id -Gn telegraf")); slices.Contains(groups, "docker") {
		t.Errorf("%s: telegraf still in docker after destroy: %v", hostContainer, groups)
	}
	if got := e.ssh(hostContainer, "getent group docker >/dev/null && echo kept; sudo test -e /etc/telegraf/fleetctl-groups && echo record; true"); strings.TrimSpace(got) != "kept" {
		t.Errorf("%s: after destroy: %q, want the group kept and the record gone", hostContainer, got)
	}

	// A host without the group: one error naming the host, the group, the input and the fix; nothing applied.
	h := e.bed.Host(t, hostNoDocker)
	e.addHost(fmt.Sprintf("name = %q\naddress = %q\nport = %d\nprofile = \"container\"", h.Name, h.Address, h.Port))
	out, stderr, code := e.run("plan", "--limit", hostNoDocker)
	for _, w := range []string{hostNoDocker, `group "docker" does not exist on the host`, "input docker (templates/inputs/docker.toml)", "or drop the input"} {
		if code == 0 || !strings.Contains(out+stderr, w) {
			t.Errorf("plan of a host without a docker group: exit %d, lacks %q:\n%s\n%s", code, w, out, stderr)
		}
	}
}

// dbName is the host's database, as the test inventories name it.
func dbName(host string) string { return strings.NewReplacer("-", "_", ".", "_").Replace(host) }

// agentLog is the agent's output on a host: its log file, or what the systemctl shim of a chroot host keeps.
func agentLog(e *env, host string) string {
	return e.ssh(host, "sudo cat /var/log/telegraf/telegraf.log /var/log/telegraf.shim.log 2>/dev/null || true")
}

// startDockerd runs Debian's dockerd (test/testbed/up installs docker.io) on the bed machine until the test ends,
// serving its API only on /run/docker.sock inside the host's root, mode 0660, group gid (the host's docker group).
// It needs no container for the docker input's measurement: no bridge, no iptables rules, no forwarding, the vfs
// storage driver; its data, its containerd and its pid file live in $TESTBED_DIR/docker/HOST (down stops what a
// killed test left).
func startDockerd(t *testing.T, e *env, host, gid string) {
	t.Helper()
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		t.Fatalf("dockerd is not installed on the bed machine (test/testbed/up installs docker.io): %v", err)
	}
	dir := filepath.Join(e.bed.Dir, "docker", host)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	putInputFile(t, filepath.Join(dir, "daemon.json"), "{}\n", 0o600)
	sock := filepath.Join(e.bed.Host(t, host).Root, "run", "docker.sock")
	cmd := exec.Command(bin, "--config-file", filepath.Join(dir, "daemon.json"), "--host", "unix://"+sock, "--group", gid,
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"), "--pidfile", filepath.Join(dir, "docker.pid"),
		"--containerd-namespace", "fleetctl-bed", "--containerd-plugins-namespace", "fleetctl-bed-plugins",
		"--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none", "--storage-driver=vfs", "--log-level=warn")
	startBedService(t, cmd, "")
	eventually(t, 30*time.Second, "dockerd answering on "+host+"'s socket", func() (bool, string) {
		out, err := exec.Command("curl", "-sf", "--unix-socket", sock, "http://docker/_ping").CombinedOutput()
		return err == nil && string(out) == "OK", string(out)
	})
}

// installHostDeb installs a .deb that test/testbed/up fetched into $TESTBED_DIR/debs, on one host, as a real package.
func installHostDeb(t *testing.T, e *env, host, pkg string) {
	t.Helper()
	deb, err := os.ReadFile(filepath.Join(e.bed.Dir, "debs", pkg+".deb"))
	if err != nil {
		t.Fatalf("%s's .deb (test/testbed/up fetches it): %v", pkg, err)
	}
	if strings.Contains(e.ssh(host, "dpkg-query -W -f='${Status}' "+pkg+" 2>/dev/null || true"), "install ok installed") {
		return
	}
	putInputFile(t, filepath.Join(e.bed.Host(t, host).Root, "tmp", pkg+".deb"), string(deb), 0o644)
	e.ssh(host, "sudo DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/"+pkg+".deb >/dev/null && sudo rm -f /tmp/"+pkg+".deb")
}
