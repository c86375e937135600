package dashboards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedTemplatesRender(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Host(HostData{Host: "web1", Database: "web1", DatasourceUID: "fleetctl-web1", Title: `web1 "quoted"`})
	if err != nil {
		t.Fatal(err)
	}
	if m["title"] != `web1 "quoted"` {
		t.Errorf("title %v", m["title"])
	}
	var titles []string
	for _, p := range m["panels"].([]any) {
		pm := p.(map[string]any)
		titles = append(titles, pm["title"].(string))
		if ds := pm["datasource"].(map[string]any); ds["uid"] != "fleetctl-web1" {
			t.Errorf("panel %v on datasource %v", pm["title"], ds)
		}
	}
	if got := strings.Join(titles, ","); got != "CPU,Memory,Disk space,Disk I/O,Network,Load,Processes" {
		t.Errorf("panels %s", got)
	}
	f, err := s.Fleet(FleetData{Title: "Fleet"})
	if err != nil {
		t.Fatal(err)
	}
	if row := f["panels"].([]any)[0].(map[string]any); row["repeat"] != "host" {
		t.Errorf("overview's first panel does not repeat per host: %v", row)
	}
}

func TestUserTemplateReplacesShipped(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, HostFile), []byte(`{"title": {{ json .Title }}, "panels": [{"title": {{ json .Database }}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Host(HostData{Host: "h", Database: "db1", DatasourceUID: "u", Title: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if p := m["panels"].([]any)[0].(map[string]any); p["title"] != "db1" {
		t.Errorf("user template not used: %v", m)
	}
	if f, err := s.Fleet(FleetData{Title: "F"}); err != nil || f["title"] != "F" {
		t.Errorf("shipped fleet template: %v %v", f, err)
	}
}

func TestBrokenUserTemplateNamesItsFile(t *testing.T) {
	for name, body := range map[string]string{
		"syntax":    `{"title": {{ json .Title }`,
		"unknown":   `{"title": {{ json .Nope }}, "panels": []}`,
		"not json":  `title: {{ .Title }}`,
		"no panels": `{"title": {{ json .Title }}}`,
		"uid":       `{"uid": "x", "panels": []}`,
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, HostFile)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
