package engine

import (
	"context"
	"sync"
	"testing"
)

// TestForEach: every item runs once, never more than forks at a time; a done context starts none.
func TestForEach(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	seen := make([]int, 25)
	release := make(chan struct{})
	go func() {
		for range 25 {
			release <- struct{}{}
		}
	}()
	ForEach(context.Background(), 3, len(seen), func(i int) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		seen[i]++
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
	})
	for i, n := range seen {
		if n != 1 {
			t.Errorf("item %d ran %d times", i, n)
		}
	}
	if most > 3 {
		t.Errorf("%d in flight, want at most 3", most)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	ForEach(ctx, 3, 5, func(int) { ran = true })
	if ran {
		t.Error("a done context started an item")
	}
}
