package dynamo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/testkit/dynamolocal"
	"github.com/callfn/callfn/testkit/storetest"
)

// How the table holds what does not fit as it is: a long raw body in
// rawGz (binary, compressed) with raw left empty, long ids in keys by
// their digest with the ids themselves in the items.
func TestDynamoLayoutOfLargeItems(t *testing.T) {
	table := newTable(t)
	st := dynamo.New(client(t), table, store.Options{})
	defer st.Close()

	big := storetest.RawEvent("c1", "start", t0, storetest.BigJSON(1<<20), call.Facts{Caller: "alice"})
	storetest.Put(t, st, big)
	item := rawItem(t, table, "CALL#c1", "EVENT#"+store.EventKey(big))
	gz, ok := item["rawGz"].([]byte)
	if item == nil || item["raw"] != "" || !ok || len(gz) >= store.MaxEventBytes {
		t.Fatalf("event with a raw body of 1 MiB: raw %.40v, rawGz %T of %d bytes", item["raw"], item["rawGz"], len(gz))
	}
	small := storetest.Event("c1", "end", t0+1, call.Facts{})
	storetest.Put(t, st, small)
	if item := rawItem(t, table, "CALL#c1", "EVENT#"+store.EventKey(small)); item["raw"] != small.Raw || item["rawGz"] != nil {
		t.Errorf("a small raw body is not kept as it is: %v", item)
	}

	longCall := strings.Repeat("c", 3<<10)
	longUser := strings.Repeat("u", 40<<10)
	e := storetest.Event(longCall, "start", t0, call.Facts{Caller: longUser, StartTime: t0})
	storetest.Put(t, st, e)
	pk := "CALL#" + store.KeyID(longCall)
	if len(pk) > 100 {
		t.Fatalf("KeyID of a 3 KB id: %d bytes", len(pk))
	}
	if ev := rawItem(t, table, pk, "EVENT#"+store.EventKey(e)); ev == nil || ev["callId"] != longCall {
		t.Errorf("event of a 3 KB call id not at %s", pk)
	}
	if s := rawItem(t, table, pk, "SUMMARY"); s == nil || s["callId"] != longCall || s[store.DynamoIndexSK] != store.ListKey(&call.Summary{CallID: longCall, StartTime: t0}) {
		t.Errorf("summary of a 3 KB call id: %.200v", s)
	}
	if u := rawItem(t, table, "USER#"+store.KeyID(longUser), "CALL#"+store.KeyID(longCall)); u == nil || u["callId"] != longCall {
		t.Errorf("user item of a 40 KB account: %.200v", u)
	}
}

// With DynamoDB frozen, a store call ends at its context's deadline — the
// SDK's own retries included — with a transient error.
func TestFrozenDynamoStopsAtTheDeadline(t *testing.T) {
	st := dynamo.New(dynamolocal.NewClient(dynamolocal.Frozen(t)), "frozen", store.Options{})
	const deadline = 500 * time.Millisecond
	for _, e := range []*call.Event{
		storetest.Event("c1", "start", t0, call.Facts{Caller: "alice"}),
		storetest.Event("", "probe", t0, call.Facts{}), // one PutItem, no transaction
	} {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		stored, err := st.PutEvent(ctx, e)
		took := time.Since(start)
		cancel()
		if stored || err == nil || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrUnstorable) {
			t.Errorf("PutEvent on a frozen table: stored=%v, %v; want a transient deadline error", stored, err)
		}
		if took > deadline+5*time.Second {
			t.Errorf("PutEvent on a frozen table took %v with a deadline of %v", took, deadline)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	if _, _, err := st.GetCall(ctx, "c1"); err == nil || time.Since(start) > deadline+5*time.Second {
		t.Errorf("GetCall on a frozen table: %v after %v", err, time.Since(start))
	}
}
