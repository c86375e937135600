package templates

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs from golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// parses checks the output is TOML Telegraf could read and returns it decoded.
func parses(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if _, err := toml.Decode(s, &m); err != nil {
		t.Fatalf("rendered file is not valid TOML: %v\n%s", err, s)
	}
	return m
}

func TestRenderAgentPinsHostname(t *testing.T) {
	s, err := RenderAgent(Agent{Hostname: "web1", GlobalTags: map[string]string{"customer": "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	m := parses(t, s)
	if m["agent"].(map[string]any)["hostname"] != "web1" {
		t.Fatalf("hostname not pinned: %v", m["agent"])
	}
	golden(t, "agent.conf", s)
}

func TestRenderOutputsEscapesValues(t *testing.T) {
	o := Outputs{InfluxURL: "http://10.0.0.1:8086", Database: "web1", Username: "web1_write", Password: `p"a\s's` + "\n#x"}
	s, err := RenderOutputs(o)
	if err != nil {
		t.Fatal(err)
	}
	m := parses(t, s)
	out := m["outputs"].(map[string]any)["influxdb"].([]map[string]any)[0]
	if out["password"] != o.Password || out["skip_database_creation"] != true || out["database"] != "web1" {
		t.Fatalf("decoded outputs differ: %v", out)
	}
	o.Password = "PASSWORD"
	s, _ = RenderOutputs(o)
	golden(t, "outputs.conf", s)
}

// TestRenderOutputsWithSecretStore: with a secret store, the file declares Telegraf's systemd store and the
// password is the reference it is given, as a TOML string.
func TestRenderOutputsWithSecretStore(t *testing.T) {
	o := Outputs{InfluxURL: "http://10.0.0.1:8086", Database: "web1", Username: "web1_write", Password: "@{fleetctl:influxdb_password}", SecretStore: "fleetctl"}
	s, err := RenderOutputs(o)
	if err != nil {
		t.Fatal(err)
	}
	m := parses(t, s)
	stores, _ := m["secretstores"].(map[string]any)["systemd"].([]map[string]any)
	if len(stores) != 1 || stores[0]["id"] != "fleetctl" {
		t.Fatalf("secret store not declared once with its id: %v", m["secretstores"])
	}
	if out := m["outputs"].(map[string]any)["influxdb"].([]map[string]any)[0]; out["password"] != o.Password {
		t.Fatalf("password is not the reference: %v", out["password"])
	}
	golden(t, "outputs-secretstore.conf", s)
}

func TestRenderInputs(t *testing.T) {
	s, err := RenderInputs(DefaultInputs())
	if err != nil {
		t.Fatal(err)
	}
	m := parses(t, s)
	if len(m["inputs"].(map[string]any)) != len(DefaultInputs()) {
		t.Fatalf("want %d inputs, got %v", len(DefaultInputs()), m["inputs"])
	}
	golden(t, "inputs.conf", s)
	if _, err := RenderInputs([]string{"cpu", "nginxx"}); err == nil || !strings.Contains(err.Error(), `unknown telegraf input "nginxx"`) {
		t.Fatalf("unknown input not refused: %v", err)
	}
}

func TestResolveInputs(t *testing.T) {
	got := ResolveInputs([]string{"cpu", "mem", "swap"}, []string{"nstat", "cpu"}, []string{"swap"})
	if strings.Join(got, ",") != "cpu,mem,nstat" {
		t.Fatalf("got %v", got)
	}
}

func TestTOMLStringControlChars(t *testing.T) {
	in := "a\x01b\x7f\"\\\u00e9"
	var m struct{ V string }
	if _, err := toml.Decode("V = "+TOMLString(in), &m); err != nil || m.V != in {
		t.Fatalf("round trip: %q %v", m.V, err)
	}
}

func TestShippedProfilesLoad(t *testing.T) {
	ps := Profiles()
	if len(ps) == 0 || ps[0].Description == "" {
		t.Fatalf("no profiles: %+v", ps)
	}
	for _, p := range ps {
		if _, err := RenderInputs(p.Inputs); err != nil {
			t.Errorf("profile %s: %v", p.Name, err)
		}
	}
	if _, err := LoadProfile("nosuch"); err == nil || !strings.Contains(err.Error(), "known profiles are base") {
		t.Fatalf("unknown profile: %v", err)
	}
}

// TestProfileInputs pins each shipped profile's inputs, in order (the order of the rendered inputs file), and
// checks the README's profile table says the same: a profile that silently lost or gained an input would change
// every host that uses it.
func TestProfileInputs(t *testing.T) {
	base := []string{"cpu", "disk", "diskio", "net", "kernel", "mem", "processes", "swap", "system", "procstat"}
	want := map[string][]string{
		"base":      base,
		"minimal":   {"cpu", "mem", "disk", "system"},
		"web":       append(slices.Clone(base), "nginx"),
		"database":  append(slices.Clone(base), "postgresql"),
		"container": append(slices.Clone(base), "docker"),
	}
	got := map[string][]string{}
	for _, p := range Profiles() {
		got[p.Name] = p.Inputs
	}
	if len(got) != len(want) {
		t.Errorf("shipped profiles %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("profile %s: inputs %v, want %v", name, got[name], w)
		}
	}
	if DefaultProfile != "base" {
		t.Errorf("default profile %q, README says base", DefaultProfile)
	}

	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z]+)`(?: \\(default\\))? \\| ([^|]+) \\|$")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = m[2]
	}
	for name, w := range want {
		desc, ok := rows[name]
		if !ok {
			t.Errorf("README's profile table has no row for %s", name)
			continue
		}
		// A row lists the inputs, or says "base + " the inputs it adds.
		list := strings.Join(w, ", ")
		if rest, ok := strings.CutPrefix(desc, "base + "); ok {
			list = strings.Join(w[len(base):], ", ")
			desc = rest
			if !slices.Equal(w[:len(base)], base) {
				t.Errorf("README says %s is base + more; it is %v", name, w)
			}
		}
		if !strings.Contains(desc, list) {
			t.Errorf("README's row for %s (%q) does not list %s", name, rows[name], list)
		}
	}
}
