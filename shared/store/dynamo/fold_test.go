package dynamo_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/testkit/storetest"
)

// Events of one call folded in groups within a process and contending
// across processes (two stores on one table): every delivery is stored
// exactly once, the summary folds each once.
func TestDynamoGroupsAcrossProcesses(t *testing.T) {
	table := newTable(t)
	procs := []store.Store{dynamo.New(client(t), table, store.Options{}), dynamo.New(client(t), table, store.Options{})}
	const events, copies = 12, 3
	var evs []*call.Event
	for i := range events {
		evs = append(evs, storetest.Event("g", fmt.Sprintf("e%02d", i), t0+int64(i)*1000, call.Facts{
			Status: call.StatusOngoing, Caller: "host", Callees: []string{fmt.Sprintf("u%02d", i)}, CallType: call.TypeGroup,
		}))
	}
	stored := make([]atomic.Int32, events)
	var wg sync.WaitGroup
	var failed atomic.Value
	for i := range events {
		for c := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cp := *evs[i]
				ok, err := procs[(i+c)%len(procs)].PutEvent(ctx, &cp)
				if err != nil {
					failed.Store(err)
				}
				if ok {
					stored[i].Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	for i := range stored {
		if n := stored[i].Load(); n != 1 {
			t.Errorf("event %d: stored=true %d times of %d copies, want once", i, n, copies)
		}
	}
	s, got, err := procs[0].GetCall(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != events || s.EventCount != events {
		t.Fatalf("GetCall: %d events, EventCount %d; want %d", len(got), s.EventCount, events)
	}
	storetest.SameSummary(t, "g", s, storetest.Fold(evs...))
	for i := range events {
		calls, err := procs[1].UserCalls(ctx, fmt.Sprintf("u%02d", i), 0)
		if err != nil || len(calls) != 1 {
			t.Errorf("UserCalls(u%02d) = %v, %v", i, storetest.CallIDs(calls), err)
		}
	}
}
