// Package dashboards renders the Grafana dashboards fleetctl keeps: one per host on the host's datasource, and a
// fleet overview with one row per host. The shipped templates can be replaced from a folder of the user's, the
// way alert packs can: a file host.json or fleet.json there is used instead of the shipped one.
//
// A template is Go text/template over JSON, rendered with missingkey=error; `json` writes a value as a JSON
// literal. A host's template gets .Host, .Database, .DatasourceUID and .Title; the fleet's gets .Title. The result
// must be one JSON object: the dashboard model, without id, uid or version (fleetctl sets those).
package dashboards

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/template"
)

//go:embed shipped/*.json.tmpl
var shipped embed.FS

// The templates a Set holds, by file name in a user's folder.
const (
	HostFile  = "host.json"
	FleetFile = "fleet.json"
)

// HostData is what a host's dashboard template is rendered with.
type HostData struct {
	Host          string
	Database      string
	DatasourceUID string
	Title         string
}

// FleetData is what the fleet overview template is rendered with.
type FleetData struct {
	Title string
}

// Set is the dashboard templates of a fleet: the shipped ones, each replaced by a user's file when there is one.
type Set struct {
	host, fleet *template.Template
	// Sources say where each template came from, for messages: "shipped" or the user's file.
	hostSource, fleetSource string
}

// Load reads the templates, those of dir (absolute; "" for none) first. A file of dir that does not parse, or
// that does not render a JSON object with sample data, is an error naming it.
func Load(dir string) (*Set, error) {
	s := &Set{}
	var err error
	if s.host, s.hostSource, err = load(dir, HostFile); err != nil {
		return nil, err
	}
	if s.fleet, s.fleetSource, err = load(dir, FleetFile); err != nil {
		return nil, err
	}
	if _, err := s.Host(HostData{Host: "example", Database: "example", DatasourceUID: "fleetctl-example", Title: "example"}); err != nil {
		return nil, err
	}
	if _, err := s.Fleet(FleetData{Title: "Fleet"}); err != nil {
		return nil, err
	}
	return s, nil
}

func load(dir, name string) (*template.Template, string, error) {
	src, where := []byte(nil), "shipped dashboard template "+name
	if dir != "" {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		switch {
		case err == nil:
			src, where = b, p
		case !errors.Is(err, fs.ErrNotExist):
			return nil, "", fmt.Errorf("dashboard template: %w", err)
		}
	}
	if src == nil {
		b, err := shipped.ReadFile("shipped/" + name + ".tmpl")
		if err != nil {
			return nil, "", err
		}
		src = b
	}
	t, err := template.New(where).Option("missingkey=error").Funcs(template.FuncMap{"json": jsonLiteral}).Parse(string(src))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, err)
	}
	return t, where, nil
}

func jsonLiteral(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// Host renders a host's dashboard model.
func (s *Set) Host(d HostData) (map[string]any, error) { return render(s.host, s.hostSource, d) }

// Fleet renders the fleet overview's model.
func (s *Set) Fleet(d FleetData) (map[string]any, error) { return render(s.fleet, s.fleetSource, d) }

func render(t *template.Template, where string, data any) (map[string]any, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", where, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		return nil, fmt.Errorf("render %s: not a JSON object: %w", where, err)
	}
	if _, ok := m["panels"].([]any); !ok {
		return nil, fmt.Errorf("render %s: the dashboard has no \"panels\" list", where)
	}
	for _, k := range []string{"id", "uid", "version"} {
		if _, ok := m[k]; ok {
			return nil, fmt.Errorf("render %s: remove %q: fleetctl sets it", where, k)
		}
	}
	return m, nil
}
