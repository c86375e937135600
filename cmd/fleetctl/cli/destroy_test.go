package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
)

func dropPlan(hosts ...string) *plan.Plan {
	p := &plan.Plan{}
	for _, h := range hosts {
		p.Hosts = append(p.Hosts, plan.HostPlan{Host: h, Changes: []plan.Change{
			{Host: h, Kind: "influxdb.user", Name: h + "_telegraf", Action: plan.Delete},
			{Host: h, Kind: kindDatabase, Name: h, Action: plan.Delete},
		}})
	}
	p.Hosts = append(p.Hosts, plan.HostPlan{Host: "keep", Changes: []plan.Change{{Host: "keep", Kind: kindDatabase, Name: "keep", Action: plan.Report}}})
	return p
}

// Dropping a database needs each such host's name typed, or named by --yes-delete-data; anything else destroys
// nothing.
func TestConfirmDataLoss(t *testing.T) {
	for _, tc := range []struct {
		name        string
		plan        *plan.Plan
		typed       string
		yes         []string
		interactive bool
		ok          bool
	}{
		{"typed", dropPlan("web1", "web2"), "web1\nweb2\n", nil, true, true},
		{"typed with CRLF", dropPlan("web1"), "web1\r\n", nil, true, true},
		{"mistyped", dropPlan("web1", "web2"), "web1\nweb3\n", nil, true, false},
		{"yes typed instead of the name", dropPlan("web1"), "yes\n", nil, true, false},
		{"nothing typed", dropPlan("web1"), "", nil, true, false},
		{"no terminal, no flag", dropPlan("web1"), "web1\n", nil, false, false},
		{"flag for each", dropPlan("web1", "web2"), "", []string{"web2", "web1"}, false, true},
		{"flag for one of two", dropPlan("web1", "web2"), "", []string{"web1"}, false, false},
		{"flag for a selected host whose data is gone", dropPlan("web1"), "", []string{"web1", "keep"}, false, true},
		{"flag for a host not selected", dropPlan("web1"), "", []string{"web1", "web9"}, false, false},
		{"no data dropped", dropPlan(), "", nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var prompt strings.Builder
			err := confirmDataLoss(&prompt, strings.NewReader(tc.typed), tc.plan, tc.yes, tc.interactive)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v (prompt %q)", err, tc.ok, prompt.String())
			}
			if tc.interactive && tc.yes == nil && len(dataLoss(tc.plan)) > 0 && !strings.Contains(prompt.String(), "Type the host's name") {
				t.Errorf("no question asked: %q", prompt.String())
			}
		})
	}
}

// readLine leaves what follows the line unread, for the next question.
func TestReadLineReadsOneLine(t *testing.T) {
	r := strings.NewReader("yes\nweb1\n")
	if got := readLine(r); got != "yes" {
		t.Fatalf("first line %q", got)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "web1\n" {
		t.Fatalf("rest %q", rest)
	}
}
