package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// The history's benchmarks (issue 8), shared by every backend's
// bench_test.go: what a page costs deep in a long listing against its
// first page, and what Stats costs over many calls.

// HistoryEvents makes n calls' end events (one event a call, as an
// archived record would be: every fact at once), one every `every` ms
// from start: alice and bob, then carol and dave, taking turns; results,
// providers and call types varied.
func HistoryEvents(n int, start, every int64) []*call.Event {
	users := [][2]string{{"alice", "bob"}, {"carol", "dave"}}
	results := []string{call.ResultNormalEnd, call.ResultNotAnswer, call.ResultReject, call.ResultCancel}
	evs := make([]*call.Event, n)
	for i := range evs {
		at := start + int64(i)*every
		u := users[i%2]
		e := Event(fmt.Sprintf("bench-%07d", i), "record", at+30_000, call.Facts{
			Status: call.StatusEnded, Caller: u[0], Callees: []string{u[1]}, StartTime: at, AcceptTime: at + 2000,
			EndTime: at + 30_000, Result: results[i%len(results)], CallType: []string{call.TypeSingle, call.TypeGroup}[i%3/2],
			MediaType: call.MediaAudio,
		})
		if i%5 == 0 {
			e.Provider = call.Yunxin
		}
		evs[i] = e
	}
	return evs
}

// PutAll stores evs with `writers` PutEvents at a time.
func PutAll(tb testing.TB, st store.EventWriter, evs []*call.Event, writers int) {
	tb.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan *call.Event)
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range next {
				if _, err := st.PutEvent(ctx, e); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, e := range evs {
		next <- e
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
}

// BenchPaging walks every call of st q's way, q.Limit at a time, keeping
// each page's cursor, then times the first page and the last, in turns,
// b.N times each, and reports the median time of the last page as a ratio
// to the first's ("last/first-page": for 20,000 calls at limit 100, the
// issue's page 200 ÷ page 1; the cost of a page must not grow with its
// depth), both medians, and the pages of a walk. wantCalls is how many
// calls a walk must list.
func BenchPaging(b *testing.B, st store.Store, q store.CallQuery, wantCalls int) {
	b.Helper()
	var cursors []string
	listed := 0
	for cur := ""; ; {
		q := q
		q.Cursor = cur
		page, err := st.ListCalls(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		cursors = append(cursors, cur)
		listed += len(page.Calls)
		if page.Next == "" {
			break
		}
		cur = page.Next
	}
	if listed != wantCalls {
		b.Fatalf("a walk listed %d calls, want %d", listed, wantCalls)
	}
	timePage := func(cursor string) time.Duration {
		q := q
		q.Cursor = cursor
		start := time.Now()
		if _, err := st.ListCalls(ctx, q); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var first, last []time.Duration
	for b.Loop() {
		first = append(first, timePage(cursors[0]))
		last = append(last, timePage(cursors[len(cursors)-1]))
	}
	f, l := median(first), median(last)
	b.ReportMetric(float64(l)/float64(f), "last/first-page")
	b.ReportMetric(float64(f.Microseconds()), "µs/first-page")
	b.ReportMetric(float64(l.Microseconds()), "µs/last-page")
	b.ReportMetric(float64(len(cursors)), "pages")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// DayBounds are the starts of the n days from from, and the end of the
// last: days of 24 hours, as a zone without summer time has them.
func DayBounds(from int64, n int) []int64 {
	out := make([]int64, n+1)
	for i := range out {
		out[i] = from + int64(i)*24*3600_000
	}
	return out
}

// BenchStats asks st b.N times for the rollups of the ranges bounds makes
// and reports the median time of one answer, in ms ("ms/stats"). wantCalls
// is how many calls they must count.
func BenchStats(b *testing.B, st store.Store, bounds []int64, wantCalls int64) {
	b.Helper()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		days, err := st.Stats(ctx, bounds)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		var total store.Counts
		for _, d := range days {
			total.Add(d)
		}
		if total.Calls != wantCalls {
			b.Fatalf("Stats counts %d calls, want %d", total.Calls, wantCalls)
		}
	}
	b.ReportMetric(float64(median(took).Microseconds())/1000, "ms/stats")
}

// BenchStatsDays runs BenchStats over the 30 days from from, as days in
// UTC and as days in India (5:30 ahead: its days start inside an hour),
// for calls made by HistoryEvents(n, from, every).
func BenchStatsDays(b *testing.B, st store.Store, n int, from, every int64) {
	b.Helper()
	for _, z := range []struct {
		name   string
		offset int64 // ms ahead of UTC
	}{{"utc", 0}, {"india", 330 * 60_000}} {
		b.Run(z.name, func(b *testing.B) {
			bounds := DayBounds(from-z.offset, 30)
			var want int64
			for i := range n {
				if at := from + int64(i)*every; at >= bounds[0] && at < bounds[len(bounds)-1] {
					want++
				}
			}
			BenchStats(b, st, bounds, want)
		})
	}
}
