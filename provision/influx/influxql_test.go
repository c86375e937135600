package influx

import (
	"testing"
	"time"

	"github.com/influxdata/influxql"
)

func TestQuoteIdent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"web1", `"web1"`},
		{"", `""`},
		{"select", `"select"`},
		{"web-1.example.com", `"web-1.example.com"`},
		{`we"ird`, `"we\"ird"`},
		{`back\slash`, `"back\\slash"`},
		{`\"`, `"\\\""`},
		{"new\nline", `"new\nline"`},
		{"it's", `"it's"`},
		{"ünï", `"ünï"`},
	} {
		if got := QuoteIdent(tc.in); got != tc.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"pw", `'pw'`},
		{"", `''`},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{`\'`, `'\\\''`},
		{`end\`, `'end\\'`},
		{"two\nlines", `'two\nlines'`},
		{`say "hi"`, `'say "hi"'`},
		{"\xff\xfe", "'\xff\xfe'"}, // bytes pass through unchanged, even invalid UTF-8
	} {
		if got := QuoteString(tc.in); got != tc.want {
			t.Errorf("QuoteString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestQuotingRoundTripsThroughTheInfluxQLParser proves the server's own parser reads back exactly what was quoted.
func TestQuotingRoundTripsThroughTheInfluxQLParser(t *testing.T) {
	for _, s := range []string{"web1", "it's", `a\b`, `x"y`, "nl\nnl", `\\'\"`, "select", "ünï code", `end\`} {
		stmt, err := influxql.ParseStatement("CREATE USER " + QuoteIdent(s) + " WITH PASSWORD " + QuoteString(s))
		if err != nil {
			t.Fatalf("%q: parse: %v", s, err)
		}
		cu, ok := stmt.(*influxql.CreateUserStatement)
		if !ok {
			t.Fatalf("%q: parsed as %T", s, stmt)
		}
		if cu.Name != s || cu.Password != s {
			t.Errorf("%q: round trip gave name %q password %q", s, cu.Name, cu.Password)
		}
	}
}

func TestParsePrivilege(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Privilege
	}{
		{"READ", Read}, {"read", Read}, {" Read ", Read},
		{"WRITE", Write}, {"write", Write},
		{"ALL", All}, {"ALL PRIVILEGES", All}, {"all  privileges", All},
		{"NO PRIVILEGES", NoPrivileges}, {"", NoPrivileges}, {"none", NoPrivileges},
	} {
		got, err := ParsePrivilege(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePrivilege(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"READWRITE", "admin", "ALL PRIVILEGE S"} {
		if _, err := ParsePrivilege(bad); err == nil {
			t.Errorf("ParsePrivilege(%q): want error", bad)
		}
	}
	if All.grantKeyword() != "ALL" || Read.grantKeyword() != "READ" {
		t.Error("grant keywords")
	}
}

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * day},
		{"720h0m0s", 30 * day}, // as SHOW RETENTION POLICIES prints it
		{"720h", 30 * day},
		{"4w2d", 30 * day},
		{"1h30m", 90 * time.Minute},
		{"168h0m0s", 7 * day},
		{"1w", 7 * day},
		{"INF", 0}, {"inf", 0}, {"", 0}, {"0s", 0}, {"0", 0},
		{"1.5h", 90 * time.Minute},
		{"100ms", 100 * time.Millisecond},
		{"5u", 5 * time.Microsecond},
		{"5µs", 5 * time.Microsecond},
		{"7ns", 7},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"30", "d", "30x", "-1h", "1h-", "forever", "99999999999999999999d"} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v: want error", bad, d)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "INF"}, {30 * day, "30d"}, {7 * day, "7d"}, {36 * time.Hour, "36h"}, {90 * time.Minute, "90m"},
		{time.Second, "1s"}, {1500 * time.Millisecond, "1500ms"}, {3 * time.Microsecond, "3u"}, {5, "5ns"},
	} {
		got := FormatDuration(tc.in)
		if got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
		if back, err := ParseDuration(got); err != nil || back != tc.in {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", tc.in, back, err)
		}
		// The server's parser must read it too.
		if tc.in != 0 {
			if d, err := influxql.ParseDuration(got); err != nil || d != tc.in {
				t.Errorf("influxql.ParseDuration(%q) = %v, %v", got, d, err)
			}
		}
	}
}
