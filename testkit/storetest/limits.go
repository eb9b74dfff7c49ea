package storetest

// The cases of the table's limits (store/limits.go): what a backend cannot
// hold as it is, it stores in a form that fits and reads back exactly, or
// refuses with ErrUnstorable — the same on every backend; and keys that
// keep one call's (or user's) items apart from another's whatever their
// ids hold.

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// RawEvent is Event with the raw body raw (its delivery id a hash of it).
func RawEvent(callID, name string, at int64, raw string, f call.Facts) *call.Event {
	e := Event(callID, name, at, f)
	e.Raw = raw
	e.DeliveryID = call.DeliveryID(e.Provider, e.Command, []byte(raw))
	return e
}

// BigJSON is a JSON body of about n bytes, compressible as callbacks are.
func BigJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"CallbackCommand":"Call.CallbackAfterStartCall","UserList":[`)
	for i := 0; b.Len() < n-64; i++ {
		fmt.Fprintf(&b, `{"User_Account":"1441152128%08d","Status":"Waiting"},`, i)
	}
	b.WriteString(`{}],"EventTime":1740464128807}`)
	return b.String()
}

// NoiseJSON is a JSON body of about n bytes that does not compress.
func NoiseJSON(n int) string {
	noise := make([]byte, n*3/4)
	rand.Read(noise)
	return `{"Noise":"` + base64.StdEncoding.EncodeToString(noise) + `"}`
}

// sameEvent fails t unless got is want exactly, raw body and all.
func sameEvent(t *testing.T, what string, got []call.Event, want *call.Event) {
	t.Helper()
	if len(got) != 1 {
		t.Errorf("%s: %d events, want 1", what, len(got))
		return
	}
	if got[0].Raw != want.Raw {
		t.Errorf("%s: raw body of %d bytes read back as %d bytes, not exactly", what, len(want.Raw), len(got[0].Raw))
	}
	g, w := got[0], *want
	g.Raw, w.Raw = "", ""
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: event changed:\n got %.300v\nwant %.300v", what, g, w)
	}
}

func listed(t *testing.T, st store.Store, callID string) []call.Event {
	t.Helper()
	var out []call.Event
	if err := st.ListEvents(ctx, callID, func(e *call.Event) error { out = append(out, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A raw body over the item limit as it is (the webhook takes 1 MiB) is
// stored, compressed where items are limited, and read back exactly.
func testLargeRawBody(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	for _, n := range []int{store.CompressAbove + 1, 500 << 10, 1 << 20} {
		id := fmt.Sprintf("big-%d", n)
		e := RawEvent(id, "start", T0, BigJSON(n), call.Facts{Caller: "alice", Callees: []string{"bob"}})
		Put(t, st, e)
		_, evs, err := st.GetCall(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sameEvent(t, fmt.Sprintf("GetCall, raw of %d bytes", n), evs, e)
		sameEvent(t, fmt.Sprintf("ListEvents, raw of %d bytes", n), listed(t, st, id), e)
		if stored, err := st.PutEvent(ctx, e); stored || err != nil {
			t.Errorf("redelivery of a raw body of %d bytes: stored=%v %v", n, stored, err)
		}
	}
	var all int
	st.ListEvents(ctx, "", func(e *call.Event) error {
		if !strings.HasPrefix(e.Raw, `{"CallbackCommand"`) {
			t.Errorf("ListEvents(\"\"): raw body of %s not read back", e.CallID)
		}
		all++
		return nil
	})
	if all != 3 {
		t.Errorf("ListEvents(\"\") listed %d events, want 3", all)
	}
}

// What no backend can hold is refused with ErrUnstorable (ErrTooLarge for
// size), nothing of it written; the call's other events stay as they were.
func testUnstorable(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	first := Event("c", "start", T0, call.Facts{Caller: "alice", Callees: []string{"bob"}})
	Put(t, st, first)
	noise := RawEvent("c", "noise", T0+1000, NoiseJSON(700<<10), call.Facts{Status: call.StatusEnded})
	users := Event("c", "crowd", T0+2000, call.Facts{})
	for i := range store.MaxUsers + 1 {
		users.Facts.Callees = append(users.Facts.Callees, fmt.Sprint("user-", i))
	}
	for _, c := range []struct {
		name  string
		ev    *call.Event
		large bool
	}{
		{"a raw body that does not compress under the limit", noise, true},
		{"an event naming more than MaxUsers users", users, false},
	} {
		for range 2 { // the same answer every time: never a transient error
			stored, err := st.PutEvent(ctx, c.ev)
			if stored || !errors.Is(err, store.ErrUnstorable) || errors.Is(err, store.ErrTooLarge) != c.large {
				t.Errorf("%s: stored=%v, %v; want ErrUnstorable (ErrTooLarge %v)", c.name, stored, err, c.large)
			}
		}
	}
	// The summary, too, has a limit: callees piled up event by event.
	var piled []*call.Event
	for i := 0; ; i++ {
		// 40 KB each; the summary holds each twice (Named, Callees).
		e := Event("c", fmt.Sprint("pile-", i), T0+int64(3000+i), call.Facts{Callees: []string{fmt.Sprintf("%040000d", i)}})
		stored, err := st.PutEvent(ctx, e)
		if err != nil {
			if stored || !errors.Is(err, store.ErrTooLarge) {
				t.Errorf("the event that overflows the summary: stored=%v, %v; want ErrTooLarge", stored, err)
			}
			break
		}
		if i > 10 {
			t.Fatal("a summary of 800 KB accepted")
		}
		piled = append(piled, e)
	}
	s, evs, err := st.GetCall(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1+len(piled) {
		t.Errorf("%d events stored, want %d: a refused event was written", len(evs), 1+len(piled))
	}
	if len(piled) < 3 {
		t.Errorf("only %d events of 40 KB callees folded before the summary's limit", len(piled))
	}
	SameSummary(t, "c after refusals", s, Fold(append([]*call.Event{first}, piled...)...))
	if calls, _ := st.UserCalls(ctx, "user-0", 0); len(calls) != 0 {
		t.Errorf("a refused event's user is indexed: %v", CallIDs(calls))
	}
}

// Ids of any length are stored, found and listed by the id itself: a call
// id of 3 KB (over DynamoDB's key limits), an account of 40 KB and a call
// id of 40 KB (over bbolt's), a delivery id of 2 KB.
func testLongIDs(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	callA := strings.Repeat("c", 3<<10)
	callB := strings.Repeat("C", 40<<10)
	callC := callA + "x" // shares callA's first 3 KB
	acct := strings.Repeat("u", 40<<10)
	a := Event(callA, "start", T0, call.Facts{Caller: acct, Callees: []string{"bob"}, StartTime: T0})
	b := Event(callB, "start", T0+1000, call.Facts{Caller: "alice", Callees: []string{acct}, StartTime: T0 + 1000})
	c := Event(callC, "start", T0+2000, call.Facts{Caller: "alice", StartTime: T0 + 2000})
	d := Event(callA, "end", T0+3000, call.Facts{Status: call.StatusEnded})
	d.DeliveryID = strings.Repeat("d", 2<<10)
	Put(t, st, a, b, c, d)
	for _, e := range []*call.Event{a, b, c, d} {
		if stored, err := st.PutEvent(ctx, e); stored || err != nil {
			t.Errorf("redelivery to call of %d bytes: stored=%v %v", len(e.CallID), stored, err)
		}
	}
	s, evs, err := st.GetCall(ctx, callA)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].CallID != callA || evs[1].DeliveryID != d.DeliveryID {
		t.Errorf("call of 3 KB: %d events", len(evs))
	}
	SameSummary(t, "call of 3 KB", s, Fold(a, d))
	s, evs, err = st.GetCall(ctx, callB)
	if err != nil || len(evs) != 1 || s.CallID != callB {
		t.Fatalf("call of 40 KB: %v", err)
	}
	sameEvent(t, "call of 40 KB", evs, b)
	if got := listed(t, st, callC); len(got) != 1 || got[0].CallID != callC {
		t.Errorf("ListEvents of the call sharing the first 3 KB: %d events", len(got))
	}
	calls, err := st.UserCalls(ctx, acct, 0)
	if err != nil || !slices.Equal(CallIDs(calls), []string{callB, callA}) {
		t.Errorf("calls of an account of 40 KB: %d calls, %v", len(calls), err)
	}
	calls, err = st.UserCalls(ctx, "alice", 0)
	if err != nil || !slices.Equal(CallIDs(calls), []string{callC, callB}) {
		t.Errorf("alice's calls: %d calls, %v", len(calls), err)
	}
	// Listed by time, one page at a time, whatever their ids' length.
	var ids []string
	q := store.CallQuery{Limit: 1}
	for range 5 {
		p, err := st.ListCalls(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, CallIDs(p.Calls)...)
		if q.Cursor = p.Next; q.Cursor == "" {
			break
		}
	}
	if !slices.Equal(ids, []string{callA, callB, callC}) {
		t.Errorf("ListCalls in pages of 1: %d calls, want 3 in time order", len(ids))
	}
}

// Ids holding a NUL (or any byte) keep their items apart: a call "a\x00x"
// lists nothing under call "a", nor does user "u\x00v" under user "u".
func testIDsWithNUL(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	nul := Event("a\x00x", "start", T0, call.Facts{Caller: "u\x00v", Callees: []string{"w"}})
	Put(t, st, nul)
	if _, _, err := st.GetCall(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall(a) with only a\\x00x stored: %v, want ErrNotFound", err)
	}
	if got := listed(t, st, "a"); len(got) != 0 {
		t.Errorf("ListEvents(a) lists a\\x00x's events: %q", got[0].CallID)
	}
	plain := Event("a", "start", T0+1000, call.Facts{Caller: "u"})
	Put(t, st, plain)
	_, evs, err := st.GetCall(ctx, "a")
	if err != nil || len(evs) != 1 || evs[0].CallID != "a" {
		t.Errorf("GetCall(a): %d events %v, want its own 1", len(evs), err)
	}
	_, evs, err = st.GetCall(ctx, "a\x00x")
	if err != nil || len(evs) != 1 || evs[0].CallID != "a\x00x" {
		t.Errorf("GetCall(a\\x00x): %d events %v", len(evs), err)
	}
	for user, want := range map[string][]string{"u": {"a"}, "u\x00v": {"a\x00x"}, "w": {"a\x00x"}, "v": nil} {
		calls, err := st.UserCalls(ctx, user, 0)
		if err != nil || !slices.Equal(CallIDs(calls), want) {
			t.Errorf("UserCalls(%q) = %q, %v; want %q", user, CallIDs(calls), err, want)
		}
	}
	// The keys that once ran into each other: user "a" in call "x\x00y",
	// user "a\x00x" in call "y".
	Put(t, st, Event("x\x00y", "start", T0, call.Facts{Caller: "a"}), Event("y", "start", T0, call.Facts{Caller: "a\x00x"}))
	for user, want := range map[string][]string{"a": {"x\x00y"}, "a\x00x": {"y"}} {
		if calls, _ := st.UserCalls(ctx, user, 0); !slices.Equal(CallIDs(calls), want) {
			t.Errorf("UserCalls(%q) = %q, want %q", user, CallIDs(calls), want)
		}
	}
}
