package bolt_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/testkit/storetest"
)

// oldFile writes a file as the encoding before keys v2 did (ids joined by
// "\x00" as they were, no format mark), holding evs and their summaries.
func oldFile(t *testing.T, evs ...*call.Event) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		b := map[string]*bbolt.Bucket{}
		for _, name := range []string{"events", "summaries", "users", "claims", "meta"} {
			if b[name], err = tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		sums := map[string]*call.Summary{}
		for _, ev := range evs {
			v, _ := json.Marshal(ev)
			if err := b["events"].Put([]byte(ev.CallID+"\x00"+ev.DeliveryID), v); err != nil {
				return err
			}
			if sums[ev.CallID] == nil {
				sums[ev.CallID] = &call.Summary{}
			}
			sums[ev.CallID].Apply(ev)
		}
		for id, s := range sums {
			v, _ := json.Marshal(s)
			if err := b["summaries"].Put([]byte(id), v); err != nil {
				return err
			}
			for _, u := range s.Users() {
				if err := b["users"].Put([]byte(u+"\x00"+id), []byte(id)); err != nil {
					return err
				}
			}
		}
		return b["meta"].Put([]byte("cursor"), []byte("kept"))
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// A file written before keys v2 opens with its keys moved: its ordinary
// calls read as they did, and a call whose id holds a NUL no longer leaks
// into the call its id starts with.
func TestOldFileKeysMigrated(t *testing.T) {
	t0 := storetest.T0
	plain := storetest.Event("a", "start", t0, call.Facts{Caller: "alice", Callees: []string{"bob"}})
	plain2 := storetest.Event("a", "end", t0+1000, call.Facts{Status: call.StatusEnded})
	nul := storetest.Event("a\x00x", "start", t0+2000, call.Facts{Caller: "alice", Callees: []string{"u\x00v"}})
	long := storetest.Event(strings.Repeat("L", 20000), "start", t0+3000, call.Facts{Caller: "carol"})
	path := oldFile(t, plain, plain2, nul, long)

	for range 2 { // the second open finds the mark and moves nothing
		st, err := bolt.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, evs, err := st.GetCall(ctx, "a")
		if err != nil || len(evs) != 2 || evs[0].Event != "start" || evs[1].Event != "end" {
			t.Fatalf("call a after migration: %+v %v", evs, err)
		}
		s, evs, err := st.GetCall(ctx, "a\x00x")
		if err != nil || len(evs) != 1 || evs[0].CallID != "a\x00x" || s.CallID != "a\x00x" {
			t.Fatalf("call a\\x00x after migration: %+v %v", evs, err)
		}
		if _, evs, err := st.GetCall(ctx, long.CallID); err != nil || len(evs) != 1 {
			t.Fatalf("a call id of 20000 bytes: %d events, %v", len(evs), err)
		}
		calls, err := st.UserCalls(ctx, "alice", 0)
		if ids := storetest.CallIDs(calls); err != nil || !slices.Equal(ids, []string{"a\x00x", "a"}) {
			t.Errorf("alice's calls %q %v", ids, err)
		}
		if calls, _ := st.UserCalls(ctx, "u", 0); len(calls) != 0 {
			t.Errorf("user u has the calls of user u\\x00v: %q", storetest.CallIDs(calls))
		}
		if calls, _ := st.UserCalls(ctx, "u\x00v", 0); !slices.Equal(storetest.CallIDs(calls), []string{"a\x00x"}) {
			t.Errorf("user u\\x00v: %q", storetest.CallIDs(calls))
		}
		if v, _ := st.GetMeta(ctx, "cursor"); v != "kept" {
			t.Errorf("meta %q", v)
		}
		// A redelivery of an old event is still a duplicate.
		if stored, err := st.PutEvent(ctx, nul); stored || err != nil {
			t.Errorf("redelivery of an event the old file held: stored=%v %v", stored, err)
		}
		st.Close()
	}

	// Ordinary keys did not move: the file holds them as it did.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("events")).Get([]byte("a\x00"+plain.DeliveryID)) == nil ||
			tx.Bucket([]byte("summaries")).Get([]byte("a")) == nil ||
			tx.Bucket([]byte("users")).Get([]byte("bob\x00a")) == nil {
			t.Error("an ordinary key moved")
		}
		if tx.Bucket([]byte("events")).Get([]byte("a\x00x\x00"+nul.DeliveryID)) != nil {
			t.Error("the old key of a NUL call id is still there")
		}
		return nil
	})
}
