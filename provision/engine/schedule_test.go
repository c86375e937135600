package engine

import (
	"context"
	"testing"
)

// TestScheduleStopsWaitingForASlotWhenCancelled: with every slot taken, a cancelled run starts nothing more; the
// host in flight finishes and is the only one counted as started.
func TestScheduleStopsWaitingForASlotWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	running, release := make(chan struct{}), make(chan struct{})
	prepared := 0
	done := make(chan int)
	go func() {
		done <- schedule(ctx, 1, 3, func() bool { return false }, func(i int) func() {
			prepared++
			return func() {
				if i == 0 {
					close(running)
					<-release
				}
			}
		})
	}()
	<-running
	cancel()
	close(release)
	if got := <-done; got != 1 {
		t.Fatalf("started %d hosts after the cancel, want 1", got)
	}
	if prepared > 2 {
		t.Fatalf("prepared %d hosts, want at most 2", prepared)
	}
}
