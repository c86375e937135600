package alertpacks

import (
	"strings"
	"testing"
	"time"

	"github.com/influxdata/kapacitor/tick/ast"
)

// stringLiterals parses script and returns the single-quoted string literals in order.
func stringLiterals(t *testing.T, script string) []string {
	t.Helper()
	root, err := Parse(script)
	if err != nil {
		t.Fatalf("parse %q: %v", script, err)
	}
	var out []string
	walk(root, func(n ast.Node) {
		if s, ok := n.(*ast.StringNode); ok && !s.TripleQuotes {
			out = append(out, s.Literal)
		}
	})
	return out
}

// TestEscapeStringRoundTrip proves with Kapacitor's own parser that every escaped value reads back as itself.
func TestEscapeStringRoundTrip(t *testing.T) {
	for _, s := range []string{
		"web1",
		"o'brien",
		"''",
		"'",
		`a\b`,
		`a\'b`,
		`\\x`,
		`it's a \ host`,
		`"double" quotes`,
		"",
		"{{ index .Tags \"host\" }}",
		"ünïcode-host",
	} {
		q, err := QuoteString(s)
		if err != nil {
			t.Errorf("QuoteString(%q): %v", s, err)
			continue
		}
		got := stringLiterals(t, "var x = "+q+"\nstream|from().measurement('m')|where(lambda: \"host\" == "+q+")\n")
		if len(got) != 3 || got[0] != s || got[2] != s {
			t.Errorf("QuoteString(%q) = %s parses back as %q", s, q, got)
		}
	}
}

func TestEscapeStringRefusesTrailingBackslash(t *testing.T) {
	for _, s := range []string{`a\`, `\`, `a\\`} {
		if _, err := EscapeString(s); err == nil {
			t.Errorf("EscapeString(%q): want an error", s)
		}
		// Why: the parser really cannot read such a string back.
		if _, err := Parse("var x = '" + strings.ReplaceAll(s, "'", `\'`) + "'\n"); err == nil {
			t.Errorf("Kapacitor's parser accepted '%s': the refusal may be unnecessary", s)
		}
	}
}

func TestQuoteRegexRoundTrip(t *testing.T) {
	for _, re := range []string{`^/`, `^/(home|var)/`, `a\/b`, `^(squashfs|tmpfs)$`, `\d+`, `[[:alpha:]]/x`} {
		q, err := QuoteRegex(re)
		if err != nil {
			t.Errorf("QuoteRegex(%q): %v", re, err)
			continue
		}
		root, err := Parse("var r = " + q + "\n")
		if err != nil {
			t.Errorf("QuoteRegex(%q) = %s does not parse: %v", re, q, err)
			continue
		}
		var got string
		walk(root, func(n ast.Node) {
			if r, ok := n.(*ast.RegexNode); ok {
				got = r.Regex.String()
			}
		})
		want := strings.ReplaceAll(re, `\/`, `/`) // the parser drops the escape before a slash either way
		if strings.ReplaceAll(got, `\/`, `/`) != want {
			t.Errorf("QuoteRegex(%q) = %s parses back as %q", re, q, got)
		}
	}
	for _, bad := range []string{`(`, `a\`} {
		if _, err := QuoteRegex(bad); err == nil {
			t.Errorf("QuoteRegex(%q): want an error", bad)
		}
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		typ     VarType
		in      any
		want    string
		wantErr string
	}{
		{Number, int64(80), "80", ""},
		{Number, 85.5, "85.5", ""},
		{Number, 80.0, "80.0", ""},
		{Number, -3, "-3", ""},
		{Number, "80", "", `want a number, got the string "80"`},
		{Number, true, "", "want a number"},
		{Int, 15, "15", ""},
		{Int, 15.0, "15", ""},
		{Int, 15.5, "", "want a whole number"},
		{Float, 2, "2.0", ""},
		{Float, 0.0, "0.0", ""},
		{Float, 1e21, "1000000000000000000000.0", ""},
		{Float, 1e-7, "0.0000001", ""},
		{String, "system", "'system'", ""},
		{String, "it's", `'it\'s'`, ""},
		{String, 5, "", "want a string"},
		{Duration, "5m", "5m", ""},
		{Duration, "2d", "2d", ""},
		{Duration, "1h30m", "90m", ""},
		{Duration, "90s", "90s", ""},
		{Duration, "1500ms", "1500ms", ""},
		{Duration, "24h0m0s", "1d", ""},
		{Duration, 10 * time.Second, "10s", ""},
		{Duration, "soon", "", "want a duration"},
		{Duration, 5, "", "want a duration string"},
		{Duration, "-5m", "", "negative duration"},
		{Regex, "^/data", `/^\/data/`, ""},
		{Regex, "(", "", "invalid regular expression"},
	}
	for _, tc := range tests {
		got, err := literal(tc.typ, tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("literal(%s, %#v) error = %v, want %q", tc.typ, tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("literal(%s, %#v) = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
			continue
		}
		if _, err := Parse("var x = " + got + "\n"); err != nil {
			t.Errorf("literal(%s, %#v) = %q does not parse: %v", tc.typ, tc.in, got, err)
		}
	}
}
