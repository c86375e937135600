package cli

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
)

func TestProgressCountsHostsInWords(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b, terminal: true}
	p.onHost(engine.Progress{Phase: "plan", Done: 0, Total: 1, Elapsed: time.Second})
	p.onHost(engine.Progress{Phase: "apply", Done: 1, Total: 3, Elapsed: time.Second})
	if out := b.String(); !strings.Contains(out, "planning: 0/1 host done,") || !strings.Contains(out, "applying: 1/3 hosts done,") {
		t.Fatalf("status lines: %q", out)
	}
}

func TestInterruptedPlanningCountsHostsNotPlanned(t *testing.T) {
	st := &runState{stop: make(chan struct{})}
	run := &engine.Run{Plan: &plan.Plan{Hosts: []plan.HostPlan{{Host: "web1"}}}, NotPlanned: []string{"web2", "web3"}}
	if err := interruptedPlanning(st, run); err != nil {
		t.Fatalf("not interrupted: %v", err)
	}
	close(st.stop)
	err := interruptedPlanning(st, run)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitInterrupted ||
		err.Error() != "interrupted while planning: 2 of 3 hosts not planned; nothing was applied" {
		t.Fatalf("%v", err)
	}
	run.NotPlanned = nil
	if err := interruptedPlanning(st, run); err == nil || err.Error() != "interrupted before anything was applied" {
		t.Fatalf("every host planned: %v", err)
	}
}
