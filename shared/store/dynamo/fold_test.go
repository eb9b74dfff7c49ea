package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// folderCase is a call whose first event is folded, with the event that
// comes next, for the tests of the call's folder.
func folderCase(callID string) (first, next *call.Event) {
	facts := func(callee string) call.Facts {
		return call.Facts{Status: call.StatusOngoing, Caller: "host", Callees: []string{callee}, CallType: call.TypeGroup}
	}
	return storetest.Event(callID, "e1", t0, facts("u1")), storetest.Event(callID, "e2", t0+1000, facts("u2"))
}

// awaitParked waits until n of callID's events are parked in st.
func awaitParked(t *testing.T, st store.Store, callID string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := dynamo.Parked(ctx, st, callID)
		if err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %q's events parked, want %d", got, callID, n)
		}
	}
}

// bothFolded checks that st holds first and next of callID, folded, with
// none parked.
func bothFolded(t *testing.T, st store.Store, callID string, first, next *call.Event) {
	t.Helper()
	s, evs, err := st.GetCall(ctx, callID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events stored, want 2", len(evs))
	}
	storetest.SameSummary(t, callID, s, storetest.Fold(first, next))
	awaitParked(t, st, callID, 0)
}

type putOutcome struct {
	stored bool
	err    error
}

// putAsync runs st.PutEvent(ctx, ev) in a goroutine; its outcome comes on
// the channel.
func putAsync(ctx context.Context, st store.Store, ev *call.Event) <-chan putOutcome {
	out := make(chan putOutcome, 1)
	go func() {
		cp := *ev
		stored, err := st.PutEvent(ctx, &cp)
		out <- putOutcome{stored, err}
	}()
	return out
}

// While another process holds a call's folder, an event of the call is
// parked at once and its PutEvent (and a redelivery's) returns only once
// the holder has folded it: stored once, folded once.
func TestDynamoFolderHeld(t *testing.T) {
	table := newTable(t)
	holder, b, c := dynamo.New(client(t), table, store.Options{}), dynamo.New(client(t), table, store.Options{}), dynamo.New(client(t), table, store.Options{})
	first, next := folderCase("f")
	if ok, err := holder.PutEvent(ctx, first); !ok || err != nil {
		t.Fatalf("PutEvent(first) = %v, %v", ok, err)
	}
	ok, fold, err := dynamo.TakeFolder(ctx, holder, "f")
	if !ok || err != nil {
		t.Fatalf("TakeFolder = %v, %v", ok, err)
	}
	if ok, _, err := dynamo.TakeFolder(ctx, b, "f"); ok || err != nil {
		t.Fatalf("TakeFolder while held = %v, %v; want false", ok, err)
	}
	put := putAsync(ctx, b, next)
	awaitParked(t, holder, "f", 1)
	again := putAsync(ctx, c, next)
	s, _, err := holder.GetCall(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if s.EventCount != 1 {
		t.Fatalf("EventCount %d before the holder folds, want 1 (the parked event folded by another)", s.EventCount)
	}
	select {
	case r := <-put:
		t.Fatalf("PutEvent returned (%v, %v) while its event was parked and the folder held", r.stored, r.err)
	case r := <-again:
		t.Fatalf("the redelivery returned (%v, %v) while the event was parked and the folder held", r.stored, r.err)
	default:
	}
	if err := fold(); err != nil {
		t.Fatal(err)
	}
	if r := <-put; !r.stored || r.err != nil {
		t.Errorf("PutEvent = %v, %v; want stored", r.stored, r.err)
	}
	if r := <-again; r.stored || r.err != nil {
		t.Errorf("the redelivery's PutEvent = %v, %v; want already stored", r.stored, r.err)
	}
	bothFolded(t, c, "f", first, next)
	if ok, fold, err := dynamo.TakeFolder(ctx, b, "f"); !ok || err != nil {
		t.Fatalf("TakeFolder after the holder dropped it = %v, %v", ok, err)
	} else if err := fold(); err != nil {
		t.Fatal(err)
	}
}

// lostFolder is a new table holding callID's first event, folded, and
// its folder, taken by a process then lost (never released).
func lostFolder(t *testing.T, callID string) (table string, first, next *call.Event) {
	t.Helper()
	table = newTable(t)
	lost := dynamo.New(client(t), table, store.Options{})
	first, next = folderCase(callID)
	if ok, err := lost.PutEvent(ctx, first); !ok || err != nil {
		t.Fatalf("PutEvent(first) = %v, %v", ok, err)
	}
	if ok, _, err := dynamo.TakeFolder(ctx, lost, callID); !ok || err != nil {
		t.Fatalf("TakeFolder = %v, %v", ok, err)
	}
	return table, first, next
}

// skewedStore is a store on table whose clock runs skew ahead.
func skewedStore(t *testing.T, table string, skew *atomic.Int64) store.Store {
	return dynamo.New(client(t), table, store.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
}

// A process lost while holding a call's folder holds it until it expires;
// then a process whose event is parked takes it over and folds.
func TestDynamoFolderExpires(t *testing.T) {
	table, first, next := lostFolder(t, "x")
	var skew atomic.Int64 // b's clock, ahead of the lost process's
	b := skewedStore(t, table, &skew)
	put := putAsync(ctx, b, next)
	awaitParked(t, b, "x", 1)
	select {
	case r := <-put:
		t.Fatalf("PutEvent returned (%v, %v) while the folder was held", r.stored, r.err)
	default:
	}
	skew.Store(int64(dynamo.FolderFor + time.Second))
	if r := <-put; !r.stored || r.err != nil {
		t.Fatalf("PutEvent = %v, %v; want stored once the folder expired", r.stored, r.err)
	}
	bothFolded(t, b, "x", first, next)
}

// A process that parked its event and gave up waiting (its request's time
// ran out: a retry reply) leaves the event stored and its fold owed, under
// a folder a lost process holds. The provider's redelivery, once that
// folder has expired, folds it and reports it already stored.
func TestDynamoParkedEventFoldedByRedelivery(t *testing.T) {
	table, first, next := lostFolder(t, "r")
	var skew atomic.Int64 // c's clock
	b, c := dynamo.New(client(t), table, store.Options{}), skewedStore(t, table, &skew)
	waiting, giveUp := context.WithCancel(ctx)
	defer giveUp()
	put := putAsync(waiting, b, next)
	awaitParked(t, b, "r", 1)
	giveUp()
	if r := <-put; r.err == nil {
		t.Fatalf("PutEvent = %v, nil after its context ended with the event parked; want an error (a retry reply)", r.stored)
	}
	skew.Store(int64(dynamo.FolderFor + time.Second))
	cp := *next
	if stored, err := c.PutEvent(ctx, &cp); stored || err != nil {
		t.Fatalf("the redelivery's PutEvent = %v, %v; want already stored", stored, err)
	}
	bothFolded(t, c, "r", first, next)
}
