package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/views/viewstest"
)

// sampleStatus has a host in every state, an alert firing and a task in error.
func sampleStatus() *plan.Status {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tasks := func(h string) []plan.TaskStatus {
		return []plan.TaskStatus{{Name: h + "-cpu", Status: "enabled", Executing: true}, {Name: h + "-deadman", Status: "enabled", Executing: true}}
	}
	ok := func(h string) plan.DatasourceStatus { return plan.DatasourceStatus{UID: "fleetctl-" + h, Health: "OK"} }
	return &plan.Status{Taken: at, StaleAfter: 2 * time.Minute, SSH: true, Hosts: []plan.HostStatus{
		{Host: "web1", State: plan.Reporting, Problems: []string{}, Database: "web1", Agent: "active", LastPoint: at.Add(-4 * time.Second), Age: 4 * time.Second,
			Tasks: tasks("web1"), Datasource: ok("web1"), Alerts: []plan.AlertStatus{
				{Topic: "main:web1-cpu:alert5", ID: "CPU - web1", Level: "CRITICAL", Message: "CRITICAL - CPU Usage > 80 on web1", Since: at.Add(-time.Minute)}}},
		{Host: "web2", State: plan.Stale, Problems: []string{"agent inactive", "newest point 5m10s old, more than --stale-after 2m0s"}, Database: "web2",
			Agent: "inactive", LastPoint: at.Add(-310 * time.Second), Age: 310 * time.Second, Tasks: tasks("web2"), Alerts: []plan.AlertStatus{}, Datasource: ok("web2")},
		{Host: "db1", State: plan.Failing, Problems: []string{"task db1-cpu not executing", "task db1-cpu: line 3: bad | pipe", "datasource fleetctl-db1 ERROR: 401 Unauthorized"},
			Database: "db1", Agent: "active", LastPoint: at.Add(-2 * time.Hour), Age: 2 * time.Hour,
			Tasks: []plan.TaskStatus{{Name: "db1-cpu", Status: "enabled", Error: "line 3: bad | pipe"}}, Alerts: []plan.AlertStatus{},
			Datasource: plan.DatasourceStatus{UID: "fleetctl-db1", Health: "ERROR", Message: "401 Unauthorized"}},
		{Host: "new1", State: plan.Silent, Problems: []string{"no point in database new1"}, Database: "new1", Agent: "active", Tasks: []plan.TaskStatus{},
			Alerts: []plan.AlertStatus{}, Datasource: plan.DatasourceStatus{UID: "fleetctl-new1", Health: "missing"}},
		{Host: "gone", State: plan.Unreachable, Problems: []string{"unreachable: dial tcp 10.0.0.9:22: i/o timeout"}, Database: "gone",
			Error: "dial tcp 10.0.0.9:22: i/o timeout", LastPoint: at.Add(-30 * time.Second), Age: 30 * time.Second, Tasks: tasks("gone"),
			Alerts: []plan.AlertStatus{}, Datasource: ok("gone")},
	}}
}

func TestStatusGolden(t *testing.T) {
	s := sampleStatus()
	var text, color, md, js bytes.Buffer
	if err := StatusText(&text, s, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := StatusText(&color, s, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if err := StatusMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	if err := StatusJSON(&js, s); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.txt", text.Bytes())
	golden(t, "status.color.txt", color.Bytes())
	golden(t, "status.md", md.Bytes())
	golden(t, "status.json", js.Bytes())
	if strings.Contains(text.String(), "\x1b[") {
		t.Error("colour codes without colour")
	}
	doc := viewstest.OneJSONDocument(t, js.Bytes())
	hosts := doc["status"].(map[string]any)["hosts"].([]any)
	if _, has := hosts[3].(map[string]any)["last_point"]; has {
		t.Error("a host without a point has a last_point")
	}
	if sum := doc["summary"].(map[string]any); sum["healthy"] != false || sum["stale"] != 1.0 || sum["unreachable"] != 1.0 {
		t.Errorf("summary %v", sum)
	}
}

func TestStatusNoSSH(t *testing.T) {
	s := &plan.Status{StaleAfter: time.Minute, Hosts: []plan.HostStatus{{Host: "web1", State: plan.Reporting, Problems: []string{}, Tasks: []plan.TaskStatus{},
		Alerts: []plan.AlertStatus{}, LastPoint: time.Unix(1, 0), Age: time.Second, Datasource: plan.DatasourceStatus{UID: "u", Health: "OK"}}}}
	var text, js bytes.Buffer
	if err := StatusText(&text, s, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := StatusJSON(&js, s); err != nil {
		t.Fatal(err)
	}
	golden(t, "status-no-ssh.txt", text.Bytes())
	doc := viewstest.OneJSONDocument(t, js.Bytes())
	if h := doc["status"].(map[string]any)["hosts"].([]any)[0].(map[string]any); h["agent"] != nil || doc["summary"].(map[string]any)["healthy"] != true {
		t.Errorf("without SSH: %v", doc)
	}
}
