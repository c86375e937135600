package views

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// statusStates are the host states in the order the summary counts them.
var statusStates = []string{plan.Reporting, plan.Failing, plan.Stale, plan.Silent, plan.Unreachable}

// StatusText writes a status for a terminal: a table of every host (state, agent, age of the newest point, tasks
// running of those expected, alerts firing, datasource health, what is wrong), the alerts firing, and a summary.
func StatusText(w io.Writer, s *plan.Status, o TextOptions) error {
	c := o.palette()
	var b, rows strings.Builder
	tw := tabwriter.NewWriter(&rows, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATE\tAGENT\tLAST POINT\tTASKS\tALERTS\tDATASOURCE\tPROBLEMS")
	for _, h := range s.Hosts {
		colour := c.add
		if h.State != plan.Reporting {
			colour = c.del
		}
		// The colour codes go around the whole cell, padding included, so tabwriter aligns the plain text.
		fmt.Fprintf(tw, "%s\t%s%s%s\t%s\t%s\t%s\t%d\t%s\t%s\n", h.Host, colour, h.State, c.reset, agentCell(h, s.SSH), lastPointCell(h),
			tasksCell(h), len(h.Alerts), h.Datasource.Health, strings.ReplaceAll(strings.Join(h.Problems, "; "), "\n", " "))
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(rows.String(), "\n") {
		if line != "" {
			b.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
	if alerts := statusAlerts(s); len(alerts) > 0 {
		b.WriteString("\nAlerts firing:\n")
		for _, a := range alerts {
			fmt.Fprintf(&b, "  %s: %s %s since %s (topic %s): %s\n", a.host, a.Level, a.ID, a.Since.UTC().Format(time.RFC3339), a.Topic,
				strings.ReplaceAll(a.Message, "\n", " "))
		}
	}
	fmt.Fprintf(&b, "\n%s: %s (stale after %s%s).\n", hostCount(len(s.Hosts)), statusCounts(s), s.StaleAfter, sshNote(s))
	_, err := io.WriteString(w, b.String())
	return err
}

// StatusMarkdown writes a status for a pull-request or incident comment: a summary, a table of the hosts, the
// alerts firing.
func StatusMarkdown(w io.Writer, s *plan.Status) error {
	var b strings.Builder
	b.WriteString("### fleetctl status\n\n")
	verdict := "**All reporting**"
	if !s.Healthy() {
		verdict = "**Not all reporting**"
	}
	fmt.Fprintf(&b, "%s: %s, %s (stale after %s%s).\n\n", verdict, hostCount(len(s.Hosts)), statusCounts(s), s.StaleAfter, sshNote(s))
	b.WriteString("| host | state | agent | last point | tasks | alerts | datasource | problems |\n|---|---|---|---|---:|---:|---|---|\n")
	for _, h := range s.Hosts {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %d | %s | %s |\n", mdCell(h.Host), h.State, mdCell(agentCell(h, s.SSH)), lastPointCell(h),
			tasksCell(h), len(h.Alerts), mdCell(h.Datasource.Health), mdCell(strings.Join(h.Problems, "; ")))
	}
	if alerts := statusAlerts(s); len(alerts) > 0 {
		b.WriteString("\n**Alerts firing:**\n\n")
		for _, a := range alerts {
			fmt.Fprintf(&b, "- `%s`: **%s** `%s` since %s (topic `%s`): %s\n", mdCell(a.host), mdCell(a.Level), mdCode(a.ID),
				a.Since.UTC().Format(time.RFC3339), mdCode(a.Topic), mdCell(a.Message))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type hostAlert struct {
	host string
	plan.AlertStatus
}

func statusAlerts(s *plan.Status) []hostAlert {
	var out []hostAlert
	for _, h := range s.Hosts {
		for _, a := range h.Alerts {
			out = append(out, hostAlert{host: h.Host, AlertStatus: a})
		}
	}
	return out
}

func statusCounts(s *plan.Status) string {
	n := s.Counts()
	parts := make([]string, len(statusStates))
	for i, st := range statusStates {
		parts[i] = fmt.Sprintf("%d %s", n[st], st)
	}
	return strings.Join(parts, ", ")
}

func sshNote(s *plan.Status) string {
	if s.SSH {
		return ""
	}
	return "; agents not asked: --no-ssh"
}

func agentCell(h plan.HostStatus, ssh bool) string {
	switch {
	case !ssh:
		return "-"
	case h.Agent == "":
		return "?"
	default:
		return h.Agent
	}
}

func lastPointCell(h plan.HostStatus) string {
	if h.LastPoint.IsZero() {
		return "never"
	}
	if h.Age >= time.Hour {
		return h.Age.Round(time.Minute).String() + " ago"
	}
	return h.Age.Round(time.Second).String() + " ago"
}

// tasksCell is "running/expected": the tasks enabled, executing and without error.
func tasksCell(h plan.HostStatus) string {
	ok := 0
	for _, t := range h.Tasks {
		if t.Status == "enabled" && t.Executing && t.Error == "" {
			ok++
		}
	}
	return fmt.Sprintf("%d/%d", ok, len(h.Tasks))
}

// The JSON document of `fleetctl status`: its own types, every list a list, no null.
type jsonStatusDoc struct {
	FormatVersion int               `json:"format_version"`
	Status        jsonStatus        `json:"status"`
	Summary       jsonStatusSummary `json:"summary"`
}

type jsonStatus struct {
	Taken      time.Time        `json:"taken"`
	StaleAfter int64            `json:"stale_after_ns"`
	SSH        bool             `json:"ssh"`
	Hosts      []jsonHostStatus `json:"hosts"`
}

type jsonHostStatus struct {
	Host       string           `json:"host"`
	State      string           `json:"state"`
	Problems   []string         `json:"problems"`
	Database   string           `json:"database"`
	Agent      string           `json:"agent,omitempty"`
	LastPoint  *time.Time       `json:"last_point,omitempty"`
	Age        *int64           `json:"age_ns,omitempty"`
	Tasks      []jsonTaskStatus `json:"tasks"`
	Alerts     []jsonAlert      `json:"alerts"`
	Datasource jsonDatasource   `json:"datasource"`
	Error      string           `json:"error,omitempty"`
}

type jsonTaskStatus struct {
	Name      string `json:"name"`
	Status    string `json:"status"`
	Executing bool   `json:"executing"`
	Error     string `json:"error,omitempty"`
}

type jsonAlert struct {
	Topic   string    `json:"topic"`
	ID      string    `json:"id"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
}

type jsonDatasource struct {
	UID     string `json:"uid"`
	Health  string `json:"health"`
	Message string `json:"message,omitempty"`
}

type jsonStatusSummary struct {
	Hosts       int  `json:"hosts"`
	Reporting   int  `json:"reporting"`
	Failing     int  `json:"failing"`
	Stale       int  `json:"stale"`
	Silent      int  `json:"silent"`
	Unreachable int  `json:"unreachable"`
	Healthy     bool `json:"healthy"`
}

// StatusJSON writes a status as one versioned JSON document: {format_version, status, summary}.
func StatusJSON(w io.Writer, s *plan.Status) error {
	n := s.Counts()
	doc := jsonStatusDoc{FormatVersion: JSONFormatVersion,
		Status: jsonStatus{Taken: s.Taken, StaleAfter: int64(s.StaleAfter), SSH: s.SSH, Hosts: make([]jsonHostStatus, len(s.Hosts))},
		Summary: jsonStatusSummary{Hosts: len(s.Hosts), Reporting: n[plan.Reporting], Failing: n[plan.Failing], Stale: n[plan.Stale],
			Silent: n[plan.Silent], Unreachable: n[plan.Unreachable], Healthy: s.Healthy()},
	}
	for i, h := range s.Hosts {
		jh := jsonHostStatus{Host: h.Host, State: h.State, Problems: list(h.Problems), Database: h.Database, Agent: h.Agent,
			Tasks: make([]jsonTaskStatus, len(h.Tasks)), Alerts: make([]jsonAlert, len(h.Alerts)),
			Datasource: jsonDatasource{UID: h.Datasource.UID, Health: h.Datasource.Health, Message: h.Datasource.Message}, Error: h.Error}
		if !h.LastPoint.IsZero() {
			at, age := h.LastPoint, int64(h.Age)
			jh.LastPoint, jh.Age = &at, &age
		}
		for j, t := range h.Tasks {
			jh.Tasks[j] = jsonTaskStatus{Name: t.Name, Status: t.Status, Executing: t.Executing, Error: t.Error}
		}
		for j, a := range h.Alerts {
			jh.Alerts[j] = jsonAlert{Topic: a.Topic, ID: a.ID, Level: a.Level, Message: a.Message, Since: a.Since}
		}
		doc.Status.Hosts[i] = jh
	}
	return encodeAny(w, doc)
}
