package catalog

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/influx"
)

func TestProbe(t *testing.T) {
	h := Host{Host: engine.Host{Name: "web1"}, Database: "web1db", Inputs: []string{"nginx", "mem", "cpu"}}
	p, err := Probe(h)
	if err != nil || p != (influx.Probe{Host: "web1", Database: "web1db", Measurement: "cpu", Field: "usage_idle"}) {
		t.Errorf("cpu is preferred wherever it stands: %+v %v", p, err)
	}
	h.Inputs = []string{"nginx", "system"}
	h.RetentionPolicy = &inventory.RetentionPolicy{Name: "week"}
	if p, err := Probe(h); err != nil || p.Measurement != "system" || p.Field != "load1" || p.RP != "week" {
		t.Errorf("system, in the agent's retention policy: %+v %v", p, err)
	}
	h.Inputs = []string{"nginx"}
	if _, err := Probe(h); err == nil || !strings.Contains(err.Error(), "host web1: none of its inputs") {
		t.Errorf("a host with no known input: %v", err)
	}
}

func TestExpectation(t *testing.T) {
	packs, err := alertpacks.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	h := Host{Host: engine.Host{Name: "web1"}, Database: "web1", AlertPacks: []string{"cpu", "deadman"}}
	x, err := Expectation(Config{Packs: packs}, h)
	if err != nil {
		t.Fatal(err)
	}
	// The tasks publish to the host's topic, as apply defines them: its events are the host's.
	if !reflect.DeepEqual(x.Tasks, []string{"web1-cpu", "web1-deadman"}) || x.DatasourceUID != DatasourceUID("web1") || x.Database != "web1" ||
		!reflect.DeepEqual(x.Topics, []string{"fleetctl-web1"}) {
		t.Errorf("expectation %+v", x)
	}
}

func TestTopicCall(t *testing.T) {
	got := scriptTopics("|alert()\n  .topic('acme')\n  .topic( 'it\\'s' )\n  .topicX('no')\n  .topic('acme')")
	if !reflect.DeepEqual(got, []string{"acme", "it's"}) {
		t.Errorf("topics %q", got)
	}
}
