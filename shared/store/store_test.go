package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

func TestListKeyAndPage(t *testing.T) {
	calls := []call.Summary{
		{CallID: "b", StartTime: 2000},
		{CallID: "a", StartTime: 2000},
		{CallID: "z", StartTime: 1000},
	}
	store.SortByListKey(calls)
	var keys []string
	for i := range calls {
		keys = append(keys, store.ListKey(&calls[i]))
	}
	if want := []string{"0000000001000#z", "0000000002000#a", "0000000002000#b"}; !slices.Equal(keys, want) {
		t.Fatalf("list keys %v, want %v", keys, want)
	}
	if p := store.Page(calls, store.CallQuery{Limit: 2}); len(p.Calls) != 2 || p.Next != keys[1] {
		t.Errorf("a page of 2 of 3: %d calls, Next %q", len(p.Calls), p.Next)
	}
	if p := store.Page(calls, store.CallQuery{Limit: 3}); len(p.Calls) != 3 || p.Next != "" {
		t.Errorf("a page of 3 of 3: %d calls, Next %q", len(p.Calls), p.Next)
	}
	if n := (store.CallQuery{}).PageSize(); n != store.DefaultLimit {
		t.Errorf("PageSize without a Limit = %d", n)
	}
}

// ListKey, made without fmt, is "%013d#callId" for every time, negative
// and wider than 13 digits too.
func TestListKeyTimes(t *testing.T) {
	for _, n := range []int64{0, 1, 900000, 1740464100000, 9999999999999, 10000000000000, 1 << 62, -1, -900000, -1 << 63} {
		s := call.Summary{CallID: "c-1", StartTime: n}
		if n == 0 {
			s.FirstEventTime = 7
		}
		if got, want := store.ListKey(&s), fmt.Sprintf("%013d#c-1", s.SortTime()); got != want {
			t.Errorf("ListKey at %d = %q, want %q", n, got, want)
		}
	}
}

func TestOptionsExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	o := store.Options{Retention: time.Hour, Now: func() time.Time { return now }}
	exp := o.ExpiresAt(now.UnixMilli() - 30*60*1000)
	if exp != now.Unix()+30*60 {
		t.Fatalf("ExpiresAt = %d", exp)
	}
	if o.Expired(exp) || !o.Expired(now.Unix()) || o.Expired(0) {
		t.Error("Expired: an item expires at its TTL, and 0 never does")
	}
	if (store.Options{}).ExpiresAt(now.UnixMilli()) != 0 {
		t.Error("without retention an item never expires")
	}
}
