package alertpacks

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func shippedSet(t *testing.T) *Set {
	t.Helper()
	s, err := Shipped()
	if err != nil {
		t.Fatalf("Shipped: %v", err)
	}
	return s
}

func TestShippedPacks(t *testing.T) {
	s := shippedSet(t)
	if got, want := s.Names(), []string{"cpu", "deadman", "disk", "diskio", "load", "memory", "net", "procs", "swap"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("shipped packs = %v, want %v", got, want)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, p := range s.Packs() {
		for _, tm := range p.Templates {
			if tm.Alert != p.Name && !strings.HasPrefix(tm.Alert, p.Name+"_") {
				t.Errorf("pack %s: template %s should be named after the pack (%s or %s_*)", p.Name, tm.File, p.Name, p.Name)
			}
		}
		if len(p.Templates) == 0 {
			t.Errorf("pack %s: no template", p.Name)
		}
		if p.Doc == "" {
			t.Errorf("pack %s: no doc", p.Name)
		}
		for _, v := range p.Vars {
			if !strings.HasPrefix(v.Name, p.Name+"_") {
				t.Errorf("pack %s: shipped variable %s should carry the pack's prefix", p.Name, v.Name)
			}
		}
	}
	cpu, _ := s.Pack("cpu")
	// The seed's values, and the warn level added beside them.
	want := map[string]any{"cpu_crit": int64(80), "cpu_crit_minutes": int64(15), "cpu_reset_minutes": int64(15),
		"cpu_warn": int64(70), "cpu_warn_minutes": int64(15)}
	got := map[string]any{}
	for _, v := range cpu.Vars {
		got[v.Name] = v.Default
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cpu defaults = %v, want the seed's %v", got, want)
	}
}

// goldenVars overrides some variables of every shipped pack, with the types an inventory decodes to.
var goldenVars = map[string]any{
	"cpu_crit":            int64(85),
	"cpu_crit_minutes":    int64(10),
	"memory_crit":         92.5,
	"disk_paths":          "^/(data|srv)(/|$)",
	"disk_crit_minutes":   int64(30),
	"load_crit":           int64(3),
	"swap_reset_minutes":  int64(20),
	"deadman_interval":    "10m",
	"deadman_measurement": "cpu",
	"cpu_warn":            int64(75),
	"diskio_await_crit":   150.5,
	"net_interfaces":      "^eth",
	"procs_zombies_warn":  int64(3),
	"not_a_pack_var":      "ignored",
}

var goldenHandlers = Handlers{
	Topic:   "fleetctl-web1",
	LogPath: "/var/log/kapacitor/alerts.log",
	Email:   []string{"ops@example.com", "oncall@example.com"},
	Webhook: "https://hooks.example.com/kapacitor?team=ops",
}

// TestRenderGolden renders every shipped pack for one host with variables and handlers and compares with
// testdata/golden/<alert>.tick (go test -run TestRenderGolden -update rewrites them).
func TestRenderGolden(t *testing.T) {
	s := shippedSet(t)
	scripts, err := s.Render(s.Names(), Target{Host: "web1", Database: "telegraf_web1"}, goldenVars, goldenHandlers)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	templates := 0
	for _, name := range s.Names() {
		p, _ := s.Pack(name)
		templates += len(p.Templates)
	}
	if len(scripts) != templates {
		t.Fatalf("got %d scripts for %d templates", len(scripts), templates)
	}
	for _, sc := range scripts {
		path := filepath.Join("testdata", "golden", sc.Alert+".tick")
		if *update {
			if err := os.WriteFile(path, []byte(sc.Text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if sc.Text != string(want) {
			t.Errorf("%s differs from %s (run with -update after checking):\n%s", sc.Alert, path, sc.Text)
		}
	}
}

func TestRenderCPUIsTheSeed(t *testing.T) {
	s := shippedSet(t)
	cpu, _ := s.Pack("cpu")
	scripts, err := cpu.Render(Target{Host: "web1", Database: "telegraf_web1"}, nil, Handlers{LogPath: "/var/log/kapacitor/kapacitor_alerts.log"})
	if err != nil {
		t.Fatal(err)
	}
	text := scripts[0].Text
	for _, want := range []string{
		"var critLevel = 80\n",
		"var critTime = 15\n",
		"var critResetTime = 15\n",
		`|where(lambda: ("host" == 'web1') AND ("cpu" == 'cpu-total'))`,
		`|stateDuration(lambda: "cpu_used" >= critLevel)`,
		`|stateDuration(lambda: "cpu_used" < critLevel)`,
		`.id('CPU - {{ index .Tags "host" }}')`,
		`.message('{{.Level}} - CPU Usage > ' + string(critLevel) + ' on {{ index .Tags "host" }}')`,
		`.crit(lambda: "crit_duration" >= critTime)`,
		`.critReset(lambda: "crit_reset_duration" >= critResetTime)`,
		".stateChangesOnly()\n",
		"        .log('/var/log/kapacitor/kapacitor_alerts.log')\n    |influxDBOut()",
		".database('telegraf_web1')",
		".retentionPolicy('autogen')",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("cpu script lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "$") {
		t.Errorf("a placeholder survived:\n%s", text)
	}
}

func TestRenderNoHandlersRemovesLine(t *testing.T) {
	s := shippedSet(t)
	mem, _ := s.Pack("memory")
	scripts, err := mem.Render(Target{Host: "db1", Database: "db1"}, nil, Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(scripts[0].Text, ".stateChangesOnly()\n    |influxDBOut()") {
		t.Errorf("the ${handlers} line should vanish without handlers:\n%s", scripts[0].Text)
	}
}

// TestRenderHostEscaping: the inventory forbids such names, but rendering must stay safe on its own: the host
// reaches Kapacitor as the exact string compared in the where lambda, never as code.
func TestRenderHostEscaping(t *testing.T) {
	s := shippedSet(t)
	for _, host := range []string{`o'brien`, `back\slash`, `x') OR TRUE OR ('`, `a\'b`, `"dq"`} {
		scripts, err := s.Render(s.Names(), Target{Host: host, Database: "db"}, nil, goldenHandlers)
		if err != nil {
			t.Errorf("host %q: %v", host, err)
			continue
		}
		for _, sc := range scripts {
			found := false
			for _, lit := range stringLiterals(t, sc.Text) {
				if lit == host {
					found = true
				}
			}
			if !found {
				t.Errorf("host %q, alert %s: no string literal reads back as the host:\n%s", host, sc.Alert, sc.Text)
			}
		}
	}
	for host, want := range map[string]string{
		`ends\`:      "backslash",
		"new\nline":  "control character",
		"{{ .ID }}":  "template action",
		"":           "empty host",
		"tab\there":  "control character",
		"x}}":        "template action",
		`\`:          "backslash",
		"web1\x00z":  "control character",
		"ok-but-\r1": "control character",
	} {
		_, err := s.Render([]string{"cpu"}, Target{Host: host, Database: "db"}, nil, Handlers{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("host %q: error = %v, want one mentioning %q", host, err, want)
		}
	}
}

func TestRenderVars(t *testing.T) {
	s := shippedSet(t)
	target := Target{Host: "web1", Database: "db"}
	render := func(pack string, vars map[string]any) (string, error) {
		scripts, err := s.Render([]string{pack}, target, vars, Handlers{})
		if err != nil {
			return "", err
		}
		return scripts[0].Text, nil
	}
	// Missing → default; other packs' and unknown names are ignored.
	text, err := render("cpu", map[string]any{"memory_crit": "not mine", "whatever": []int{1}})
	if err != nil || !strings.Contains(text, "var critLevel = 80\n") {
		t.Errorf("defaults: %v\n%s", err, text)
	}
	text, err = render("deadman", map[string]any{"deadman_interval": "90s", "deadman_threshold": int64(2)})
	if err != nil || !strings.Contains(text, "var period = 90s\n") || !strings.Contains(text, "var threshold = 2.0\n") {
		t.Errorf("deadman vars: %v\n%s", err, text)
	}
	for _, tc := range []struct {
		pack string
		vars map[string]any
		want string
	}{
		{"cpu", map[string]any{"cpu_crit": "high"}, `alert pack "cpu": host "web1": variable cpu_crit (number): want a number, got the string "high"`},
		{"deadman", map[string]any{"deadman_interval": int64(5)}, `alert pack "deadman": host "web1": variable deadman_interval (duration)`},
		{"disk", map[string]any{"disk_paths": "(unclosed"}, `variable disk_paths (regex): invalid regular expression`},
		{"deadman", map[string]any{"deadman_measurement": 3.5}, `variable deadman_measurement (string): want a string`},
	} {
		_, err := render(tc.pack, tc.vars)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error = %v, want %q", tc.pack, tc.vars, err, tc.want)
		}
	}
	if _, err := s.Render([]string{"cpu", "nope"}, target, nil, Handlers{}); err == nil || !strings.Contains(err.Error(), `unknown alert pack "nope"`) {
		t.Errorf("unknown pack: %v", err)
	}
	if _, err := s.Render([]string{"cpu", "cpu"}, target, nil, Handlers{}); err == nil || !strings.Contains(err.Error(), `"cpu" listed twice`) {
		t.Errorf("repeated pack: %v", err)
	}
}

func TestRenderHandlers(t *testing.T) {
	s := shippedSet(t)
	target := Target{Host: "web1", Database: "db"}
	scripts, err := s.Render([]string{"cpu"}, target, nil, Handlers{
		LogPath: "/var/log/o'k.log",
		Email:   []string{"a@example.com"},
		Webhook: "http://hooks.local:8080/x?a=1&b='2'",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "        .log('/var/log/o\\'k.log')\n        .email('a@example.com')\n        .post('http://hooks.local:8080/x?a=1&b=\\'2\\'')\n"
	if !strings.Contains(scripts[0].Text, want) {
		t.Errorf("handlers not rendered as\n%s\nin\n%s", want, scripts[0].Text)
	}
	for h, wantErr := range map[*Handlers]string{
		{LogPath: "relative.log"}:               "not absolute",
		{LogPath: `/var/log/x\`}:                "backslash",
		{Email: []string{"not an address"}}:     "not a plain email address",
		{Email: []string{"Ops <ops@x.com>"}}:    "not a plain email address",
		{Webhook: "ftp://x/y"}:                  "not an http or https URL",
		{Webhook: "https:///nohost"}:            "not an http or https URL",
		{Email: []string{"ok@x.com", "o'k@x"}}:  "",
		{Webhook: "https://x/a'b", LogPath: ""}: "",
	} {
		_, err := s.Render([]string{"cpu"}, target, nil, *h)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("handlers %+v: %v", *h, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("handlers %+v: error = %v, want %q", *h, err, wantErr)
		}
	}
}

// packFS builds a pack set source in memory: files maps "pack/file" to contents.
func packFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

const okToml = `doc = "test pack"
[vars.t_level]
default = 5
doc = "level"
`

// TestKapacitorTemplatesUntouched: Go template syntax meant for Kapacitor, including $variables, survives.
func TestKapacitorTemplatesUntouched(t *testing.T) {
	tick := `var level = ${t_level}
stream
    |from()
        .measurement('m')
    |where(lambda: "host" == '$reported_hostname')
    |alert()
        .id('{{ index .Tags "host" }}/{{ .Name }}')
        .message('{{ range $k, $v := .Tags }}{{ $k }}={{ $v }} {{ end }}{{ $reported_hostnameX }} $ {{.Level}}')
        .crit(lambda: "value" > level)
        ${handlers}
`
	s, err := LoadFS(packFS(map[string]string{"t/pack.toml": okToml, "t/t.tick": tick}), "mem")
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := s.Render([]string{"t"}, Target{Host: "h1", Database: "d"}, nil, Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer("${t_level}", "5", "'$reported_hostname'", "'h1'", "        ${handlers}\n", "").Replace(tick)
	if scripts[0].Text != want {
		t.Errorf("got\n%s\nwant\n%s", scripts[0].Text, want)
	}
}

func TestParseErrorNamesTemplateLine(t *testing.T) {
	// Line 9 is broken; the ${handlers} line above it expands to three lines, so the rendered script's line
	// number differs from the template's.
	tick := `var level = ${t_level}
stream
    |from()
        .measurement('m')
    |where(lambda: "host" == '$reported_hostname')
    |alert()
        .crit(lambda: "value" > level)
        ${handlers}
    |influxDBOut(
`
	s, err := LoadFS(packFS(map[string]string{"broken/pack.toml": okToml, "broken/broken-x.tick": tick}), "mem")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Render([]string{"broken"}, Target{Host: "h1", Database: "d"}, nil, goldenHandlers)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("want a *ParseError, got %v", err)
	}
	if pe.Pack != "broken" || pe.File != "broken-x.tick" || pe.Line != 9 {
		t.Errorf("ParseError = %+v, want pack broken, file broken-x.tick, line 9", pe)
	}
	msg := err.Error()
	for _, want := range []string{`alert pack "broken"`, "broken-x.tick:9", `host "h1"`, "line 9 char"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	// Validate reports it too.
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "broken-x.tick:9") {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	good := `stream
    |from()
        .measurement('m')
    |where(lambda: "host" == '$reported_hostname')
    |alert()
        .crit(lambda: "value" > ${t_level})
        ${handlers}
`
	for name, tc := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"unknown placeholder": {
			files: map[string]string{"p/pack.toml": okToml, "p/p.tick": strings.Replace(good, "${t_level}", "${t_levle}", 1)},
			want:  []string{`alert pack "p"`, "p.tick:6", "unknown variable ${t_levle}", "declares t_level"},
		},
		"unused variable": {
			files: map[string]string{"p/pack.toml": okToml, "p/p.tick": strings.Replace(good, "${t_level}", "5", 1)},
			want:  []string{"variable t_level is declared in pack.toml but no template uses ${t_level}"},
		},
		"handlers not alone": {
			files: map[string]string{"p/pack.toml": okToml, "p/p.tick": strings.Replace(good, "        ${handlers}", "        .log('/x') ${handlers}", 1)},
			want:  []string{"p.tick:7", "${handlers} must be alone on its line"},
		},
		"host as ${}": {
			files: map[string]string{"p/pack.toml": okToml, "p/p.tick": strings.Replace(good, "'$reported_hostname'", "${reported_hostname}", 1)},
			want:  []string{"p.tick:4", "'$reported_hostname' inside a single-quoted string"},
		},
		"unclosed": {
			files: map[string]string{"p/pack.toml": okToml, "p/p.tick": good + "// ${oops\n"},
			want:  []string{"p.tick:8", "unclosed ${"},
		},
		"unknown toml key": {
			files: map[string]string{"p/pack.toml": okToml + "[vars.t_level.extra]\nx = 1\n", "p/p.tick": good},
			want:  []string{"unknown keys"},
		},
		"bad default": {
			files: map[string]string{"p/pack.toml": "doc = \"d\"\n[vars.t_level]\ntype = \"duration\"\ndefault = 5\ndoc = \"x\"\n", "p/p.tick": good},
			want:  []string{"vars.t_level: default: want a duration string"},
		},
		"no default": {
			files: map[string]string{"p/pack.toml": "doc = \"d\"\n[vars.t_level]\ndoc = \"x\"\n", "p/p.tick": good},
			want:  []string{"vars.t_level: no default"},
		},
		"no doc": {
			files: map[string]string{"p/pack.toml": "[vars.t_level]\ndefault = 1\n", "p/p.tick": good},
			want:  []string{"pack.toml: doc: missing", "vars.t_level: doc: missing"},
		},
		"reserved var": {
			files: map[string]string{"p/pack.toml": "doc = \"d\"\n[vars.database]\ndefault = 1\ndoc = \"x\"\n", "p/p.tick": good},
			want:  []string{"database is reserved"},
		},
		"bad type": {
			files: map[string]string{"p/pack.toml": "doc = \"d\"\n[vars.t_level]\ntype = \"percent\"\ndefault = 1\ndoc = \"x\"\n", "p/p.tick": good},
			want:  []string{`unknown type "percent"`},
		},
		"bad pack name": {
			files: map[string]string{"Bad Name/pack.toml": okToml, "Bad Name/p.tick": good},
			want:  []string{"invalid pack name"},
		},
		"bad alert name": {
			files: map[string]string{"p/pack.toml": okToml, "p/P.X.tick": good},
			want:  []string{`invalid alert name "P.X"`},
		},
		"no templates": {
			files: map[string]string{"p/pack.toml": okToml, "p/README.md": "x"},
			want:  []string{"no .tick templates"},
		},
		"no pack.toml": {
			files: map[string]string{"p/p.tick": good},
			want:  []string{"read pack.toml"},
		},
		"duplicate alert": {
			files: map[string]string{"p/pack.toml": okToml, "p/same.tick": good, "q/pack.toml": strings.ReplaceAll(okToml, "t_level", "q_level"), "q/same.tick": strings.ReplaceAll(good, "t_level", "q_level")},
			want:  []string{`alert "same" is defined by packs "p" and "q"`},
		},
		"duplicate variable": {
			files: map[string]string{"p/pack.toml": okToml, "p/p.tick": good, "q/pack.toml": okToml, "q/q.tick": good},
			want:  []string{`variable t_level is declared by packs "p" and "q"`},
		},
		"empty": {
			files: map[string]string{"README.md": "x"},
			want:  []string{"no pack directories"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadFS(packFS(tc.files), "mem")
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestStructureChecks: templates that parse, but would be unsafe or wrong for every host.
func TestStructureChecks(t *testing.T) {
	base := `stream
    |from()
        .measurement('m')
    |where(lambda: "host" == '$reported_hostname')
    |alert()
        .crit(lambda: "value" > ${t_level})
        ${handlers}
`
	for name, tc := range map[string]struct {
		tick string
		want string
	}{
		"host in code": {
			strings.Replace(base, `"host" == '$reported_hostname'`, `"host" == $reported_hostname`, 1),
			"", // web1 parses as an identifier (caught by the check), a dotted name does not parse: both must fail
		},
		"host in a comment": {
			"// alerts for $reported_hostname\n" + base,
			"may only appear inside single-quoted strings",
		},
		"host in a triple-quoted string": {
			strings.Replace(base, "        ${handlers}", "        .details('''$reported_hostname''')\n        ${handlers}", 1),
			"may only appear inside single-quoted strings",
		},
		"host in a regex": {
			strings.Replace(base, `"host" == '$reported_hostname'`, `"host" =~ /^$reported_hostname$/`, 1),
			"may only appear inside single-quoted strings",
		},
		"dbrp": {
			"dbrp \"telegraf\".\"autogen\"\n" + base,
			"declares a dbrp",
		},
		"batch": {
			strings.Replace(base, "stream\n    |from()\n        .measurement('m')", "batch\n    |query('SELECT mean(value) FROM m')\n        .period(1m)", 1),
			"must be a stream task",
		},
		"alert without handlers": {
			strings.Replace(base, "        ${handlers}\n", "", 1),
			"has an alert node but no ${handlers} line",
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := LoadFS(packFS(map[string]string{"p/pack.toml": okToml, "p/p.tick": tc.tick}), "mem")
			if err != nil {
				t.Fatal(err)
			}
			_, renderErr := s.Render([]string{"p"}, Target{Host: "web1", Database: "d"}, nil, Handlers{})
			validateErr := s.Validate()
			for _, err := range []error{renderErr, validateErr} {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error = %v, want %q", err, tc.want)
				}
			}
		})
	}
}

func TestLoadDirUserPacks(t *testing.T) {
	s, err := LoadDir(filepath.Join("testdata", "userpacks"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	all, err := Merge(shippedSet(t), s)
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := all.Render([]string{"cpu", "ntp"}, Target{Host: "web1", Database: "telegraf_web1"}, map[string]any{"ntp_offset_ms": 250}, Handlers{Webhook: "https://hooks.example.com/k"})
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, sc := range scripts {
		alerts = append(alerts, sc.Alert)
	}
	if want := []string{"cpu", "ntp-offset", "ntp-unsynced"}; !reflect.DeepEqual(alerts, want) {
		t.Errorf("alerts = %v, want %v", alerts, want)
	}
	if !strings.Contains(scripts[1].Text, "var maxOffset = 250\n") {
		t.Errorf("ntp-offset:\n%s", scripts[1].Text)
	}
	if _, err := Merge(shippedSet(t), shippedSet(t)); err == nil || !strings.Contains(err.Error(), `alert pack "cpu" is defined twice`) {
		t.Errorf("merging the shipped packs twice: %v", err)
	}
	if _, err := LoadDir(filepath.Join("testdata", "nope")); err == nil {
		t.Error("LoadDir of a missing directory: want an error")
	}
}

// TestParsePanicsBecomeErrors: a user's pack must never crash fleetctl, whatever the parser does.
func TestParseRecovers(t *testing.T) {
	for _, src := range []string{"", "'", "'''", "var", "stream|", "|", "var x = /", "\"", "lambda:", "var x = 1 +"} {
		_, _ = Parse(src) // must not panic
	}
}
