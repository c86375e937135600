package views

import (
	"encoding/json"
	"io"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// JSONFormatVersion is the version of the JSON plan schema; it changes only when a field changes meaning or goes.
const JSONFormatVersion = "1"

// jsonPlan is the JSON view's document.
type jsonPlan struct {
	FormatVersion string      `json:"format_version"`
	Plan          *plan.Plan  `json:"plan"`
	Summary       jsonSummary `json:"summary"`
}

type jsonSummary struct {
	plan.Counts
	Hosts         int `json:"hosts"`
	HostsChanging int `json:"hosts_changing"`
	HostsFailed   int `json:"hosts_failed"`
}

// JSON writes the plan as a versioned JSON document.
func JSON(w io.Writer, p *plan.Plan) error {
	doc := jsonPlan{FormatVersion: JSONFormatVersion, Plan: p, Summary: jsonSummary{
		Counts: p.Counts(), Hosts: len(p.Hosts), HostsChanging: p.HostsChanging(), HostsFailed: len(p.Failed()),
	}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
