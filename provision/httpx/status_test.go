package httpx

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/secret"
)

func TestStatusErrorShapes(t *testing.T) {
	if got := (&StatusError{Server: "influxdb", StatusCode: 200, Message: "database not found: x"}).Error(); got != "influxdb: database not found: x" {
		t.Errorf("in a 200 body: %q", got)
	}
	err := fmt.Errorf("read user: %w", &StatusError{Server: "grafana", StatusCode: 404, Message: "not found"})
	if got := err.Error(); got != "read user: grafana: not found (HTTP 404)" {
		t.Errorf("a status: %q", got)
	}
	if !HasStatus(err, 404) || HasStatus(err, 401) || HasStatus(fmt.Errorf("plain"), 404) {
		t.Error("HasStatus")
	}
}

func TestMaskedHidesEveryForm(t *testing.T) {
	pw := secret.New(`pa'ss`)
	escape := func(s string) string { return strings.ReplaceAll(s, `'`, `\'`) }
	err := Masked(fmt.Errorf("query: %w", &StatusError{Server: "influxdb", StatusCode: 400, Message: `raw pa'ss, quoted pa\'ss`}), []secret.Value{pw}, escape)
	if strings.Contains(err.Error(), "ss") || !HasStatus(err, 400) || !strings.HasPrefix(err.Error(), "influxdb: ") {
		t.Fatalf("masked: %v", err)
	}
	other := fmt.Errorf("dial: pa'ss")
	if Masked(other, []secret.Value{pw}) != other || Masked(nil, []secret.Value{pw}) != nil {
		t.Fatal("an error without a server message is returned as it is")
	}
}

func TestBaseURL(t *testing.T) {
	if u, err := BaseURL("influxdb", "http://influx:8086/", "the settings"); err != nil || u.String() != "http://influx:8086" {
		t.Fatalf("%v %v", u, err)
	}
	for _, raw := range []string{"", "influx:8086", "ftp://influx", "http://admin:hunter2@influx:8086", "http://[::1"} {
		_, err := BaseURL("influxdb", raw, "the settings")
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), "influxdb url") {
			t.Errorf("%q: %v", raw, err)
		}
	}
}
