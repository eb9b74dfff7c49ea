package dynamo_test

import (
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/testkit/storetest"
)

// importCalls fills st with n calls (storetest.HistoryEvents) in bulk, as
// their folds would have (Import: DynamoDB Local folds some 40 events a
// second, too few for 100,000 calls).
func importCalls(b *testing.B, st store.Store, n int, start, every int64, summaries bool) {
	b.Helper()
	evs := storetest.HistoryEvents(n, start, every)
	sums := make([]call.Summary, len(evs))
	for i, e := range evs {
		sums[i] = storetest.Fold(e)
	}
	began := time.Now()
	if err := dynamo.Import(ctx, st, sums, summaries, true, 8); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d calls imported in %v", n, time.Since(began))
}

// BenchmarkHistoryPaging pages through 20,000 calls at limit 100 (200
// pages) on DynamoDB Local, newest first, and one user's 10,000: the last
// page's time as a ratio to the first's (issue 8: at most 1.5), and the
// DynamoDB requests a page takes, counted at the client.
func BenchmarkHistoryPaging(b *testing.B) {
	db, cnt := countedClient(b)
	st := dynamo.New(db, newTable(b), store.Options{})
	defer st.Close()
	importCalls(b, st, 20000, storetest.T0, 60_000, true)
	for _, c := range []struct {
		name  string
		q     store.CallQuery
		calls int
	}{
		{"all", store.CallQuery{Limit: 100, Desc: true}, 20000},
		{"user", store.CallQuery{Limit: 100, Desc: true, User: "alice"}, 10000},
	} {
		b.Run(c.name, func(b *testing.B) {
			cnt.Take()
			storetest.BenchPaging(b, st, c.q, c.calls)
			ops := cnt.Take()
			pages := c.calls/100 + 2*b.N // a walk, then the first and last pages b.N times
			b.ReportMetric(float64(len(ops))/float64(pages), "requests/page")
		})
	}
}

// BenchmarkHistoryStats asks DynamoDB Local for the rollups of 30 days
// holding 100,000 calls (issue 8: within a second). The table holds their
// rollups only: Stats queries the rollup partitions alone, whatever else
// the table holds.
func BenchmarkHistoryStats(b *testing.B) {
	st := dynamo.New(client(b), newTable(b), store.Options{})
	defer st.Close()
	const n, days = 100000, 30
	every := int64(days * 24 * time.Hour / time.Millisecond / n)
	from := storetest.T0 - storetest.T0%(24*3600_000) // a UTC midnight
	importCalls(b, st, n, from, every, false)
	storetest.BenchStatsDays(b, st, n, from, every)
}
