package ansible

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The INI format gives values as text that Ansible passes to Python's ast.literal_eval, keeping the text when that
// fails. These functions do the same for the values fleetctl maps: strings (quoted, with Python escapes, adjacent
// literals joined), integers (decimal, 0x, 0o, 0b, underscores, a sign), floats, True, False and None; containers
// and complex numbers become Other.

var (
	pyInt     = regexp.MustCompile(`^[+-]?(?:[1-9](?:_?[0-9])*|0(?:_?0)*|0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+)$`)
	pyDigits  = `[0-9](?:_?[0-9])*`
	pyPoint   = `(?:(?:` + pyDigits + `)?\.` + pyDigits + `|` + pyDigits + `\.)`
	pyFloat   = regexp.MustCompile(`^[+-]?(?:` + pyPoint + `|(?:` + pyDigits + `|` + pyPoint + `)[eE][+-]?` + pyDigits + `)$`)
	pyComplex = regexp.MustCompile(`^[+-]?(?:` + pyPoint + `|` + pyDigits + `)(?:[eE][+-]?` + pyDigits + `)?[jJ]$`)
)

// pyLiteral is Ansible's INI _parse_value.
func pyLiteral(s string) Value {
	t := strings.TrimRight(strings.TrimLeft(s, " \t"), " \t\r\n\f\v")
	switch {
	case t == "True":
		return Value{V: true}
	case t == "False":
		return Value{V: false}
	case t == "None":
		return Value{V: nil}
	case pyInt.MatchString(t):
		if n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 0, 64); err == nil {
			return Value{V: n}
		}
		return Value{V: Other{"a large integer"}}
	case pyFloat.MatchString(t):
		if f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64); err == nil {
			return Value{V: f}
		}
	case pyComplex.MatchString(t):
		return Value{V: Other{"a complex number"}}
	}
	if str, ok := pyStrings(t); ok {
		return stringValue(str)
	}
	if t != "" && strings.ContainsRune("[({", rune(t[0])) && pyContainer(t) {
		// A list, tuple, set or dict literal: which one, and whether Python accepts it, does not matter here, since
		// no mapped variable takes one; the text is never printed.
		return Value{V: Other{"a list or mapping"}}
	}
	return stringValue(s)
}

func stringValue(s string) Value {
	return Value{V: s, Vault: strings.HasPrefix(strings.TrimSpace(s), "$ANSIBLE_VAULT;")}
}

// pyContainer reports whether s is a Python list, tuple, set or dict display of literals, which literal_eval
// would turn into a container. "[::1]" and "{{ var }}" are not (a slice, a name), so they stay strings.
func pyContainer(s string) bool {
	p := &pyParser{s: s}
	if !p.value() {
		return false
	}
	p.space()
	return p.i == len(p.s)
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// value parses one literal; containers recursively.
func (p *pyParser) value() bool {
	p.space()
	if p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; c {
	case '[', '(', '{':
		p.i++
		closer := map[byte]byte{'[': ']', '(': ')', '{': '}'}[c]
		if p.eat(closer) {
			return true
		}
		for {
			if !p.value() {
				return false
			}
			if c == '{' && p.eat(':') && !p.value() {
				return false
			}
			if p.eat(closer) {
				return true
			}
			if !p.eat(',') {
				return false
			}
			if p.eat(closer) {
				return true
			}
		}
	}
	// A scalar: the longest run up to a delimiter outside quotes, checked with pyLiteral's rules.
	start := p.i
	var quote byte
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		if quote != 0 {
			if c == '\\' {
				p.i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		if c == '\'' || c == '"' {
			quote = c
			continue
		}
		if strings.IndexByte(",:]})[({", c) >= 0 {
			break
		}
	}
	tok := strings.TrimSpace(p.s[start:p.i])
	if tok == "" || quote != 0 {
		return false
	}
	switch tok {
	case "True", "False", "None":
		return true
	}
	if pyInt.MatchString(tok) || pyFloat.MatchString(tok) || pyComplex.MatchString(tok) {
		return true
	}
	_, ok := pyStrings(tok)
	return ok
}

// pyStrings parses one or more adjacent Python string literals (implicit concatenation), with optional u, r, b
// prefixes. It reports false for anything else, including f-strings, which literal_eval refuses.
func pyStrings(s string) (string, bool) {
	var out strings.Builder
	n := 0
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		raw := false
		i := 0
		for i < len(s) && i < 2 && strings.ContainsRune("rRuUbB", rune(s[i])) {
			if s[i] == 'r' || s[i] == 'R' {
				raw = true
			}
			i++
		}
		if i >= len(s) || s[i] != '\'' && s[i] != '"' {
			return "", false
		}
		q := s[i : i+1]
		if strings.HasPrefix(s[i:], q+q+q) {
			q = q + q + q
		}
		body := s[i+len(q):]
		end := -1
		for j := 0; j < len(body); j++ {
			if body[j] == '\\' {
				j++
				continue
			}
			if strings.HasPrefix(body[j:], q) {
				end = j
				break
			}
			if len(q) == 1 && body[j] == '\n' {
				return "", false
			}
		}
		if end < 0 {
			return "", false
		}
		text := body[:end]
		if !raw {
			var err error
			if text, err = pyUnescape(text); err != nil {
				return "", false
			}
		}
		out.WriteString(text)
		n++
		s = body[end+len(q):]
	}
	return out.String(), n > 0
}

func pyUnescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+1+width > len(s) {
				return "", errors.New("truncated escape")
			}
			r, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32)
			if err != nil || !utf8.ValidRune(rune(r)) {
				return "", errors.New("bad escape")
			}
			b.WriteRune(rune(r))
			i += width
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			r, _ := strconv.ParseUint(s[i:j], 8, 32)
			b.WriteRune(rune(r))
			i = j - 1
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), nil
}

// shlexSplit is Python's shlex.split(s, comments=True) in POSIX mode, which Ansible's INI parser uses on host
// lines: whitespace separates words, quotes group, a backslash outside single quotes escapes, and "#" outside
// quotes starts a comment even in the middle of a word.
func shlexSplit(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#':
			if inWord {
				words = append(words, cur.String())
			}
			return words, nil
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("no escaped character")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("no closing quotation")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			closed := false
			for ; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, errors.New("no closing quotation")
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
