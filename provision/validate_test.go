package provision

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// baseInventory is the smallest valid head of an inventory; tests append [defaults], groups and hosts.
const baseInventory = `[influxdb]
url = "http://127.0.0.1:8086"
admin_user = "admin"
admin_password = { env = "INFLUX_ADMIN_PASSWORD" }
[grafana]
url = "http://127.0.0.1:3000"
token = { env = "GRAFANA_TOKEN" }
[kapacitor]
url = "http://127.0.0.1:9092"
[secrets]
master = { file = "secrets/master" }
[ssh]
user = "deploy"
`

// validate writes text as dir/inventory.toml and validates it; no secret or server is needed.
func validate(t *testing.T, dir, text string) (int, error) {
	t.Helper()
	path := filepath.Join(dir, "inventory.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return Validate(Options{InventoryPath: path, Getenv: func(string) string { return "" }})
}

// TestShippedExamplesValidate: every inventory the project shows users (the commented example, the valid test
// inventories, the team-packs README's example) passes validate, so none teaches a key or a var that does nothing.
func TestShippedExamplesValidate(t *testing.T) {
	files, err := filepath.Glob("../inventory/testdata/valid/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid inventories: %v", err)
	}
	files = append(files, "../inventory/testdata/example.toml")
	for _, f := range files {
		if n, err := Validate(Options{InventoryPath: f, Getenv: func(string) string { return "" }}); err != nil || n == 0 {
			t.Errorf("%s: %d hosts, %v", f, n, err)
		}
	}

	// The README of the team-packs example holds an inventory using them from a folder named userpacks.
	readme, err := os.ReadFile("../alertpacks/testdata/userpacks/README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```toml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("alertpacks/testdata/userpacks/README.md has no toml example")
	}
	dir := t.TempDir()
	packs, _ := filepath.Abs("../alertpacks/testdata/userpacks")
	if err := os.Symlink(packs, filepath.Join(dir, "userpacks")); err != nil {
		t.Fatal(err)
	}
	if n, err := validate(t, dir, string(m[1])); err != nil || n != 1 {
		t.Errorf("userpacks README example: %d hosts, %v", n, err)
	}
}

// TestUnknownVarsRefused: a var that no alert pack of the hosts it applies to declares changes nothing, so it is
// refused at its line with the closest declared name; so is a value of the wrong type and a var of a pack the
// hosts do not use.
func TestUnknownVarsRefused(t *testing.T) {
	packs, _ := filepath.Abs("../alertpacks/testdata/userpacks")
	tests := []struct {
		name, toml string
		want       []string // regexps, each must match one line of the error; nil: valid
	}{
		{"typo on a host", `[[hosts]]
name = "web1"
address = "10.0.0.1"
alert_packs = ["cpu"]
vars = { cpu_critt = 95 }
`, []string{`/inventory\.toml:\d+: hosts\[0\]\.vars\.cpu_critt: unknown var "cpu_critt": no alert pack of host web1 declares it, so it would change nothing \(did you mean "cpu_crit"\?; declared there: cpu_crit, cpu_crit_minutes, cpu_reset_minutes, cpu_warn, cpu_warn_minutes\)$`}},
		{"typo in defaults", `[defaults]
alert_packs = ["disk"]
vars = { dsk_crit = 80 }
[[hosts]]
name = "web1"
address = "10.0.0.1"
`, []string{`/inventory\.toml:16: defaults\.vars\.dsk_crit: unknown var "dsk_crit": no alert pack of any host declares it.*did you mean "disk_crit"\?`}},
		{"typo in a group", `[groups.web]
vars = { memroy_crit = 80 }
[[hosts]]
name = "web1"
address = "10.0.0.1"
groups = ["web"]
alert_packs = ["memory"]
`, []string{`/inventory\.toml:15: groups\.web\.vars\.memroy_crit: unknown var "memroy_crit": no alert pack of any host of group web declares it.*did you mean "memory_crit"\?`}},
		{"a group no host lists may set any declared var", `[groups.spare]
vars = { swap_crit = 50 }
[[hosts]]
name = "web1"
address = "10.0.0.1"
`, nil},
		{"a group no host lists, unknown var", `[groups.spare]
vars = { nosuch_var = 50 }
[[hosts]]
name = "web1"
address = "10.0.0.1"
`, []string{`groups\.spare\.vars\.nosuch_var: unknown var "nosuch_var": no alert pack declares it`}},
		{"a var of a pack the host does not use", `[[hosts]]
name = "web1"
address = "10.0.0.1"
alert_packs = ["cpu"]
vars = { swap_crit = 50 }
`, []string{`hosts\[0\]\.vars\.swap_crit: var "swap_crit" belongs to alert pack "swap", which host web1 does not use: it would change nothing \(add "swap" to the host's alert_packs, or remove the var\)`}},
		{"a defaults var used by some hosts only", `[defaults]
alert_packs = ["cpu", "swap"]
vars = { swap_crit = 50 }
[[hosts]]
name = "web1"
address = "10.0.0.1"
[[hosts]]
name = "tiny"
address = "10.0.0.2"
alert_packs_drop = ["swap"]
`, nil},
		{"a value of the wrong type", `[[hosts]]
name = "web1"
address = "10.0.0.1"
alert_packs = ["cpu", "deadman"]
vars = { cpu_crit = "high", deadman_interval = "often" }
`, []string{`hosts\[0\]\.vars\.cpu_crit: cpu_crit \(number, of alert pack "cpu"\): `, `hosts\[0\]\.vars\.deadman_interval: deadman_interval \(duration, of alert pack "deadman"\): want a duration`}},
		{"a team pack's var", `[alerts]
packs_dir = "` + packs + `"
[[hosts]]
name = "ntp1"
address = "10.0.0.1"
alert_packs = ["ntp"]
vars = { ntp_offset_ms = 20, ntp_ofset_for = "1h" }
`, []string{`hosts\[0\]\.vars\.ntp_ofset_for: unknown var "ntp_ofset_for".*did you mean "ntp_offset_for"\?`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(t, t.TempDir(), baseInventory+tc.toml)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("validate passed")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("want %d errors, got:\n%v", len(tc.want), err)
			}
			for _, re := range tc.want {
				found := false
				for _, l := range lines {
					found = found || regexp.MustCompile(re).MatchString(l)
				}
				if !found {
					t.Errorf("no error matches %s:\n%v", re, err)
				}
			}
		})
	}
}

// TestValidateReportsEveryProblemAtOnce: one inventory with a problem of each kind (the file's own, an input, a
// profile, an alert pack, a var, a broken team pack) gets every one of them in one run, the inventory's sorted by
// line, instead of one round per kind.
func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "packs", "broken")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"pack.toml":   "doc = \"a pack with a TICK syntax error\"\n",
		"broken.tick": "stream\n    |from()\n        .measurement('cpu')\n    |where(lambda: \"host\" == '$reported_hostname'\n",
	} {
		if err := os.WriteFile(filepath.Join(broken, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := baseInventory + `[alerts]
packs_dir = "packs"
[defaults]
profile = "bse"
alert_packs = ["cpu", "broken"]
[[hosts]]
name = "web1"
adress = "10.0.0.1"
address = "10.0.0.1"
inputs_add = ["ngnix"]
alert_packs_add = ["cpuu"]
vars = { cpu_critt = 95 }
`
	_, err := validate(t, dir, text)
	if err == nil {
		t.Fatal("validate passed")
	}
	want := []string{
		`inventory.toml:\d+: defaults.profile: unknown profile "bse" \(did you mean "base"\?`,
		`inventory.toml:\d+: hosts\[0\].adress: unknown key \(did you mean "address"\?\)`,
		`inventory.toml:\d+: hosts\[0\].inputs_add\[0\]: unknown input "ngnix" \(did you mean "nginx"\?`,
		`inventory.toml:\d+: hosts\[0\].alert_packs_add\[0\]: unknown alert pack "cpuu" \(did you mean "cpu"\?`,
		`inventory.toml:\d+: hosts\[0\].vars.cpu_critt: unknown var "cpu_critt".*did you mean "cpu_crit"\?`,
		`alert pack "broken".*broken\.tick:\d+`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("want %d errors, got %d:\n%v", len(want), len(lines), err)
	}
	prev := 0
	for i, re := range want {
		if i >= len(lines) || !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("error %d: want %s, in:\n%v", i+1, re, err)
			continue
		}
		// The inventory's own problems and its mentions come in line order.
		if m := regexp.MustCompile(`/inventory\.toml:(\d+):`).FindStringSubmatch(lines[i]); m != nil {
			n, _ := strconv.Atoi(m[1])
			if n < prev {
				t.Errorf("error %d (line %d) comes after line %d:\n%v", i+1, n, prev, err)
			}
			prev = n
		}
	}
}

// TestMatchRefused: a contact's match expression that Kapacitor could not parse is refused offline, at its line.
func TestMatchRefused(t *testing.T) {
	dir := t.TempDir()
	inv := `[influxdb]
url = "http://127.0.0.1:8086"
admin_user = "admin"
admin_password = { env = "P" }
[grafana]
url = "http://127.0.0.1:3000"
token = { env = "T" }
[kapacitor]
url = "http://127.0.0.1:9092"
[secrets]
master = { env = "M" }
[ssh]
user = "deploy"
[alerts.contacts.ops]
kind = "smtp"
to = ["ops@example.com"]
match = "level() >= WARNING AND"
[alerts.contacts.good]
kind = "smtp"
to = ["ops@example.com"]
match = "changed() AND \"host\" == 'web1'"
[[hosts]]
name = "web1"
address = "10.0.0.1"
`
	path := filepath.Join(dir, "inventory.toml")
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Validate(Options{InventoryPath: path})
	if err == nil || !strings.Contains(err.Error(), "inventory.toml:17: alerts.contacts.ops.match: invalid match expression") {
		t.Fatalf("error %v, want the bad match at line 17", err)
	}
	if strings.Contains(err.Error(), "contacts.good") {
		t.Fatalf("a valid match was refused: %v", err)
	}
}
