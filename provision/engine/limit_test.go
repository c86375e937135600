package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// gated is a resource whose Read and Apply announce themselves on in, then wait until out is closed: a test sees
// exactly which calls are in flight, with no timing involved.
type gated struct {
	in  chan<- string
	out <-chan struct{}
}

func (g gated) Kind() string                     { return "gated" }
func (g gated) Name() string                     { return "g" }
func (g gated) Diff([]plan.Change) []plan.Change { return nil }
func (g gated) Read(ctx context.Context) error {
	g.in <- "read"
	<-g.out
	return nil
}
func (g gated) Apply(ctx context.Context, _ []plan.Change) error {
	g.in <- "write"
	<-g.out
	return nil
}

// nextCall is the next call to enter a gated resource; a call that never comes fails the test instead of hanging it.
func nextCall(t *testing.T, in <-chan string, what string) string {
	t.Helper()
	select {
	case k := <-in:
		return k
	case <-time.After(30 * time.Second):
		t.Fatalf("%s never entered", what)
		return ""
	}
}

func TestLimitBoundsReadsAndWritesSeparately(t *testing.T) {
	l := NewLimit(3, 1)
	in, out := make(chan string, 64), make(chan struct{})
	var wg sync.WaitGroup
	call := func(f func(Resource) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = f(l.Wrap(gated{in, out}))
		}()
	}
	for i := 0; i < 10; i++ {
		call(func(r Resource) error { return r.Read(context.Background()) })
	}
	for i := 0; i < 3; i++ {
		if k := nextCall(t, in, "a read"); k != "read" {
			t.Fatalf("entered: %s", k)
		}
	}
	// Three reads in flight hold every read slot; the other seven wait for one.
	if len(l.reads) != 3 || cap(l.reads) != 3 {
		t.Fatalf("read slots: %d of %d held, want 3 of 3", len(l.reads), cap(l.reads))
	}
	// A write does not wait for reads: the next call in is a write (no read can enter while the three are held),
	// and the one write slot then stops the second.
	for i := 0; i < 2; i++ {
		call(func(r Resource) error { return r.Apply(context.Background(), nil) })
	}
	if k := nextCall(t, in, "a write beside three reads"); k != "write" {
		t.Fatalf("a fourth read entered beside three: limit 3 not kept")
	}
	if len(l.writes) != 1 || cap(l.writes) != 1 {
		t.Fatalf("write slots: %d of %d held, want 1 of 1", len(l.writes), cap(l.writes))
	}
	close(out)
	wg.Wait()
	if n := len(in); n != 7+1 {
		t.Fatalf("%d calls entered after the release, want the 7 waiting reads and the waiting write", n)
	}
	if len(l.reads) != 0 || len(l.writes) != 0 {
		t.Fatalf("slots not released: %d reads, %d writes", len(l.reads), len(l.writes))
	}
}

func TestLimitHonoursCancellation(t *testing.T) {
	l := NewLimit(1, 1)
	l.writes <- struct{}{} // the one write slot is taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := make(chan string, 1)
	if err := l.Wrap(gated{in: in}).Apply(ctx, nil); err == nil {
		t.Fatal("a cancelled wait for a slot did not return an error")
	}
	if len(in) != 0 {
		t.Fatal("the resource was called without a slot")
	}
}
