package influx_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/influx"
)

// TestIntegrationLastPoints: one call finds the newest point of each host, per "host" tag, across databases
// (one of them shared by two hosts, one in a named retention policy); a database that does not exist is no point
// and no error, and it does not hide the others.
func TestIntegrationLastPoints(t *testing.T) {
	c, ctx, s := bedClient(t), testCtx(t), suffix(t)
	a, b, missing := "fl_lp_a_"+s, "fl_lp_b_"+s, "fl_lp_missing_"+s
	for _, db := range []string{a, b} {
		if err := c.Exec(ctx, "CREATE DATABASE "+influx.QuoteIdent(db)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.DropDatabase(ctx, db) })
	}
	if err := c.Exec(ctx, fmt.Sprintf("CREATE RETENTION POLICY %s ON %s DURATION 2d REPLICATION 1", influx.QuoteIdent("week"), influx.QuoteIdent(b))); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	line := func(host string, at time.Time) string {
		return fmt.Sprintf("cpu,host=%s,cpu=cpu-total usage_idle=97.5 %d\n", host, at.UnixNano())
	}
	if err := c.Write(ctx, a, "", line("h1", t0)+line("h1", t0.Add(10*time.Second))+line("h2", t0.Add(20*time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, b, "week", line("h3", t0.Add(30*time.Second))); err != nil {
		t.Fatal(err)
	}
	lp, err := c.LastPoints(ctx, []influx.Probe{
		{Host: "h1", Database: a, Measurement: "cpu", Field: "usage_idle"},
		{Host: "h2", Database: a, Measurement: "cpu", Field: "usage_idle"},
		{Host: "h3", Database: b, RP: "week", Measurement: "cpu", Field: "usage_idle"},
		{Host: "h4", Database: missing, Measurement: "cpu", Field: "usage_idle"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"h1": t0.Add(10 * time.Second), "h2": t0.Add(20 * time.Second), "h3": t0.Add(30 * time.Second)}
	if len(lp.Times) != len(want) || len(lp.Errors) != 0 {
		t.Fatalf("times %v, errors %v; want %v", lp.Times, lp.Errors, want)
	}
	for h, at := range want {
		if !lp.Times[h].Equal(at) {
			t.Errorf("%s: newest point %s, want %s", h, lp.Times[h], at)
		}
	}
}
