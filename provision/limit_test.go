package provision

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// probe records how many of its reads, and of its writes, overlap.
type probe struct {
	inRead, inWrite, peakRead, peakWrite *atomic.Int32
}

func (p probe) Kind() string                                     { return "probe" }
func (p probe) Name() string                                     { return "p" }
func (p probe) Diff([]plan.Change) []plan.Change                 { return nil }
func (p probe) Read(ctx context.Context) error                   { return hold(p.inRead, p.peakRead) }
func (p probe) Apply(ctx context.Context, _ []plan.Change) error { return hold(p.inWrite, p.peakWrite) }

func hold(in, peak *atomic.Int32) error {
	n := in.Add(1)
	for {
		old := peak.Load()
		if n <= old || peak.CompareAndSwap(old, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	in.Add(-1)
	return nil
}

func TestLimitBoundsReadsAndWritesSeparately(t *testing.T) {
	var ir, iw, pr, pw atomic.Int32
	l := NewLimit(3, 1)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := l.Wrap(probe{&ir, &iw, &pr, &pw})
			_ = r.Read(context.Background())
			_ = r.Apply(context.Background(), nil)
		}()
	}
	wg.Wait()
	if pr.Load() > 3 || pw.Load() > 1 || pr.Load() < 2 {
		t.Fatalf("peak reads %d (limit 3), peak writes %d (limit 1)", pr.Load(), pw.Load())
	}
}

func TestLimitHonoursCancellation(t *testing.T) {
	l := NewLimit(1, 1)
	l.writes <- struct{}{} // the one write slot is taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ir, iw, pr, pw atomic.Int32
	if err := l.Wrap(probe{&ir, &iw, &pr, &pw}).Apply(ctx, nil); err == nil {
		t.Fatal("a cancelled wait for a slot did not return an error")
	}
}
