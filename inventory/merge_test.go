package inventory

import (
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	tests := []struct {
		name string
		toml string // appended to base; defines groups and one host, web1
		want Host   // only the merged fields are compared
	}{
		{
			name: "defaults only",
			toml: `
[defaults]
alert_packs = ["cpu", "memory"]
inputs_add = ["nginx"]
profile = "web"
vars = { cpu_crit = 80 }
[[hosts]]
name = "web1"
address = "10.0.0.5"
`,
			want: Host{Profile: "web", AlertPacks: []string{"cpu", "memory"}, InputsAdd: []string{"nginx"}, Vars: map[string]any{"cpu_crit": int64(80)}},
		},
		{
			name: "nothing set",
			toml: `
[[hosts]]
name = "web1"
address = "10.0.0.5"
`,
			want: Host{Profile: "base", Vars: map[string]any{}},
		},
		{
			name: "groups apply in the host's order, later wins per var key",
			toml: `
[defaults]
vars = { a = 1, b = 1, c = 1, d = 1 }
[groups.x]
vars = { b = "x", c = "x" }
[groups.y]
vars = { c = "y", e = true }
[[hosts]]
name = "web1"
address = "10.0.0.5"
groups = ["y", "x"]
vars = { d = 4.5 }
`,
			want: Host{Profile: "base", Vars: map[string]any{"a": int64(1), "b": "x", "c": "x", "d": 4.5, "e": true}},
		},
		{
			name: "add and drop across levels, without restating defaults",
			toml: `
[defaults]
alert_packs = ["cpu", "memory", "disk", "swap"]
[groups.web]
alert_packs_add = ["nginx"]
alert_packs_drop = ["swap"]
[groups.db]
alert_packs_add = ["postgresql", "cpu"]
[[hosts]]
name = "web1"
address = "10.0.0.5"
groups = ["web", "db"]
alert_packs_drop = ["disk"]
alert_packs_add = ["deadman"]
`,
			want: Host{Profile: "base", Vars: map[string]any{}, AlertPacks: []string{"cpu", "memory", "nginx", "postgresql", "deadman"}},
		},
		{
			name: "alert_packs replaces what earlier levels built; its own add and drop then apply",
			toml: `
[defaults]
alert_packs = ["cpu", "memory", "disk"]
[groups.web]
alert_packs_add = ["nginx"]
[groups.tiny]
alert_packs = ["cpu", "deadman"]
alert_packs_add = ["memory"]
alert_packs_drop = ["deadman"]
[[hosts]]
name = "web1"
address = "10.0.0.5"
groups = ["web", "tiny"]
`,
			want: Host{Profile: "base", Vars: map[string]any{}, AlertPacks: []string{"cpu", "memory"}},
		},
		{
			name: "inputs: a later add cancels a drop and the other way round",
			toml: `
[defaults]
inputs_drop = ["swap", "kernel"]
inputs_add = ["procstat"]
[groups.web]
inputs_add = ["nginx", "swap"]
[groups.quiet]
inputs_drop = ["procstat"]
[[hosts]]
name = "web1"
address = "10.0.0.5"
groups = ["web", "quiet"]
inputs_drop = ["nginx"]
inputs_add = ["kernel"]
`,
			want: Host{Profile: "base", Vars: map[string]any{}, InputsAdd: []string{"swap", "kernel"}, InputsDrop: []string{"procstat", "nginx"}},
		},
		{
			name: "profile: last level that sets it wins",
			toml: `
[defaults]
profile = "base"
[groups.a]
profile = "web"
[groups.b]
profile = "db"
[groups.c]
[[hosts]]
name = "web1"
address = "10.0.0.5"
groups = ["a", "b", "c"]
`,
			want: Host{Profile: "db", Vars: map[string]any{}},
		},
		{
			name: "host profile beats groups",
			toml: `
[groups.a]
profile = "web"
[[hosts]]
name = "web1"
address = "10.0.0.5"
groups = ["a"]
profile = "minimal"
`,
			want: Host{Profile: "minimal", Vars: map[string]any{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := parse(t, base+tt.toml).Hosts()[0]
			got := Host{Profile: h.Profile, AlertPacks: h.AlertPacks, InputsAdd: h.InputsAdd, InputsDrop: h.InputsDrop, Vars: h.Vars}
			if !equalHost(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Vars holding arrays are copied per host: the engine may not change one host's values through another's.
func TestMergeArrayVarsAreCopies(t *testing.T) {
	inv := parse(t, base+`
[defaults]
vars = { disks = ["/", "/var"] }
[[hosts]]
name = "web1"
address = "10.0.0.5"
[[hosts]]
name = "web2"
address = "10.0.0.6"
`)
	hosts := inv.Hosts()
	hosts[0].Vars["disks"].([]any)[0] = "/changed"
	if got := hosts[1].Vars["disks"]; !reflect.DeepEqual(got, []any{"/", "/var"}) {
		t.Errorf("web2 disks = %v", got)
	}
}
