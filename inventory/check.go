package inventory

import (
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Constant-like tables of what is allowed where, with the reason a value is refused.

// nameRE: a host or group name ends up as an InfluxQL identifier, inside a TICK string literal, as part of a
// Grafana uid and a Kapacitor task id, and in file names. This is the intersection of what all of those accept
// without quoting, and what a DNS label looks like.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`)

// databaseRE: an InfluxDB database name fleetctl accepts (it quotes identifiers anyway; this keeps them plain).
var databaseRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// itemRE: alert pack, input and profile names; they name files under alertpacks/ and templates/.
var itemRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// varRE: a var is a TICK script variable, so it must be a TICK identifier.
var varRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envRE: a portable environment variable name.
var envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// packageRE and versionRE: the Telegraf package name and version end up in apt/dnf/zypper command lines.
var (
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.:~+_-]*$`)
)

// userRE: a login name; rejects what would change the meaning of user@host or of a command line.
var userRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

// mailAddress returns the bare address of s, for comparing with s: only bare addresses are accepted, since a
// display name would have to be quoted inside the TICK script.
func mailAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	return a.Address, nil
}

// checkName explains why s is not a valid host or group name, or returns "".
func checkName(s string) string {
	if nameRE.MatchString(s) {
		return ""
	}
	for _, r := range s {
		switch {
		case r == '\'':
			return "a single quote would end the TICK string literal the name is substituted into"
		case r == '"':
			return "a double quote would end the quoted InfluxQL identifier the name becomes"
		case r == '\\':
			return "a backslash starts an escape in TICK strings and InfluxQL identifiers"
		case unicode.IsSpace(r):
			return "whitespace is not allowed in Kapacitor task ids, Grafana uids and file names"
		case r == '/':
			return "a slash would turn the name into a path in file names and API URLs"
		case r >= 'A' && r <= 'Z':
			return "uppercase letters are not allowed: DNS and some file systems ignore case, so Web1 and web1 could collide"
		case r > unicode.MaxASCII:
			return fmt.Sprintf("%q is not ASCII, which InfluxQL, Kapacitor task ids and Grafana uids do not all accept", r)
		case !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'):
			return fmt.Sprintf("%q is not allowed in Kapacitor task ids, Grafana uids and file names", r)
		}
	}
	if len(s) > 63 {
		return "longer than 63 characters (a DNS label's limit)"
	}
	return `it must start and end with a letter or a digit`
}

// nameFix suggests a valid name close to s.
func nameFix(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "._-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "._-")
	}
	if !nameRE.MatchString(out) {
		out = "web-1"
	}
	return fmt.Sprintf(`use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as %q`, out)
}

// defaultDatabase derives a database name from a host name: "." and "-" become "_" so the name needs no quoting
// in most InfluxQL tools people type by hand.
func defaultDatabase(host string) string {
	return strings.NewReplacer(".", "_", "-", "_").Replace(host)
}

// checkAddress explains why s is neither an IP address nor an RFC 1123 host name, or returns "".
func checkAddress(s string) (problem, fix string) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return "brackets are not part of an IPv6 address", fmt.Sprintf("write address = %q, and the port in port", strings.Trim(s, "[]"))
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "", ""
	}
	if h, p, ok := strings.Cut(s, ":"); ok && !strings.Contains(p, ":") {
		return "the address must not include a port", fmt.Sprintf("write address = %q and port = %s", h, p)
	}
	if strings.Contains(s, ":") {
		return "not a valid IPv6 address", ""
	}
	if strings.Contains(s, "@") {
		return "the address must not include a user", "put the user in the host's user key"
	}
	name := strings.TrimSuffix(s, ".")
	if name == "" || len(name) > 253 {
		return "not a valid IP address or host name", ""
	}
	labels := strings.Split(name, ".")
	allDigits := true
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "not a valid host name: labels between dots must be 1 to 63 characters", ""
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "not a valid host name: labels must not start or end with \"-\"", ""
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("not a valid host name: %q is not allowed (letters, digits, \"-\" and \".\" are)", c), ""
			}
			if c < '0' || c > '9' {
				allDigits = false
			}
		}
	}
	// 10.0.0.256 is a typo'd IP, not a host name; a last label of digits only is never a real top-level domain.
	if allDigits || isDigits(labels[len(labels)-1]) {
		return "not a valid IPv4 address", ""
	}
	return "", ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// checkURL returns the URL without its trailing slash (callers append API paths), or what is wrong with it as an
// http(s) endpoint and how to fix it.
func checkURL(s string) (norm, problem, fix string) {
	if s == "" {
		return "", "must not be empty", `write a URL such as "http://127.0.0.1:8086"`
	}
	if problem, fix := checkURLChars(s); problem != "" {
		return "", problem, fix
	}
	if !strings.Contains(s, "://") {
		return "", "missing scheme", fmt.Sprintf("write %q", "http://"+s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Sprintf("not a valid URL: %v", unwrapURLError(err)), ""
	}
	switch {
	case u.Scheme == "":
		return "", "missing scheme", "start the URL with http:// or https://"
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Sprintf("scheme %q is not supported", u.Scheme), "use http:// or https://"
	case u.Host == "" || u.Hostname() == "":
		return "", "missing host", `write it as "http://host:port"`
	case u.User != nil:
		// Never echo the URL here: it holds a password.
		return "", "credentials must not be part of the URL (they would show in every log)", "use the section's user and password keys"
	case u.RawQuery != "" || u.Fragment != "":
		return "", "a query or fragment is not allowed here", "remove what follows ? or #"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Sprintf("port %s is out of range 1-65535", p), ""
		}
	}
	return strings.TrimRight(s, "/"), "", ""
}

// checkURLChars refuses whitespace, control and invisible characters. URLs are written into repository files and
// commands, where a space ends them: dnf reads a second mirror after a space in rpm_url, apt another suite after
// one in apt_url, and a line break starts a line of the URL's choosing (gpgcheck=0).
func checkURLChars(s string) (problem, fix string) {
	for i, r := range []rune(s) {
		var what string
		switch {
		case r == ' ':
			return fmt.Sprintf("a space (character %d) is not allowed in a URL: where the URL is written, in a repository file or a command, it would end the URL and start another", i+1),
				"percent-encode it as %20"
		case unicode.IsControl(r):
			what = "control character"
		case unicode.IsSpace(r):
			what = "whitespace character"
		case r == unicode.ReplacementChar || !unicode.IsGraphic(r):
			what = "invisible character"
		default:
			continue
		}
		return fmt.Sprintf("%s %U (character %d) is not allowed in a URL", what, r, i+1), "remove it, or percent-encode it"
	}
	return "", ""
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// durationUnits are Go's units plus the InfluxQL units d and w, so retention ("30d") reads naturally.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond,
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// parseDuration parses a non-negative sequence of integer-and-unit pairs such as "1h30m" or "30d".
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit, ok := durationUnits[rest[:j]]
		if !ok {
			if j == 0 {
				return 0, fmt.Errorf("invalid duration %q: missing unit", s)
			}
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q", s, rest[:j])
		}
		rest = rest[j:]
		if n > int64((1<<63-1)/unit) || total+time.Duration(n)*unit < total {
			return 0, fmt.Errorf("invalid duration %q: too long", s)
		}
		total += time.Duration(n) * unit
	}
	return total, nil
}

// tickUnsafe reports whether s cannot be placed inside a TICK single-quoted string literal as is.
func tickUnsafe(s string) bool { return strings.ContainsAny(s, "'\\\n\r") }

// LoadAll is Load for `fleetctl validate`: it returns the inventory as far as it could be built together with every
// problem found, so that the names it mentions (alert packs, inputs, profiles, vars) can be checked in the same run
// instead of after the file's own errors are fixed. inv is nil only when the file cannot be read or is not TOML;
// err then says why. An inventory returned with problems is for checking only, never for provisioning.
func LoadAll(path string, getenv func(string) string) (inv *Inventory, problems Errors, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read inventory: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, nil, fmt.Errorf("read inventory: %w", err)
	}
	return parseAll(path, data, dir, getenv)
}

// refScope is the level a mention is at: [defaults] (the zero value), a group, or a host.
type refScope struct {
	group string // a [groups.NAME] mention
	host  int    // 1 + the index of the host for a [[hosts]] mention, 0 otherwise
}

// Level describes where the mention is: "defaults", "group web" or "host web1".
func (inv *Inventory) Level(r Ref) string {
	switch {
	case r.scope.host > 0:
		for _, h := range inv.hosts {
			if h.Index == r.scope.host-1 && h.Name != "" {
				return "host " + h.Name
			}
		}
		return fmt.Sprintf("hosts[%d]", r.scope.host-1)
	case r.scope.group != "":
		return "group " + r.scope.group
	}
	return "defaults"
}

// AppliesTo returns the hosts a mention's level applies to, in file order: every host for [defaults], a group's
// members for a group (none for a group no host lists), the host itself for a host's own keys. A later level may
// override what the mention sets; it still applies.
func (inv *Inventory) AppliesTo(r Ref) []Host {
	var out []Host
	for _, h := range inv.hosts {
		switch {
		case r.scope.host > 0:
			if h.Index != r.scope.host-1 {
				continue
			}
		case r.scope.group != "":
			if !slices.Contains(h.Groups, r.scope.group) {
				continue
			}
		}
		out = append(out, h.clone())
	}
	return out
}

// proxyJump reads a proxy_jump key (ssh, a group or a host): OpenSSH's ProxyJump syntax, [user@]host[:port] hops
// separated by commas, or "none". It returns the value and where it is written.
func (b *builder) proxyJump(t *table) (string, string) {
	v, ok := t.str("proxy_jump")
	if !ok {
		return "", ""
	}
	k := t.key("proxy_jump")
	from := fmt.Sprintf("%s (%s)", where(b.d.file, t.pos("proxy_jump").line), k)
	if problem := checkProxyJump(v); problem != "" {
		t.errorf("proxy_jump", `write [user@]host[:port], several hops separated by commas (the first is dialed first), or "none"`, "%s", problem)
		return "", ""
	}
	return v, from
}

// checkProxyJump explains what is wrong with a ProxyJump value, or returns "".
func checkProxyJump(v string) string {
	if v == "none" {
		return ""
	}
	if strings.TrimSpace(v) == "" {
		return "must not be empty"
	}
	for _, hop := range strings.Split(v, ",") {
		rest := strings.TrimPrefix(strings.TrimSpace(hop), "ssh://")
		if u, r, ok := strings.Cut(rest, "@"); ok {
			if !userRE.MatchString(u) {
				return fmt.Sprintf("jump host %q: %q is not a valid user name", hop, u)
			}
			rest = r
		}
		host, port := rest, ""
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 || (rest[end+1:] != "" && !strings.HasPrefix(rest[end+1:], ":")) {
				return fmt.Sprintf("jump host %q: write an IPv6 address as [address]:port", hop)
			}
			host, port = rest[1:end], strings.TrimPrefix(rest[end+1:], ":")
			if _, err := netip.ParseAddr(host); err != nil {
				return fmt.Sprintf("jump host %q: %q is not an IPv6 address", hop, host)
			}
		} else if h, p, ok := strings.Cut(rest, ":"); ok {
			host, port = h, p
		}
		if host == "" {
			return fmt.Sprintf("jump host %q: no host", hop)
		}
		if problem, _ := checkAddress(host); problem != "" && !strings.HasPrefix(rest, "[") {
			return fmt.Sprintf("jump host %q: %q: %s", hop, host, problem)
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fmt.Sprintf("jump host %q: port %q is not between 1 and 65535", hop, port)
			}
		}
	}
	return ""
}
