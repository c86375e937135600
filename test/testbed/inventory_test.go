package testbed_test

import (
	"testing"

	"github.com/fleetctl/fleetctl/provision"
	"github.com/fleetctl/fleetctl/test/testbed"
)

// TestSandboxInventoryValidates: the inventory up writes for the bed (what test/sandbox onboards, and the shape a
// new user copies) passes fleetctl validate, with every host of the bed in it.
func TestSandboxInventoryValidates(t *testing.T) {
	bed := testbed.Require(t)
	n, err := provision.Validate(provision.Options{InventoryPath: bed.Inventory})
	if err != nil {
		t.Fatalf("%s: %v", bed.Inventory, err)
	}
	want := len(bed.Hosts) // and the hosts behind the bastion, reached through it (the certificate hosts are not listed)
	if bed.Bastion != nil {
		want += len(bed.Bastion.Hosts)
	}
	if n != want {
		t.Fatalf("%s: %d hosts, the bed has %d", bed.Inventory, n, want)
	}
}
