package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// SSHConfig is an OpenSSH client configuration file (ssh_config(5)) with the files it includes. Files are parsed by
// github.com/kevinburke/ssh_config, then checked as ssh checks them (every keyword known, every keyword with its
// argument), and looked up per host as ssh does: blocks in file order, the first value of each keyword wins.
type SSHConfig struct {
	Path string
	root *sshFile
}

type sshFile struct {
	path     string
	cfg      *ssh_config.Config
	headers  []int // the line of each block's Host or Match header; 0 for the implicit block at the top
	includes map[*ssh_config.Include][]*sshFile
}

// SSHConfigError is one problem of an ssh_config file, located in it.
type SSHConfigError struct {
	File string
	Line int
	Msg  string
	Fix  string
}

func (e *SSHConfigError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": " + e.Msg
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// SSHOption is one value of the configuration, and where it was written.
type SSHOption struct {
	Key   string // as written
	Value string
	File  string
	Line  int // 0 when the value comes from an included file whose lines the parser does not expose
}

// Where is "file:line", for messages.
func (o SSHOption) Where() string {
	if o.Line > 0 {
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	}
	return o.File
}

// SSHOptions are the values that apply to one host name.
type SSHOptions struct {
	Alias  string
	values map[string][]SSHOption // by lowercase keyword
}

// Get is the value of key as ssh takes it (the first one found), if any.
func (o *SSHOptions) Get(key string) (SSHOption, bool) {
	if o == nil {
		return SSHOption{}, false
	}
	v := o.values[strings.ToLower(key)]
	if len(v) == 0 {
		return SSHOption{}, false
	}
	return v[0], true
}

// All is every value of key, in order (IdentityFile and CertificateFile accumulate).
func (o *SSHOptions) All(key string) []SSHOption {
	if o == nil {
		return nil
	}
	return o.values[strings.ToLower(key)]
}

// accumulating keywords: every value counts, not only the first.
var accumulating = map[string]bool{"identityfile": true, "certificatefile": true, "localforward": true, "remoteforward": true,
	"dynamicforward": true, "sendenv": true, "setenv": true}

// LoadSSHConfig reads and checks the file at path and the files it includes; home is the home directory (~ and
// relative Include paths, which are relative to ~/.ssh). Every problem is reported with its file and line.
func LoadSSHConfig(path, home string) (*SSHConfig, error) {
	f, err := loadSSHFile(path, home, 0)
	if err != nil {
		return nil, err
	}
	return &SSHConfig{Path: path, root: f}, nil
}

var libPosition = regexp.MustCompile(`^\((\d+), \d+\): (.*)$`)

func loadSSHFile(path, home string, depth int) (*sshFile, error) {
	if depth > 16 {
		return nil, &SSHConfigError{File: path, Msg: "Include nested too deeply (more than 16 levels)", Fix: "an Include probably includes itself"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ssh_config: %w", err)
	}
	cfg, err := ssh_config.DecodeBytes(data)
	if err != nil {
		return nil, parseError(path, home, data, err, depth)
	}
	f := &sshFile{path: path, cfg: cfg, includes: map[*ssh_config.Include][]*sshFile{}}
	f.headers = headerLines(data)
	var errs []error
	ignore := ignoreUnknown(cfg)
	for i, h := range cfg.Hosts {
		line := 0
		if i > 0 && i-1 < len(f.headers) {
			line = f.headers[i-1]
		}
		if i > 0 {
			if err := checkHeader(h, path, line); err != nil {
				errs = append(errs, err)
			}
		}
		for _, n := range h.Nodes {
			switch n := n.(type) {
			case *ssh_config.KV:
				if err := checkKeyword(n, path, ignore); err != nil {
					errs = append(errs, err)
				}
			case *ssh_config.Include:
				files, err := includeFiles(includeDirectives(n.String()), path, home)
				if err != nil {
					errs = append(errs, &SSHConfigError{File: path, Line: n.Pos().Line, Msg: err.Error()})
					continue
				}
				for _, inc := range files {
					sub, err := loadSSHFile(inc, home, depth+1)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					f.includes[n] = append(f.includes[n], sub)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// parseError turns the parser's error ("(3, 7): message") into file:line with a fix. An Include that failed is
// followed into the file that holds the problem.
func parseError(path, home string, data []byte, err error, depth int) error {
	m := libPosition.FindStringSubmatch(err.Error())
	if m == nil {
		return &SSHConfigError{File: path, Msg: "syntax error: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	msg := strings.TrimPrefix(m[2], "ssh_config: ")
	lines := strings.Split(string(data), "\n")
	if strings.Contains(msg, "Include") && line >= 1 && line <= len(lines) {
		fields := splitDirective(lines[line-1])
		if len(fields) > 1 && strings.EqualFold(fields[0], "include") {
			if files, ierr := includeFiles(fields[1:], path, home); ierr == nil {
				for _, inc := range files {
					if _, ierr := loadSSHFile(inc, home, depth+1); ierr != nil {
						return ierr
					}
				}
			}
		}
	}
	fix := "see ssh_config(5); fleetctl reads this file because of ssh.config_file (set it to \"none\" to read none)"
	if strings.Contains(msg, "Match") {
		fix = "fleetctl understands Match all and Match host PATTERNS; write the block as a Host block, or point ssh.config_file at a file without it (\"none\" reads none)"
	}
	return &SSHConfigError{File: path, Line: line, Msg: msg, Fix: fix}
}

// splitDirective splits a configuration line into its keyword and arguments ("Key value", "Key=value").
func splitDirective(line string) []string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	kw, rest, _ := strings.Cut(line, " ")
	if k, v, ok := strings.Cut(kw, "="); ok {
		kw, rest = k, v+" "+rest
	}
	if t, ok := strings.CutPrefix(strings.TrimSpace(rest), "="); ok {
		rest = t
	}
	if kw == "" {
		return nil
	}
	return append([]string{kw}, strings.Fields(rest)...)
}

// headerLines are the lines of the Host and Match headers of a file, in order: the parser keeps no position for
// them, and every block after the implicit first one starts at one.
func headerLines(data []byte) []int {
	var out []int
	for i, l := range strings.Split(string(data), "\n") {
		f := splitDirective(l)
		if len(f) > 0 && (strings.EqualFold(f[0], "host") || strings.EqualFold(f[0], "match")) {
			out = append(out, i+1)
		}
	}
	return out
}

// header is a block's header: "host" with its patterns, or "match" with its criteria.
func header(h *ssh_config.Host) (kind string, args []string) {
	first, _, _ := strings.Cut(strings.TrimSpace(h.String()), "\n")
	f := splitDirective(first)
	if len(f) == 0 {
		return "", nil
	}
	return strings.ToLower(f[0]), f[1:]
}

func checkHeader(h *ssh_config.Host, file string, line int) error {
	kind, args := header(h)
	switch {
	case kind == "host" && len(args) == 0:
		return &SSHConfigError{File: file, Line: line, Msg: "Host needs at least one pattern", Fix: "write Host NAME-OR-PATTERN, such as Host web1 or Host *.example.com"}
	case kind == "match":
		if len(args) == 1 && strings.EqualFold(args[0], "all") {
			return nil
		}
		if len(args) == 2 && strings.EqualFold(args[0], "host") {
			return nil
		}
		return &SSHConfigError{File: file, Line: line, Msg: fmt.Sprintf("Match %s is not supported", strings.Join(args, " ")),
			Fix: "fleetctl understands Match all and Match host PATTERNS; write the block as a Host block, or point ssh.config_file at a file without it (\"none\" reads none)"}
	}
	return nil
}

// ignoreUnknown is the IgnoreUnknown patterns of a file.
func ignoreUnknown(cfg *ssh_config.Config) *ssh_config.Host {
	h := &ssh_config.Host{}
	for _, b := range cfg.Hosts {
		for _, n := range b.Nodes {
			if kv, ok := n.(*ssh_config.KV); ok && strings.EqualFold(kv.Key, "IgnoreUnknown") {
				for _, p := range strings.Split(kv.Value, ",") {
					if pat, err := ssh_config.NewPattern(strings.ToLower(strings.TrimSpace(p))); err == nil {
						h.Patterns = append(h.Patterns, pat)
					}
				}
			}
		}
	}
	return h
}

var portRE = regexp.MustCompile(`^[0-9]{1,5}$`)

func checkKeyword(kv *ssh_config.KV, file string, ignore *ssh_config.Host) error {
	key := strings.ToLower(kv.Key)
	line := kv.Pos().Line
	bad := func(msg, fix string) error { return &SSHConfigError{File: file, Line: line, Msg: msg, Fix: fix} }
	if !slices.Contains(sshKeywords, key) {
		if ignore.Matches(key) {
			return nil
		}
		fix := "see ssh_config(5) for the keywords ssh knows"
		if s := closestKeyword(key); s != "" {
			fix = fmt.Sprintf("did you mean %q?", s)
		}
		return bad(fmt.Sprintf("unknown keyword %q: ssh would refuse this file", kv.Key), fix)
	}
	v := strings.TrimSpace(kv.Value)
	if v == "" {
		return bad(fmt.Sprintf("%s has no value", kv.Key), fmt.Sprintf("write %s VALUE, or remove the line", kv.Key))
	}
	switch key {
	case "port":
		if n, err := strconv.Atoi(v); !portRE.MatchString(v) || err != nil || n < 1 || n > 65535 {
			return bad(fmt.Sprintf("Port %q is not a port number", v), "write a number between 1 and 65535")
		}
	case "identitiesonly":
		if !slices.Contains([]string{"yes", "no"}, strings.ToLower(v)) {
			return bad(fmt.Sprintf("IdentitiesOnly %q must be yes or no", v), "write IdentitiesOnly yes or IdentitiesOnly no")
		}
	case "stricthostkeychecking":
		if !slices.Contains([]string{"yes", "no", "ask", "accept-new", "off"}, strings.ToLower(v)) {
			return bad(fmt.Sprintf("StrictHostKeyChecking %q is not one of yes, accept-new, no, off, ask", v), "write StrictHostKeyChecking yes or accept-new")
		}
	case "proxyjump":
		if _, err := ParseProxyJump(v); err != nil {
			return bad(err.Error(), "write [user@]host[:port], several separated by commas, or none")
		}
	}
	return nil
}

// closestKeyword suggests a known keyword for a misspelt one (one edit away, or the same ignoring case).
func closestKeyword(key string) string {
	best, bestD := "", 3
	for _, k := range sshKeywords {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return displayKeyword[best]
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// includeDirectives are the paths of an Include line as the parser prints it ("Include a b #comment").
func includeDirectives(s string) []string {
	f := splitDirective(s)
	if len(f) == 0 {
		return nil
	}
	return f[1:]
}

// includeFiles resolves Include arguments as ssh does: ~ is home, a relative path is relative to ~/.ssh (to
// /etc/ssh for a file under /etc/ssh), globs are expanded in sorted order.
func includeFiles(dirs []string, from, home string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		p := d
		switch {
		case p == "~" || strings.HasPrefix(p, "~/"):
			p = filepath.Join(home, strings.TrimPrefix(p, "~"))
		case filepath.IsAbs(p):
		case strings.HasPrefix(filepath.Clean(from), "/etc/ssh/"):
			p = filepath.Join("/etc/ssh", p)
		default:
			p = filepath.Join(home, ".ssh", p)
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("Include %s: %w", d, err)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// Lookup returns the values that apply to alias (the name given to ssh), as ssh computes them: blocks in file
// order, included files where their Include stands; a Host block applies when one of its patterns matches alias
// and none of its negated ones does, a Match host block when its patterns match the host name as configured so far
// (HostName, else alias), as OpenSSH does.
func (c *SSHConfig) Lookup(alias string) *SSHOptions {
	o := &SSHOptions{Alias: alias, values: map[string][]SSHOption{}}
	if c == nil {
		return o
	}
	alias = strings.ToLower(alias)
	c.root.walk(alias, true, false, o)
	return o
}

func (f *sshFile) walk(alias string, active, never bool, o *SSHOptions) {
	for i, h := range f.cfg.Hosts {
		on := active
		if i > 0 {
			on = !never && f.matches(h, alias, o)
		}
		for _, n := range h.Nodes {
			switch n := n.(type) {
			case *ssh_config.KV:
				if !on {
					continue
				}
				key := strings.ToLower(n.Key)
				if len(o.values[key]) > 0 && !accumulating[key] {
					continue
				}
				o.values[key] = append(o.values[key], SSHOption{Key: n.Key, Value: strings.TrimSpace(n.Value), File: f.path, Line: n.Pos().Line})
			case *ssh_config.Include:
				for _, sub := range f.includes[n] {
					sub.walk(alias, on, never || !on, o)
				}
			}
		}
	}
}

func (f *sshFile) matches(h *ssh_config.Host, alias string, o *SSHOptions) bool {
	kind, args := header(h)
	if kind != "match" {
		return h.Matches(alias)
	}
	if len(args) == 1 && strings.EqualFold(args[0], "all") {
		return true
	}
	target := alias
	if hn, ok := o.Get("HostName"); ok {
		target = strings.ToLower(strings.ReplaceAll(hn.Value, "%h", alias))
	}
	list := &ssh_config.Host{}
	for _, p := range strings.Split(args[1], ",") {
		if pat, err := ssh_config.NewPattern(strings.ToLower(p)); err == nil {
			list.Patterns = append(list.Patterns, pat)
		}
	}
	return list.Matches(target)
}

// Hop is one jump host of a ProxyJump value.
type Hop struct {
	User string // "" when not given
	Host string
	Port int // 0 when not given
}

func (h Hop) String() string {
	s := h.Host
	if strings.Contains(s, ":") {
		s = "[" + s + "]"
	}
	if h.User != "" {
		s = h.User + "@" + s
	}
	if h.Port != 0 {
		s += ":" + strconv.Itoa(h.Port)
	}
	return s
}

// ParseProxyJump reads OpenSSH's ProxyJump syntax: "none", or [user@]host[:port] (an IPv6 address in brackets, or
// an ssh://[user@]host[:port] URI), several separated by commas, the first dialed first.
func ParseProxyJump(s string) ([]Hop, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "none") {
		return nil, nil
	}
	if s == "" {
		return nil, errors.New("ProxyJump is empty")
	}
	var hops []Hop
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		rest := strings.TrimPrefix(part, "ssh://")
		var h Hop
		if u, r, ok := strings.Cut(rest, "@"); ok {
			if u == "" || strings.ContainsAny(u, " \t'\"") {
				return nil, fmt.Errorf("jump host %q: invalid user %q", part, u)
			}
			h.User, rest = u, r
		}
		host, port := rest, ""
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("jump host %q: unclosed [", part)
			}
			host, port = rest[1:end], strings.TrimPrefix(rest[end+1:], ":")
			if rest[end+1:] != "" && !strings.HasPrefix(rest[end+1:], ":") {
				return nil, fmt.Errorf("jump host %q: unexpected %q after ]", part, rest[end+1:])
			}
		} else if strings.Count(rest, ":") == 1 {
			host, port, _ = strings.Cut(rest, ":")
		}
		if host == "" || strings.ContainsAny(host, " \t/@'\"") {
			return nil, fmt.Errorf("jump host %q: no valid host name", part)
		}
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return nil, fmt.Errorf("jump host %q: %q is neither a host name nor an IPv6 address", part, host)
		}
		h.Host = host
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("jump host %q: port %q is not a port number", part, port)
			}
			h.Port = n
		}
		hops = append(hops, h)
	}
	return hops, nil
}

// ExpandTokens replaces the %-tokens of ssh_config(5) in v, and a leading ~ by the home directory (tokens["d"]).
// Known tokens: %% and the ones given (such as h, n, p, r, u, d, i, l, L).
func ExpandTokens(v string, tokens map[byte]string) (string, error) {
	if v == "~" || strings.HasPrefix(v, "~/") {
		v = tokens['d'] + strings.TrimPrefix(v, "~")
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 == len(v) {
			return "", fmt.Errorf("%q ends with a lone %%", v)
		}
		i++
		if v[i] == '%' {
			b.WriteByte('%')
			continue
		}
		t, ok := tokens[v[i]]
		if !ok {
			return "", fmt.Errorf("%q: token %%%c is not supported here", v, v[i])
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// IsNotExist reports whether err is a missing file (for an ssh_config file that is optional).
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
