package inventory

import (
	"reflect"
	"testing"
	"time"
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

// input_vars, global_tags and agent merge key by key over defaults, the host's groups in its order, then the host;
// flush_interval follows interval unless a level sets it.
func TestMergeTelegrafSettings(t *testing.T) {
	inv := parse(t, base+`
[defaults]
global_tags = { region = "eu", customer = "none" }
agent = { interval = "30s", metric_buffer_limit = 50000 }
input_vars.site_check = { url = "https://default.example/", timeout = "5s" }
[groups.acme]
global_tags = { customer = "acme" }
input_vars.site_check.url = "https://acme.example/"
input_vars.site_check.token = { env = "ACME_TOKEN" }
[groups.slow]
agent = { interval = "1m" }
[[hosts]]
name = "web1"
address = "10.0.0.5"
groups = ["acme", "slow"]
global_tags = { role = "web" }
agent = { flush_jitter = "2s" }
[[hosts]]
name = "web2"
address = "10.0.0.6"
agent = { flush_interval = "15s" }
`)
	hosts := inv.Hosts()
	w1, w2 := hosts[0], hosts[1]
	if want := map[string]string{"region": "eu", "customer": "acme", "role": "web"}; !reflect.DeepEqual(w1.GlobalTags, want) {
		t.Errorf("web1 tags = %v", w1.GlobalTags)
	}
	if want := (Agent{Interval: time.Minute, FlushInterval: time.Minute, FlushJitter: 2 * time.Second, MetricBatchSize: 1000, MetricBufferLimit: 50000}); w1.Agent != want {
		t.Errorf("web1 agent = %+v", w1.Agent)
	}
	if want := (Agent{Interval: 30 * time.Second, FlushInterval: 15 * time.Second, MetricBatchSize: 1000, MetricBufferLimit: 50000}); w2.Agent != want {
		t.Errorf("web2 agent = %+v", w2.Agent)
	}
	sc := w1.InputVars["site_check"]
	if sc["url"] != "https://acme.example/" || sc["timeout"] != "5s" {
		t.Errorf("web1 site_check vars = %v", sc)
	}
	if ref, ok := sc["token"].(SecretRef); !ok || ref.String() != "env ACME_TOKEN" {
		t.Errorf("web1 token = %#v", sc["token"])
	}
	if _, ok := w2.InputVars["site_check"]["token"]; ok || w2.InputVars["site_check"]["url"] != "https://default.example/" {
		t.Errorf("web2 site_check vars = %v", w2.InputVars["site_check"])
	}
}
