// Package status decides, from what the servers and the hosts said, whether each host of a fleet is reporting and
// what is wrong with it. It contacts nothing: provision gathers the readings (a handful of server requests for the
// whole fleet, one SSH session per host) and Assemble turns them into a plan.Status.
package status

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Expect is what a host should have, from the inventory and its alert packs.
type Expect struct {
	Host     string
	Database string
	// Tasks are the ids of the host's Kapacitor tasks.
	Tasks []string
	// Topics are the topics its tasks' scripts publish to with .topic(); alerts without one go to Kapacitor's
	// anonymous topic of their task, which is matched by the task's id.
	Topics        []string
	DatasourceUID string
	// Unprobed says why the host's newest point cannot be looked for (none of its inputs is one status knows).
	Unprobed string
}

// Task is a Kapacitor task as listed.
type Task struct {
	Status    string
	Executing bool
	Error     string
}

// Event is one alert event not OK, on a topic.
type Event struct {
	Topic, ID, Level, Message string
	Since                     time.Time
}

// Agent is what the host's SSH session said: the agent's state, or why the host could not be reached.
type Agent struct {
	Active string
	Err    string
}

// Readings are everything read for one status, for every host at once.
type Readings struct {
	Now        time.Time
	StaleAfter time.Duration
	// LastPoints is the newest point per host; PointErrors the error that kept a host's database from being read.
	LastPoints  map[string]time.Time
	PointErrors map[string]string
	// PointsErr is an error reading InfluxDB at all (every host gets it).
	PointsErr string
	// Tasks are the server's tasks by id; TasksErr an error listing them.
	Tasks    map[string]Task
	TasksErr string
	// Events are the events not OK of every topic the hosts' tasks publish to; EventsErr an error reading them.
	Events    []Event
	EventsErr string
	// Datasources are Grafana's health verdicts by uid.
	Datasources map[string]plan.DatasourceStatus
	// Agents are the SSH readings by host; nil when the hosts were not asked (--no-ssh).
	Agents map[string]Agent
}

// Assemble is the status of each expected host, in the given order. A host is Unreachable when SSH could not
// reach it, else Silent without any point, Stale when its newest point is older than StaleAfter, Failing when a
// check failed (the agent not active, a task missing, disabled, not executing or in error, the datasource not
// OK, a server that could not be read), else Reporting. Alerts firing are listed, but are no failure: they are
// the monitoring working.
func Assemble(exp []Expect, r Readings) plan.Status {
	st := plan.Status{Taken: r.Now, StaleAfter: r.StaleAfter, SSH: r.Agents != nil, Hosts: make([]plan.HostStatus, len(exp))}
	byTopic := map[string][]Event{}
	anon := map[string][]string{} // task id → its anonymous topics with events
	for _, e := range r.Events {
		if _, seen := byTopic[e.Topic]; !seen {
			if id := anonTask(e.Topic); id != "" {
				anon[id] = append(anon[id], e.Topic)
			}
		}
		byTopic[e.Topic] = append(byTopic[e.Topic], e)
	}
	for i, x := range exp {
		st.Hosts[i] = assembleHost(x, r, byTopic, anon)
	}
	return st
}

func assembleHost(x Expect, r Readings, byTopic map[string][]Event, anon map[string][]string) plan.HostStatus {
	h := plan.HostStatus{Host: x.Host, Database: x.Database, Tasks: []plan.TaskStatus{}, Alerts: []plan.AlertStatus{}, Problems: []string{}}
	problem := func(format string, args ...any) { h.Problems = append(h.Problems, fmt.Sprintf(format, args...)) }
	failing := false
	if r.Agents != nil {
		a, ok := r.Agents[x.Host]
		switch {
		case !ok:
			a.Err = "not asked"
			fallthrough
		case a.Err != "":
			h.Error = a.Err
			problem("unreachable: %s", a.Err)
		default:
			h.Agent = a.Active
			if a.Active != "active" {
				failing = true
				problem("agent %s", orUnknown(a.Active))
			}
		}
	}
	// The newest point.
	pointErr := r.PointsErr
	if pointErr == "" {
		pointErr = r.PointErrors[x.Host]
	}
	at, seen := r.LastPoints[x.Host]
	stale, silent := false, false
	switch {
	case x.Unprobed != "":
		failing = true
		problem("%s", x.Unprobed)
	case pointErr != "":
		failing = true
		problem("influxdb: %s", pointErr)
	case !seen:
		silent = true
		problem("no point in database %s", x.Database)
	default:
		h.LastPoint = at
		h.Age = max(0, r.Now.Sub(at))
		if h.Age > r.StaleAfter {
			stale = true
			problem("newest point %s old, more than --stale-after %s", Round(h.Age), r.StaleAfter)
		}
	}
	// Tasks.
	for _, id := range x.Tasks {
		ts := plan.TaskStatus{Name: id}
		switch t, ok := r.Tasks[id]; {
		case r.TasksErr != "":
			ts.Status, ts.Error = "unknown", r.TasksErr
		case !ok:
			ts.Status = "missing"
		default:
			ts.Status, ts.Executing, ts.Error = t.Status, t.Executing, t.Error
		}
		switch {
		case ts.Status == "unknown":
		case ts.Status == "missing":
			failing = true
			problem("task %s missing", id)
		case ts.Status != "enabled":
			failing = true
			problem("task %s %s", id, ts.Status)
		case !ts.Executing:
			failing = true
			problem("task %s not executing", id)
		}
		if ts.Error != "" && ts.Status != "unknown" {
			failing = true
			problem("task %s: %s", id, ts.Error)
		}
		h.Tasks = append(h.Tasks, ts)
	}
	if r.TasksErr != "" && len(x.Tasks) > 0 {
		failing = true
		problem("kapacitor: %s", r.TasksErr)
	}
	// Alerts.
	if r.EventsErr != "" {
		failing = true
		problem("kapacitor alerts: %s", r.EventsErr)
	}
	for _, topic := range topicsOf(x, byTopic, anon) {
		own := ownTopic(x, topic)
		for _, e := range byTopic[topic] {
			if !own && !mentions(e.ID, x.Host) {
				continue
			}
			h.Alerts = append(h.Alerts, plan.AlertStatus{Topic: e.Topic, ID: e.ID, Level: e.Level, Message: e.Message, Since: e.Since})
		}
	}
	sort.Slice(h.Alerts, func(i, j int) bool {
		if h.Alerts[i].Topic != h.Alerts[j].Topic {
			return h.Alerts[i].Topic < h.Alerts[j].Topic
		}
		return h.Alerts[i].ID < h.Alerts[j].ID
	})
	// The datasource.
	ds, ok := r.Datasources[x.DatasourceUID]
	if !ok {
		ds = plan.DatasourceStatus{Health: "missing"}
	}
	ds.UID = x.DatasourceUID
	h.Datasource = ds
	if ds.Health != "OK" {
		failing = true
		if ds.Message != "" {
			problem("datasource %s %s: %s", ds.UID, ds.Health, ds.Message)
		} else {
			problem("datasource %s %s", ds.UID, ds.Health)
		}
	}
	switch {
	case h.Error != "":
		h.State = plan.Unreachable
	case silent:
		h.State = plan.Silent
	case stale:
		h.State = plan.Stale
	case failing:
		h.State = plan.Failing
	default:
		h.State = plan.Reporting
	}
	return h
}

// topicsOf are the topics with events that belong to the host: the anonymous topics of its tasks, and those its
// scripts name.
func topicsOf(x Expect, byTopic map[string][]Event, anon map[string][]string) []string {
	var out []string
	for _, id := range x.Tasks {
		out = append(out, anon[id]...)
	}
	for _, t := range x.Topics {
		if _, ok := byTopic[t]; ok && !contains(out, t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// anonTask is the task whose anonymous topic this is: Kapacitor names the topic of an alert without .topic()
// "<task master>:<task id>:<node>" ("<task id>:<node>" on older servers). Task ids hold no colon.
func anonTask(topic string) string {
	switch parts := strings.Split(topic, ":"); len(parts) {
	case 3:
		return parts[1]
	case 2:
		return parts[0]
	}
	return ""
}

// ownTopic reports whether only the host's tasks publish to the topic: one of its tasks' anonymous topics.
// Events of a named topic, which other hosts' tasks may share, count only when their id names the host.
func ownTopic(x Expect, topic string) bool {
	id := anonTask(topic)
	return id != "" && contains(x.Tasks, id)
}

// mentions reports whether s holds name as a whole word (not "web1" inside "web10").
func mentions(s, name string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !isNameByte(s[j-1])) && (end == len(s) || !isNameByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Round is an age as status shows it: to the second, to the minute past an hour.
func Round(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

// Silent lists the hosts of a rollout's batch that wrote no point after since, with why, from the same readings
// as Assemble: the check `apply --wait-reporting` waits on.
func Silent(hosts []string, since time.Time, r Readings) map[string]string {
	out := map[string]string{}
	for _, h := range hosts {
		switch at, ok := r.LastPoints[h]; {
		case r.PointsErr != "":
			out[h] = "influxdb: " + r.PointsErr
		case r.PointErrors[h] != "":
			out[h] = "influxdb: " + r.PointErrors[h]
		case !ok:
			out[h] = "no point in its database at all"
		case !at.After(since):
			out[h] = fmt.Sprintf("its newest point (%s) is older than the apply", at.UTC().Format(time.RFC3339))
		}
	}
	return out
}

// Wanted reports whether any of the hosts' events may be on the topic: whether its events need to be read.
func Wanted(exp []Expect, topic string) bool {
	for _, x := range exp {
		if ownTopic(x, topic) || contains(x.Topics, topic) {
			return true
		}
	}
	return false
}
