package inventory

import (
	"strconv"
	"strings"
)

// BurntSushi/toml knows where every key is but does not export it (MetaData has no positions), and it reports only
// one position per dotted key, so hosts[0].name and hosts[3].name would share a line. positions therefore walks the
// source once more and records where each key and array element starts, under the same path the decoder uses
// ("hosts[2].address"). It runs only on text the TOML parser has accepted, so it can be lenient: on anything it does
// not expect it moves on, and the worst outcome is an error reported without a line.

type position struct{ line, col int }

type scanner struct {
	src       string
	i         int
	line, col int
	pos       map[string]position
	arrays    map[string]int // array-of-tables path → elements seen so far
}

func positions(src string) map[string]position {
	s := &scanner{src: src, line: 1, col: 1, pos: map[string]position{}, arrays: map[string]int{}}
	s.document()
	return s.pos
}

func (s *scanner) eof() bool { return s.i >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.i]
}

func (s *scanner) has(prefix string) bool { return strings.HasPrefix(s.src[s.i:], prefix) }

func (s *scanner) advance(n int) {
	for ; n > 0 && !s.eof(); n-- {
		if s.src[s.i] == '\n' {
			s.line++
			s.col = 1
		} else {
			s.col++
		}
		s.i++
	}
}

func (s *scanner) here() position { return position{s.line, s.col} }

func (s *scanner) record(path string, p position) {
	if _, ok := s.pos[path]; !ok {
		s.pos[path] = p
	}
}

func (s *scanner) skipSpace() {
	for c := s.peek(); c == ' ' || c == '\t'; c = s.peek() {
		s.advance(1)
	}
}

// skipBlank skips whitespace, newlines and comments.
func (s *scanner) skipBlank() {
	for !s.eof() {
		switch s.peek() {
		case ' ', '\t', '\r', '\n':
			s.advance(1)
		case '#':
			for !s.eof() && s.peek() != '\n' {
				s.advance(1)
			}
		default:
			return
		}
	}
}

func (s *scanner) document() {
	table := ""
	for {
		s.skipBlank()
		if s.eof() {
			return
		}
		start := s.i
		if s.peek() == '[' {
			p := s.here()
			if s.has("[[") {
				s.advance(2)
				table = s.header(s.key(), true, p)
			} else {
				s.advance(1)
				table = s.header(s.key(), false, p)
			}
			s.skipSpace()
			for s.peek() == ']' {
				s.advance(1)
			}
		} else {
			s.keyval(table)
		}
		if s.i == start {
			s.advance(1)
		}
	}
}

type keyPart struct {
	name string
	pos  position
}

// key reads a possibly dotted key.
func (s *scanner) key() []keyPart {
	var parts []keyPart
	for {
		s.skipSpace()
		p := s.here()
		var name string
		switch c := s.peek(); {
		case c == '"':
			name = s.basicString()
		case c == '\'':
			name = s.literalString()
		default:
			j := s.i
			for j < len(s.src) && isBareKeyChar(s.src[j]) {
				j++
			}
			if j == s.i {
				return parts
			}
			name = s.src[s.i:j]
			s.advance(j - s.i)
		}
		parts = append(parts, keyPart{name, p})
		s.skipSpace()
		if s.peek() != '.' {
			return parts
		}
		s.advance(1)
	}
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// header records a [table] or [[array.of.tables]] header and returns the path keys below it start from.
func (s *scanner) header(parts []keyPart, array bool, p position) string {
	cur := ""
	for i, part := range parts {
		cur = joinKey(cur, part.name)
		if i == len(parts)-1 && array {
			n := s.arrays[cur]
			s.arrays[cur] = n + 1
			s.record(cur, part.pos)
			cur = indexKey(cur, n)
			s.record(cur, p)
			continue
		}
		s.record(cur, part.pos)
		if n, ok := s.arrays[cur]; ok && n > 0 {
			cur = indexKey(cur, n-1)
		}
	}
	return cur
}

func (s *scanner) keyval(table string) {
	parts := s.key()
	if len(parts) == 0 {
		return
	}
	cur := table
	for _, part := range parts {
		cur = joinKey(cur, part.name)
		s.record(cur, part.pos)
	}
	s.skipSpace()
	if s.peek() != '=' {
		return
	}
	s.advance(1)
	s.skipSpace()
	s.value(cur)
}

func (s *scanner) value(path string) {
	switch {
	case s.has(`"""`):
		s.multiline(`"""`, true)
	case s.has(`'''`):
		s.multiline(`'''`, false)
	case s.peek() == '"':
		s.basicString()
	case s.peek() == '\'':
		s.literalString()
	case s.peek() == '[':
		s.advance(1)
		for n := 0; ; n++ {
			s.skipBlank()
			if s.eof() || s.peek() == ']' {
				s.advance(1)
				return
			}
			start := s.i
			elem := indexKey(path, n)
			s.record(elem, s.here())
			s.value(elem)
			s.skipBlank()
			if s.peek() == ',' {
				s.advance(1)
			}
			if s.i == start {
				s.advance(1)
			}
		}
	case s.peek() == '{':
		s.advance(1)
		for {
			s.skipBlank()
			if s.eof() || s.peek() == '}' {
				s.advance(1)
				return
			}
			start := s.i
			s.keyval(path)
			s.skipBlank()
			if s.peek() == ',' {
				s.advance(1)
			}
			if s.i == start {
				s.advance(1)
			}
		}
	default:
		// Numbers, booleans, dates: up to the next delimiter. Dates may contain a space, so space is not one.
		for !s.eof() && !strings.ContainsRune(",]}#\r\n", rune(s.peek())) {
			s.advance(1)
		}
	}
}

func (s *scanner) multiline(delim string, escapes bool) {
	s.advance(3)
	for !s.eof() {
		if escapes && s.peek() == '\\' {
			s.advance(2)
			continue
		}
		if s.has(delim) {
			s.advance(3)
			// Up to two more quotes belong to the content: """a"""" ends with a quote.
			for k := 0; k < 2 && s.peek() == delim[0]; k++ {
				s.advance(1)
			}
			return
		}
		s.advance(1)
	}
}

// basicString reads a "…" string and returns its value.
func (s *scanner) basicString() string {
	start := s.i
	s.advance(1)
	for !s.eof() && s.peek() != '"' && s.peek() != '\n' {
		if s.peek() == '\\' {
			s.advance(1)
		}
		s.advance(1)
	}
	s.advance(1)
	raw := s.src[start:min(s.i, len(s.src))]
	if v, err := strconv.Unquote(raw); err == nil {
		return v
	}
	return strings.Trim(raw, `"`)
}

// literalString reads a '…' string and returns its value.
func (s *scanner) literalString() string {
	s.advance(1)
	start := s.i
	for !s.eof() && s.peek() != '\'' && s.peek() != '\n' {
		s.advance(1)
	}
	v := s.src[start:s.i]
	s.advance(1)
	return v
}

// joinKey appends one key to a path, quoting it the way TOML would when it is not a bare key.
func joinKey(parent, k string) string {
	bare := k != ""
	for i := 0; i < len(k); i++ {
		if !isBareKeyChar(k[i]) {
			bare = false
			break
		}
	}
	if !bare {
		k = strconv.Quote(k)
	}
	if parent == "" {
		return k
	}
	return parent + "." + k
}

func indexKey(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }

// Err returns an error located at key ("influxdb.admin_user", "grafana.url"), for a problem found with its value
// after loading, such as a server refusing it. The line is 0 when the file does not have the key.
func (inv *Inventory) Err(key, msg, fix string) *Error {
	p := inv.pos[key]
	return &Error{File: inv.File, Line: p.line, Key: key, Msg: msg, Fix: fix}
}
