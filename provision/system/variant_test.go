package system

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
)

func TestDetectEveryRow(t *testing.T) {
	for _, c := range []struct {
		id, like, version, family, distro string
	}{
		{"debian", "", "10", "apt", "Debian"},
		{"debian", "", "13", "apt", "Debian"},
		{"ubuntu", "debian", "24.04", "apt", "Ubuntu"},
		{"ubuntu", "debian", "20.04", "apt", "Ubuntu"},
		{"centos", "rhel fedora", "7", "yum", "CentOS / RHEL 7"},
		{"rhel", "fedora", "7.9", "yum", "CentOS / RHEL 7"},
		{"rocky", "rhel centos fedora", "9.3", "dnf", "Rocky Linux"},
		{"almalinux", "rhel centos fedora", "8.10", "dnf", "AlmaLinux / RHEL 8–9"},
		{"rhel", "fedora", "9.4", "dnf", "AlmaLinux / RHEL 8–9"},
		{"fedora", "", "41", "dnf", "Fedora"},
		{"amzn", "centos rhel fedora", "2", "yum", "Amazon Linux 2"},
		{"amzn", "fedora", "2023", "dnf", "Amazon Linux 2023"},
		{"opensuse-leap", "suse opensuse", "15.5", "zypper", "openSUSE Leap / SLES 15"},
		{"sles", "suse", "15.6", "zypper", "openSUSE Leap / SLES 15"},
		{"alpine", "", "3.20.3", "apk", "Alpine 3.x"},
		// Derivatives take their parent's family.
		{"linuxmint", "ubuntu debian", "22", "apt", "Ubuntu"},
		{"ol", "fedora", "9.4", "dnf", "Fedora"},
	} {
		o, err := Detect(map[string]string{"ID": c.id, "ID_LIKE": c.like, "VERSION_ID": c.version}, "systemd")
		if err != nil {
			t.Errorf("%s %s: %v", c.id, c.version, err)
			continue
		}
		if o.Family.Name != c.family || o.Distro.Name != c.distro {
			t.Errorf("%s %s: got %s/%s, want %s/%s", c.id, c.version, o.Distro.Name, o.Family.Name, c.distro, c.family)
		}
	}
}

func TestDetectRefusesWithWhatItFound(t *testing.T) {
	_, err := Detect(map[string]string{"ID": "debian", "VERSION_ID": "9", "PRETTY_NAME": "Debian GNU/Linux 9 (stretch)"}, "systemd")
	if err == nil || !strings.Contains(err.Error(), `unsupported version: os-release has ID="debian" VERSION_ID="9"`) ||
		!strings.Contains(err.Error(), "supported: Debian 10, 11, 12, 13") {
		t.Errorf("old Debian: %v", err)
	}
	_, err = Detect(map[string]string{"ID": "centos", "VERSION_ID": "6"}, "sysv")
	if err == nil || !strings.Contains(err.Error(), "CentOS / RHEL 7 7") || !strings.Contains(err.Error(), "AlmaLinux") {
		t.Errorf("CentOS 6: %v", err)
	}
	_, err = Detect(map[string]string{"ID": "freebsd", "VERSION_ID": "14.1"}, "sysv")
	if err == nil || !strings.Contains(err.Error(), `unsupported operating system: os-release has ID="freebsd"`) || !strings.Contains(err.Error(), "Alpine 3.x (3, apk)") {
		t.Errorf("FreeBSD: %v", err)
	}
}

func TestGeneratedInstallCommands(t *testing.T) {
	f := Families()
	for _, c := range []struct {
		family, version string
		want            []string
		never           []string
	}{
		{"apt", "1.37.2-1", []string{"apt-get update -qq -o Dir::Etc::sourcelist='" + AptList + "'", "apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confold 'telegraf=1.37.2-1'"}, nil},
		{"dnf", "", []string{"dnf -y -q --refresh install 'telegraf'"}, nil},
		{"yum", "1.37.2", []string{"yum -y -q makecache", "yum -y -q install 'telegraf-1.37.2'"}, nil},
		{"zypper", "", []string{"rpm --import '" + RPMKey + "'", "export ZYPP_LOCK_TIMEOUT=120", "zypper --non-interactive --quiet refresh 'influxdata'", "zypper --non-interactive --quiet install --no-recommends 'telegraf'"},
			[]string{"--gpg-auto-import-keys", "--no-gpg-checks"}},
		{"apk", "", []string{"/etc/apk/repositories", "apk add --quiet --wait 120 'telegraf'"}, nil},
	} {
		p := NewPackage(nil, &Facts{}, Package{Pkg: "telegraf", Version: c.version, Family: f[c.family]})
		frag, err := p.Fragment(nil)
		if err != nil {
			t.Fatal(err)
		}
		got := frag.Script
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: script lacks %q:\n%s", c.family, w, got)
			}
		}
		for _, n := range c.never {
			if strings.Contains(got, n) {
				t.Errorf("%s: script must not use %q (it would trust any key):\n%s", c.family, n, got)
			}
		}
	}
}

// TestEveryPackageStepWaitsForEveryLock: each command of an install runs only after a wait for every lock its
// family's package manager takes (rpm's included, which rpm itself does not wait for off a terminal), bounded by
// the package's wait; and none of them inherits the progress channel.
func TestEveryPackageStepWaitsForEveryLock(t *testing.T) {
	wantLocks := map[string][]string{
		"apt":    {"/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock", "/var/cache/apt/archives/lock"},
		"dnf":    {"/var/lib/dnf/rpmdb_lock.pid", "/var/lib/rpm/.rpm.lock", "/usr/lib/sysimage/rpm/.rpm.lock"},
		"yum":    {"/var/run/yum.pid", "/var/lib/rpm/.rpm.lock"},
		"zypper": {"/run/zypp.pid", "/var/lib/rpm/.rpm.lock"},
		"apk":    {"/lib/apk/db/lock"},
	}
	for name, f := range Families() {
		p := NewPackage(nil, &Facts{}, Package{Pkg: "telegraf", Family: f, LockWait: 7 * time.Second})
		frag, err := p.Fragment(nil)
		if err != nil {
			t.Fatal(err)
		}
		if frag.Note == nil {
			t.Errorf("%s: the install does not report its waits", name)
		}
		_, steps, _ := strings.Cut(frag.Script, lockLib)
		lines := strings.Split(strings.TrimSpace(steps), "\n")
		commands := 0
		for i, line := range lines {
			if !strings.HasPrefix(line, "apt-get ") && !strings.HasPrefix(line, "dnf ") && !strings.HasPrefix(line, "yum ") &&
				!strings.HasPrefix(line, "rpm ") && !strings.HasPrefix(line, "zypper ") && !strings.HasPrefix(line, "apk ") {
				continue
			}
			commands++
			if !strings.HasSuffix(line, " 3>&-") {
				t.Errorf("%s: %q inherits the progress channel", name, line)
			}
			if i == 0 || !strings.HasPrefix(lines[i-1], "wait_locks 7 ") {
				t.Errorf("%s: %q runs without waiting for the locks first", name, line)
				continue
			}
			for _, l := range f.Locks {
				if !strings.Contains(lines[i-1], remote.Quote(l.Path)+" "+remote.Quote(l.Name)) {
					t.Errorf("%s: before %q, no wait for %s", name, line, l.Path)
				}
			}
		}
		if commands == 0 {
			t.Errorf("%s: no package manager command found in\n%s", name, steps)
		}
		for _, path := range wantLocks[name] {
			if !slices.ContainsFunc(f.Locks, func(l Lock) bool { return l.Path == path }) {
				t.Errorf("%s: lock %s is not waited for", name, path)
			}
		}
	}
	// The default wait is LockWait.
	frag, _ := NewPackage(nil, &Facts{}, Package{Pkg: "telegraf", Family: Families()["zypper"]}).Fragment(nil)
	if !strings.Contains(frag.Script, "wait_locks 120 ") || !strings.Contains(frag.Script, "ZYPP_LOCK_TIMEOUT=120") {
		t.Errorf("default wait:\n%s", frag.Script)
	}
}

func TestRepoFilesPinTheKey(t *testing.T) {
	r := Repo{AptURL: "https://m/debian", RPMURL: "https://m/stable/$basearch/main", Key: []byte{1, 2}, KeyArmored: []byte("-----BEGIN PGP")}
	f := Families()
	apt := f["apt"].RepoFiles(r)
	if apt[0].Path != AptKeyring || string(apt[1].Content) != "# Managed by fleetctl.\ndeb [signed-by="+AptKeyring+"] https://m/debian stable main\n" {
		t.Errorf("apt: %+v %q", apt[0], apt[1].Content)
	}
	for _, name := range []string{"dnf", "yum", "zypper"} {
		files := f[name].RepoFiles(r)
		repo := string(files[1].Content)
		for _, want := range []string{"baseurl=https://m/stable/$basearch/main", "gpgcheck=1", "repo_gpgcheck=1", "gpgkey=file://" + RPMKey} {
			if !strings.Contains(repo, want) {
				t.Errorf("%s repo file lacks %q:\n%s", name, want, repo)
			}
		}
		if files[0].Path != RPMKey || string(files[0].Content) != "-----BEGIN PGP" {
			t.Errorf("%s key file: %+v", name, files[0])
		}
	}
	if !strings.Contains(string(f["zypper"].RepoFiles(r)[1].Content), "pkg_gpgcheck=1") {
		t.Error("zypper repo lacks pkg_gpgcheck")
	}
	if len(f["apk"].RepoFiles(r)) != 0 {
		t.Error("apk has no InfluxData repository to declare")
	}
}

func TestServiceCommandsPerInit(t *testing.T) {
	enable := plan.Change{Action: plan.Update, Fields: []plan.Field{{Name: "enabled", Before: "disabled", After: "enabled"}}}
	start := plan.Change{Action: plan.Update, Fields: []plan.Field{{Name: "active", Before: "inactive", After: "active"}}}
	enableStart := plan.Change{Action: plan.Update, Fields: append(append([]plan.Field{}, enable.Fields...), start.Fields...)}
	restart := plan.Change{Action: plan.Restart}
	for _, c := range []struct {
		init    string
		changes []plan.Change
		want    []string
		never   []string
	}{
		{"systemd", []plan.Change{enable, restart}, []string{"systemctl enable -q 'telegraf'", "systemctl restart 'telegraf'"}, []string{"--now", "systemctl start"}},
		{"systemd", []plan.Change{restart}, []string{"systemctl restart 'telegraf'"}, []string{"enable"}},
		{"systemd", []plan.Change{enableStart}, []string{"systemctl enable -q --now 'telegraf'"}, []string{"restart", "systemctl start"}},
		{"systemd", []plan.Change{start}, []string{"systemctl start 'telegraf'"}, []string{"enable"}},
		{"openrc", []plan.Change{enable, restart}, []string{"rc-update add 'telegraf' default", "rc-service 'telegraf' restart"}, nil},
		{"openrc", []plan.Change{start}, []string{"rc-service 'telegraf' status >/dev/null 2>&1 || rc-service 'telegraf' start"}, []string{"rc-update"}},
		{"sysv", []plan.Change{enable, restart}, []string{"update-rc.d 'telegraf' defaults", "chkconfig 'telegraf' on", "service 'telegraf' restart"}, nil},
		{"sysv", []plan.Change{start}, []string{"service 'telegraf' status >/dev/null 2>&1 || service 'telegraf' start"}, []string{"update-rc.d"}},
	} {
		s := NewService(nil, &Facts{}, Service{Unit: "telegraf", Init: c.init})
		frag, err := s.Fragment(c.changes)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(frag.Script, w) {
				t.Errorf("%s %v: lacks %q:\n%s", c.init, c.changes, w, frag.Script)
			}
		}
		for _, n := range c.never {
			if strings.Contains(frag.Script, n) {
				t.Errorf("%s %v: does more than the plan asks (%q):\n%s", c.init, c.changes, n, frag.Script)
			}
		}
	}
}

func TestDaemonReloadOnlyAfterThePackageChanged(t *testing.T) {
	for _, pkgChanged := range []bool{false, true} {
		s := NewService(nil, &Facts{Services: map[string]ServiceFact{"telegraf": {Exists: true, Enabled: "enabled", Active: "active"}}},
			Service{Unit: "telegraf", Init: "systemd", Package: "h/package:telegraf", Watch: []string{"h/file:*"}})
		prior := []plan.Change{{Address: "h/file:/etc/telegraf/telegraf.conf", Kind: "file", Name: "/etc/telegraf/telegraf.conf", Action: plan.Update, AfterText: new(string)}}
		if pkgChanged {
			prior = append(prior, plan.Change{Address: "h/package:telegraf", Kind: "package", Name: "telegraf", Action: plan.Create})
		}
		chs := s.Diff(prior)
		frag, err := s.Fragment(chs[1:])
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(frag.Script, "daemon-reload"); got != pkgChanged {
			t.Errorf("package changed %t: daemon-reload %t", pkgChanged, got)
		}
	}
}

func TestFactsScriptReadsEveryServiceManager(t *testing.T) {
	s := Query{Services: []string{"telegraf"}}.Script()
	for _, w := range []string{"systemctl show -p LoadState -p UnitFileState -p ActiveState -p MainPID 'telegraf'", "rc-update show default", "rc-service 'telegraf' status", "ls /etc/rc[2345].d/S*'telegraf'", "service 'telegraf' status"} {
		if !strings.Contains(s, w) {
			t.Errorf("facts script lacks %q", w)
		}
	}
}

// TestREADMETable keeps the README's support table generated from the code's (go test -update rewrites it).
func TestREADMETable(t *testing.T) {
	const readme = "../../README.md"
	const begin, end = "<!-- support table: generated by TestREADMETable -->\n", "<!-- end of support table -->\n"
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the support table markers")
	}
	want := s[:i+len(begin)] + SupportTable() + s[j:]
	if *updateFlag {
		if err := os.WriteFile(readme, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != s {
		t.Fatalf("README.md's support table is out of date: run go test ./provision/system -update")
	}
}
