package storetest

// The Outbox cases (store.Forwarding): the rows PutEvent owes in the
// event's own write, Owe, Lease, Record, Event and Deliveries, held to the
// contract of shared/forward's Outbox and Events; and a Dispatcher
// draining the table into a verifying receiver.

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/receiver"
)

var outboxSuite = []suiteCase{
	{"OutboxOwedWithEvent", testOwedWithEvent},
	{"OutboxOweKeepsRows", testOweKeepsRows},
	{"OutboxLease", testLease},
	{"OutboxLeaseConcurrent", testLeaseConcurrent},
	{"OutboxRecord", testRecord},
	{"OutboxEvent", testOutboxEvent},
	{"OutboxRetention", testOutboxRetention},
	{"OutboxClosed", testOutboxClosed},
	{"OutboxOddIDs", testOutboxOddIDs},
	{"OutboxDispatcher", testDispatcher},
}

// Endpoints the cases owe deliveries to (canonical forms).
const (
	EndpointA = "https://a.example/hook"
	EndpointB = "https://b.example/hook?token=x"
)

// Owed is the clock time the cases owe at.
var Owed = time.UnixMilli(T0).Add(time.Minute).UTC()

// Rows lists callID's delivery rows ("" for all), ordered by delivery id
// and endpoint.
func Rows(t *testing.T, st store.Forwarding, callID string) []forward.Delivery {
	t.Helper()
	var out []forward.Delivery
	if err := st.Deliveries(ctx, callID, func(d *forward.Delivery) error {
		out = append(out, *d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b forward.Delivery) int {
		return cmp.Or(cmp.Compare(a.DeliveryID, b.DeliveryID), cmp.Compare(a.Endpoint, b.Endpoint))
	})
	return out
}

// sameDelivery compares rows, times by instant.
func sameDelivery(a, b forward.Delivery) bool {
	return a.CallID == b.CallID && a.DeliveryID == b.DeliveryID && a.Endpoint == b.Endpoint &&
		a.State == b.State && a.Attempts == b.Attempts && a.NextAt.Equal(b.NextAt) &&
		a.OwedAt.Equal(b.OwedAt) && a.LastAt.Equal(b.LastAt) && a.LastStatus == b.LastStatus && a.LastError == b.LastError
}

func sameDeliveries(a, b []forward.Delivery) bool { return slices.EqualFunc(a, b, sameDelivery) }

func ids(ds []forward.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.DeliveryID
	}
	return out
}

func lease(t *testing.T, st store.Forwarding, ep string, now, until time.Time, limit int) []forward.Delivery {
	t.Helper()
	ds, err := st.Lease(ctx, ep, now, until, limit)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	return ds
}

func record(t *testing.T, st store.Forwarding, d forward.Delivery) {
	t.Helper()
	if err := st.Record(ctx, d); err != nil {
		t.Fatalf("Record: %v", err)
	}
}

// pending is a Pending delivery of a made-up event, due at at.
func pending(callID, deliveryID, ep string, at time.Time) forward.Delivery {
	return forward.Delivery{CallID: callID, DeliveryID: deliveryID, Endpoint: ep, State: forward.Pending, NextAt: at, OwedAt: at}
}

func testOwedWithEvent(t *testing.T, open Opener) {
	clk := testkit.NewClock(Owed)
	st := openTable(t, open, store.Options{Now: clk.Now, ForwardTo: []string{EndpointA, EndpointB}})
	e := Event("c1", "call_started", T0, call.Facts{Caller: "alice", Callees: []string{"bob"}})
	lone := Event("", "probe", T0, call.Facts{})
	Put(t, st, e, lone)
	want := forward.Owed(e, []string{EndpointA, EndpointB}, Owed)
	if got := Rows(t, st, "c1"); !sameDeliveries(got, want) {
		t.Fatalf("rows of c1:\n got %+v\nwant %+v", got, want)
	}
	all := Rows(t, st, "")
	if len(all) != 4 {
		t.Fatalf("every row: %d, want 4 (2 events, 2 endpoints)", len(all))
	}
	for _, d := range all {
		if d.State != forward.Pending || d.Attempts != 0 || !d.NextAt.Equal(Owed) || !d.OwedAt.Equal(Owed) {
			t.Errorf("owed row %+v", d)
		}
	}
	// Both are due at once, to each endpoint.
	if got := lease(t, st, EndpointB, Owed, Owed.Add(time.Minute), 10); len(got) != 2 {
		t.Errorf("due to B: %v", ids(got))
	}
	// A redelivery owes nothing again: the rows stay as they are.
	before := Rows(t, st, "")
	clk.Add(time.Hour)
	again := *e
	if stored, err := st.PutEvent(ctx, &again); err != nil || stored {
		t.Fatalf("redelivery: %v %v", stored, err)
	}
	if after := Rows(t, st, ""); !sameDeliveries(before, after) {
		t.Errorf("a redelivery changed the rows:\n%+v\n%+v", before, after)
	}
	// Forwarding off: nothing is owed.
	off := openTable(t, open, store.Options{Now: clk.Now})
	Put(t, off, e)
	if rows := Rows(t, off, ""); len(rows) != 0 {
		t.Errorf("forwarding off, rows %+v", rows)
	}
}

func testOweKeepsRows(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	d := pending("c1", "d1", EndpointA, Owed)
	if err := st.Owe(ctx, []forward.Delivery{d, pending("c1", "d2", EndpointA, Owed)}); err != nil {
		t.Fatal(err)
	}
	delivered := d
	delivered.State, delivered.NextAt, delivered.Attempts, delivered.LastAt, delivered.LastStatus = forward.Delivered, time.Time{}, 1, Owed.Add(time.Second), 204
	record(t, st, delivered)
	// Owing again (a retried write) leaves both rows as they are.
	if err := st.Owe(ctx, []forward.Delivery{pending("c1", "d1", EndpointA, Owed.Add(time.Hour)), pending("c1", "d2", EndpointA, Owed.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	got := Rows(t, st, "c1")
	if len(got) != 2 || !sameDelivery(got[0], delivered) || !sameDelivery(got[1], pending("c1", "d2", EndpointA, Owed)) {
		t.Errorf("rows after owing again: %+v", got)
	}
	if err := st.Owe(ctx, nil); err != nil {
		t.Errorf("owing nothing: %v", err)
	}
}

func testLease(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	sec := func(n int) time.Time { return Owed.Add(time.Duration(n) * time.Second) }
	var ds []forward.Delivery
	for i, at := range []int{5, 1, 3, 2, 4, 60} {
		ds = append(ds, pending(fmt.Sprintf("c%d", i%2), fmt.Sprintf("d%d", i), EndpointA, sec(at)))
	}
	ds = append(ds, pending("c9", "other", EndpointB, sec(0)))
	if err := st.Owe(ctx, ds); err != nil {
		t.Fatal(err)
	}
	until := sec(300)
	// Due at sec(4): d1 (1), d3 (2), d2 (3), d4 (4); earliest first, at most 3.
	got := lease(t, st, EndpointA, sec(4), until, 3)
	if !slices.Equal(ids(got), []string{"d1", "d3", "d2"}) {
		t.Fatalf("first lease: %v, want [d1 d3 d2]", ids(got))
	}
	// Returned as they were before the lease.
	if !got[0].NextAt.Equal(sec(1)) || got[0].State != forward.Pending || got[0].CallID != "c1" {
		t.Errorf("leased row as returned: %+v", got[0])
	}
	// Leased rows are not due again until the lease ends; the rest are.
	if got := lease(t, st, EndpointA, sec(10), until, 10); !slices.Equal(ids(got), []string{"d4", "d0"}) {
		t.Fatalf("second lease: %v, want [d4 d0]", ids(got))
	}
	if got := lease(t, st, EndpointA, sec(59), until, 10); len(got) != 0 {
		t.Fatalf("third lease: %v, want none", ids(got))
	}
	for _, d := range Rows(t, st, "c1") {
		if d.DeliveryID == "d1" && !d.NextAt.Equal(until) {
			t.Errorf("a leased row's NextAt is %v, want the lease's end %v", d.NextAt, until)
		}
	}
	// Another endpoint's rows are its own.
	if got := lease(t, st, EndpointB, sec(0), until, 10); !slices.Equal(ids(got), []string{"other"}) {
		t.Errorf("lease of B: %v", ids(got))
	}
	// Outcomes: d1 delivered, d3 failed for good, d2 retried at sec(400).
	for _, d := range Rows(t, st, "") {
		switch d.DeliveryID {
		case "d1":
			d.State, d.NextAt, d.Attempts = forward.Delivered, time.Time{}, 1
			record(t, st, d)
		case "d3":
			d.State, d.NextAt, d.Attempts = forward.Failed, time.Time{}, forward.MaxAttempts
			record(t, st, d)
		case "d2":
			d.NextAt, d.Attempts, d.LastError = sec(400), 1, "HTTP 500"
			record(t, st, d)
		}
	}
	// When the leases end: d4 and d0 again (a crashed drainer's), and d5;
	// d2 is not due yet; d1 and d3 never again.
	if got := lease(t, st, EndpointA, sec(300), sec(600), 10); !slices.Equal(ids(got), []string{"d5", "d0", "d4"}) &&
		!slices.Equal(ids(got), []string{"d5", "d4", "d0"}) {
		t.Fatalf("after the leases: %v, want d5 then d0 and d4", ids(got))
	}
	if got := lease(t, st, EndpointA, sec(400), sec(700), 10); !slices.Equal(ids(got), []string{"d2"}) {
		t.Fatalf("the retry: %v, want [d2]", ids(got))
	}
	if got := lease(t, st, EndpointA, sec(10000), sec(10300), 10); len(got) != 4 {
		t.Fatalf("every lease ended: %v, want d0, d4, d5 and d2 (taken, never recorded)", ids(got))
	}
	if got := lease(t, st, EndpointA, sec(0), sec(1), 0); len(got) != 0 {
		t.Errorf("limit 0: %v", ids(got))
	}
}

func testLeaseConcurrent(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	const n = 30
	var ds []forward.Delivery
	for i := range n {
		ds = append(ds, pending(fmt.Sprintf("c%d", i%4), fmt.Sprintf("d%02d", i), EndpointA, Owed.Add(time.Duration(i)*time.Millisecond)))
	}
	if err := st.Owe(ctx, ds); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	taken := map[string]int{}
	errs := make([]error, 6)
	start(6, func(i int) {
		for {
			got, err := st.Lease(ctx, EndpointA, Owed.Add(time.Second), Owed.Add(time.Hour), 4)
			if err != nil {
				errs[i] = err
				return
			}
			if len(got) == 0 {
				return
			}
			mu.Lock()
			for _, d := range got {
				taken[d.DeliveryID]++
			}
			mu.Unlock()
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(taken) != n {
		t.Errorf("%d of %d rows leased", len(taken), n)
	}
	for id, k := range taken {
		if k != 1 {
			t.Errorf("%s leased %d times by drainers side by side", id, k)
		}
	}
}

func testRecord(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	// Record creates a row (a replay of an event never owed here).
	d := pending("c1", "d1", EndpointA, Owed)
	record(t, st, d)
	if got := Rows(t, st, "c1"); len(got) != 1 || !sameDelivery(got[0], d) {
		t.Fatalf("recorded row: %+v", got)
	}
	failed := d
	failed.State, failed.NextAt, failed.Attempts, failed.LastAt, failed.LastStatus, failed.LastError =
		forward.Failed, time.Time{}, forward.MaxAttempts, Owed.Add(28*time.Hour), 503, "HTTP 503"
	record(t, st, failed)
	if got := Rows(t, st, "c1"); len(got) != 1 || !sameDelivery(got[0], failed) {
		t.Fatalf("failed row: %+v", got)
	}
	if got := lease(t, st, EndpointA, Owed.Add(48*time.Hour), Owed.Add(49*time.Hour), 10); len(got) != 0 {
		t.Fatalf("a failed row was leased: %v", ids(got))
	}
	// A replay owes it again, due at once.
	replay := pending("c1", "d1", EndpointA, Owed.Add(50*time.Hour))
	record(t, st, replay)
	if got := lease(t, st, EndpointA, Owed.Add(50*time.Hour), Owed.Add(51*time.Hour), 10); len(got) != 1 || !sameDelivery(got[0], replay) {
		t.Fatalf("replayed row: %+v", got)
	}
	// A lease given back: due at its own time again.
	record(t, st, replay)
	if got := lease(t, st, EndpointA, Owed.Add(50*time.Hour), Owed.Add(51*time.Hour), 10); len(got) != 1 {
		t.Fatalf("lease given back: %+v", got)
	}
}

func testOutboxEvent(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	e1 := Event("c1", "call_started", T0, call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}})
	e2 := Event("c1", "call_ended", T0+minute, call.Facts{Status: call.StatusEnded, Result: call.ResultNormalEnd})
	lone := Event("", "probe", T0, call.Facts{})
	Put(t, st, e1, e2, lone)
	ev, sum, err := st.Event(ctx, "c1", e1.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if testkit.JSON(t, ev) != testkit.JSON(t, e1) {
		t.Errorf("event %s, want %s", testkit.JSON(t, ev), testkit.JSON(t, e1))
	}
	SameSummary(t, "the event's call", sum, Fold(e1, e2))
	ev, sum, err = st.Event(ctx, "", lone.DeliveryID)
	if err != nil || ev.DeliveryID != lone.DeliveryID || sum != nil {
		t.Errorf("event of no call: %v %v %v", ev, sum, err)
	}
	for _, k := range [][2]string{{"c1", "nosuch"}, {"c2", e1.DeliveryID}, {"", "nosuch"}} {
		if _, _, err := st.Event(ctx, k[0], k[1]); !errors.Is(err, forward.ErrEventGone) {
			t.Errorf("Event(%q, %q) = %v, want ErrEventGone", k[0], k[1], err)
		}
	}
}

func testOutboxRetention(t *testing.T, open Opener) {
	clk := testkit.NewClock(time.UnixMilli(T0))
	st := openTable(t, open, store.Options{Retention: time.Hour, Now: clk.Now, ForwardTo: []string{EndpointA}})
	e := Event("c1", "start", T0-10*minute, call.Facts{Caller: "alice"}) // expires at T0+50m
	Put(t, st, e)
	if got := Rows(t, st, "c1"); len(got) != 1 {
		t.Fatalf("rows: %+v", got)
	}
	clk.Set(time.UnixMilli(T0 + 55*minute))
	// The event has expired: a drain would find it gone.
	if _, _, err := st.Event(ctx, "c1", e.DeliveryID); !errors.Is(err, forward.ErrEventGone) {
		t.Errorf("expired event: %v, want ErrEventGone", err)
	}
	clk.Set(time.UnixMilli(T0 + 61*minute)) // the row, owed at T0, expires at T0+60m
	if got := Rows(t, st, ""); len(got) != 0 {
		t.Errorf("expired rows listed: %+v", got)
	}
	if got := lease(t, st, EndpointA, clk.Now(), clk.Now().Add(time.Minute), 10); len(got) != 0 {
		t.Errorf("expired rows leased: %+v", got)
	}
	// Owing over an expired row writes it again.
	d := pending("c1", e.DeliveryID, EndpointA, clk.Now())
	if err := st.Owe(ctx, []forward.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	if got := Rows(t, st, "c1"); len(got) != 1 || !sameDelivery(got[0], d) {
		t.Errorf("owed over an expired row: %+v", got)
	}
}

func testOutboxClosed(t *testing.T, open Opener) {
	st := open(t, store.Options{})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	d := pending("c1", "d1", EndpointA, Owed)
	err1 := st.Owe(ctx, []forward.Delivery{d})
	_, err2 := st.Lease(ctx, EndpointA, Owed, Owed, 1)
	err3 := st.Record(ctx, d)
	_, _, err4 := st.Event(ctx, "c1", "d1")
	err5 := st.Deliveries(ctx, "", func(*forward.Delivery) error { return nil })
	for i, err := range []error{err1, err2, err3, err4, err5} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("outbox method %d on a closed store: %v, want ErrClosed", i+1, err)
		}
	}
}

// testOutboxOddIDs: call ids that hold a NUL or are longer than a key
// (store.MaxKeyBytes) keep their rows apart, and an event with a large raw
// body (compressed where the table compresses it) is read back exactly.
func testOutboxOddIDs(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{ForwardTo: []string{EndpointA}})
	long := strings.Repeat("L", store.MaxKeyBytes+50)
	evs := []*call.Event{
		Event("a", "start", T0, call.Facts{}),
		Event("a\x00b", "start", T0, call.Facts{}),
		Event(long, "start", T0, call.Facts{}),
		RawEvent("big", "start", T0, BigJSON(store.CompressAbove+1000), call.Facts{}),
	}
	Put(t, st, evs...)
	for _, e := range evs {
		rows := Rows(t, st, e.CallID)
		if len(rows) != 1 || rows[0].CallID != e.CallID || rows[0].DeliveryID != e.DeliveryID {
			t.Errorf("rows of call %.20q: %+v", e.CallID, rows)
		}
		got, _, err := st.Event(ctx, e.CallID, e.DeliveryID)
		if err != nil || got.Raw != e.Raw || got.CallID != e.CallID {
			t.Errorf("Event of call %.20q: %v", e.CallID, err)
		}
	}
	if got := lease(t, st, EndpointA, time.Now(), time.Now().Add(time.Minute), 10); len(got) != len(evs) {
		t.Errorf("leased %d of %d", len(got), len(evs))
	}
}

// secret signs the dispatcher case's deliveries.
var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("storetest-forward-key-0123456789"))

// testDispatcher drains the table with shared/forward's Dispatcher into a
// receiver that fails every message's first attempt: events stored with
// PutEvent arrive, signed, each under its one webhook-id, and their rows
// end Delivered; a second dispatcher (another process) finds nothing left.
func testDispatcher(t *testing.T, open Opener) {
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.FailFirst(1, 503))
	ep, err := config.ParseForwardURL(rc.URL)
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(Owed)
	st := openTable(t, open, store.Options{Now: clk.Now, ForwardTo: []string{ep}})
	var evs []*call.Event
	for i := range 5 {
		evs = append(evs, Event(fmt.Sprintf("c%d", i%2), fmt.Sprintf("e%d", i), T0+int64(i)*1000, call.Facts{Caller: "alice"}))
	}
	evs = append(evs, Event("", "lone", T0, call.Facts{}))
	Put(t, st, evs...)
	cfg := config.Config{ForwardURLs: []string{ep}, ForwardSecret: secret}
	newDispatcher := func() *forward.Dispatcher {
		d, err := forward.New(cfg, st, st, forward.Options{
			Rand: rand.New(rand.NewPCG(1, 2)), Batch: 4, PerEndpoint: 2, Lease: time.Minute, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := newDispatcher()
	st1, err := d.Drain(context.Background(), Owed)
	if err != nil || st1 != (forward.Stats{Attempts: 6, Retrying: 6}) {
		t.Fatalf("first drain: %+v %v", st1, err)
	}
	st2, err := newDispatcher().Drain(context.Background(), Owed.Add(time.Minute))
	if err != nil || st2 != (forward.Stats{Attempts: 6, Delivered: 6}) {
		t.Fatalf("second drain: %+v %v", st2, err)
	}
	acc := rc.Accepted()
	if len(acc) != len(evs) {
		t.Fatalf("%d accepted, want %d", len(acc), len(evs))
	}
	byID := map[string]receiver.Message{}
	for _, m := range acc {
		byID[m.ID] = m
	}
	for _, e := range evs {
		m, ok := byID[forward.MessageID(e.DeliveryID, ep)]
		if !ok || m.Attempt != 2 {
			t.Errorf("event %s: accepted %v, attempt %d", e.Event, ok, m.Attempt)
		}
	}
	for _, r := range Rows(t, st, "") {
		if r.State != forward.Delivered || r.Attempts != 2 || r.LastStatus != 204 || !r.NextAt.IsZero() {
			t.Errorf("row after delivery: %+v", r)
		}
	}
	if st3, err := newDispatcher().Drain(context.Background(), Owed.Add(48*time.Hour)); err != nil || st3 != (forward.Stats{}) {
		t.Errorf("nothing left: %+v %v", st3, err)
	}
}
