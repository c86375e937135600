package system

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/provision/remote"
)

// Runner is the part of a remote connection the host resources need. *remote.Conn implements it.
type Runner interface {
	Sudo(ctx context.Context, script string, stdin []byte) ([]byte, error)
	SudoWatch(ctx context.Context, script string, stdin io.Reader, onLine func(string)) ([]byte, error)
	Stage(ctx context.Context, files []remote.File) (string, error)
	Unstage(ctx context.Context, dir string) error
}

var _ Runner = (*remote.Conn)(nil)

// FileFact is a file as found on the host.
type FileFact struct {
	Exists  bool
	Mode    uint32
	Owner   string
	Group   string
	MTime   int64 // seconds since the epoch, by the host's clock
	Content []byte
}

// Format never shows the content, which may hold a secret.
func (f FileFact) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "FileFact{exists=%t %04o %s:%s, %d bytes}", f.Exists, f.Mode, f.Owner, f.Group, len(f.Content))
}

// ServiceFact is a service as found on the host.
type ServiceFact struct {
	Exists  bool   // a unit (or init script) is known
	Enabled string // "enabled", "disabled", "masked", "static"... as the service manager says
	Active  string // "active", "inactive", "failed"...
	Started int64  // when its main process started, seconds since the epoch by the host's clock; 0 if not running
}

// PackageFact is a package as found on the host.
type PackageFact struct {
	Installed bool
	Version   string
}

// Facts is everything fleetctl reads from a host, in one round trip.
type Facts struct {
	OSRelease map[string]string
	Init      string // "systemd", "openrc" or "sysv"
	Files     map[string]FileFact
	Dirs      map[string][]string    // names inside watched directories, sorted
	Packages  map[string]PackageFact // keyed "DB:NAME", DB one of dpkg, rpm, apk
	Services  map[string]ServiceFact
	// Systemd is what the host's systemd offers for encrypted credentials (read with Query.Systemd).
	Systemd SystemdFact
	// Credentials are the encrypted credentials read (Query.Credentials), by path.
	Credentials map[string]CredentialFact
	// Users are the users read (Query.Users), Groups whether each group read exists (Query.Groups), Commands the
	// path of each command read, "" when the host has none (Query.Commands).
	Users    map[string]UserFact
	Groups   map[string]bool
	Commands map[string]string
}

// UserFact is a user as found on the host: whether it exists and the groups it is in, its primary group first.
type UserFact struct {
	Exists bool
	Groups []string
}

// Query says what to read.
type Query struct {
	Files    []string
	Dirs     []string
	Packages []string
	Services []string
	// Systemd asks what the host's systemd offers for encrypted credentials.
	Systemd bool
	// Credentials are encrypted credentials to read: metadata, and whether each decrypts and to what (a salted
	// digest, never the value).
	Credentials []CredentialQuery
	// Users, Groups and Commands to read: a user's groups, whether a group exists, where a command is.
	Users    []string
	Groups   []string
	Commands []string
}

const marker = "::fleetctl:: "

// Script is the one shell script that reads everything the query asks for. It runs as root (managed files may be
// readable only by root) and never fails as a whole: a missing thing is reported as missing.
func (q Query) Script() string {
	var b strings.Builder
	b.WriteString(`m() { printf '\n` + marker + `%s\n' "$*"; }` + "\n")
	b.WriteString("m os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null\n")
	b.WriteString("m init; " + initProbe + "echo \"$init\"\n")
	for _, f := range q.Files {
		qf := remote.Quote(f)
		fmt.Fprintf(&b, "m file %s; if [ -f %s ]; then stat -c '%%a %%U %%G %%Y' %s && base64 -w0 %s; fi\n", qf, qf, qf, qf)
	}
	for _, d := range q.Dirs {
		qd := remote.Quote(d)
		fmt.Fprintf(&b, "m dir %s; ls -1A %s 2>/dev/null\n", qd, qd)
	}
	for _, p := range q.Packages {
		// Every package database present answers: the family, known only after os-release is parsed, picks its
		// own (a Debian-derived root may carry dpkg beside rpm).
		qp := remote.Quote(p)
		fmt.Fprintf(&b, "m pkg %s; if command -v dpkg-query >/dev/null 2>&1; then echo \"dpkg $(dpkg-query -W -f='${db:Status-Status} ${Version}' %s 2>/dev/null)\"; fi; "+
			"if command -v rpm >/dev/null 2>&1; then echo \"rpm $(rpm -q --qf 'installed %%{VERSION}-%%{RELEASE}' %s 2>/dev/null | grep '^installed')\"; fi; "+
			"if command -v apk >/dev/null 2>&1; then echo \"apk $(apk info -e -v %s 2>/dev/null | sed 's/^/installed /')\"; fi\n", qp, qp, qp, qp)
	}
	for _, s := range q.Services {
		// systemd: one `systemctl show` (a single request to PID 1) gives every property. OpenRC and SysV: "E <enabled
		// or disabled>" and "A <active or inactive>" lines, none when the service has no init script.
		qs, initScript := remote.Quote(s), remote.Quote("/etc/init.d/"+s)
		fmt.Fprintf(&b, "m svc %s; pid=; if [ \"$init\" = systemd ]; then "+
			"st=$(systemctl show -p LoadState -p UnitFileState -p ActiveState -p MainPID %s 2>/dev/null); printf '%%s\\n' \"$st\"; "+
			"case \"$st\" in *MainPID=*) pid=${st#*MainPID=}; pid=${pid%%%%[!0-9]*} ;; esac; "+
			"elif [ \"$init\" = openrc ]; then if [ -e %s ]; then "+
			"if rc-update show default 2>/dev/null | grep -q -- %s; then echo 'E enabled'; else echo 'E disabled'; fi; "+
			"if rc-service %s status >/dev/null 2>&1; then echo 'A active'; pid=$(pidof -s %s 2>/dev/null); else echo 'A inactive'; fi; fi; "+
			"else if [ -e %s ]; then if ls /etc/rc[2345].d/S*%s >/dev/null 2>&1; then echo 'E enabled'; else echo 'E disabled'; fi; "+
			"if service %s status >/dev/null 2>&1; then echo 'A active'; pid=$(pidof -s %s 2>/dev/null); else echo 'A inactive'; fi; fi; fi\n",
			qs, qs, initScript, remote.Quote("^ *"+basicRegexpQuote(s)+" "), qs, qs, initScript, qs, qs, qs)
		// The main process's start time (from /proc, by the host's clock) tells whether the agent runs the
		// configuration on disk or an older one: its stat line, the boot time and the clock tick, computed here.
		b.WriteString("if [ \"${pid:-0}\" != 0 ] && [ -r /proc/$pid/stat ]; then read -r ps < /proc/$pid/stat; echo \"P $ps\"; " +
			"awk '/^btime/ { print \"B\", $2 }' /proc/stat; echo \"K $(getconf CLK_TCK)\"; fi\n")
	}
	if q.Systemd {
		b.WriteString(systemdScript)
	}
	for _, c := range q.Credentials {
		b.WriteString(c.script())
	}
	for _, u := range q.Users {
		qu := remote.Quote(u)
		fmt.Fprintf(&b, "m user %s; id -Gn %s 2>/dev/null | tr ' ' '\\n'\n", qu, qu)
	}
	for _, g := range q.Groups {
		// getent sees every group source (NSS); busybox systems may lack it and keep groups in /etc/group.
		qg := remote.Quote(g)
		fmt.Fprintf(&b, "m group %s; if { getent group %s || grep -q %s /etc/group; } >/dev/null 2>&1; then echo exists; fi\n", qg, qg, remote.Quote("^"+basicRegexpQuote(g)+":"))
	}
	for _, c := range q.Commands {
		qc := remote.Quote(c)
		fmt.Fprintf(&b, "m cmd %s; command -v %s 2>/dev/null || true\n", qc, qc)
	}
	b.WriteString("m end\n")
	return b.String()
}

// initProbe sets init to the service manager that runs the host: systemd when it is running (sd_booted's test);
// OpenRC when it booted the host (it keeps its state in /run/openrc) or is the only manager installed (Alpine in a
// container); else SysV init when PID 1 is init, as on Debian with sysvinit-core, whose systemd package (and so
// systemctl) usually stays installed. A systemctl with neither, in a container whose PID 1 is no init at all, is a
// systemd-compatible stand-in and used as systemctl.
const initProbe = "if [ -d /run/systemd/system ]; then init=systemd; " +
	"elif command -v rc-service >/dev/null 2>&1 && { [ -d /run/openrc ] || ! command -v systemctl >/dev/null 2>&1; }; then init=openrc; " +
	"elif command -v systemctl >/dev/null 2>&1 && [ \"$(cat /proc/1/comm 2>/dev/null)\" != init ]; then init=systemd; " +
	"else init=sysv; fi; "

// basicRegexpQuote escapes the characters special in a POSIX basic regular expression (grep's default).
func basicRegexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`.[]*^$\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Read runs the query on the host in one remote command.
func Read(ctx context.Context, r Runner, q Query) (*Facts, error) {
	out, err := r.Sudo(ctx, q.Script(), nil)
	if err != nil {
		return nil, fmt.Errorf("read host state: %w", err)
	}
	return ParseFacts(out)
}

// ParseFacts decodes the output of Query.Script.
func ParseFacts(out []byte) (*Facts, error) {
	f := &Facts{OSRelease: map[string]string{}, Files: map[string]FileFact{}, Dirs: map[string][]string{},
		Packages: map[string]PackageFact{}, Services: map[string]ServiceFact{}, Credentials: map[string]CredentialFact{},
		Users: map[string]UserFact{}, Groups: map[string]bool{}, Commands: map[string]string{}}
	sections := map[string][]string{}
	var order []string
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20) // grows with the longest line (a file is one base64 line), from 4 KiB
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, marker) {
			cur = strings.TrimPrefix(line, marker)
			order = append(order, cur)
			sections[cur] = nil
			continue
		}
		if cur != "" && line != "" {
			sections[cur] = append(sections[cur], line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse host state: %w", err)
	}
	if len(order) == 0 || order[len(order)-1] != "end" {
		return nil, fmt.Errorf("parse host state: output ended early (%d bytes)", len(out))
	}
	for _, key := range order {
		lines := sections[key]
		kind, arg, _ := strings.Cut(key, " ")
		switch kind {
		case "os-release":
			f.OSRelease = ParseOSRelease(strings.Join(lines, "\n"))
		case "init":
			if len(lines) > 0 {
				f.Init = lines[0]
			}
		case "file":
			ff, err := parseFile(lines)
			if err != nil {
				return nil, fmt.Errorf("parse host state of file %s: %w", arg, err)
			}
			f.Files[arg] = ff
		case "dir":
			names := append([]string(nil), lines...)
			sort.Strings(names)
			f.Dirs[arg] = names
		case "pkg":
			for _, l := range lines {
				db, rest, _ := strings.Cut(l, " ")
				status, ver, _ := strings.Cut(rest, " ")
				f.Packages[db+":"+arg] = PackageFact{Installed: status == "installed", Version: ver}
			}
			f.Packages["queried:"+arg] = PackageFact{}
		case "svc":
			f.Services[arg] = parseService(lines)
		case "systemd":
			f.Systemd = parseSystemd(lines)
		case "cred":
			cf, err := parseCredential(lines)
			if err != nil {
				return nil, fmt.Errorf("parse host state of credential %s: %w", arg, err)
			}
			f.Credentials[arg] = cf
		case "user":
			f.Users[arg] = UserFact{Exists: len(lines) > 0, Groups: append([]string(nil), lines...)}
		case "group":
			f.Groups[arg] = len(lines) > 0 && lines[0] == "exists"
		case "cmd":
			f.Commands[arg] = ""
			if len(lines) > 0 {
				f.Commands[arg] = lines[0]
			}
		}
	}
	return f, nil
}

func parseFile(lines []string) (FileFact, error) {
	if len(lines) == 0 {
		return FileFact{}, nil
	}
	parts := strings.Fields(lines[0])
	if len(parts) != 4 {
		return FileFact{}, fmt.Errorf("unexpected stat output %q", lines[0])
	}
	mtime, _ := strconv.ParseInt(parts[3], 10, 64)
	mode, err := strconv.ParseUint(parts[0], 8, 32)
	if err != nil {
		return FileFact{}, fmt.Errorf("unexpected mode %q", parts[0])
	}
	var content []byte
	if len(lines) > 1 {
		content, err = base64.StdEncoding.DecodeString(strings.Join(lines[1:], ""))
		if err != nil {
			return FileFact{}, fmt.Errorf("decode content: %w", err)
		}
	}
	return FileFact{Exists: true, Mode: uint32(mode), Owner: parts[1], Group: parts[2], MTime: mtime, Content: content}, nil
}

func parseService(lines []string) ServiceFact {
	var sf ServiceFact
	var load, procStat string
	var btime, hz int64
	for _, l := range lines {
		key, val, _ := strings.Cut(l, "=")
		switch key {
		case "LoadState":
			load = val
		case "UnitFileState":
			sf.Enabled = val
		case "ActiveState":
			sf.Active = val
		}
		tag, rest, _ := strings.Cut(l, " ")
		switch tag {
		case "E":
			sf.Enabled = strings.TrimSpace(rest)
		case "A":
			sf.Active = strings.TrimSpace(rest)
		case "P":
			procStat = rest
		case "B":
			btime, _ = strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		case "K":
			hz, _ = strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		}
	}
	// A unit systemd cannot find has an empty UnitFileState; one it can load but whose file state is unknown still
	// exists.
	if load == "not-found" {
		sf.Enabled = ""
	} else if load != "" && sf.Enabled == "" {
		sf.Enabled = "unknown"
	}
	sf.Exists = sf.Enabled != ""
	sf.Started = processStart(procStat, btime, hz)
	return sf
}

// processStart is when a process started, in seconds since the epoch: the boot time plus its /proc/PID/stat
// starttime (field 22, in clock ticks). The command name (field 2, in parentheses) may hold spaces, so fields are
// counted after its closing parenthesis.
func processStart(stat string, btime, hz int64) int64 {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 || btime == 0 || hz <= 0 {
		return 0
	}
	fields := strings.Fields(stat[i+1:])
	if len(fields) < 20 {
		return 0
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		return 0
	}
	return btime + ticks/hz
}

// ParseOSRelease reads os-release(5) key=value lines, unquoting values.
func ParseOSRelease(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
		}
		m[k] = v
	}
	return m
}
