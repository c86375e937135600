package provision

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/inventory"
)

func cleartextInventory(t *testing.T, influxURL, grafanaURL, kapacitorURL string) *inventory.Inventory {
	t.Helper()
	src := fmt.Sprintf(`[influxdb]
url = %q
admin_user = "admin"
admin_password = { env = "P" }
[grafana]
url = %q
token = { env = "T" }
[kapacitor]
url = %q
[secrets]
master = { env = "M" }
[ssh]
user = "deploy"
[[hosts]]
name = "web1"
address = "10.0.0.5"
`, influxURL, grafanaURL, kapacitorURL)
	inv, err := inventory.Parse("inv.toml", []byte(src), t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestWarnCleartext: credentials over plain http to a host other than loopback are warned about, once per server;
// https, loopback and Kapacitor (which gets no credentials) are not.
func TestWarnCleartext(t *testing.T) {
	for _, c := range []struct {
		influx, grafana, kapacitor string
		want                       []string
	}{
		{"http://10.0.0.7:8086", "http://grafana.corp:3000/grafana", "http://10.0.0.9:9092",
			[]string{"influxdb.url: http://10.0.0.7:8086 is plain http", "grafana.url: http://grafana.corp:3000/grafana is plain http"}},
		{"https://10.0.0.7:8086", "http://127.0.0.1:3000", "http://10.0.0.9:9092", nil},
		{"http://localhost:8086", "http://[::1]:3000", "http://127.0.0.1:9092", nil},
	} {
		var buf bytes.Buffer
		warnCleartext(slog.New(slog.NewTextHandler(&buf, nil)), cleartextInventory(t, c.influx, c.grafana, c.kapacitor))
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(c.want) == 0 {
			if buf.Len() > 0 {
				t.Errorf("%s, %s: unexpected warning:\n%s", c.influx, c.grafana, buf.String())
			}
			continue
		}
		if len(lines) != len(c.want) {
			t.Errorf("want %d warnings, got:\n%s", len(c.want), buf.String())
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(lines[i], "level=WARN") || !strings.Contains(lines[i], w) || !strings.Contains(lines[i], "use https") {
				t.Errorf("warning %d: %s\nwant it to contain %q", i, lines[i], w)
			}
		}
	}
}

// TestWarnInsecure: every server whose certificate is not verified is warned about by name, on every run; a
// verified one is not.
func TestWarnInsecure(t *testing.T) {
	inv := cleartextInventory(t, "https://10.0.0.7:8086", "https://grafana.corp:3000", "https://10.0.0.9:9092")
	inv.Grafana.TLS.InsecureSkipVerify, inv.Kapacitor.TLS.InsecureSkipVerify = true, true
	var buf bytes.Buffer
	warnInsecure(slog.New(slog.NewTextHandler(&buf, nil)), inv)
	got := buf.String()
	for _, want := range []string{"grafana.insecure_skip_verify is true: the certificate of https://grafana.corp:3000 is NOT verified",
		"kapacitor.insecure_skip_verify is true: the certificate of https://10.0.0.9:9092 is NOT verified", "set kapacitor.ca_file instead"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "influxdb.insecure") || strings.Count(got, "level=WARN") != 2 {
		t.Errorf("want exactly the two insecure servers:\n%s", got)
	}
}
