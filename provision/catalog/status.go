package catalog

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fleetctl/fleetctl/provision/influx"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/status"
	"github.com/fleetctl/fleetctl/provision/system"
)

// AgentService is the agent's service unit on every host.
const AgentService = "telegraf"

// probes are the inputs whose newest point tells that an agent reports, in order of preference: the
// measurement each writes on every interval and one field it always has.
var probes = []struct{ input, measurement, field string }{
	{"cpu", "cpu", "usage_idle"},
	{"mem", "mem", "used_percent"},
	{"system", "system", "load1"},
	{"disk", "disk", "used_percent"},
	{"swap", "swap", "total"},
	{"kernel", "kernel", "boot_time"},
	{"processes", "processes", "total"},
	{"net", "net", "bytes_recv"},
	{"diskio", "diskio", "reads"},
}

// Probe is where to look for the host's newest point: the first of its inputs that writes a known measurement on
// every interval. A host with none of them cannot be checked.
func Probe(h Host) (influx.Probe, error) {
	for _, p := range probes {
		for _, in := range h.Inputs {
			if in == p.input {
				return influx.Probe{Host: h.Name, Database: h.Database, RP: h.agentRP(), Measurement: p.measurement, Field: p.field}, nil
			}
		}
	}
	var names []string
	for _, p := range probes {
		names = append(names, p.input)
	}
	return influx.Probe{}, fmt.Errorf("host %s: none of its inputs tells whether it reports: status needs one of %v", h.Name, names)
}

var topicCall = regexp.MustCompile(`\.topic\(\s*'((?:[^'\\]|\\.)*)'\s*\)`)

// Expectation is what status checks on the host: its database, its tasks and the topics their scripts publish
// to, its datasource.
func Expectation(cfg Config, h Host) (status.Expect, error) {
	scripts, err := hostScripts(h, cfg.Packs, cfg.Handlers)
	if err != nil {
		return status.Expect{}, err
	}
	x := status.Expect{Host: h.Name, Database: h.Database, DatasourceUID: DatasourceUID(h.Name), Tasks: []string{}}
	var text strings.Builder
	for _, sc := range scripts {
		x.Tasks = append(x.Tasks, kapacitor.TaskID(h.Name, sc.Alert))
		text.WriteString(sc.Text + "\n")
	}
	x.Topics = scriptTopics(text.String())
	return x, nil
}

// scriptTopics are the topics named by .topic('…') in TICK scripts, unescaped, each once.
func scriptTopics(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range topicCall.FindAllStringSubmatch(text, -1) {
		t := strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[1])
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// AgentQuery is the one read status makes on a host: the agent's service.
func AgentQuery() system.Query { return system.Query{Services: []string{AgentService}} }
