package provision

import (
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
)

func TestCanaryHosts(t *testing.T) {
	src := baseInventory + `[groups.canary]
[[hosts]]
name = "web2"
address = "10.0.0.2"
groups = ["canary"]
[[hosts]]
name = "web1"
address = "10.0.0.1"
[[hosts]]
name = "db1"
address = "10.0.0.3"
groups = ["canary"]
`
	inv, err := inventory.Parse("inventory.toml", []byte(src), t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	selected, err := inv.Select([]string{"web*"})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := catalog.FromInventory(inv, nil, selected)
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{Inventory: inv, Hosts: specs}
	for _, tt := range []struct {
		patterns []string
		want     string
	}{
		{[]string{"canary"}, "web2"}, // db1 is in the group but not selected
		{[]string{"web1,web2"}, "web2 web1"},
		{[]string{"web*,!web2"}, "web1"},
		{[]string{"db1"}, "--canary db1 matches none of the selected hosts (see --limit)"},
		{[]string{"cnary"}, `--canary: "cnary" matches no host or group in inventory.toml (did you mean "canary"?)`},
	} {
		names, err := s.CanaryHosts(tt.patterns)
		got := strings.Join(names, " ")
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%v: %s, want %s", tt.patterns, got, tt.want)
		}
	}
}
