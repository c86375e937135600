package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// Amount is a host count given as a number or a percentage of the selected hosts ("5", "20%").
type Amount struct {
	N       int
	Percent bool
	Set     bool
}

var amountSyntax = regexp.MustCompile(`^[0-9]{1,9}%?$`)

// ParseAmount reads "N" or "P%" (digits only: no sign, no fraction, no spaces); "" is unset.
func ParseAmount(flag, s string) (Amount, error) {
	if s == "" {
		return Amount{}, nil
	}
	p := strings.HasSuffix(s, "%")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if !amountSyntax.MatchString(s) || err != nil || (p && n > 100) {
		return Amount{}, fmt.Errorf("--%s %q: give a number of hosts (5) or a percentage of them (20%%)", flag, s)
	}
	return Amount{N: n, Percent: p, Set: true}, nil
}

// Of resolves the amount against a number of hosts. Percentages round down (10% of 15 hosts is 1).
func (a Amount) Of(total int) int {
	if a.Percent {
		return total * a.N / 100
	}
	return a.N
}

// Rollout says how apply walks the fleet. The zero value applies every host at once, Forks at a time, and
// tolerates any number of failures.
type Rollout struct {
	// Batch splits the hosts, in plan order (the inventory's), into batches applied one after the other; the first
	// is the canary: if any of its hosts fails, no later batch starts. Unset or 0: one batch.
	Batch Amount
	// Canary names the hosts of the first batch; the other hosts follow in plan order,
	// in batches of Batch (one batch without it). Empty: the first batch is the first Batch hosts.
	Canary []string
	// MaxFail is how many failed hosts (unreachable or failed to plan included) the run tolerates: once failures
	// exceed it, no new host starts. Unset: no limit.
	MaxFail Amount
	// Stop, when closed, starts no new host; hosts in flight finish (the first Ctrl-C).
	Stop <-chan struct{}
	// OnHost is told about every host as it finishes (or is skipped), for progress displays.
	OnHost func(Progress)
	// OnBatch is told when a batch starts, when there is more than one: its number (from 1), how many there are,
	// and its hosts.
	OnBatch func(n, of int, hosts []string)
	// Gate, when set, runs after each batch on its hosts that applied; the hosts it names fail (apply
	// --wait-reporting: agents that wrote nothing since).
	Gate Gate
}

// Progress is the state of a run after one more host finished.
type Progress struct {
	Phase   string // "plan" or "apply"
	Host    plan.HostOutcome
	Done    int
	Total   int
	Changed int
	Failed  int
	Elapsed time.Duration
}

// ETA estimates the time left from the pace so far.
func (p Progress) ETA() time.Duration {
	if p.Done == 0 || p.Done >= p.Total {
		return 0
	}
	return time.Duration(int64(p.Elapsed) / int64(p.Done) * int64(p.Total-p.Done))
}

func stopped(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// batches splits the planned hosts into the batches apply runs one after the other: the canary hosts first when
// ro.Canary names them, then the others in plan order, Batch at a time.
func batches(hosts []plan.HostPlan, ro Rollout) [][]plan.HostPlan {
	var first, rest []plan.HostPlan
	for _, h := range hosts {
		if slices.Contains(ro.Canary, h.Host) {
			first = append(first, h)
		} else {
			rest = append(rest, h)
		}
	}
	size := len(rest)
	if ro.Batch.Set && ro.Batch.N > 0 {
		size = max(1, ro.Batch.Of(len(hosts))) // 10% of 5 hosts is a batch of one, not one batch of all
	}
	var out [][]plan.HostPlan
	if len(first) > 0 {
		out = append(out, first)
	}
	for i := 0; i < len(rest); i += size {
		out = append(out, rest[i:min(i+size, len(rest))])
	}
	return out
}

// canaryFailed is why a rollout stopped after its first batch.
func canaryFailed(ro Rollout, size, failed int) string {
	which := "the first " + count(size, "host")
	if size == 1 {
		which = "the first host"
	}
	if len(ro.Canary) > 0 {
		which = count(size, "host") + " chosen by --canary"
	}
	return fmt.Sprintf("not started: the canary batch (%s) had %d failed", which, failed)
}

// inPlanOrder sorts results into the order of the plan's hosts.
func inPlanOrder(p *plan.Plan, hosts []plan.HostOutcome) {
	at := map[string]int{}
	for i, h := range p.Hosts {
		at[h.Host] = i
	}
	slices.SortStableFunc(hosts, func(a, b plan.HostOutcome) int { return at[a.Host] - at[b.Host] })
}

// count is "1 host", "2 hosts".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
