package storetest

// The call history's cases (issue 8): ListCalls in both orders with every
// filter, per user, paged while calls keep arriving, with short pages when
// a page's scan budget runs out; Stats exact under redelivered and
// reordered events, results that change, start times that move, and
// concurrent writers.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/testkit"
)

var historySuite = []suiteCase{
	{"ListCallsFilters", testListCallsFilters},
	{"ListCallsWhileArriving", testListCallsWhileArriving},
	{"ListCallsShortPages", testListCallsShortPages},
	{"ListCallsTimeMoves", testListCallsTimeMoves},
	{"Stats", testStats},
	{"StatsConcurrent", testStatsConcurrent},
}

// historySet puts 48 calls, one every 2 days and 7 hours from 2023-12-20
// (across a year's end and four months), of every provider, status and
// result, between alice, bob, carol and dave, and returns their summaries.
func historySet(t *testing.T, st store.Store) []call.Summary {
	t.Helper()
	base := time.Date(2023, 12, 20, 0, 0, 0, 0, time.UTC).UnixMilli()
	users := []string{"alice", "bob", "carol", "dave"}
	results := []string{call.ResultNormalEnd, call.ResultNotAnswer, call.ResultReject, call.ResultCancel, call.ResultBusy, call.ResultOffline}
	var out []call.Summary
	for i := range 48 {
		id := fmt.Sprintf("h-%02d", (i*17)%48) // ids not in time order
		at := base + int64(i)*(2*24+7)*60*minute
		if i == 9 {
			at = base + 8*(2*24+7)*60*minute // same time as call 8: ordered by id
		}
		caller, callee := users[i%4], users[(i/4+i+1)%4]
		if caller == callee {
			callee = users[(i+2)%4]
		}
		f := call.Facts{Caller: caller, Callees: []string{callee}, CallType: call.TypeSingle, Status: call.StatusRinging}
		if i%6 == 5 {
			f.CallType, f.Callees = call.TypeGroup, []string{callee, "erin"}
		}
		if i%5 != 0 {
			f.StartTime = at // else listed under its first event
		}
		evs := []*call.Event{Event(id, "start", at, f)}
		switch i % 4 {
		case 0, 1:
			evs = append(evs, Event(id, "end", at+5*minute, call.Facts{Status: call.StatusEnded, Result: results[i%len(results)]}))
		case 2:
			evs = append(evs, Event(id, "answer", at+minute, call.Facts{Status: call.StatusOngoing, AcceptTime: at + minute}))
		} // 3: still ringing
		provider := []string{call.Tencent, call.Yunxin, call.Tencent, call.CallFn}[i%4]
		if provider == call.CallFn && len(evs) > 1 {
			provider = call.Tencent
		}
		for _, e := range evs {
			e.Provider = provider
			e.DeliveryID = call.DeliveryID(provider, e.Command, []byte(e.Raw))
		}
		slices.Reverse(evs)
		Put(t, st, evs...)
		out = append(out, Fold(evs...))
	}
	return out
}

// matching is what q selects of all, in q's order, worked out here from
// the words rather than the store's code.
func matching(all []call.Summary, q store.CallQuery) []string {
	missed := []string{call.ResultNotAnswer, call.ResultCancel, call.ResultBusy, call.ResultOffline}
	var out []call.Summary
	for _, s := range all {
		carrier := s.Provider
		if carrier == call.CallFn {
			carrier = call.Tencent
		}
		tm := s.SortTime()
		callee := slices.Contains(s.Callees, q.User) && s.Caller != q.User
		if tm >= q.From && (q.To == 0 || tm < q.To) &&
			(q.Provider == "" || carrier == q.Provider) &&
			(q.User == "" || s.Caller == q.User || callee) &&
			(q.Status == "" || s.Status == q.Status) &&
			(q.Result == "" || s.Result == q.Result) &&
			(!q.Missed || callee && slices.Contains(missed, s.Result)) &&
			(q.CallType == "" || s.CallType == q.CallType) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b call.Summary) int {
		if a.SortTime() != b.SortTime() {
			return int(a.SortTime() - b.SortTime())
		}
		return strings.Compare(a.CallID, b.CallID)
	})
	if q.Desc {
		slices.Reverse(out)
	}
	return CallIDs(out)
}

// walk pages through q, checking each page (at most Limit calls, 100
// without one, none listed twice, in q's order, each summary as stored),
// and returns the calls listed and the number listed on each page.
func walk(t *testing.T, st store.Store, q store.CallQuery, all []call.Summary) ([]string, []int) {
	t.Helper()
	var got []string
	var sizes []int
	seen := map[string]bool{}
	last := ""
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	for n := 1; ; n++ {
		if n > 1000 {
			t.Fatalf("ListCalls(%+v): no last page after 1000 pages", q)
		}
		page, err := st.ListCalls(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Calls) > limit {
			t.Fatalf("ListCalls(%+v): %d calls on a page, limit %d", q, len(page.Calls), limit)
		}
		sizes = append(sizes, len(page.Calls))
		for _, s := range page.Calls {
			key := store.ListKey(&s)
			if seen[s.CallID] {
				t.Fatalf("ListCalls(%+v): %s listed twice", q, s.CallID)
			}
			if last != "" && (key < last) != q.Desc {
				t.Fatalf("ListCalls(%+v): %s out of order after %s", q, key, last)
			}
			seen[s.CallID], last = true, key
			got = append(got, s.CallID)
			if all != nil {
				i := slices.IndexFunc(all, func(a call.Summary) bool { return a.CallID == s.CallID })
				if i < 0 {
					t.Fatalf("ListCalls listed unknown call %s", s.CallID)
				}
				if g, w := testkit.JSON(t, s), testkit.JSON(t, all[i]); g != w {
					t.Fatalf("ListCalls: summary of %s\n got %s\nwant %s", s.CallID, g, w)
				}
			}
		}
		if page.Next == "" {
			return got, sizes
		}
		q.Cursor = page.Next
	}
}

// sortTimes are the sort times of the i-th and the j-th of all in time
// order.
func sortTimes(all []call.Summary, i, j int) (int64, int64) {
	byTime := slices.Clone(all)
	slices.SortFunc(byTime, func(a, b call.Summary) int { return int(a.SortTime() - b.SortTime()) })
	return byTime[i].SortTime(), byTime[j].SortTime()
}

func testListCallsFilters(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	all := historySet(t, st)
	from, to := sortTimes(all, 7, 31)
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	mar := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	queries := []store.CallQuery{
		{},
		{From: from, To: to},
		{From: feb, To: mar},
		{To: feb},
		{From: mar},
		{Provider: call.Tencent},
		{Provider: call.Yunxin, From: from},
		{Status: call.StatusRinging},
		{Status: call.StatusOngoing, To: to},
		{Status: call.StatusEnded, Result: call.ResultNotAnswer},
		{Result: call.ResultNormalEnd, CallType: call.TypeSingle},
		{CallType: call.TypeGroup},
		{User: "alice"},
		{User: "bob", From: from, To: to},
		{User: "erin"},
		{User: "carol", Status: call.StatusEnded},
		{User: "dave", Missed: true},
		{User: "bob", Missed: true, Provider: call.Tencent},
		{User: "nobody"},
		{Provider: "zoom"},
		{From: mar, To: feb},
	}
	for i, q := range queries {
		if i < 5 && len(matching(all, q)) == 0 || i >= 5 && i < 18 && len(matching(all, q)) == 0 {
			t.Fatalf("the test's own expectation: %+v selects nothing", q)
		}
		for _, desc := range []bool{true, false} {
			for _, limit := range []int{1, 4, 7, 100} {
				q.Desc, q.Limit = desc, limit
				want := matching(all, q)
				got, _ := walk(t, st, q, all)
				if !slices.Equal(got, want) {
					t.Errorf("ListCalls(%+v), all pages:\n got %v\nwant %v", q, got, want)
				}
			}
		}
	}
	// Newest first: the first page is the newest calls, and its Next is
	// the last one's ListKey.
	page, err := st.ListCalls(ctx, store.CallQuery{Desc: true, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := matching(all, store.CallQuery{Desc: true})[:3]; !slices.Equal(CallIDs(page.Calls), want) || page.Next != store.ListKey(&page.Calls[2]) {
		t.Errorf("newest page %v Next %q, want %v", CallIDs(page.Calls), page.Next, want)
	}
}

// Every call present when a paging starts is listed exactly once while
// calls keep arriving, before the cursor, after it, and at its very time.
func testListCallsWhileArriving(t *testing.T, open Opener) {
	for _, desc := range []bool{true, false} {
		t.Run(map[bool]string{true: "desc", false: "asc"}[desc], func(t *testing.T) {
			st := openTable(t, open, store.Options{})
			r := rand.New(rand.NewPCG(8, uint64(len(fmt.Sprint(desc)))))
			var first []string
			for i := range 40 {
				id := fmt.Sprintf("a-%02d", i)
				at := T0 + int64(i)*10*minute
				Put(t, st, Event(id, "start", at, call.Facts{Caller: "alice", Callees: []string{"bob"}, StartTime: at, Status: call.StatusRinging}))
				first = append(first, id)
			}
			q := store.CallQuery{User: "bob", Desc: desc, Limit: 6}
			seen := map[string]int{}
			last := ""
			for n := 0; ; n++ {
				if n > 100 {
					t.Fatal("no last page")
				}
				page, err := st.ListCalls(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range page.Calls {
					seen[s.CallID]++
					if key := store.ListKey(&s); last != "" && (key < last) != desc {
						t.Fatalf("%s out of order after %s", key, last)
					} else {
						last = key
					}
				}
				if page.Next == "" {
					break
				}
				// New calls: at random times, one at the cursor's own time,
				// and one that ends a listed call (its summary changes).
				for j := range 3 {
					id := fmt.Sprintf("n-%02d-%d", n, j)
					at := T0 + r.Int64N(400)*minute
					if j == 0 && len(page.Calls) > 0 {
						at = page.Calls[len(page.Calls)-1].SortTime()
					}
					Put(t, st, Event(id, "start", at, call.Facts{Caller: "carol", Callees: []string{"bob"}, StartTime: at}))
				}
				if len(page.Calls) > 0 {
					c := page.Calls[0]
					Put(t, st, Event(c.CallID, "end", c.SortTime()+minute, call.Facts{Status: call.StatusEnded, Result: call.ResultNormalEnd}))
				}
				q.Cursor = page.Next
			}
			for _, id := range first {
				if seen[id] != 1 {
					t.Errorf("%s listed %d times, want once", id, seen[id])
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s listed %d times", id, n)
				}
			}
		})
	}
}

// A page examines at most Options.ScanLimit index entries: with a
// selective filter a page may be short, even empty, while Next goes on;
// following Next finds every call, in order, once.
func testListCallsShortPages(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{ScanLimit: 5})
	var all []call.Summary
	for i := range 30 {
		id := fmt.Sprintf("s-%02d", i)
		at := T0 + int64(i)*minute
		e := Event(id, "start", at, call.Facts{Caller: "alice", Callees: []string{"bob"}, StartTime: at})
		if i%10 == 3 {
			e.Provider = call.Yunxin
		}
		Put(t, st, e)
		all = append(all, Fold(e))
	}
	for _, q := range []store.CallQuery{
		{Provider: call.Yunxin, Limit: 2},
		{Provider: call.Yunxin, Limit: 2, Desc: true},
		{User: "bob", Provider: call.Yunxin, Limit: 1},
		{Limit: 4, Desc: true},
	} {
		got, sizes := walk(t, st, q, all)
		if want := matching(all, q); !slices.Equal(got, want) {
			t.Errorf("ListCalls(%+v): %v, want %v", q, got, want)
		}
		if q.Provider != "" && len(sizes) < 30/5 {
			t.Errorf("ListCalls(%+v): %d pages: more than 5 entries examined a page", q, len(sizes))
		}
	}
}

// A call first listed under its first event moves to its start time when
// an event reports it, in every index: no trace under the old time, and
// the per-user lists follow.
func testListCallsTimeMoves(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	jan31 := time.Date(2024, 1, 31, 23, 0, 0, 0, time.UTC).UnixMilli()
	feb1 := time.Date(2024, 2, 1, 0, 30, 0, 0, time.UTC).UnixMilli()
	Put(t, st, Event("mv", "first", jan31, call.Facts{Caller: "alice", Callees: []string{"bob"}}))
	Put(t, st, Event("stay", "first", jan31+minute, call.Facts{Caller: "alice", Callees: []string{"bob"}}))
	Put(t, st, Event("mv", "started", feb1+minute, call.Facts{StartTime: feb1}))
	// The caller changes: the old one no longer lists the call.
	Put(t, st, Event("mv", "fix", feb1+2*minute, call.Facts{Caller: "carol"}))
	for _, q := range []store.CallQuery{{Desc: true}, {User: "bob", Desc: true}, {User: "carol"}, {User: "bob"}} {
		got, _ := walk(t, st, q, nil)
		want := []string{"mv", "stay"}
		switch {
		case q.User == "carol":
			want = []string{"mv"}
		case !q.Desc:
			want = []string{"stay", "mv"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("ListCalls(%+v) = %v, want %v", q, got, want)
		}
	}
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	got, _ := walk(t, st, store.CallQuery{User: "alice", To: feb}, nil)
	if !slices.Equal(got, []string{"stay"}) {
		t.Errorf("alice's January: %v, want [stay] (mv moved to February, and alice is no longer its caller)", got)
	}
}

// rollups adds the contributions of the final summaries up by the ranges
// bounds makes, the way the rollups must however the events came.
func rollups(sums []call.Summary, bounds []int64) []store.Counts {
	out := make([]store.Counts, len(bounds)-1)
	for i := range sums {
		c, ok := store.ContributionOf(&sums[i])
		if !ok {
			continue
		}
		for r := range out {
			if c.Bucket >= bounds[r] && c.Bucket < bounds[r+1] {
				out[r].Add(c.Counts(1))
			}
		}
	}
	return out
}

func sameStats(t *testing.T, what string, st store.Store, bounds []int64, want []store.Counts) {
	t.Helper()
	got, err := st.Stats(ctx, bounds)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Stats(%v)\n got %+v\nwant %+v", what, bounds, got, want)
	}
}

// days are the starts of n+1 days in zone from the day holding ms on.
func days(zone string, ms int64, n int) []int64 {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		panic(err)
	}
	y, m, d := time.UnixMilli(ms).In(loc).Date()
	out := make([]int64, n+1)
	for i := range out {
		out[i] = time.Date(y, m, d+i, 0, 0, 0, 0, loc).UnixMilli()
	}
	return out
}

// The rollups equal the calls' final summaries whatever the order events
// come in, however often each is delivered, when a result changes, and
// when a start time moves a call to another bucket.
func testStats(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	r := rand.New(rand.NewPCG(8, 8))
	bucket := int64(store.StatsBucketMs)
	day := 24 * 60 * minute
	base := store.BucketOf(T0)
	var sums []call.Summary
	for i := range 24 {
		id := fmt.Sprintf("st-%02d", i)
		at := base + int64(i%6)*bucket + int64(i)*1000
		if i%7 == 0 {
			at += day // another day
		}
		evs := []*call.Event{
			Event(id, "start", at, call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}, StartTime: at}),
		}
		switch i % 4 {
		case 0: // answered and ended
			evs = append(evs,
				Event(id, "answer", at+2000, call.Facts{Status: call.StatusOngoing, AcceptTime: at + 2000}),
				Event(id, "end", at+62000, call.Facts{Status: call.StatusEnded, EndTime: at + 62000, Result: call.ResultNormalEnd}))
		case 1: // first cancelled, then a newer event says it was not answered
			evs = append(evs,
				Event(id, "cancel", at+3000, call.Facts{Status: call.StatusEnded, EndTime: at + 3000, Result: call.ResultCancel}),
				Event(id, "timeout", at+30000, call.Facts{Status: call.StatusEnded, EndTime: at + 30000, Result: call.ResultNotAnswer}))
		case 2: // a later event moves its start to another bucket (and day)
			moved := at + 2*bucket + day
			evs = append(evs, Event(id, "record", at+day+3*bucket, call.Facts{StartTime: moved, Status: call.StatusEnded, Result: call.ResultReject}))
		} // 3: still ringing
		if i%3 == 0 {
			for _, e := range evs {
				e.Provider = call.Yunxin
			}
		}
		sums = append(sums, Fold(evs...))
		// Any order, some delivered twice.
		r.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
		for _, e := range append(evs, evs[0]) {
			if _, err := st.PutEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Whole days in zones a whole number of hours from UTC, and in zones
	// a half and three quarters of an hour from it; single quarters; a
	// range of an hour and a quarter; the ranges before and after.
	q := int64(store.StatsBucketMs)
	for _, bounds := range [][]int64{
		days("UTC", base, 3),
		days("Asia/Shanghai", base, 3),
		days("Asia/Kolkata", base, 3),
		days("Asia/Kathmandu", base, 3),
		days("America/Los_Angeles", base-day, 4),
		{base, base + q, base + 2*q, base + 3*q, base + 7*q},
		{base + q, base + 6*q},
		{base - 10*day, base - 9*day},
		{base - day, base + 3*day},
	} {
		sameStats(t, fmt.Sprint(bounds), st, bounds, rollups(sums, bounds))
	}
	total := rollups(sums, []int64{base - day, base + 3*day})[0]
	if total.Calls != 24 || total.InProgress != 6 || total.ByResult[call.ResultCancel] != 0 || total.ByResult[call.ResultNotAnswer] != 6 ||
		total.TalkMs != 6*60000 || total.ByProvider[call.Yunxin] != 8 {
		t.Errorf("totals %+v", total)
	}
	if _, err := st.Stats(ctx, []int64{base + 1, base + day}); err == nil {
		t.Error("Stats took bounds off the quarter hours")
	}
}

// Concurrent writers of one bucket, and of one call, keep it exact.
func testStatsConcurrent(t *testing.T, open Opener) {
	st := openTable(t, open, store.Options{})
	base := store.BucketOf(T0)
	const n = 24
	var evs []*call.Event
	var sums []call.Summary
	for i := range n {
		id := fmt.Sprintf("cc-%02d", i)
		ring := Event(id, "start", base+int64(i)*1000, call.Facts{Status: call.StatusRinging, Caller: "alice", StartTime: base + int64(i)*1000})
		end := Event(id, "end", base+int64(i)*1000+9000, call.Facts{Status: call.StatusEnded, Result: call.ResultNotAnswer})
		evs = append(evs, ring, end)
		sums = append(sums, Fold(ring, end))
	}
	errs := make([]error, len(evs))
	start(len(evs), func(i int) { _, errs[i] = st.PutEvent(ctx, evs[i]) })
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	bounds := []int64{base, base + store.StatsBucketMs}
	sameStats(t, "concurrent", st, bounds, rollups(sums, bounds))
}
