package inventory

import (
	"strings"
	"testing"
	"time"
)

func TestDidYouMean(t *testing.T) {
	keys := []string{"name", "address", "port", "user", "groups", "database", "connect_timeout", "url"}
	tests := map[string]string{
		"adress":         `did you mean "address"?`,
		"adderss":        `did you mean "address"?`, // a swap counts once
		"Address":        `did you mean "address"?`,
		"prot":           `did you mean "port"?`,
		"conect_timeout": `did you mean "connect_timeout"?`,
		"group":          `did you mean "groups"?`,
		"xyz":            "",
		"hostname":       "",
		"u":              "",
	}
	for word, want := range tests {
		if got := DidYouMean(word, keys); got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", word, got, want)
		}
	}
	if got := DidYouMean("x", nil); got != "" {
		t.Errorf("no candidates: %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	tests := map[string]time.Duration{
		"0": 0, "10s": 10 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute,
		"30d": 720 * time.Hour, "2w": 336 * time.Hour, "500ms": 500 * time.Millisecond, "1d12h": 36 * time.Hour,
	}
	for s, want := range tests {
		if got, err := parseDuration(s); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "10", "s", "-1s", "1.5h", "10 s", "1y", "99999999999999999999h", "2562048h"} {
		if got, err := parseDuration(s); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", s, got)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	for _, ok := range []string{"10.0.0.5", "::1", "2001:db8::1", "fe80::1%eth0", "web1", "web-1.example.com", "WEB1.Example.COM", "example.com.", "1password.com", "a.b2"} {
		if p, _ := checkAddress(ok); p != "" {
			t.Errorf("checkAddress(%q) = %q, want valid", ok, p)
		}
	}
	for _, bad := range []string{"", "10.0.0.256", "1.2.3", "[::1]", "web1:22", "-web", "web-", "a..b", "under_score", "deploy@web", "web 1", "2001:db8::g", "é.example.com"} {
		if p, _ := checkAddress(bad); p == "" {
			t.Errorf("checkAddress(%q) valid, want a problem", bad)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"web1", "w", "1", "db-1.lon", "a_b", "a" + strings.Repeat("-", 61) + "b"} {
		if why := checkName(ok); why != "" {
			t.Errorf("checkName(%q) = %q", ok, why)
		}
	}
	long := "a" + strings.Repeat("-", 62) + "b"
	for _, bad := range []string{"", "Web1", "web 1", "web'1", `web"1`, `web\1`, "web/1", "-web", "web.", "wéb", "web:1", long} {
		if why := checkName(bad); why == "" {
			t.Errorf("checkName(%q) valid", bad)
		}
	}
	if got, want := nameFix("Web Server #1"), `use lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit, such as "web-server-1"`; got != want {
		t.Errorf("nameFix = %q", got)
	}
	if got := defaultDatabase("db-1.lon"); got != "db_1_lon" {
		t.Errorf("defaultDatabase = %q", got)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct{ in, want, problem string }{
		{"http://127.0.0.1:8086", "http://127.0.0.1:8086", ""},
		{"https://grafana.example.com/grafana/", "https://grafana.example.com/grafana", ""},
		{"http://[::1]:8086", "http://[::1]:8086", ""},
		{"127.0.0.1:8086", "", "missing scheme"},
		{"ftp://x", "", `scheme "ftp" is not supported`},
		{"http://", "", "missing host"},
		{"http://:8086", "", "missing host"},
		{"http://u:p@x", "", "credentials must not be part of the URL (they would show in every log)"},
		{"http://x:0", "", "port 0 is out of range 1-65535"},
		{"http://x/#frag", "", "a query or fragment is not allowed here"},
		{"", "", "must not be empty"},
		// Written into a .repo file, a space gives dnf a second mirror; a line break, a line of the URL's choosing.
		{"https://mirror.example.com/rpm https://evil.example.com/rpm", "", "a space (character 31) is not allowed in a URL: where the URL is written, in a repository file or a command, it would end the URL and start another"},
		{"https://m.example.com/debian\ngpgcheck=0", "", "control character U+000A (character 29) is not allowed in a URL"},
		{"https://m.example.com/a\tb", "", "control character U+0009 (character 24) is not allowed in a URL"},
		{"https://m.example.com/a\u00a0b", "", "whitespace character U+00A0 (character 24) is not allowed in a URL"},
		{"https://m.example.com/a\u200bb", "", "invisible character U+200B (character 24) is not allowed in a URL"},
		{"https://m.example.com/a%20b/$basearch", "https://m.example.com/a%20b/$basearch", ""},
	}
	for _, tt := range tests {
		got, problem, _ := checkURL(tt.in)
		if got != tt.want || problem != tt.problem {
			t.Errorf("checkURL(%q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}
