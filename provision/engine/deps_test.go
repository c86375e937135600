package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineKnowsNoServerNorInventory: the engine compiles without any server client, the inventory, the fleet
// catalog or the views; what a TICK fleet is stays the catalog's, how a plan is shown stays the views'.
func TestEngineKnowsNoServerNorInventory(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const mod = "github.com/fleetctl/fleetctl/"
	forbidden := []string{"provision/influx", "provision/grafana", "provision/kapacitor", "provision/catalog",
		"provision/views", "inventory", "alertpacks", "templates"}
	deps := strings.Fields(string(out))
	if len(deps) < 2 {
		t.Fatalf("go list -deps listed too little to judge:\n%s", out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == mod+f || strings.HasPrefix(d, mod+f+"/") {
				t.Errorf("the engine depends on %s", d)
			}
		}
	}
}
