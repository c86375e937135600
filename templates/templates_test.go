package templates

import (
	"flag"
	"os"
	"path/filepath"
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
