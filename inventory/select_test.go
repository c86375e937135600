package inventory

import (
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	inv := parse(t, base+`
[groups.web]
[groups.db]
[groups.empty]

[[hosts]]
name = "web1"
address = "10.0.0.1"
groups = ["web"]

[[hosts]]
name = "db1"
address = "10.0.0.2"
groups = ["db"]

[[hosts]]
name = "web2"
address = "10.0.0.3"
groups = ["web"]

[[hosts]]
name = "cache1"
address = "10.0.0.4"
groups = ["db", "web"]
`)
	tests := []struct {
		patterns []string
		want     string // host names in order, or the error
	}{
		{nil, "web1 db1 web2 cache1"},
		{[]string{"web1"}, "web1"},
		{[]string{"web*"}, "web1 web2"},
		{[]string{"db"}, "db1 cache1"},
		{[]string{"web2,db1"}, "db1 web2"}, // file order, not pattern order
		{[]string{"web", "db"}, "web1 db1 web2 cache1"},
		{[]string{"web1, web1", "web*"}, "web1 web2"},
		{[]string{"?ache[0-9]"}, "cache1"},
		{[]string{"web3"}, `"web3" matches no host or group in inventory.toml (did you mean "web"?)`},
		{[]string{"wbe", "nothing*"}, `"wbe" matches no host or group in inventory.toml (did you mean "web"?)` + "\n" +
			`"nothing*" matches no host or group in inventory.toml`},
		{[]string{"WEB1"}, `"WEB1" matches no host or group in inventory.toml (did you mean "web1"?)`},
		{[]string{"web[1"}, `host pattern "web[1": syntax error in pattern`},
		{[]string{"web1,,db1"}, `empty host pattern in "web1,,db1"`},
		{[]string{""}, `empty host pattern in ""`},
		{[]string{"empty"}, `group "empty" has no hosts in inventory.toml`},
		// Ansible's prefixes: & intersects, ! excludes, whatever their place in the list.
		{[]string{"!web1"}, "db1 web2 cache1"}, // only exclusions: from every host
		{[]string{"web,!cache1"}, "web1 web2"},
		{[]string{"!cache1", "web"}, "web1 web2"},
		{[]string{"web,&db"}, "cache1"},
		{[]string{"&db,web*"}, `host patterns "&db,web*" select no host in inventory.toml: every host they match is excluded (!) or left out by an intersection (&)`},
		{[]string{"&db"}, "db1 cache1"},
		{[]string{"web,db,&web,!web2"}, "web1 cache1"},
		{[]string{"web, ! web2"}, "web1 cache1"},
		{[]string{"!chrot"}, `"!chrot" matches no host or group in inventory.toml`},
		{[]string{"!wbe"}, `"!wbe" matches no host or group in inventory.toml (did you mean "!web"?)`},
		{[]string{"&dbb"}, `"&dbb" matches no host or group in inventory.toml (did you mean "&db"?)`},
		{[]string{"!"}, `empty host pattern in "!"`},
		{[]string{"web,!web"}, `host patterns "web,!web" select no host in inventory.toml: every host they match is excluded (!) or left out by an intersection (&)`},
	}
	for _, tt := range tests {
		hosts, err := inv.Select(tt.patterns)
		var got string
		if err != nil {
			got = err.Error()
		} else {
			var names []string
			for _, h := range hosts {
				names = append(names, h.Name)
			}
			got = strings.Join(names, " ")
		}
		if got != tt.want {
			t.Errorf("Select(%q) = %s\nwant %s", tt.patterns, got, tt.want)
		}
	}
}
