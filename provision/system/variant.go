package system

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/repokey"
)

// Repo is where the telegraf package comes from and the key it must be signed with.
type Repo struct {
	AptURL     string // e.g. https://repos.influxdata.com/debian
	RPMURL     string // e.g. https://repos.influxdata.com/stable/$basearch/main
	Key        []byte // verified key, binary (apt's signed-by keyring)
	KeyArmored []byte // the same key armored (rpm, dnf, yum, zypper)
}

// Family is a package manager family: how the repository and its key are declared, how the package is installed,
// where the agent's configuration lives. Every Distro points at one.
type Family struct {
	Name        string // "apt", "dnf", "yum", "zypper", "apk"
	PackageDB   string // where installed packages are recorded: "dpkg", "rpm" or "apk"
	KeyHandling string // how the key is pinned, for the README table
	// RepoFiles are the files that declare the repository and pin its key.
	RepoFiles func(r Repo) []FileSpec
	// Install is the root shell script that installs pkg (at version, when pinned) from the declared repository,
	// waiting up to wait for every lock its package manager takes (see Locks).
	Install func(pkg, version string, wait time.Duration) string
	// Locks are the locks the family's package steps take, waited for before each step.
	Locks []Lock
	// Remove uninstalls pkg (drift tests remove it behind fleetctl's back).
	Remove func(pkg string) string
	// ConfigMain and ConfigDir are the agent's main file and its directory of further *.conf files.
	ConfigMain, ConfigDir string
	// JoinGroup and LeaveGroup add user to a supplementary group and take it out (the group itself stays).
	JoinGroup, LeaveGroup func(user, group string) string
}

// shadowJoin and shadowLeave are the shadow suite's (Debian's passwd, RHEL's shadow-utils, SUSE's shadow).
func shadowJoin(user, group string) string {
	return "usermod -a -G " + remote.Quote(group) + " " + remote.Quote(user)
}
func shadowLeave(user, group string) string {
	return "gpasswd -d " + remote.Quote(user) + " " + remote.Quote(group) + " >/dev/null"
}

// Distro is one supported operating system: its os-release IDs and versions, its family and its usual service
// manager (the one found on the host wins). Distros is the one table of what fleetctl supports.
type Distro struct {
	Name     string
	IDs      []string // os-release ID values
	Versions []string // supported VERSION_ID values or their major part; empty: any
	Family   *Family
	Init     string // "systemd", "openrc" or "sysv"
	// Exercised says how the project's CI proves this row: on a real package manager or by unit tests only.
	Exercised string
}

// Key locations. apt reads a binary keyring named by signed-by; the rpm family reads an armored key file.
const (
	AptKeyring = "/etc/apt/keyrings/influxdata-archive.gpg"
	AptList    = "/etc/apt/sources.list.d/influxdata.list"
	RPMKey     = "/etc/pki/rpm-gpg/RPM-GPG-KEY-influxdata"
	YumRepo    = "/etc/yum.repos.d/influxdata.repo"
	ZypperRepo = "/etc/zypp/repos.d/influxdata.repo"
)

// InstalledVersion is a shell command that prints the version of pkg recorded in the family's package database
// (rpm prints a sentence when it is not installed): a query of the database, much cheaper than starting a large
// binary to ask it.
func (f *Family) InstalledVersion(pkg string) string {
	q := remote.Quote(pkg)
	switch f.PackageDB {
	case "rpm":
		return "rpm -q --qf '%{VERSION}' " + q + " 2>/dev/null"
	case "apk":
		// It prints "telegraf-1.37.2-r0".
		return "v=$(apk info -e -v " + q + " 2>/dev/null) && echo \"${v#" + remote.Quote(pkg+"-") + "}\""
	default:
		return "dpkg-query -W -f='${Version}' " + q + " 2>/dev/null"
	}
}

// LockWait is how long an install waits, before each step, for another run of the package manager (unattended
// upgrades on a fresh machine, or an install that an aborted run left to finish) to let go of its locks.
const LockWait = 2 * time.Minute

// Lock is a lock a package step takes: a file locked with fcntl or flock (found in /proc/locks, with its
// holder's PID), or a PID file naming its live holder.
type Lock struct {
	Name    string // for messages: "the rpm database lock"
	Path    string
	PIDFile bool
}

// lockLib is the shell that waits for locks: lock_holder KIND PATH prints the PID that holds a lock ("lock": a file
// locked with fcntl or flock, as /proc/locks lists it by device and inode; "pid": a PID file naming a live process),
// nothing when it is free or cannot be told; wait_locks SECONDS KIND PATH NAME... waits until none is held, reporting
// (note) what it waits for, and on timeout fails with status 75 naming the lock and its holder.
const lockLib = `command -v note >/dev/null 2>&1 || note() { :; }
lock_holder() {
	[ -e "$2" ] || return 0
	if [ "$1" = pid ]; then
		read -r p <"$2" 2>/dev/null || return 0
		case $p in ''|*[!0-9]*) return 0 ;; esac
		[ -d "/proc/$p" ] && echo "$p"
		return 0
	fi
	[ -r /proc/locks ] || return 0
	id=$(stat -L -c '%D %i' "$2" 2>/dev/null) || return 0
	dev=${id% *} ino=${id#* }
	case $dev:$ino in *[!0-9a-f:]*|:*|*:) return 0 ;; esac
	d=$((0x$dev))
	id=$(printf '%02x:%02x:%s' $(((d >> 8) & 0xfff)) $(((d & 0xff) | ((d >> 12) & 0xfff00))) "$ino")
	awk -v id="$id" '$2 != "->" && $6 == id { print $5; exit }' /proc/locks 2>/dev/null
	return 0
}
lock_who() {
	case $1 in ''|0|-*) echo 'a process not visible here'; return 0 ;; esac
	c=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | cut -c1-120)
	[ -n "$c" ] || c=$(cat "/proc/$1/comm" 2>/dev/null)
	echo "pid $1 (${c% })"
}
lock_busy() {
	while [ $# -ge 3 ]; do
		p=$(lock_holder "$1" "$2")
		if [ -n "$p" ]; then echo "$3 ($2), held by $(lock_who "$p")"; return 0; fi
		shift 3
	done
	return 0
}
wait_locks() {
	w=$1; shift
	end=$(($(date +%s) + w)); said=
	while busy=$(lock_busy "$@") && [ -n "$busy" ]; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "gave up after ${w}s waiting for $busy: let it finish (or stop it), then run fleetctl again" >&2
			exit 75
		fi
		[ "$busy" = "$said" ] || { note "waiting for $busy"; said=$busy; }
		sleep 1
	done
}
`

// ExitLockTimeout is the status of an install that gave up waiting for a lock.
const ExitLockTimeout = 75

// lockedSteps is a script that runs prologue, then each command once none of locks is held (waiting up to wait
// before each). The commands do not inherit the progress channel (fd 3): a maintainer script may start a daemon.
func lockedSteps(wait time.Duration, locks []Lock, prologue string, cmds ...string) string {
	var args strings.Builder
	args.WriteString("wait_locks " + seconds(wait))
	for _, l := range locks {
		kind := "lock"
		if l.PIDFile {
			kind = "pid"
		}
		fmt.Fprintf(&args, " %s %s %s", kind, remote.Quote(l.Path), remote.Quote(l.Name))
	}
	var b strings.Builder
	b.WriteString(lockLib)
	b.WriteString(prologue)
	for _, c := range cmds {
		fmt.Fprintf(&b, "%s\n%s 3>&-\n", args.String(), c)
	}
	return b.String()
}

// seconds is d in whole seconds, for a command's option.
func seconds(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) }

func rootFile(path string, content []byte) FileSpec {
	return FileSpec{Path: path, Content: content, Mode: 0o644, Owner: "root", Group: "root"}
}

func pinned(pkg, sep, version string) string {
	if version == "" {
		return remote.Quote(pkg)
	}
	return remote.Quote(pkg + sep + version)
}

// repoURL keeps a repository URL one token on one line of the file it is written into: a space would give dnf a
// second mirror and apt another suite, a line break another key. The inventory refuses such URLs; whatever reaches
// here anyway has every space, control and invisible character percent-encoded.
func repoURL(u string) string {
	var b strings.Builder
	for len(u) > 0 {
		r, n := utf8.DecodeRuneInString(u)
		if r == ' ' || r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsGraphic(r) {
			for _, c := range []byte(u[:n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(u[:n])
		}
		u = u[n:]
	}
	return b.String()
}

// rpmRepoFile is the .repo file dnf, yum and zypper read: every check on, the key a local file fleetctl verified,
// so no key is ever fetched from the network and trusted unseen.
func rpmRepoFile(r Repo, zypper bool) []byte {
	var b strings.Builder
	b.WriteString("# Managed by fleetctl.\n[influxdata]\nname=InfluxData Repository - Stable\n")
	fmt.Fprintf(&b, "baseurl=%s\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://%s\n", repoURL(r.RPMURL), RPMKey)
	if zypper {
		b.WriteString("type=rpm-md\nautorefresh=1\npkg_gpgcheck=1\n")
	}
	return []byte(b.String())
}

// Families returns every family; each call returns fresh values.
func Families() map[string]*Family {
	dpkgLocks := []Lock{
		{Name: "the dpkg frontend lock", Path: "/var/lib/dpkg/lock-frontend"},
		{Name: "the dpkg database lock", Path: "/var/lib/dpkg/lock"},
		{Name: "the apt lists lock", Path: "/var/lib/apt/lists/lock"},
		{Name: "the apt archives lock", Path: "/var/cache/apt/archives/lock"},
	}
	// rpm waits for its transaction lock only when stdin is a terminal: anywhere else it fails at once. Newer systems
	// keep the database in /usr/lib/sysimage/rpm (and /var/lib/rpm links there).
	rpmLocks := []Lock{
		{Name: "the rpm database lock", Path: "/var/lib/rpm/.rpm.lock"},
		{Name: "the rpm database lock", Path: "/usr/lib/sysimage/rpm/.rpm.lock"},
	}
	apt := &Family{
		Name:        "apt",
		PackageDB:   "dpkg",
		KeyHandling: "key in `" + AptKeyring + "`, named by `signed-by` in the source line",
		RepoFiles: func(r Repo) []FileSpec {
			key := rootFile(AptKeyring, r.Key)
			key.Summary = keySummary
			return []FileSpec{key, rootFile(AptList, []byte(fmt.Sprintf("# Managed by fleetctl.\ndeb [signed-by=%s] %s stable main\n", AptKeyring, repoURL(r.AptURL))))}
		},
		Locks: dpkgLocks,
		Install: func(pkg, version string, wait time.Duration) string {
			// Refresh only the InfluxData list: the host's other sources are not ours to touch, and an unreachable
			// mirror elsewhere must not fail the install.
			// Another apt (unattended-upgrades on a fresh machine, or an install a Ctrl-C left running) holds the
			// locks for a while: wait for them rather than fail (apt itself waits for the dpkg lock too).
			return lockedSteps(wait, dpkgLocks, "export DEBIAN_FRONTEND=noninteractive\n",
				"apt-get update -qq -o Dir::Etc::sourcelist="+remote.Quote(AptList)+" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0",
				"apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout="+seconds(wait)+" -o Dpkg::Options::=--force-confold "+pinned(pkg, "=", version)+" >/dev/null")
		},
		Remove: func(pkg string) string {
			return "DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq " + remote.Quote(pkg) + " >/dev/null"
		},
		ConfigMain: "/etc/telegraf/telegraf.conf", ConfigDir: "/etc/telegraf/telegraf.d",
		JoinGroup: shadowJoin, LeaveGroup: shadowLeave,
	}
	rpmKey := func(r Repo) FileSpec { k := rootFile(RPMKey, r.KeyArmored); k.Summary = keySummary; return k }
	// dnf and yum wait for their own PID-file locks without end, but not for rpm's.
	dnfLocks := append([]Lock{
		{Name: "dnf's rpmdb lock", Path: "/var/lib/dnf/rpmdb_lock.pid", PIDFile: true},
		{Name: "dnf's metadata lock", Path: "/var/cache/dnf/metadata_lock.pid", PIDFile: true},
		{Name: "dnf's download lock", Path: "/var/cache/dnf/download_lock.pid", PIDFile: true},
	}, rpmLocks...)
	yumLocks := append([]Lock{{Name: "the yum lock", Path: "/var/run/yum.pid", PIDFile: true}}, rpmLocks...)
	zypperLocks := append([]Lock{{Name: "the zypper lock", Path: "/run/zypp.pid", PIDFile: true}}, rpmLocks...)
	dnf := &Family{
		Name:        "dnf",
		PackageDB:   "rpm",
		KeyHandling: "`gpgkey=file://" + RPMKey + "` with `gpgcheck` and `repo_gpgcheck`",
		RepoFiles:   func(r Repo) []FileSpec { return []FileSpec{rpmKey(r), rootFile(YumRepo, rpmRepoFile(r, false))} },
		Locks:       dnfLocks,
		Install: func(pkg, version string, wait time.Duration) string {
			return lockedSteps(wait, dnfLocks, "", "dnf -y -q --refresh install "+pinned(pkg, "-", version)+" >/dev/null")
		},
		Remove:     func(pkg string) string { return "dnf -y -q remove " + remote.Quote(pkg) + " >/dev/null" },
		ConfigMain: "/etc/telegraf/telegraf.conf", ConfigDir: "/etc/telegraf/telegraf.d",
		JoinGroup: shadowJoin, LeaveGroup: shadowLeave,
	}
	yum := &Family{
		Name:        "yum",
		PackageDB:   "rpm",
		KeyHandling: dnf.KeyHandling,
		RepoFiles:   dnf.RepoFiles,
		Locks:       yumLocks,
		Install: func(pkg, version string, wait time.Duration) string {
			return lockedSteps(wait, yumLocks, "", "yum -y -q makecache >/dev/null", "yum -y -q install "+pinned(pkg, "-", version)+" >/dev/null")
		},
		Remove:     func(pkg string) string { return "yum -y -q remove " + remote.Quote(pkg) + " >/dev/null" },
		ConfigMain: dnf.ConfigMain, ConfigDir: dnf.ConfigDir,
		JoinGroup: shadowJoin, LeaveGroup: shadowLeave,
	}
	zypper := &Family{
		Name:        "zypper",
		PackageDB:   "rpm",
		KeyHandling: "the key imported into the rpm database (`rpm --import`), which zypper trusts; `gpgcheck`, `repo_gpgcheck`, `pkg_gpgcheck`",
		RepoFiles:   func(r Repo) []FileSpec { return []FileSpec{rpmKey(r), rootFile(ZypperRepo, rpmRepoFile(r, true))} },
		Locks:       zypperLocks,
		Install: func(pkg, version string, wait time.Duration) string {
			// zypper trusts keys in the rpm database: importing the verified file is the pin; never
			// --gpg-auto-import-keys, which would trust whatever key the repository offers.
			return lockedSteps(wait, zypperLocks, "export ZYPP_LOCK_TIMEOUT="+seconds(wait)+"\n",
				"rpm --import "+remote.Quote(RPMKey),
				"zypper --non-interactive --quiet refresh "+remote.Quote("influxdata")+" >/dev/null",
				"zypper --non-interactive --quiet install --no-recommends "+pinned(pkg, "=", version)+" >/dev/null")
		},
		Remove: func(pkg string) string {
			return "zypper --non-interactive --quiet remove " + remote.Quote(pkg) + " >/dev/null"
		},
		ConfigMain: dnf.ConfigMain, ConfigDir: dnf.ConfigDir,
		JoinGroup: shadowJoin, LeaveGroup: shadowLeave,
	}
	apkLocks := []Lock{{Name: "the apk database lock", Path: "/lib/apk/db/lock"}}
	apk := &Family{
		Name:      "apk",
		PackageDB: "apk",
		KeyHandling: "Alpine's own signing keys (`/etc/apk/keys`); InfluxData publishes no apk repository, so the package " +
			"comes from Alpine's community repository and the configured OpenPGP key is not used",
		RepoFiles: func(Repo) []FileSpec { return nil },
		Locks:     apkLocks,
		Install: func(pkg, version string, wait time.Duration) string {
			return lockedSteps(wait, apkLocks,
				"grep -q '^[^#].*/community' /etc/apk/repositories || { echo 'enable the community repository in /etc/apk/repositories' >&2; exit 1; }\n",
				"apk add --quiet --wait "+seconds(wait)+" "+pinned(pkg, "=", version))
		},
		Remove: func(pkg string) string { return "apk del --quiet " + remote.Quote(pkg) },
		// Alpine's package reads these (TELEGRAF_OPTS in /etc/conf.d/telegraf).
		ConfigMain: "/etc/telegraf.conf", ConfigDir: "/etc/telegraf.conf.d",
		// busybox's (Alpine has no shadow suite by default).
		JoinGroup:  func(user, group string) string { return "addgroup " + remote.Quote(user) + " " + remote.Quote(group) },
		LeaveGroup: func(user, group string) string { return "delgroup " + remote.Quote(user) + " " + remote.Quote(group) },
	}
	return map[string]*Family{"apt": apt, "dnf": dnf, "yum": yum, "zypper": zypper, "apk": apk}
}

const (
	exercisedReal = "CI: real %s with systemd on the bed's %s"
	exercisedUnit = "unit tests of the generated commands"
	// The bed's or1-debian12 and sv1-debian12 (test/e2e TestInitSystems): onboarding, drift repair, restart on change.
	exercisedOpenRC = "CI: Debian 12 with apt, PID 1 sysvinit's init and Debian's `openrc` as its rc, Telegraf run by InfluxData's " +
		"init script (Debian's OpenRC runs LSB scripts; InfluxData ships no OpenRC script); others by unit tests"
	exercisedSysV = "CI: Debian 12 with apt and Debian's `sysvinit-core` (sysv-rc, insserv), Telegraf run by InfluxData's init " +
		"script; others by unit tests"
)

// Distros is the support table, in the order the README lists it.
func Distros() []Distro {
	f := Families()
	return []Distro{
		{Name: "Debian", IDs: []string{"debian"}, Versions: []string{"10", "11", "12", "13"}, Family: f["apt"], Init: "systemd",
			Exercised: fmt.Sprintf(exercisedReal, "apt", "Debian 11, 12 and 13 roots") + "; 10 by unit tests"},
		{Name: "Ubuntu", IDs: []string{"ubuntu"}, Versions: []string{"20.04", "22.04", "24.04"}, Family: f["apt"], Init: "systemd", Exercised: exercisedUnit},
		{Name: "CentOS / RHEL 7", IDs: []string{"centos", "rhel"}, Versions: []string{"7"}, Family: f["yum"], Init: "systemd", Exercised: exercisedUnit},
		{Name: "Rocky Linux", IDs: []string{"rocky"}, Versions: []string{"8", "9"}, Family: f["dnf"], Init: "systemd",
			Exercised: fmt.Sprintf(exercisedReal, "dnf", `"Rocky 9" root (Debian userland)`)},
		{Name: "AlmaLinux / RHEL 8–9", IDs: []string{"almalinux", "rhel", "centos"}, Versions: []string{"8", "9"}, Family: f["dnf"], Init: "systemd", Exercised: exercisedUnit},
		{Name: "Fedora", IDs: []string{"fedora"}, Family: f["dnf"], Init: "systemd", Exercised: exercisedUnit},
		{Name: "Amazon Linux 2", IDs: []string{"amzn"}, Versions: []string{"2"}, Family: f["yum"], Init: "systemd", Exercised: exercisedUnit},
		{Name: "Amazon Linux 2023", IDs: []string{"amzn"}, Versions: []string{"2023"}, Family: f["dnf"], Init: "systemd", Exercised: exercisedUnit},
		{Name: "openSUSE Leap / SLES 15", IDs: []string{"opensuse-leap", "sles", "sled"}, Versions: []string{"15"}, Family: f["zypper"], Init: "systemd",
			Exercised: fmt.Sprintf(exercisedReal, "zypper", `"openSUSE Leap 15.5" root (Debian userland)`)},
		{Name: "Alpine 3.x", IDs: []string{"alpine"}, Versions: []string{"3"}, Family: f["apk"], Init: "openrc", Exercised: exercisedUnit},
	}
}

// OS is a detected operating system.
type OS struct {
	ID, Like, VersionID, Pretty string
	Init                        string // the service manager found on the host
	Distro                      Distro
	Family                      *Family
}

func versionMatches(versions []string, id string) bool {
	if len(versions) == 0 {
		return true
	}
	major, _, _ := strings.Cut(id, ".")
	return slices.Contains(versions, id) || slices.Contains(versions, major)
}

// Detect maps os-release and the host's service manager to a supported distribution, or refuses with what it found
// and what is supported. A derivative (ID_LIKE names a supported ID) is accepted as its parent's family whatever
// its version, since InfluxData's repositories serve every release of a family alike.
func Detect(osr map[string]string, init string) (*OS, error) {
	o := &OS{ID: osr["ID"], Like: osr["ID_LIKE"], VersionID: osr["VERSION_ID"], Pretty: osr["PRETTY_NAME"], Init: init}
	var sameID []string
	for _, d := range Distros() {
		if slices.Contains(d.IDs, o.ID) {
			if versionMatches(d.Versions, o.VersionID) {
				o.Distro, o.Family = d, d.Family
				return o, nil
			}
			sameID = append(sameID, fmt.Sprintf("%s %s", d.Name, strings.Join(d.Versions, ", ")))
		}
	}
	if len(sameID) > 0 {
		return nil, fmt.Errorf("unsupported version: os-release has ID=%q VERSION_ID=%q (%s); supported: %s",
			o.ID, o.VersionID, o.Pretty, strings.Join(sameID, "; "))
	}
	for _, like := range strings.Fields(o.Like) {
		for _, d := range Distros() {
			if slices.Contains(d.IDs, like) {
				o.Distro, o.Family = d, d.Family
				return o, nil
			}
		}
	}
	return nil, fmt.Errorf("unsupported operating system: os-release has ID=%q ID_LIKE=%q VERSION_ID=%q; supported: %s",
		o.ID, o.Like, o.VersionID, SupportedSummary())
}

// SupportedSummary names every supported distribution and its versions.
func SupportedSummary() string {
	var parts []string
	for _, d := range Distros() {
		v := "any version"
		if len(d.Versions) > 0 {
			v = strings.Join(d.Versions, ", ")
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", d.Name, v, d.Family.Name))
	}
	return strings.Join(parts, "; ")
}

// SupportTable is the README's table of what each distribution gets, generated from Distros.
func SupportTable() string {
	var b strings.Builder
	b.WriteString("| system | versions | packages | repository key | service manager | agent config | exercised |\n|---|---|---|---|---|---|---|\n")
	for _, d := range Distros() {
		v := "any"
		if len(d.Versions) > 0 {
			v = strings.Join(d.Versions, ", ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | `%s`, `%s/` | %s |\n", d.Name, v, d.Family.Name, d.Family.KeyHandling, d.Init,
			d.Family.ConfigMain, d.Family.ConfigDir, d.Exercised)
	}
	b.WriteString("| any of the above with OpenRC | as above | as above | as above | `rc-service`, `rc-update` (found on the host) | as above | " + exercisedOpenRC + " |\n")
	b.WriteString("| any of the above with SysV init | as above | as above | as above | `service`, `update-rc.d` or `chkconfig` (found on the host) | as above | " + exercisedSysV + " |\n")
	return b.String()
}

// keySummary shows a key file as apt and rpm read it: every primary key of every armored block, and whatever else
// the file holds, so a key added behind fleetctl's back shows in the plan beside the pinned one.
func keySummary(b []byte) string {
	c := repokey.Inspect(b)
	var s string
	switch len(c.Fingerprints) {
	case 0:
		return fmt.Sprintf("not an OpenPGP key (%d bytes)", len(b))
	case 1:
		s = "OpenPGP key " + c.Fingerprints[0]
	default:
		s = fmt.Sprintf("%d OpenPGP keys: %s", len(c.Fingerprints), strings.Join(c.Fingerprints, ", "))
	}
	if c.Blocks > 1 {
		s += fmt.Sprintf(" in %d armored blocks", c.Blocks)
	}
	if len(c.Problems) > 0 {
		s += "; " + strings.Join(c.Problems, "; ")
	}
	return s
}

// RepoFilePaths lists the repository files of every family, so one batched read covers whichever OS the host runs.
func RepoFilePaths() []string {
	var out []string
	for _, name := range []string{"apt", "dnf", "zypper"} {
		for _, f := range Families()[name].RepoFiles(Repo{}) {
			if !slices.Contains(out, f.Path) {
				out = append(out, f.Path)
			}
		}
	}
	return out
}

// ConfigPaths lists the agent's main file and directory of every family, for the same reason.
func ConfigPaths() (mains, dirs []string) {
	for _, name := range []string{"apt", "apk"} {
		f := Families()[name]
		mains, dirs = append(mains, f.ConfigMain), append(dirs, f.ConfigDir)
	}
	return mains, dirs
}
