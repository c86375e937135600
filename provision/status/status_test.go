package status

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func expect(host string) Expect {
	return Expect{Host: host, Database: host, Tasks: []string{host + "-cpu", host + "-deadman"}, DatasourceUID: "fleetctl-" + host}
}

// healthy is the readings of hosts that are all well: a point 5 s ago, tasks running, datasources OK, agents active.
func healthy(hosts ...string) Readings {
	r := Readings{Now: now, StaleAfter: time.Minute, LastPoints: map[string]time.Time{}, Tasks: map[string]Task{},
		Datasources: map[string]plan.DatasourceStatus{}, Agents: map[string]Agent{}}
	for _, h := range hosts {
		r.LastPoints[h] = now.Add(-5 * time.Second)
		r.Tasks[h+"-cpu"] = Task{Status: "enabled", Executing: true}
		r.Tasks[h+"-deadman"] = Task{Status: "enabled", Executing: true}
		r.Datasources["fleetctl-"+h] = plan.DatasourceStatus{Health: "OK"}
		r.Agents[h] = Agent{Active: "active"}
	}
	return r
}

func TestAssembleStates(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   func(r *Readings)
		state    string
		problems []string
	}{
		{"all well", func(*Readings) {}, plan.Reporting, nil},
		{"stale", func(r *Readings) { r.LastPoints["web1"] = now.Add(-90 * time.Second) },
			plan.Stale, []string{"newest point 1m30s old, more than --stale-after 1m0s"}},
		{"exactly the window is not stale", func(r *Readings) { r.LastPoints["web1"] = now.Add(-time.Minute) }, plan.Reporting, nil},
		{"a point from the future is age 0", func(r *Readings) { r.LastPoints["web1"] = now.Add(time.Second) }, plan.Reporting, nil},
		{"silent", func(r *Readings) { delete(r.LastPoints, "web1") }, plan.Silent, []string{"no point in database web1"}},
		{"agent stopped and stale", func(r *Readings) {
			r.Agents["web1"] = Agent{Active: "inactive"}
			r.LastPoints["web1"] = now.Add(-2 * time.Hour)
		}, plan.Stale, []string{"agent inactive", "newest point 2h0m0s old, more than --stale-after 1m0s"}},
		{"agent failed but points still fresh", func(r *Readings) { r.Agents["web1"] = Agent{Active: "failed"} },
			plan.Failing, []string{"agent failed"}},
		{"unreachable beats everything", func(r *Readings) {
			r.Agents["web1"] = Agent{Err: "dial tcp 10.0.0.9:22: i/o timeout"}
			delete(r.LastPoints, "web1")
		}, plan.Unreachable, []string{"unreachable: dial tcp 10.0.0.9:22: i/o timeout", "no point in database web1"}},
		{"no ssh: the agent is not judged", func(r *Readings) { r.Agents = nil }, plan.Reporting, nil},
		{"task missing", func(r *Readings) { delete(r.Tasks, "web1-cpu") }, plan.Failing, []string{"task web1-cpu missing"}},
		{"task disabled", func(r *Readings) { r.Tasks["web1-cpu"] = Task{Status: "disabled"} }, plan.Failing, []string{"task web1-cpu disabled"}},
		{"task not executing", func(r *Readings) { r.Tasks["web1-cpu"] = Task{Status: "enabled"} }, plan.Failing, []string{"task web1-cpu not executing"}},
		{"task in error", func(r *Readings) { r.Tasks["web1-cpu"] = Task{Status: "enabled", Error: "boom"} },
			plan.Failing, []string{"task web1-cpu not executing", "task web1-cpu: boom"}},
		{"kapacitor unreadable", func(r *Readings) { r.Tasks, r.TasksErr = nil, "connection refused" },
			plan.Failing, []string{"kapacitor: connection refused"}},
		{"influxdb unreadable", func(r *Readings) { r.PointsErr = "401 unauthorized" }, plan.Failing, []string{"influxdb: 401 unauthorized"}},
		{"one database unreadable", func(r *Readings) { r.PointErrors = map[string]string{"web1": "bad"} }, plan.Failing, []string{"influxdb: bad"}},
		{"datasource error", func(r *Readings) {
			r.Datasources["fleetctl-web1"] = plan.DatasourceStatus{Health: "ERROR", Message: "401"}
		},
			plan.Failing, []string{"datasource fleetctl-web1 ERROR: 401"}},
		{"datasource missing", func(r *Readings) { delete(r.Datasources, "fleetctl-web1") }, plan.Failing, []string{"datasource fleetctl-web1 missing"}},
		{"no input to probe", func(r *Readings) { delete(r.LastPoints, "web1") }, plan.Failing, []string{"host web1: none of its inputs"}},
		{"an alert firing is no failure", func(r *Readings) {
			r.Events = []Event{{Topic: "main:web1-cpu:alert5", ID: "CPU - web1", Level: "CRITICAL"}}
		}, plan.Reporting, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := healthy("web1", "web2")
			tc.change(&r)
			x := expect("web1")
			if tc.name == "no input to probe" {
				x.Unprobed = "host web1: none of its inputs"
			}
			st := Assemble([]Expect{x, expect("web2")}, r)
			h := st.Hosts[0]
			if h.State != tc.state {
				t.Errorf("state %s, want %s (problems %q)", h.State, tc.state, h.Problems)
			}
			want := tc.problems
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(h.Problems, want) {
				t.Errorf("problems %q, want %q", h.Problems, want)
			}
			if other := st.Hosts[1]; other.State != plan.Reporting && tc.name != "influxdb unreadable" && tc.name != "kapacitor unreadable" {
				t.Errorf("the other host is %s: %q", other.State, other.Problems)
			}
			if st.Healthy() != (tc.state == plan.Reporting && st.Hosts[1].State == plan.Reporting) {
				t.Errorf("Healthy() = %t with states %s, %s", st.Healthy(), h.State, st.Hosts[1].State)
			}
		})
	}
}

func TestAssembleAlertsBelongToTheirHost(t *testing.T) {
	r := healthy("web1", "web10")
	r.Events = []Event{
		{Topic: "main:web1-cpu:alert5", ID: "CPU - web1", Level: "CRITICAL"},             // web1's own task topic
		{Topic: "main:web10-cpu:alert5", ID: "CPU - web10", Level: "WARNING"},            // web10's, not web1's
		{Topic: "acme", ID: "Deadman - web1", Level: "CRITICAL"},                         // a shared topic, naming web1
		{Topic: "acme", ID: "Deadman - web10", Level: "CRITICAL"},                        // … naming web10
		{Topic: "other", ID: "Deadman - web1", Level: "CRITICAL"},                        // a topic web1's tasks do not use
		{Topic: "web1-disk:alert2", ID: "anything at all", Level: "INFO"},                // an older server's anonymous topic
		{Topic: "main:web1-cpuhigh:alert5", ID: "CPU - web1 cpuhigh", Level: "CRITICAL"}, // another task's, whose id merely starts alike
	}
	x1, x10 := expect("web1"), expect("web10")
	x1.Tasks = append(x1.Tasks, "web1-disk")
	x1.Topics, x10.Topics = []string{"acme"}, []string{"acme"}
	st := Assemble([]Expect{x1, x10}, r)
	ids := func(h plan.HostStatus) []string {
		var out []string
		for _, a := range h.Alerts {
			out = append(out, a.Topic+"/"+a.ID)
		}
		return out
	}
	if got, want := ids(st.Hosts[0]), []string{"acme/Deadman - web1", "main:web1-cpu:alert5/CPU - web1", "web1-disk:alert2/anything at all"}; !reflect.DeepEqual(got, want) {
		t.Errorf("web1's alerts %q, want %q", got, want)
	}
	if got, want := ids(st.Hosts[1]), []string{"acme/Deadman - web10", "main:web10-cpu:alert5/CPU - web10"}; !reflect.DeepEqual(got, want) {
		t.Errorf("web10's alerts %q, want %q", got, want)
	}
	if !Wanted([]Expect{x1}, "acme") || !Wanted([]Expect{x1}, "main:web1-cpu:alert5") || Wanted([]Expect{x1}, "other") {
		t.Error("Wanted: want acme and web1's task topics, not other")
	}
}

func TestMentions(t *testing.T) {
	for s, want := range map[string]bool{"CPU - web1": true, "CPU - web10": false, "web1": true, "xweb1": false, "web1.example": false,
		"web1:cpu": true, "Deadman - web1 stopped": true, "aweb1 web1": true} {
		if got := mentions(s, "web1"); got != want {
			t.Errorf("mentions(%q, web1) = %t, want %t", s, got, want)
		}
	}
}

func TestSilent(t *testing.T) {
	since := now.Add(-10 * time.Second)
	r := Readings{LastPoints: map[string]time.Time{"new": now, "old": since, "older": since.Add(-time.Minute)}, PointErrors: map[string]string{"broken": "bad"}}
	got := Silent([]string{"new", "old", "older", "none", "broken"}, since, r)
	if len(got) != 4 || got["new"] != "" || !strings.Contains(got["old"], "older than the apply") || got["none"] != "no point in its database at all" ||
		got["broken"] != "influxdb: bad" {
		t.Errorf("Silent = %q", got)
	}
	r.PointsErr = "down"
	if got := Silent([]string{"new"}, since, r); got["new"] != "influxdb: down" {
		t.Errorf("with influxdb down: %q", got)
	}
}

// BenchmarkAssemble200 is the status of 200 hosts with six tasks each and a few alerts firing, from readings
// already made: fleetctl's own part of `status`, apart from the servers' and the hosts' answers.
func BenchmarkAssemble200(b *testing.B) {
	var exp []Expect
	var hosts []string
	for i := range 200 {
		h := fmt.Sprintf("web%03d", i)
		hosts = append(hosts, h)
		x := expect(h)
		for _, a := range []string{"memory", "disk", "swap", "load"} {
			x.Tasks = append(x.Tasks, h+"-"+a)
		}
		x.Topics = []string{"acme"}
		exp = append(exp, x)
	}
	r := healthy(hosts...)
	for i, h := range hosts {
		for _, a := range []string{"memory", "disk", "swap", "load"} {
			r.Tasks[h+"-"+a] = Task{Status: "enabled", Executing: true}
		}
		if i%10 == 0 {
			r.Events = append(r.Events, Event{Topic: "acme", ID: "CPU - " + h, Level: "CRITICAL"},
				Event{Topic: "main:" + h + "-disk:alert5", ID: "Disk - " + h, Level: "WARNING"})
		}
	}
	b.ResetTimer()
	for range b.N {
		st := Assemble(exp, r)
		if len(st.Hosts) != 200 {
			b.Fatal(len(st.Hosts))
		}
	}
}
