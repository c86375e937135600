package system

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/provision/remote"
)

// Runner is the part of a remote connection the host resources need. *remote.Conn implements it.
type Runner interface {
	Sudo(ctx context.Context, script string, stdin []byte) ([]byte, error)
	Run(ctx context.Context, script string, stdin []byte) ([]byte, error)
	StageDir(ctx context.Context) (string, error)
	Upload(ctx context.Context, dir, name string, data []byte) (string, error)
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
}

// Query says what to read.
type Query struct {
	Files    []string
	Dirs     []string
	Packages []string
	Services []string
}

const marker = "::fleetctl:: "

// Script is the one shell script that reads everything the query asks for. It runs as root (managed files may be
// readable only by root) and never fails as a whole: a missing thing is reported as missing.
func (q Query) Script() string {
	var b strings.Builder
	b.WriteString(`m() { printf '\n` + marker + `%s\n' "$*"; }` + "\n")
	b.WriteString("m os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null\n")
	b.WriteString("m init; if [ -d /run/systemd/system ] || command -v systemctl >/dev/null 2>&1; then echo systemd; " +
		"elif command -v rc-service >/dev/null 2>&1; then echo openrc; else echo sysv; fi\n")
	for _, f := range q.Files {
		qf := remote.Quote(f)
		fmt.Fprintf(&b, "m file %s; if [ -f %s ]; then stat -c '%%a %%U %%G %%Y' %s && base64 -w0 %s; fi\n", f, qf, qf, qf)
	}
	for _, d := range q.Dirs {
		fmt.Fprintf(&b, "m dir %s; ls -1A %s 2>/dev/null\n", d, remote.Quote(d))
	}
	for _, p := range q.Packages {
		// Every package database present answers: the family, known only after os-release is parsed, picks its
		// own (a Debian-derived root may carry dpkg beside rpm).
		qp := remote.Quote(p)
		fmt.Fprintf(&b, "m pkg %s; if command -v dpkg-query >/dev/null 2>&1; then echo \"dpkg $(dpkg-query -W -f='${db:Status-Status} ${Version}' %s 2>/dev/null)\"; fi; "+
			"if command -v rpm >/dev/null 2>&1; then echo \"rpm $(rpm -q --qf 'installed %%{VERSION}-%%{RELEASE}' %s 2>/dev/null | grep '^installed')\"; fi; "+
			"if command -v apk >/dev/null 2>&1; then echo \"apk $(apk info -e -v %s 2>/dev/null | sed 's/^/installed /')\"; fi\n", p, qp, qp, qp)
	}
	for _, s := range q.Services {
		// Two prefixed lines, "E <unit file state>" and "A <active state>"; an empty E means no such service.
		qs := remote.Quote(s)
		fmt.Fprintf(&b, "m svc %s; if command -v systemctl >/dev/null 2>&1; then "+
			"echo \"E $(systemctl is-enabled %s 2>/dev/null)\"; echo \"A $(systemctl is-active %s 2>/dev/null)\"; "+
			"elif command -v rc-service >/dev/null 2>&1; then if [ -e /etc/init.d/%s ]; then "+
			"if rc-update show default 2>/dev/null | grep -q '^ *%s '; then echo 'E enabled'; else echo 'E disabled'; fi; "+
			"if rc-service %s status >/dev/null 2>&1; then echo 'A active'; else echo 'A inactive'; fi; fi; "+
			"else if [ -e /etc/init.d/%s ]; then if ls /etc/rc[2345].d/S*%s >/dev/null 2>&1; then echo 'E enabled'; else echo 'E disabled'; fi; "+
			"if service %s status >/dev/null 2>&1; then echo 'A active'; else echo 'A inactive'; fi; fi; fi\n",
			s, qs, qs, s, s, qs, s, s, qs)
		// The main process's start time (from /proc, by the host's clock) tells whether the agent runs the
		// configuration on disk or an older one.
		fmt.Fprintf(&b, "pid=$(systemctl show -p MainPID --value %s 2>/dev/null); [ \"${pid:-0}\" != 0 ] || pid=$(pidof -s %s 2>/dev/null); "+
			"if [ -n \"$pid\" ] && [ -r /proc/$pid/stat ]; then echo \"S $(( $(awk '/^btime/{print $2}' /proc/stat) + $(cut -d' ' -f22 /proc/$pid/stat) / $(getconf CLK_TCK) ))\"; fi\n",
			qs, qs)
	}
	b.WriteString("m end\n")
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
		Packages: map[string]PackageFact{}, Services: map[string]ServiceFact{}}
	sections := map[string][]string{}
	var order []string
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
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
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "E "):
			sf.Enabled = strings.TrimSpace(l[2:])
		case strings.HasPrefix(l, "A "):
			sf.Active = strings.TrimSpace(l[2:])
		case strings.HasPrefix(l, "S "):
			sf.Started, _ = strconv.ParseInt(strings.TrimSpace(l[2:]), 10, 64)
		}
	}
	// systemd 256 and later print "not-found" for a unit that does not exist; older ones print nothing.
	if sf.Enabled == "not-found" {
		sf.Enabled = ""
	}
	sf.Exists = sf.Enabled != ""
	return sf
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
