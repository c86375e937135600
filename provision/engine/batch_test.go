package engine

import (
	"context"
	"fmt"
	"reflect"
	"testing"
)

// TestBatchesAreAnnounced: each batch of a rollout is announced with its hosts as it starts; a run of one batch
// announces none, and a batch never started is not announced.
func TestBatchesAreAnnounced(t *testing.T) {
	r, _ := fakeRun(t, 5, 2, []string{"h03"}, nil, nil)
	var got []string
	rep := r.Apply(context.Background(), Rollout{Batch: Amount{N: 2, Set: true}, MaxFail: Amount{N: 1, Set: true},
		OnBatch: func(n, of int, hosts []string) { got = append(got, fmt.Sprintf("%d/%d %v", n, of, hosts)) }})
	if want := []string{"1/3 [h01 h02]", "2/3 [h03 h04]", "3/3 [h05]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %q, want %q (report %+v)", got, want, rep)
	}

	got = nil
	r, _ = fakeRun(t, 4, 2, []string{"h01"}, nil, nil)
	r.Apply(context.Background(), Rollout{Batch: Amount{N: 2, Set: true},
		OnBatch: func(n, of int, hosts []string) { got = append(got, fmt.Sprintf("%d/%d %v", n, of, hosts)) }})
	if want := []string{"1/2 [h01 h02]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a failed canary: batches = %q, want %q", got, want)
	}

	got = nil
	r, _ = fakeRun(t, 3, 2, nil, nil, nil)
	r.Apply(context.Background(), Rollout{OnBatch: func(n, of int, hosts []string) { got = append(got, fmt.Sprint(n)) }})
	if len(got) != 0 {
		t.Errorf("one batch announced: %q", got)
	}
}
