package secret

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// MaskTOML returns TOML text (a Telegraf configuration) with every value that could be a secret replaced by
// "(sensitive)", keeping the rest of the text as it is so that two masked versions of a file diff line by line.
// The text is parsed, not matched line by line, so quoting, dotted keys, tables, inline tables, arrays and
// multi-line strings change nothing. Masked are:
//   - the whole value of every key named like a credential (see CredentialKey) or listed in keys, at any depth
//     (a key under a table so named counts too);
//   - every string that holds a secret the masker knows, however it is escaped, or that carries a credential
//     inline (a URL's user:password@, a DSN's password=, a MySQL user:password@tcp(…));
//   - in comments, what follows a credential-named word and "=" or ":" (a commented-out old password);
//   - anywhere, every secret the masker knows (Mask).
//
// The masked text is parsed again and checked: should anything that must be masked remain, or the input not be
// valid TOML (what hides a secret in it cannot be told), the whole text is replaced by one line saying so.
func (m *Masker) MaskTOML(text string, keys ...string) string {
	if _, err := toml.Decode(text, new(map[string]any)); err != nil {
		return hiddenTOML(text, "not valid TOML")
	}
	lx := &tomlLexer{src: text, end: len(text), m: m, keys: keys}
	if !lx.document() {
		return hiddenTOML(text, "not understood")
	}
	masked := lx.apply()
	var doc map[string]any
	if _, err := toml.Decode(masked, &doc); err != nil || !m.safeTOML(nil, doc, keys) {
		return hiddenTOML(text, "not understood")
	}
	return m.Mask(masked)
}

func hiddenTOML(text, why string) string {
	return "(sensitive: content of " + strconv.Itoa(strings.Count(text, "\n")+1) + " lines not shown: " + why + ")\n"
}

// CredentialKey reports whether a TOML key's name says its value is a credential: password, token, secret,
// api_key, Authorization and the like, in any case, with or without "_" or "-".
func CredentialKey(name string) bool {
	// strings.Map, not a Replacer: building a Replacer on every call was a fifth of a no-op plan's CPU.
	n := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(name))
	if n == "pass" || n == "pw" {
		return true
	}
	// What a credential's name contains, compared lower-case without "_", "-" and ".".
	for _, w := range []string{"password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "accesskey",
		"privatekey", "signingkey", "credential", "authorization", "auth", "cookie", "bearer"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func secretPath(path []string, keys []string) bool {
	for _, p := range path {
		if CredentialKey(p) {
			return true
		}
		for _, k := range keys {
			if strings.EqualFold(p, k) {
				return true
			}
		}
	}
	return false
}

var inlineCredential = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@|\b(password|passwd|pwd)\s*=|^[^:@/\s]+:[^@\s]+@(tcp|udp|unix)\(`)

// carriesSecret reports whether a string value holds a known secret or an inline credential.
func (m *Masker) carriesSecret(s string) bool {
	return s != Mask && (m.knows(s) || inlineCredential.MatchString(s))
}

// knows reports whether s contains a registered secret.
func (m *Masker) knows(s string) bool {
	if m == nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, _ := m.find(s)
	return i >= 0
}

// safeTOML checks a decoded, masked document: nothing under a secret path but the mask, no string carrying a
// secret.
func (m *Masker) safeTOML(path []string, v any, keys []string) bool {
	secretKey := secretPath(path, keys)
	switch x := v.(type) {
	case string:
		if secretKey {
			return x == Mask
		}
		return !m.carriesSecret(x)
	case map[string]any: // a table: under a secret name every value in it must be masked
		for k, e := range x {
			if !m.safeTOML(append(path[:len(path):len(path)], k), e, keys) {
				return false
			}
		}
	case []map[string]any:
		for _, e := range x {
			if !m.safeTOML(path, e, keys) {
				return false
			}
		}
	case []any:
		if secretKey { // an array value under a secret key is masked whole
			return false
		}
		for _, e := range x {
			if !m.safeTOML(path, e, keys) {
				return false
			}
		}
	default: // numbers, booleans, dates
		return !secretKey
	}
	return true
}

// tomlLexer walks TOML text that the parser accepted and records the spans of values to mask. It knows the
// grammar only as far as masking needs: keys (bare, quoted, dotted), table headers, values of every kind.
type tomlLexer struct {
	src   string
	i     int
	end   int
	m     *Masker
	keys  []string
	spans [][2]int // byte ranges to replace, in order
	bad   bool
}

func (lx *tomlLexer) eof() bool { return lx.i >= lx.end }

func (lx *tomlLexer) peek() byte {
	if lx.eof() {
		return 0
	}
	return lx.src[lx.i]
}

func (lx *tomlLexer) has(s string) bool { return strings.HasPrefix(lx.src[lx.i:lx.end], s) }

func (lx *tomlLexer) mask(from, to int) { lx.spans = append(lx.spans, [2]int{from, to}) }

func (lx *tomlLexer) skipSpace() {
	for c := lx.peek(); c == ' ' || c == '\t'; c = lx.peek() {
		lx.i++
	}
}

// skipBlank skips whitespace, newlines and comments, masking in comments what follows a credential-named word.
func (lx *tomlLexer) skipBlank() {
	for !lx.eof() {
		switch lx.peek() {
		case ' ', '\t', '\r', '\n':
			lx.i++
		case '#':
			lx.comment()
		default:
			return
		}
	}
}

func (lx *tomlLexer) comment() {
	start := lx.i
	for !lx.eof() && lx.peek() != '\n' {
		lx.i++
	}
	text := strings.TrimSuffix(lx.src[start:lx.i], "\r")
	if from, to := commentCredential(text); from < to {
		lx.mask(start+from, start+to)
	}
}

// commentCredential finds, in a comment, the value after a credential-named word and "=" or ":" (as in a
// commented-out `# password = "old"`), and returns its byte range; from == to when there is none.
func commentCredential(text string) (from, to int) {
	if !strings.ContainsAny(text, "=:") {
		return 0, 0
	}
	lower := strings.ToLower(text)
	for _, w := range []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key",
		"accesskey", "access_key", "access-key", "privatekey", "private_key", "private-key", "credential", "auth", "bearer"} {
		for off := 0; ; {
			k := strings.Index(lower[off:], w)
			if k < 0 {
				break
			}
			j := off + k + len(w)
			off = j
			for j < len(text) && (isBare(text[j]) || strings.IndexByte(`"'.`, text[j]) >= 0) {
				j++
			}
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			if j >= len(text) || text[j] != '=' && text[j] != ':' {
				continue
			}
			j++
			end := len(strings.TrimRight(text, " \t"))
			for j < end && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			if j < end {
				return j, end
			}
		}
	}
	return 0, 0
}

func (lx *tomlLexer) document() bool {
	var table []string
	for {
		lx.skipBlank()
		if lx.eof() || lx.bad {
			return !lx.bad
		}
		if lx.peek() == '[' {
			lx.i++
			array := lx.peek() == '['
			if array {
				lx.i++
			}
			table = lx.key()
			lx.skipSpace()
			if !lx.has("]") || array && !lx.has("]]") {
				return false
			}
			lx.i++
			if array {
				lx.i++
			}
			continue
		}
		lx.keyval(table)
		// A key-value pair ends its line (a comment may follow).
		lx.skipSpace()
		if lx.peek() == '#' {
			lx.comment()
		}
		if !lx.eof() && lx.peek() != '\n' && !lx.has("\r\n") {
			return false
		}
	}
}

// key reads a possibly dotted key and returns its parts, decoded.
func (lx *tomlLexer) key() []string {
	var parts []string
	for {
		lx.skipSpace()
		var name string
		switch c := lx.peek(); {
		case c == '"':
			from := lx.i
			lx.basic()
			name = unquoteBasic(lx.src[from+1 : max(from+1, lx.i-1)])
		case c == '\'':
			from := lx.i
			lx.literal()
			name = lx.src[from+1 : max(from+1, lx.i-1)]
		default:
			from := lx.i
			for !lx.eof() && isBare(lx.peek()) {
				lx.i++
			}
			if lx.i == from {
				lx.bad = true
				return parts
			}
			name = lx.src[from:lx.i]
		}
		parts = append(parts, name)
		lx.skipSpace()
		if lx.peek() != '.' {
			return parts
		}
		lx.i++
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (lx *tomlLexer) keyval(prefix []string) {
	path := append(prefix[:len(prefix):len(prefix)], lx.key()...)
	lx.skipSpace()
	if lx.bad || lx.peek() != '=' {
		lx.bad = true
		return
	}
	lx.i++
	lx.skipSpace()
	lx.value(path)
}

// items reads the elements of an array or an inline table, from its opening bracket to close, each with item.
// An unclosed one sets bad.
func (lx *tomlLexer) items(close byte, item func()) {
	lx.i++
	for {
		lx.skipBlank()
		if lx.eof() || lx.bad {
			lx.bad = true
			return
		}
		if lx.peek() == close {
			lx.i++
			return
		}
		item()
		lx.skipBlank()
		if lx.peek() == ',' {
			lx.i++
		}
	}
}

// value reads one value; the whole of it is masked when its path is secret, a string when it carries a secret.
func (lx *tomlLexer) value(path []string) {
	from := lx.i
	secretKey := secretPath(path, lx.keys)
	str, isString := "", true
	switch {
	case lx.has(`"""`):
		lx.multiline(`"""`)
		str = unquoteBasic(trimMultiline(lx.src[from+3 : max(from+3, lx.i-3)]))
	case lx.has(`'''`):
		lx.multiline(`'''`)
		str = strings.TrimPrefix(strings.TrimPrefix(lx.src[from+3:max(from+3, lx.i-3)], "\r"), "\n")
	case lx.peek() == '"':
		lx.basic()
		str = unquoteBasic(lx.src[from+1 : max(from+1, lx.i-1)])
	case lx.peek() == '\'':
		lx.literal()
		str = lx.src[from+1 : max(from+1, lx.i-1)]
	case lx.peek() == '[':
		isString = false
		lx.items(']', func() { lx.value(path) })
	case lx.peek() == '{':
		isString = false
		lx.items('}', func() { lx.keyval(path) })
	default:
		// Numbers, booleans, dates and times (which may hold one space): up to a delimiter.
		isString = false
		for !lx.eof() && !strings.ContainsRune(",]}#\r\n", rune(lx.peek())) {
			lx.i++
		}
		for lx.i > from && (lx.src[lx.i-1] == ' ' || lx.src[lx.i-1] == '\t') {
			lx.i--
		}
		if lx.i == from {
			lx.bad = true
			return
		}
	}
	if lx.bad {
		return
	}
	if secretKey || isString && lx.m.carriesSecret(str) {
		// Masking a whole array or table drops the spans recorded inside it.
		for len(lx.spans) > 0 && lx.spans[len(lx.spans)-1][0] >= from {
			lx.spans = lx.spans[:len(lx.spans)-1]
		}
		lx.mask(from, lx.i)
	}
}

func (lx *tomlLexer) basic() {
	lx.i++
	for !lx.eof() && lx.peek() != '"' && lx.peek() != '\n' {
		if lx.peek() == '\\' {
			lx.i++
		}
		lx.i++
	}
	if lx.peek() != '"' {
		lx.bad = true
		return
	}
	lx.i++
}

func (lx *tomlLexer) literal() {
	lx.i++
	for !lx.eof() && lx.peek() != '\'' && lx.peek() != '\n' {
		lx.i++
	}
	if lx.peek() != '\'' {
		lx.bad = true
		return
	}
	lx.i++
}

func (lx *tomlLexer) multiline(delim string) {
	lx.i += 3
	for !lx.eof() {
		if delim == `"""` && lx.peek() == '\\' {
			lx.i += 2
			continue
		}
		if lx.has(delim) {
			lx.i += 3
			// Up to two more quotes belong to the content: """a"""" ends with a quote.
			for k := 0; k < 2 && lx.peek() == delim[0]; k++ {
				lx.i++
			}
			return
		}
		lx.i++
	}
	lx.bad = true
}

// apply returns the text with every recorded span replaced by the mask, as a basic string.
func (lx *tomlLexer) apply() string {
	var b strings.Builder
	last := 0
	for _, sp := range lx.spans {
		if sp[0] < last {
			continue
		}
		b.WriteString(lx.src[last:sp[0]])
		b.WriteString(`"` + Mask + `"`)
		last = sp[1]
	}
	b.WriteString(lx.src[last:])
	return b.String()
}

// trimMultiline drops the newline right after the opening delimiter and the line-ending backslashes of a
// multi-line basic string.
func trimMultiline(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "\r"), "\n")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j < len(s) && (s[j] == '\n' || s[j] == '\r') {
				for j < len(s) && strings.ContainsRune(" \t\r\n", rune(s[j])) {
					j++
				}
				i = j - 1
				continue
			}
			b.WriteByte(s[i])
			b.WriteByte(s[i+1])
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unquoteBasic decodes the escapes of a TOML basic string's body; an escape it cannot decode is kept as written.
func unquoteBasic(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case '"', '\\':
			b.WriteByte(c)
		case 'x', 'u', 'U':
			n := 2
			if c == 'u' {
				n = 4
			} else if c == 'U' {
				n = 8
			}
			if i+n < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += n
					continue
				}
			}
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	if !utf8.ValidString(b.String()) {
		return s
	}
	return b.String()
}
