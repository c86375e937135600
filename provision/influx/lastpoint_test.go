package influx

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/influxdata/influxdb1-client/models"
	client "github.com/influxdata/influxdb1-client/v2"
)

func TestLastPointStatements(t *testing.T) {
	probes := []Probe{
		{Host: "web1", Database: "web1", Measurement: "cpu", Field: "usage_idle"},
		{Host: "web2", Database: "shared", RP: "a week", Measurement: "cpu", Field: "usage_idle"},
		{Host: "web3", Database: "shared", RP: "a week", Measurement: "cpu", Field: "usage_idle"},
		{Host: "new", Database: "not-yet", Measurement: "cpu", Field: "usage_idle"},
		{Host: `q"uote`, Database: `q"uote`, Measurement: "mem", Field: "used_percent"},
	}
	stmts, hosts := LastPointStatements(probes, map[string]bool{"web1": true, "shared": true, `q"uote`: true})
	want := []string{
		`SELECT last("usage_idle") FROM "shared"."a week"."cpu" GROUP BY "host"`,
		`SELECT last("usage_idle") FROM "web1".."cpu" GROUP BY "host"`,
		`SELECT last("used_percent") FROM "q\"uote".."mem" GROUP BY "host"`,
	}
	if !reflect.DeepEqual(stmts, want) {
		t.Errorf("statements:\n%q\nwant\n%q", stmts, want)
	}
	if got := hosts[want[0]]; !reflect.DeepEqual(got, []string{"web2", "web3"}) {
		t.Errorf("one statement answers for the hosts sharing a database: %q", got)
	}
}

func TestCollectLastPoints(t *testing.T) {
	series := func(host, at string) models.Row {
		return models.Row{Name: "cpu", Tags: map[string]string{"host": host}, Columns: []string{"time", "last"},
			Values: [][]interface{}{{at, json.Number("99.5")}}}
	}
	times := map[string]time.Time{}
	err := collectLastPoints([]client.Result{
		{Series: []models.Row{series("web1", "2026-12-01T12:00:00Z"), series("web2", "2026-12-01T11:59:50.5Z")}},
		{Series: []models.Row{series("web1", "2026-12-01T11:00:00Z")}}, // an older point of web1 elsewhere: the newest wins
		{},
	}, times)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]time.Time{"web1": time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), "web2": time.Date(2026, 12, 1, 11, 59, 50, 5e8, time.UTC)}; !reflect.DeepEqual(times, want) {
		t.Errorf("times %v, want %v", times, want)
	}
	if err := collectLastPoints([]client.Result{{Series: []models.Row{series("web1", "yesterday")}}}, times); err == nil {
		t.Error("a time that is not RFC 3339 passed")
	}
}
