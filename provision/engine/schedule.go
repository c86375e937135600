package engine

import (
	"context"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// schedule is the one scheduler of plan and apply. It goes through n items in order and starts at most forks (<1:
// 10) at a time, and returns how many it started. Before each item it asks blocked; once blocked says so, or ctx
// is done, it starts no more, and waiting for a free slot ends with ctx too. Items in flight always finish.
//
// job(i) is called in order, before a slot is taken: it returns the work of item i, to run in a slot of its own,
// or nil when the item was settled at once (an apply host whose plan had failed), which counts as started.
func schedule(ctx context.Context, forks, n int, blocked func() bool, job func(i int) func()) int {
	if forks < 1 {
		forks = 10
	}
	sem := make(chan struct{}, forks)
	var wg sync.WaitGroup
	started := 0
	for i := range n {
		if ctx.Err() != nil || blocked() {
			break
		}
		run := job(i)
		if run == nil {
			started++
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		// A host in flight may have blocked the run while this one waited for a slot.
		if blocked() {
			<-sem
			break
		}
		started++
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			run()
		}()
	}
	wg.Wait()
	return started
}

// ForEach runs fn(i) for each of n items, at most forks (<1: 10) at a time, through the scheduler plan and apply
// use; once ctx is done it starts no more. It returns when every started item has finished.
func ForEach(ctx context.Context, forks, n int, fn func(i int)) {
	schedule(ctx, forks, n, func() bool { return false }, func(i int) func() { return func() { fn(i) } })
}

// tally counts finished hosts for the progress display; its caller serialises the calls.
type tally struct {
	phase                 string
	total                 int
	start                 time.Time
	now                   func() time.Time
	on                    func(Progress)
	done, changed, failed int
}

// add counts one finished host and tells the display.
func (t *tally) add(h plan.HostOutcome, changed bool) {
	t.done++
	switch {
	case h.Error != "":
		t.failed++
	case changed:
		t.changed++
	}
	if t.on != nil {
		t.on(Progress{Phase: t.phase, Host: h, Done: t.done, Total: t.total, Changed: t.changed, Failed: t.failed, Elapsed: t.now().Sub(t.start)})
	}
}
