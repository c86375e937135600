package inventory

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The decoder walks the generic map BurntSushi/toml produces instead of decoding into structs: struct decoding stops
// at the first type mismatch, and the inventory must report every problem of a file in one pass.

type decoder struct {
	file string
	pos  map[string]position
	errs Errors
}

func (d *decoder) at(key string) position { return d.pos[key] }

func (d *decoder) add(key string, p position, fix, format string, args ...any) *Error {
	e := &Error{File: d.file, Line: p.line, Col: p.col, Key: key, Msg: fmt.Sprintf(format, args...), Fix: fix}
	d.errs = append(d.errs, e)
	return e
}

// table is one TOML table being read. Every key the code asks for becomes known, so whatever is left over when
// done is called is an unknown key, and the known ones are the candidates for "did you mean".
type table struct {
	d       *decoder
	path    string
	m       map[string]any
	known   []string
	missing bool // the table is absent from the file; callers skip "required" errors under it
}

func (d *decoder) table(path string, m map[string]any) *table { return &table{d: d, path: path, m: m} }

func (t *table) key(k string) string {
	if k == "" {
		return t.path
	}
	return joinKey(t.path, k)
}

// pos is where k is, or where its table starts when k is absent (so "required" errors point near the fix).
func (t *table) pos(k string) position {
	if p, ok := t.d.pos[t.key(k)]; ok {
		return p
	}
	return t.d.pos[t.path]
}

func (t *table) errorf(k, fix, format string, args ...any) *Error {
	return t.d.add(t.key(k), t.pos(k), fix, format, args...)
}

func (t *table) get(k string) (any, bool) {
	if !slices.Contains(t.known, k) {
		t.known = append(t.known, k)
	}
	v, ok := t.m[k]
	return v, ok
}

// required reports a missing key unless the whole table is missing (which was reported once already).
func (t *table) required(k, fix string) {
	if !t.missing {
		t.errorf(k, fix, "required")
	}
}

// done reports the keys nobody asked for.
func (t *table) done() {
	known := map[string]bool{}
	for _, k := range t.known {
		known[k] = true
	}
	var unknown []string
	for k := range t.m {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		t.errorf(k, t.unknownFix(k), "unknown key")
	}
}

// synonyms are names people reach for that the inventory spells differently.
var synonyms = map[string]string{
	"hostname": "name", "ip": "address", "host": "address", "addr": "address", "username": "user",
	"login": "user", "db": "database", "group": "groups", "packs": "alert_packs", "inputs": "inputs_add",
	"alerts": "alert_packs", "variables": "vars", "identity_file": "identity_files", "key": "identity_files",
}

// rootKeys are the top-level keys. One of them inside a section is almost always a key written below the wrong
// [section] header: in TOML, keys belong to the last header above them.
var rootKeys = []string{"influxdb", "grafana", "kapacitor", "secrets", "telegraf", "ssh", "alerts", "defaults", "groups", "hosts"}

func (t *table) unknownFix(k string) string {
	if fix := DidYouMean(k, t.known); fix != "" {
		return fix
	}
	if s, ok := synonyms[k]; ok && slices.Contains(t.known, s) {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if t.path != "" && slices.Contains(rootKeys, k) {
		return fmt.Sprintf("keys belong to the last [section] above them: move %s above the first section header", k)
	}
	if len(t.known) > 0 && len(t.known) <= 12 {
		return "known keys here: " + strings.Join(t.known, ", ")
	}
	return ""
}

// typeName names a decoded value's TOML type for messages.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v)
}

func (t *table) wrongType(k string, v any, want, example string) {
	t.errorf(k, "write it as "+example, "must be %s, not %s", want, typeName(v))
}

func (t *table) str(k string) (string, bool) {
	v, ok := t.get(k)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		t.wrongType(k, v, "a string", fmt.Sprintf("%s = \"…\"", joinKey("", k)))
	}
	return s, ok
}

func (t *table) integer(k string) (int64, bool) {
	v, ok := t.get(k)
	if !ok {
		return 0, false
	}
	n, ok := v.(int64)
	if !ok {
		t.wrongType(k, v, "an integer", fmt.Sprintf("%s = 22, without quotes", joinKey("", k)))
	}
	return n, ok
}

func (t *table) boolean(k string) (bool, bool) {
	v, ok := t.get(k)
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		t.wrongType(k, v, "a boolean", fmt.Sprintf("%s = true or %s = false, without quotes", joinKey("", k), joinKey("", k)))
	}
	return b, ok
}

// strings reads an array of strings. ok is false when the key is absent or not an array; bad elements are
// reported and left out.
func (t *table) strings(k string) ([]string, bool) {
	v, ok := t.get(k)
	if !ok {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		t.wrongType(k, v, "an array of strings", fmt.Sprintf("%s = [\"…\", \"…\"]", joinKey("", k)))
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			ek := indexKey(t.key(k), i)
			t.d.add(ek, t.d.at(ek), "quote it", "must be a string, not %s", typeName(e))
			continue
		}
		out = append(out, s)
	}
	return out, true
}

// sub returns the table under k: an empty, missing one when k is absent, nil when k is not a table.
func (t *table) sub(k string) *table {
	v, ok := t.get(k)
	if !ok {
		return &table{d: t.d, path: t.key(k), m: map[string]any{}, missing: true}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.errorf(k, fmt.Sprintf("write it as a section, [%s], with its keys below", t.key(k)), "must be a table, not %s", typeName(v))
		return nil
	}
	return t.d.table(t.key(k), m)
}

// duration reads a duration string such as "10s" or "30d".
func (t *table) duration(k string) (time.Duration, bool) {
	s, ok := t.str(k)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil {
		t.errorf(k, `write a number followed by a unit: ns, us, ms, s, m, h, d or w, such as "10s", "5m" or "30d"`, "%v", err)
		return 0, false
	}
	return d, true
}

func (t *table) has(k string) bool { _, ok := t.m[k]; return ok }

// url reads an http(s) URL; "" when absent or invalid (both reported when required).
func (t *table) url(k string, required bool, example string) string {
	s, ok := t.str(k)
	if !ok {
		if required && !t.has(k) {
			t.required(k, "add "+example)
		}
		return ""
	}
	u, problem, fix := checkURL(s)
	if problem != "" {
		t.errorf(k, fix, "%s", problem)
	}
	return u
}

// requiredStr reads a non-empty string.
func (t *table) requiredStr(k, example string) string {
	s, ok := t.str(k)
	switch {
	case !ok && !t.has(k):
		t.required(k, "add "+example)
	case ok && s == "":
		t.errorf(k, "write "+example, "must not be empty")
	}
	return s
}

func (t *table) requiredSecret(k string, inv *Inventory) SecretRef {
	ref := t.secret(k, inv)
	if !t.has(k) {
		env := suggestedEnv[t.key(k)]
		t.required(k, fmt.Sprintf(`add %s = { env = %q } or { file = "path/to/file" }`, k, env))
	}
	return ref
}

// port reads a TCP port.
func (t *table) port(k string, def int) int {
	n, ok := t.integer(k)
	if !ok {
		return def
	}
	if n < 1 || n > 65535 {
		t.errorf(k, "use a port between 1 and 65535", "port %d is out of range", n)
		return def
	}
	return int(n)
}

// user reads a login name; ok is false when absent or invalid (and then reported).
func (t *table) user(k string) (string, bool) {
	u, ok := t.str(k)
	switch {
	case !ok:
		return "", false
	case u == "":
		t.errorf(k, fmt.Sprintf("write %s = \"deploy\", or remove the key", k), "must not be empty")
		return "", false
	case !userRE.MatchString(u):
		t.errorf(k, `use letters, digits, ".", "_" and "-"`, "%q is not a valid user name", u)
		return "", false
	}
	return u, true
}
