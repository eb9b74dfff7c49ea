// Package storetest is the behavioural suite every backend of callfn's
// table passes, as testing/fstest is for file systems: a backend's own
// tests call Run with a way to open a fresh, empty table, and each case
// checks that table against the same expectations (exactly-once under
// redelivery and concurrency, the fold in any arrival order, reads,
// listings and their pages, claims, meta, retention, round trips, Close;
// and forwarding's outbox, outbox.go).
//
// The fixtures it builds its cases from (Event, Put, Fold, SameSummary,
// CallIDs, T0) are exported for a backend's own, backend-specific tests.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/testkit"
)

// Opener opens a fresh, empty table with opts for t. Run closes it when t
// ends (Close is idempotent, so the opener may also register a Close).
type Opener func(t *testing.T, opts store.Options) store.Store

// Run runs every case of the suite against the tables open makes, each in
// a parallel subtest with a table of its own.
func Run(t *testing.T, open Opener) {
	for _, c := range append(append(suite, historySuite...), outboxSuite...) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open)
		})
	}
}

// openTable opens a table, closed when the test ends.
func openTable(t *testing.T, open Opener, opts store.Options) store.Store {
	t.Helper()
	st := open(t, opts)
	t.Cleanup(func() { st.Close() })
	return st
}

// suiteCase is a case of the suite: its subtest's name and what it runs.
type suiteCase struct {
	name string
	run  func(t *testing.T, open Opener)
}

var suite = []suiteCase{
	{"RedeliveryStoredOnce", testRedelivery},
	{"ConcurrentSameEvent", testConcurrentSameEvent},
	{"ConcurrentDifferentEvents", testConcurrentDifferentEvents},
	{"OutOfOrder", testOutOfOrder},
	{"GetCallOrderAndNotFound", testGetCall},
	{"ListEvents", testListEvents},
	{"EventsWithoutCall", testEventsWithoutCall},
	{"UserCalls", testUserCalls},
	{"ListCalls", testListCalls},
	{"ListCallsMonthMove", testListCallsMonthMove},
	{"Claim", testClaim},
	{"Meta", testMeta},
	{"Retention", testRetention},
	{"RoundTrip", testRoundTrip},
	{"Closed", testClosed},
	{"LargeRawBody", testLargeRawBody},
	{"Unstorable", testUnstorable},
	{"LongIDs", testLongIDs},
	{"IDsWithNUL", testIDsWithNUL},
}

// Fixtures.

var ctx = context.Background()

// T0 is 2024-03-15 08:00:00 UTC, in ms: the time the cases are set at.
var T0 = time.Date(2024, 3, 15, 8, 0, 0, 0, time.UTC).UnixMilli()

const minute = int64(60 * 1000)

// Event makes an event whose raw body, and so delivery id, is unique to
// its call, name and time.
func Event(callID, name string, at int64, f call.Facts) *call.Event {
	raw := fmt.Sprintf(`{"CallId":%q,"Event":%q,"EventTime":%d}`, callID, name, at)
	return &call.Event{
		Provider:   call.Tencent,
		Channel:    "v4",
		Command:    name,
		Event:      name,
		CallID:     callID,
		EventTime:  at,
		DeliveryID: call.DeliveryID(call.Tencent, name, []byte(raw)),
		ReceivedAt: at + 250,
		RequestID:  "req-" + name,
		Facts:      f,
		Raw:        raw,
	}
}

// Put stores evs, failing t unless each is stored as new.
func Put(t *testing.T, st store.EventWriter, evs ...*call.Event) {
	t.Helper()
	for _, e := range evs {
		stored, err := st.PutEvent(ctx, e)
		if err != nil {
			t.Fatalf("PutEvent %s/%s: %v", e.CallID, e.Event, err)
		}
		if !stored {
			t.Fatalf("PutEvent %s/%s: stored=false for a new event", e.CallID, e.Event)
		}
	}
}

// Fold is the summary the events make, folded here independently of any
// store.
func Fold(evs ...*call.Event) call.Summary {
	var s call.Summary
	for _, e := range evs {
		s.Apply(e)
	}
	return s
}

// SameSummary fails t unless got is want, compared as JSON.
func SameSummary(t *testing.T, what string, got *call.Summary, want call.Summary) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no summary", what)
	}
	if g, w := testkit.JSON(t, got), testkit.JSON(t, want); g != w {
		t.Errorf("%s: summary\n got %s\nwant %s", what, g, w)
	}
}

// CallIDs lists the summaries' call ids, in order.
func CallIDs(s []call.Summary) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i].CallID
	}
	return out
}

// userCalls lists the ids of user's calls, newest first (UserCalls with
// no limit).
func userCalls(t *testing.T, st store.Store, user string) []string {
	t.Helper()
	calls, err := st.UserCalls(ctx, user, 0)
	if err != nil {
		t.Fatal(err)
	}
	return CallIDs(calls)
}

func eventNames(evs []call.Event) []string {
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].Event
	}
	return out
}

// start releases n goroutines at once and waits for them.
func start(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			fn(i)
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
}

// The cases.

func testRedelivery(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	e := Event("c1", "call_started", T0, call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}})
	Put(t, st, e)
	again := *e
	again.ReceivedAt += 3000 // a redelivery arrives later, same body
	for range 3 {
		stored, err := st.PutEvent(ctx, &again)
		if err != nil {
			t.Fatal(err)
		}
		if stored {
			t.Fatal("redelivery: stored=true, want false")
		}
	}
	s, evs, err := st.GetCall(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || s.EventCount != 1 {
		t.Fatalf("after 4 deliveries of one event: %d events, EventCount %d; want 1, 1", len(evs), s.EventCount)
	}
	if evs[0].ReceivedAt != e.ReceivedAt {
		t.Errorf("the redelivery replaced the stored event (ReceivedAt %d, want %d)", evs[0].ReceivedAt, e.ReceivedAt)
	}
	SameSummary(t, "c1", s, Fold(e))
	users, err := st.UserCalls(ctx, "bob", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].EventCount != 1 {
		t.Errorf("UserCalls(bob) = %v", testkit.JSON(t, users))
	}
}

func testConcurrentSameEvent(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	e := Event("c1", "call_started", T0, call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}})
	const n = 16
	var storedN atomic.Int32
	errs := make([]error, n)
	start(n, func(i int) {
		cp := *e
		stored, err := st.PutEvent(ctx, &cp)
		errs[i] = err
		if stored {
			storedN.Add(1)
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := storedN.Load(); got != 1 {
		t.Fatalf("%d concurrent deliveries of one event: %d stored=true, want exactly 1", n, got)
	}
	s, evs, err := st.GetCall(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("GetCall: %d events, want 1", len(evs))
	}
	SameSummary(t, "c1", s, Fold(e))
}

func testConcurrentDifferentEvents(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	const n = 24
	statuses := []string{call.StatusRinging, call.StatusOngoing, call.StatusEnded}
	var evs []*call.Event
	for i := range n {
		evs = append(evs, Event("c1", fmt.Sprintf("e%02d", i), T0+int64((i*7)%n)*1000, call.Facts{
			Status:    statuses[i%3],
			Caller:    "alice",
			Callees:   []string{fmt.Sprintf("u%02d", i)},
			MediaType: call.MediaVideo,
			CallType:  call.TypeGroup,
			Result:    []string{"", call.ResultNormalEnd}[i%2],
			StartTime: T0 - int64(i),
		}))
	}
	errs := make([]error, n)
	stored := make([]bool, n)
	start(n, func(i int) { stored[i], errs[i] = st.PutEvent(ctx, evs[i]) })
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, ok := range stored {
		if !ok {
			t.Errorf("event %d: stored=false", i)
		}
	}
	s, got, err := st.GetCall(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n || s.EventCount != n {
		t.Fatalf("%d concurrent events: GetCall has %d events, EventCount %d", n, len(got), s.EventCount)
	}
	SameSummary(t, "c1", s, Fold(evs...))
	// Every callee's user index names the call.
	for i := range n {
		u := fmt.Sprintf("u%02d", i)
		if got := userCalls(t, st, u); !slices.Equal(got, []string{"c1"}) {
			t.Errorf("UserCalls(%s) = %v, want [c1]", u, got)
		}
	}
}

func testOutOfOrder(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	ringing := func(id string) *call.Event {
		return Event(id, "call_started", T0, call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}, StartTime: T0})
	}
	answered := func(id string) *call.Event {
		return Event(id, "call_answered", T0+10_000, call.Facts{Status: call.StatusOngoing, AcceptTime: T0 + 10_000})
	}
	ended := func(id string) *call.Event {
		return Event(id, "call_ended", T0+60_000, call.Facts{Status: call.StatusEnded, EndTime: T0 + 60_000, Result: call.ResultNormalEnd})
	}
	Put(t, st, ended("late"), ringing("late"), answered("late")) // ended arrives first
	Put(t, st, ringing("inorder"), answered("inorder"), ended("inorder"))
	late, _, err := st.GetCall(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	if late.Status != call.StatusEnded || late.Result != call.ResultNormalEnd {
		t.Errorf("ended arrived first, then ringing: status %q result %q, want ended normal_end", late.Status, late.Result)
	}
	if late.StartTime != T0 || late.AcceptTime != T0+10_000 || late.EndTime != T0+60_000 ||
		late.FirstEventTime != T0 || late.LastEventTime != T0+60_000 {
		t.Errorf("times: %s", testkit.JSON(t, late))
	}
	inorder, _, err := st.GetCall(ctx, "inorder")
	if err != nil {
		t.Fatal(err)
	}
	// The same events in any order make the same summary (but for the
	// call id, and the delivery ids in its stamps).
	inorder.CallID, inorder.Stamps, late.Stamps = "late", nil, nil
	if g, w := testkit.JSON(t, late), testkit.JSON(t, inorder); g != w {
		t.Errorf("arrival order changed the summary:\nout of order %s\n    in order %s", g, w)
	}
}

func testGetCall(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	// Delivery ids are hashes: their order is not the time order.
	var evs []*call.Event
	for i, at := range []int64{5, 1, 4, 2, 3, 3} {
		evs = append(evs, Event("c1", fmt.Sprintf("e%d", i), T0+at*1000, call.Facts{Status: call.StatusOngoing}))
	}
	Put(t, st, evs...)
	Put(t, st, Event("c2", "other", T0, call.Facts{}))
	s, got, err := st.GetCall(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]call.Event, len(evs))
	for i := range evs {
		want[i] = *evs[i]
	}
	store.SortEvents(want) // by time, then delivery id
	if !slices.Equal(eventNames(got), eventNames(want)) {
		t.Errorf("GetCall events %v, want in time order %v", eventNames(got), eventNames(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].EventTime > got[i].EventTime {
			t.Errorf("events out of time order at %d", i)
		}
	}
	SameSummary(t, "c1", s, Fold(evs...))

	for _, id := range []string{"nope", "", "c"} {
		s, evs, err := st.GetCall(ctx, id)
		if !errors.Is(err, store.ErrNotFound) || s != nil || evs != nil {
			t.Errorf("GetCall(%q) = %v, %v, %v; want ErrNotFound", id, s, evs, err)
		}
	}
}

func collect(t *testing.T, st store.Store, callID string) []string {
	t.Helper()
	var out []string
	err := st.ListEvents(ctx, callID, func(e *call.Event) error {
		out = append(out, e.CallID+"/"+e.Event)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func testListEvents(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	Put(t, st,
		Event("c1", "a", T0, call.Facts{}), Event("c1", "b", T0+1, call.Facts{}),
		Event("c2", "a", T0, call.Facts{}), Event("c10", "a", T0, call.Facts{}),
		Event("", "orphan", T0, call.Facts{}))
	if got, want := collect(t, st, "c1"), []string{"c1/a", "c1/b"}; !slices.Equal(got, want) {
		t.Errorf("ListEvents(c1) = %v, want %v", got, want)
	}
	if got := collect(t, st, "c3"); len(got) != 0 {
		t.Errorf("ListEvents(c3) = %v, want none", got)
	}
	if got, want := collect(t, st, ""), []string{"/orphan", "c1/a", "c1/b", "c10/a", "c2/a"}; !slices.Equal(got, want) {
		t.Errorf("ListEvents(\"\") = %v, want %v", got, want)
	}
	// fn's error ends the listing and comes back.
	stop := errors.New("stop here")
	n := 0
	err := st.ListEvents(ctx, "", func(*call.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ListEvents with a failing fn: err %v after %d calls; want %v after 1", err, n, stop)
	}
}

func testEventsWithoutCall(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	e := Event("", "probe", T0, call.Facts{})
	Put(t, st, e)
	if stored, err := st.PutEvent(ctx, e); err != nil || stored {
		t.Fatalf("redelivery of an event without a call: stored=%v err=%v, want false, nil", stored, err)
	}
	Put(t, st, Event("", "probe2", T0, call.Facts{}))
	if got, want := collect(t, st, ""), []string{"/probe", "/probe2"}; !slices.Equal(got, want) {
		t.Errorf("ListEvents = %v, want %v", got, want)
	}
	if _, _, err := st.GetCall(ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf(`GetCall("") = %v, want ErrNotFound`, err)
	}
	if page, err := st.ListCalls(ctx, store.CallQuery{}); err != nil || len(page.Calls) != 0 {
		t.Errorf("ListCalls = %v, %v; want no calls", CallIDs(page.Calls), err)
	}
}

func testUserCalls(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	var all []*call.Event
	add := func(e *call.Event) { Put(t, st, e); all = append(all, e) }
	// alice calls bob five times; c3 and c4 start at the same time.
	for i, at := range []int64{10, 50, 30, 30, 20} {
		id := fmt.Sprintf("c%d", i)
		add(Event(id, "start", T0+at*minute, call.Facts{Caller: "alice", Callees: []string{"bob"}, StartTime: T0 + at*minute, CallType: call.TypeSingle}))
	}
	// carol's call names alice only in a later event; its first has no
	// start time, so it is listed under its first event.
	add(Event("g1", "start", T0+40*minute, call.Facts{Caller: "carol", CallType: call.TypeGroup}))
	add(Event("g1", "invite", T0+41*minute, call.Facts{Callees: []string{"alice", "dave"}}))
	// A caller corrected by a newer event: both stay in the index.
	add(Event("x1", "start", T0, call.Facts{Caller: "erin"}))
	add(Event("x1", "fix", T0+minute, call.Facts{Caller: "frank"}))

	want := func(user string, limit int) []string {
		summaries := map[string]*call.Summary{}
		for _, e := range all {
			s := summaries[e.CallID]
			if s == nil {
				s = &call.Summary{}
				summaries[e.CallID] = s
			}
			s.Apply(e)
		}
		var out []call.Summary
		for _, s := range summaries {
			if slices.Contains(s.Users(), user) || (s.CallID == "x1" && user == "erin") {
				out = append(out, *s)
			}
		}
		store.SortNewestFirst(out)
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		return CallIDs(out)
	}
	for _, q := range []struct {
		user  string
		limit int
		want  []string
	}{
		{"alice", 0, []string{"c1", "g1", "c2", "c3", "c4", "c0"}},
		{"alice", 3, []string{"c1", "g1", "c2"}},
		{"bob", 2, []string{"c1", "c2"}},
		{"dave", 0, []string{"g1"}},
		{"carol", 10, []string{"g1"}},
		{"erin", 0, []string{"x1"}},
		{"frank", 0, []string{"x1"}},
		{"nobody", 0, nil},
	} {
		if w := want(q.user, q.limit); !slices.Equal(w, q.want) {
			t.Fatalf("the test's own expectation for %s is %v, the table says %v", q.user, w, q.want)
		}
		got, err := st.UserCalls(ctx, q.user, q.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(CallIDs(got), q.want) {
			t.Errorf("UserCalls(%s, %d) = %v, want %v", q.user, q.limit, CallIDs(got), q.want)
		}
		for _, s := range got {
			if s.CallID == "g1" && s.EventCount != 2 {
				t.Errorf("UserCalls(%s): g1 has EventCount %d, want 2", q.user, s.EventCount)
			}
		}
	}
}

// callSet puts calls spread over four months, across a year's end, and
// returns their summaries.
func callSet(t *testing.T, st store.Store) []call.Summary {
	base := time.Date(2023, 12, 20, 0, 0, 0, 0, time.UTC).UnixMilli()
	results := []string{call.ResultNormalEnd, call.ResultNotAnswer, call.ResultReject}
	var out []call.Summary
	for i := range 30 {
		id := fmt.Sprintf("call-%02d", 29-i) // ids not in time order
		at := base + int64(i)*3*24*60*minute + int64(i%5)*minute
		if i == 7 {
			at = base + 6*3*24*60*minute // same time as call 6: ordered by id
		}
		f := call.Facts{Caller: "alice", Callees: []string{"bob"}, CallType: []string{call.TypeSingle, call.TypeGroup}[i%2]}
		if i%4 != 0 {
			f.StartTime = at // else listed under its first event
		}
		first := Event(id, "start", at, f)
		last := Event(id, "end", at+5*minute, call.Facts{Status: call.StatusEnded, Result: results[i%3]})
		Put(t, st, last, first)
		out = append(out, Fold(first, last))
	}
	return out
}

func testListCalls(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	all := callSet(t, st)
	// Bounds that fall exactly on calls: From is included, To is not.
	from, to := sortTimes(all, 5, 20)
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	queries := []store.CallQuery{
		{},
		{From: from, To: to},
		{From: from},
		{To: to},
		{From: jan, To: feb},
		{Result: call.ResultNotAnswer},
		{CallType: call.TypeGroup, Result: call.ResultNormalEnd},
		{From: from, To: to, CallType: call.TypeSingle},
		{Result: "no_such_result"},
		{From: feb, To: jan},
		{From: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()},
	}
	if n := len(matching(all, queries[1])); n != 15 {
		t.Fatalf("the test's own expectation: %d calls in [from, to), want 15", n)
	}
	for _, q := range queries {
		want := matching(all, q)
		for _, limit := range []int{0, 1, 4, 7, 30} {
			q.Limit = limit
			got, sizes := walk(t, st, q, all)
			if !slices.Equal(got, want) {
				t.Errorf("ListCalls(%+v), all pages:\n got %v\nwant %v", q, got, want)
			}
			// Every page before the last is full.
			for _, n := range sizes[:len(sizes)-1] {
				if n != cmp.Or(limit, 100) {
					t.Fatalf("ListCalls(%+v): a page of %d before the last, want full pages of %d", q, n, cmp.Or(limit, 100))
				}
			}
		}
	}
	// The cursor is the last call listed; a page starts after it.
	page, err := st.ListCalls(ctx, store.CallQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != 3 || page.Next != fmt.Sprintf("%013d#%s", page.Calls[2].SortTime(), page.Calls[2].CallID) {
		t.Fatalf("first page %v, Next %q", CallIDs(page.Calls), page.Next)
	}
	if !slices.Equal(CallIDs(page.Calls), matching(all, store.CallQuery{})[:3]) {
		t.Errorf("first page %v", CallIDs(page.Calls))
	}
}

func testListCallsMonthMove(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	jan31 := time.Date(2024, 1, 31, 23, 0, 0, 0, time.UTC).UnixMilli()
	feb1 := time.Date(2024, 2, 1, 0, 30, 0, 0, time.UTC).UnixMilli()
	// First listed under its first event (January), then under the start
	// time a later event reports (February).
	Put(t, st, Event("mv", "first", jan31, call.Facts{Caller: "alice"}))
	Put(t, st, Event("stay", "first", jan31+minute, call.Facts{Caller: "alice"}))
	list := func(from, to int64) []string {
		page, err := st.ListCalls(ctx, store.CallQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		return CallIDs(page.Calls)
	}
	janStart := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	febStart := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	if got := list(janStart, febStart); !slices.Equal(got, []string{"mv", "stay"}) {
		t.Fatalf("January before the move: %v", got)
	}
	Put(t, st, Event("mv", "started", feb1+minute, call.Facts{StartTime: feb1}))
	if got := list(janStart, febStart); !slices.Equal(got, []string{"stay"}) {
		t.Errorf("January after the move: %v, want [stay]", got)
	}
	if got := list(febStart, 0); !slices.Equal(got, []string{"mv"}) {
		t.Errorf("February after the move: %v, want [mv]", got)
	}
	if got := list(0, 0); !slices.Equal(got, []string{"stay", "mv"}) {
		t.Errorf("everything after the move: %v, want [stay mv]", got)
	}
}

func testClaim(t *testing.T, open Opener) {
	clk := testkit.NewClock(time.UnixMilli(T0))
	st := openTable(t, open, store.Options{Now: clk.Now})
	claim := func(key string, until int64) bool {
		t.Helper()
		ok, err := st.Claim(ctx, key, time.UnixMilli(until))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("archive/2024-03-15", T0+10*minute) {
		t.Fatal("first claim: false")
	}
	if claim("archive/2024-03-15", T0+10*minute) {
		t.Fatal("second claim: true")
	}
	if !claim("archive/2024-03-16", T0+10*minute) {
		t.Fatal("another key: false")
	}

	const n = 16
	var won atomic.Int32
	errs := make([]error, n)
	start(n, func(i int) {
		ok, err := st.Claim(ctx, "race", time.UnixMilli(T0+minute))
		errs[i] = err
		if ok {
			won.Add(1)
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if won.Load() != 1 {
		t.Fatalf("%d concurrent claims: %d winners, want 1", n, won.Load())
	}

	clk.Set(time.UnixMilli(T0 + 10*minute - 1000)) // a second before expiry
	if claim("archive/2024-03-15", T0+20*minute) {
		t.Fatal("claimed a second before the claim expired")
	}
	clk.Set(time.UnixMilli(T0 + 10*minute)) // expired
	if !claim("archive/2024-03-15", T0+20*minute) {
		t.Fatal("not re-claimable once expired")
	}
	if claim("archive/2024-03-15", T0+20*minute) {
		t.Fatal("re-claimed twice")
	}
	// A claim that is already over when made leaves the key free.
	for range 2 {
		if !claim("past", T0) {
			t.Fatal("a claim until the past blocked the key")
		}
		if !claim("zero", 0) {
			t.Fatal("a claim until 1970 blocked the key")
		}
	}
}

func testMeta(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	get := func(name string) string {
		t.Helper()
		v, err := st.GetMeta(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get("records/cursor"); v != "" {
		t.Fatalf("never put: %q, want \"\"", v)
	}
	for _, v := range []string{"1710489600000#call-1", "2", "游标 ✓ #META#x"} {
		if err := st.PutMeta(ctx, "records/cursor", v); err != nil {
			t.Fatal(err)
		}
		if got := get("records/cursor"); got != v {
			t.Fatalf("GetMeta = %q, want %q", got, v)
		}
	}
	if err := st.PutMeta(ctx, "other#name", "x"); err != nil {
		t.Fatal(err)
	}
	if get("other#name") != "x" || get("records/cursor") != "游标 ✓ #META#x" || get("other") != "" {
		t.Fatal("names mixed up")
	}
}

func testRetention(t *testing.T, open Opener) {
	clk := testkit.NewClock(time.UnixMilli(T0))
	st := openTable(t, open, store.Options{Retention: time.Hour, Now: clk.Now})
	hour := 60 * minute
	old1 := Event("old", "start", T0-3*hour, call.Facts{Caller: "alice", StartTime: T0 - 3*hour})
	old2 := Event("old", "end", T0-2*hour, call.Facts{Status: call.StatusEnded})
	recent := Event("new", "start", T0-10*minute, call.Facts{Caller: "alice", StartTime: T0 - 10*minute})
	Put(t, st, old1, old2, recent) // old: expired as it is written

	visible := func(what string, wantOld, wantNew bool) {
		t.Helper()
		for id, want := range map[string]bool{"old": wantOld, "new": wantNew} {
			_, _, err := st.GetCall(ctx, id)
			if want && err != nil || !want && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: GetCall(%s) = %v, want visible=%v", what, id, err, want)
			}
			if n := len(collect(t, st, id)); (n > 0) != want {
				t.Errorf("%s: ListEvents(%s) lists %d events, want visible=%v", what, id, n, want)
			}
		}
		page, err := st.ListCalls(ctx, store.CallQuery{})
		if err != nil {
			t.Fatal(err)
		}
		users := userCalls(t, st, "alice")
		var want []string
		if wantNew {
			want = []string{"new"}
		}
		if !slices.Equal(CallIDs(page.Calls), want) || !slices.Equal(users, want) {
			t.Errorf("%s: ListCalls %v, UserCalls %v; want %v", what, CallIDs(page.Calls), users, want)
		}
		all := collect(t, st, "")
		if got := len(all) > 0; got != wantNew {
			t.Errorf("%s: ListEvents(\"\") = %v", what, all)
		}
	}
	visible("at T0", false, true)
	clk.Set(time.UnixMilli(T0 + 50*minute - 1000)) // recent expires at T0+50m
	visible("a second before expiry", false, true)
	clk.Set(time.UnixMilli(T0 + 50*minute))
	visible("at expiry", false, false)

	// A call whose events have all expired starts over with the next one:
	// its summary is the fold of the events still there.
	clk.Set(time.UnixMilli(T0))
	Put(t, st, Event("again", "start", T0-10*minute, call.Facts{Caller: "bob", StartTime: T0 - 10*minute, Result: call.ResultReject}))
	clk.Set(time.UnixMilli(T0 + 2*hour))
	next := Event("again", "restart", T0+2*hour-minute, call.Facts{Caller: "bob", Status: call.StatusRinging})
	Put(t, st, next)
	s, evs, err := st.GetCall(ctx, "again")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Event != "restart" {
		t.Fatalf("events after a restart: %v", eventNames(evs))
	}
	SameSummary(t, "restarted call", s, Fold(next))

	// An expired delivery delivered again is written again, as if TTL had
	// already deleted it, and is as expired as before.
	clk.Set(time.UnixMilli(T0))
	e := Event("redo", "start", T0-50*minute, call.Facts{Caller: "carol"})
	Put(t, st, e)
	if _, _, err := st.GetCall(ctx, "redo"); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.UnixMilli(T0 + 11*minute)) // e expired at T0+10m
	Put(t, st, e)
	if _, _, err := st.GetCall(ctx, "redo"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired event delivered again: GetCall = %v, want ErrNotFound", err)
	}
}

func testRoundTrip(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	raw := "{\"CallId\":\"c-18\",\"Caller\":123456789012345678,\"UserId\":\"987654321098765432\"," +
		"\"Text\":\"你好，世界 🌏 café \u2028 \\\"quoted\\\" \\\\ tab\t nul\x00 end\",\"Big\":9007199254740993}"
	e := &call.Event{
		Provider:   call.Yunxin,
		Channel:    "callback",
		Command:    "20",
		Event:      "call_started",
		CallID:     "c-18",
		EventTime:  1710489600123,
		DeliveryID: call.DeliveryID(call.Yunxin, "20", []byte(raw)),
		ReceivedAt: 1710489600999,
		RequestID:  "请求-1",
		Facts: call.Facts{
			Status:    call.StatusRinging,
			MediaType: call.MediaAudio,
			CallType:  call.TypeSingle,
			Caller:    "123456789012345678",
			Callees:   []string{"987654321098765432", "100000000000000001"},
			RoomID:    "9007199254740993",
			StartTime: 1710489600123,
			Detail:    map[string]string{"channelId": "18446744073709551615", "名前": "値 ✓", "empty": ""},
		},
		Raw: raw,
	}
	Put(t, st, e)
	s, evs, err := st.GetCall(ctx, "c-18")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if evs[0].Raw != raw {
		t.Errorf("raw body changed:\n got %q\nwant %q", evs[0].Raw, raw)
	}
	if !reflect.DeepEqual(evs[0], *e) {
		t.Errorf("event changed:\n got %#v\nwant %#v", evs[0], *e)
	}
	var listed []call.Event
	if err := st.ListEvents(ctx, "c-18", func(x *call.Event) error { listed = append(listed, *x); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || !reflect.DeepEqual(listed[0], *e) {
		t.Errorf("ListEvents changed the event: %#v", listed)
	}
	SameSummary(t, "c-18", s, Fold(e))
	if s.Caller != "123456789012345678" {
		t.Errorf("caller %q", s.Caller)
	}
	for _, u := range []string{"123456789012345678", "987654321098765432"} {
		if got := userCalls(t, st, u); !slices.Equal(got, []string{"c-18"}) {
			t.Errorf("UserCalls(%s) = %v", u, got)
		}
	}
}

func testClosed(t *testing.T, open Opener) {
	st := open(t, store.Options{})
	Put(t, st, Event("c1", "start", T0, call.Facts{Caller: "alice"}))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	e := Event("c1", "end", T0+1, call.Facts{})
	_, err1 := st.PutEvent(ctx, e)
	_, _, err2 := st.GetCall(ctx, "c1")
	err3 := st.ListEvents(ctx, "", func(*call.Event) error { return nil })
	_, err4 := st.UserCalls(ctx, "alice", 0)
	_, err5 := st.ListCalls(ctx, store.CallQuery{})
	_, err6 := st.Claim(ctx, "k", time.Now().Add(time.Minute))
	_, err7 := st.GetMeta(ctx, "k")
	err8 := st.PutMeta(ctx, "k", "v")
	for i, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("method %d on a closed store: %v, want ErrClosed", i+1, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
