package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Gate decides, once a batch has been applied, which of its hosts are not healthy, and why (for example agents
// that wrote no point since). It is given the batch's hosts that applied without error and the time the batch
// ended, waits as long as its check needs, and returns the hosts that failed it.
type Gate func(ctx context.Context, hosts []string, since time.Time) map[string]string

// SilentPrefix starts the error of a host that applied but failed the rollout's gate.
const SilentPrefix = "went silent: "

// gateBatch runs the rollout's gate on the hosts of a batch that applied: each host it names fails, its error
// saying why, and counts against the failure budget like a failed apply. It returns the hosts that failed it, in
// batch order.
func (r *Run) gateBatch(ctx context.Context, ro Rollout, batch []plan.HostPlan, rep *plan.Outcome, mark func(i int, why string)) []string {
	if ro.Gate == nil || ctx.Err() != nil {
		return nil
	}
	var ok []string
	at := map[string]int{}
	for i, h := range rep.Hosts {
		at[h.Host] = i
	}
	for _, hp := range batch {
		if i, done := at[hp.Host]; done && rep.Hosts[i].Error == "" && rep.Hosts[i].Skipped == "" {
			ok = append(ok, hp.Host)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	bad := ro.Gate(ctx, ok, r.e.now())
	var silent []string
	for _, h := range ok {
		if why, failed := bad[h]; failed {
			silent = append(silent, h)
			mark(at[h], SilentPrefix+why)
		}
	}
	return silent
}

// silentNote names the hosts that went silent, for the reason a rollout stopped.
func silentNote(silent []string) string {
	if len(silent) == 0 {
		return ""
	}
	return fmt.Sprintf(" (went silent: %s)", strings.Join(silent, ", "))
}
