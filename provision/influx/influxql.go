package influx

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The InfluxQL scanner (influxql.ScanString) accepts exactly four escapes inside quoted strings and identifiers:
// \n, \\, \" and \'. A raw newline ends the token with "bad string" and any other backslash pair is "bad escape",
// so backslashes, the quote character and newlines are escaped; everything else is sent as it is.

// QuoteIdent returns name as a double-quoted InfluxQL identifier. Identifiers are always quoted, so keywords and
// names with dots, dashes or spaces are safe.
func QuoteIdent(name string) string { return `"` + escape(name, '"') + `"` }

// QuoteString returns s as a single-quoted InfluxQL string literal (for passwords).
func QuoteString(s string) string { return `'` + escapeString(s) + `'` }

func escapeString(s string) string { return escape(s, '\'') }

// escape works on bytes, not runes: every special character is ASCII, and other bytes (even invalid UTF-8) must
// reach the server unchanged.
func escape(s string, quote byte) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', quote:
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Privilege is a user's privilege on one database. InfluxDB keeps exactly one per user and database.
type Privilege string

const (
	NoPrivileges Privilege = "NO PRIVILEGES"
	Read         Privilege = "READ"
	Write        Privilege = "WRITE"
	All          Privilege = "ALL PRIVILEGES"
)

// ParsePrivilege normalises the spellings of a privilege: what SHOW GRANTS prints ("ALL PRIVILEGES",
// "NO PRIVILEGES"), what GRANT takes ("ALL", "READ", "WRITE"), any case, and "" or "NONE" for no privileges.
func ParsePrivilege(s string) (Privilege, error) {
	switch strings.Join(strings.Fields(strings.ToUpper(s)), " ") {
	case "", "NONE", "NO PRIVILEGES", "NO PRIVILEGE", "NOPRIVILEGES":
		return NoPrivileges, nil
	case "READ":
		return Read, nil
	case "WRITE":
		return Write, nil
	case "ALL", "ALL PRIVILEGES":
		return All, nil
	}
	return "", fmt.Errorf("unknown influxdb privilege %q (want READ, WRITE, ALL or NONE)", s)
}

// grantKeyword is the privilege as GRANT takes it.
func (p Privilege) grantKeyword() string {
	if p == All {
		return "ALL"
	}
	return string(p)
}

type durationUnit struct {
	unit string
	d    time.Duration
}

// durationUnits lists the units InfluxQL understands (and Go's "µs"), largest first. FormatDuration uses the
// largest that divides exactly, skipping "w" ("7d" reads better than "1w") and the microsecond aliases.
func durationUnits() []durationUnit {
	return []durationUnit{
		{"w", 7 * 24 * time.Hour},
		{"d", 24 * time.Hour},
		{"h", time.Hour},
		{"m", time.Minute},
		{"s", time.Second},
		{"ms", time.Millisecond},
		{"u", time.Microsecond},
		{"µ", time.Microsecond},
		{"us", time.Microsecond},
		{"µs", time.Microsecond},
		{"ns", time.Nanosecond},
	}
}

// ParseDuration reads a retention duration in any form a user or the server writes it: InfluxQL literals ("30d",
// "2w", "1h30m"), Go durations as SHOW RETENTION POLICIES prints them ("720h0m0s"), and "INF", "inf", "0", "0s"
// or "" for infinite (returned as 0).
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" || strings.EqualFold(t, "INF") || t == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := t
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return parseGoDuration(s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", s, err)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit, ok := lookupUnit(rest[:j])
		if !ok {
			return parseGoDuration(s)
		}
		if n > int64((1<<63-1)/unit) {
			return 0, fmt.Errorf("invalid duration %q: too long", s)
		}
		total += time.Duration(n) * unit
		rest = rest[j:]
	}
	return total, nil
}

func lookupUnit(u string) (time.Duration, bool) {
	for _, du := range durationUnits() {
		if du.unit == u {
			return du.d, true
		}
	}
	return 0, false
}

// parseGoDuration accepts what only time.ParseDuration knows (fractions such as "1.5h"), never negatives.
func parseGoDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want for example 30d, 720h, 1h30m or INF", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", s)
	}
	return d, nil
}

// FormatDuration writes d as an InfluxQL duration literal with the largest unit that divides it exactly ("30d",
// "36h", "90m"), and 0 as "INF". Output round-trips through ParseDuration.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "INF"
	}
	for _, du := range durationUnits() {
		if du.unit == "w" || du.unit == "µ" || du.unit == "us" || du.unit == "µs" {
			continue
		}
		if d%du.d == 0 {
			return strconv.FormatInt(int64(d/du.d), 10) + du.unit
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}
