package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision"
)

func TestProgressCountsHostsInWords(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b, terminal: true}
	p.onHost(provision.Progress{Phase: "plan", Done: 0, Total: 1, Elapsed: time.Second})
	p.onHost(provision.Progress{Phase: "apply", Done: 1, Total: 3, Elapsed: time.Second})
	if out := b.String(); !strings.Contains(out, "planning: 0/1 host done,") || !strings.Contains(out, "applying: 1/3 hosts done,") {
		t.Fatalf("status lines: %q", out)
	}
}
