package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGrafanaServiceAccountToken talks to Grafana with a service-account token (Bearer) read from a secret file
// instead of basic auth; the token never appears in any output.
func TestGrafanaServiceAccountToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostToken}, "", "")
	name := fmt.Sprintf("fleetctl-e2e-%d", time.Now().UnixNano())
	sa := e.grafana("POST", "/api/serviceaccounts", map[string]any{"name": name, "role": "Admin"}, 200, 201)
	id := fmt.Sprint(sa["id"])
	t.Cleanup(func() { e.grafana("DELETE", "/api/serviceaccounts/"+id, nil, 200) })
	tok := e.grafana("POST", "/api/serviceaccounts/"+id+"/tokens", map[string]any{"name": "fleetctl"}, 200)
	key, _ := tok["key"].(string)
	if key == "" {
		t.Fatalf("no token: %v", tok)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "grafana-token"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.edit("user = \""+e.bed.Grafana.AdminUser+"\"\npassword = { file = \"secrets/grafana-admin\" }", `token = { file = "grafana-token" }`)
	e.must("apply", "--auto-approve")
	if out := e.must("plan"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("re-plan:\n%s", out)
	}
	for _, o := range e.outputs {
		if strings.Contains(o, key) {
			t.Fatal("the token was printed")
		}
	}
}

// TestRetentionPolicy: with a retention policy in the inventory, the database gets it as its default, Telegraf
// writes to the default, and the Kapacitor tasks' dbrps name it.
func TestRetentionPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostRP}, "", "")
	e.edit(`admin_password = { file = "secrets/influxdb-admin" }`,
		"admin_password = { file = \"secrets/influxdb-admin\" }\nretention_policy = { name = \"fleet\", duration = \"30d\", replication = 1, default = true }")
	out := e.must("plan")
	if !strings.Contains(out, "+ create "+hostRP+"/influxdb.retention_policy:") || !strings.Contains(out, `dbrps: "`+strings.ReplaceAll(hostRP, "-", "_")+`"."fleet"`) {
		t.Fatalf("plan lacks the retention policy or the task's dbrp:\n%s", out)
	}
	e.must("apply", "--auto-approve")
	db := strings.ReplaceAll(hostRP, "-", "_")
	_, body := e.influxQuery(db, e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, "SHOW RETENTION POLICIES")
	if s := fmt.Sprint(body); !strings.Contains(s, "fleet 720h0m0s") || !strings.Contains(s, "true") {
		t.Fatalf("retention policies: %s", s)
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("re-plan:\n%s", out)
	}
	eventually(t, 60*time.Second, "telegraf's points in the fleet policy", func() (bool, string) {
		_, body := e.influxQuery(db, e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, `SELECT count("uptime") FROM "fleet"."system"`)
		return strings.Contains(fmt.Sprint(body), "series"), fmt.Sprint(body)
	})
}
