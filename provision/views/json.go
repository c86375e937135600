package views

import (
	"encoding/json"
	"io"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// JSONFormatVersion is the version of the JSON schema, a number; it changes only when a field changes meaning or
// goes. Version 1 (a string, "1") printed apply's plan and report as two documents and empty lists as null.
const JSONFormatVersion = 2

// The JSON view's documents have types of their own, so the schema is the view's, stable whatever the model's
// Go types do: every list is a list (never null), every documented key is there.

// jsonDoc is the one document `plan` and `apply` print; only apply's has a report.
type jsonDoc struct {
	FormatVersion int         `json:"format_version"`
	Plan          jsonPlan    `json:"plan"`
	Summary       jsonSummary `json:"summary"`
	Report        *jsonReport `json:"report,omitempty"`
}

type jsonPlan struct {
	Created   time.Time      `json:"created"`
	Only      []string       `json:"only"`
	Unmatched []string       `json:"unmatched"`
	Warnings  []string       `json:"warnings"`
	Hosts     []jsonHostPlan `json:"hosts"`
}

type jsonHostPlan struct {
	Host    string       `json:"host"`
	Error   string       `json:"error,omitempty"`
	Hidden  int          `json:"hidden"`
	Changes []jsonChange `json:"changes"`
}

type jsonChange struct {
	Address    string       `json:"address"`
	Host       string       `json:"host"`
	Kind       string       `json:"kind"`
	Name       string       `json:"name"`
	Action     plan.Action  `json:"action"`
	Fields     []plan.Field `json:"fields"`
	BeforeText *string      `json:"before_text,omitempty"`
	AfterText  *string      `json:"after_text,omitempty"`
	Reason     string       `json:"reason,omitempty"`
	ReadDigest string       `json:"read_digest,omitempty"`
}

type jsonSummary struct {
	plan.Counts
	Hosts         int `json:"hosts"`
	HostsChanging int `json:"hosts_changing"`
	HostsFailed   int `json:"hosts_failed"`
	Hidden        int `json:"hidden"`
}

type jsonReport struct {
	Hosts       []jsonOutcome     `json:"hosts"`
	StopReason  string            `json:"stop_reason,omitempty"`
	Divergences []plan.Divergence `json:"divergences"`
	Summary     jsonReportSummary `json:"summary"`
}

type jsonOutcome struct {
	Host        string       `json:"host"`
	Result      string       `json:"result"`
	Applied     []jsonChange `json:"applied"`
	Error       string       `json:"error,omitempty"`
	Skipped     string       `json:"skipped,omitempty"`
	Duration    int64        `json:"duration_ns"`
	SSHSessions int64        `json:"ssh_sessions"`
	Uploads     int64        `json:"uploads"`
}

type jsonReportSummary struct {
	Hosts      int `json:"hosts"`
	Changed    int `json:"changed"`
	Unchanged  int `json:"unchanged"`
	Failed     int `json:"failed"`
	NotStarted int `json:"not_started"`
}

func jsonChanges(chs []plan.Change) []jsonChange {
	out := make([]jsonChange, len(chs))
	for i, c := range chs {
		fields := c.Fields
		if fields == nil {
			fields = []plan.Field{}
		}
		out[i] = jsonChange{Address: c.Address, Host: c.Host, Kind: c.Kind, Name: c.Name, Action: c.Action, Fields: fields,
			BeforeText: c.BeforeText, AfterText: c.AfterText, Reason: c.Reason, ReadDigest: c.ReadDigest}
	}
	return out
}

func list(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func planDoc(p *plan.Plan) jsonDoc {
	hidden, _ := p.Hidden()
	doc := jsonDoc{FormatVersion: JSONFormatVersion,
		Plan: jsonPlan{Created: p.Created, Only: list(p.Only), Unmatched: list(p.Unmatched), Warnings: list(p.Warnings),
			Hosts: make([]jsonHostPlan, len(p.Hosts))},
		Summary: jsonSummary{Counts: p.Counts(), Hosts: len(p.Hosts), HostsChanging: p.HostsChanging(), HostsFailed: len(p.Failed()),
			Hidden: hidden},
	}
	for i, h := range p.Hosts {
		doc.Plan.Hosts[i] = jsonHostPlan{Host: h.Host, Error: h.Error, Hidden: h.Hidden, Changes: jsonChanges(h.Changes)}
	}
	return doc
}

func encode(w io.Writer, doc jsonDoc) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// JSON writes the plan as one versioned JSON document: {format_version, plan, summary}.
func JSON(w io.Writer, p *plan.Plan) error { return encode(w, planDoc(p)) }

// JSONApply writes what apply planned and did as one versioned JSON document: the plan's, with a report.
func JSONApply(w io.Writer, p *plan.Plan, hosts []plan.HostOutcome, stopReason string) error {
	doc := planDoc(p)
	rep := &jsonReport{Hosts: make([]jsonOutcome, len(hosts)), StopReason: stopReason, Divergences: plan.Divergences(p, hosts)}
	if rep.Divergences == nil {
		rep.Divergences = []plan.Divergence{}
	}
	rep.Summary.Hosts = len(hosts)
	for i, h := range hosts {
		r := hostResult(h)
		switch r {
		case "changed":
			rep.Summary.Changed++
		case "unchanged":
			rep.Summary.Unchanged++
		case "failed":
			rep.Summary.Failed++
		case "not started":
			rep.Summary.NotStarted++
		}
		rep.Hosts[i] = jsonOutcome{Host: h.Host, Result: r, Applied: jsonChanges(h.Applied), Error: h.Error, Skipped: h.Skipped,
			Duration: int64(h.Duration), SSHSessions: h.SSHSessions, Uploads: h.Uploads}
	}
	doc.Report = rep
	return encode(w, doc)
}
