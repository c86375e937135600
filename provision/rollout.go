package provision

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Amount is a host count given as a number or a percentage of the selected hosts ("5", "20%").
type Amount struct {
	N       int
	Percent bool
	Set     bool
}

// ParseAmount reads "N" or "P%"; "" is unset.
func ParseAmount(flag, s string) (Amount, error) {
	if s == "" {
		return Amount{}, nil
	}
	p := strings.HasSuffix(s, "%")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || n < 0 || (p && n > 100) {
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
	// Batch splits the hosts, in plan order, into batches applied one after the other; the first is the canary: if
	// any of its hosts fails, no later batch starts. Unset or 0: one batch.
	Batch Amount
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
}

// Progress is the state of a run after one more host finished.
type Progress struct {
	Phase   string // "plan" or "apply"
	Host    HostResult
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
