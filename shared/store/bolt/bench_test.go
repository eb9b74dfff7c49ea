package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/testkit/storetest"
)

func openBench(b *testing.B) store.Store {
	b.Helper()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "callfn.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkHistoryPaging pages through 20,000 calls at limit 100 (200
// pages), newest first, and one user's 10,000 (100 pages): the last
// page's time as a ratio to the first's (issue 8: at most 1.5).
func BenchmarkHistoryPaging(b *testing.B) {
	st := openBench(b)
	start := time.Now()
	storetest.PutAll(b, st, storetest.HistoryEvents(20000, storetest.T0, 60_000), 64)
	b.Logf("20,000 calls stored in %v", time.Since(start))
	b.Run("all", func(b *testing.B) {
		storetest.BenchPaging(b, st, store.CallQuery{Limit: 100, Desc: true}, 20000)
	})
	b.Run("user", func(b *testing.B) {
		storetest.BenchPaging(b, st, store.CallQuery{Limit: 100, Desc: true, User: "alice"}, 10000)
	})
}

// BenchmarkHistoryStats asks for the rollups of 30 days holding 100,000
// calls (issue 8: within a second).
func BenchmarkHistoryStats(b *testing.B) {
	st := openBench(b)
	const n, days = 100000, 30
	every := int64(days * 24 * time.Hour / time.Millisecond / n)
	from := storetest.T0 - storetest.T0%(24*3600_000) // a UTC midnight
	start := time.Now()
	storetest.PutAll(b, st, storetest.HistoryEvents(n, from, every), 64)
	b.Logf("100,000 calls stored in %v", time.Since(start))
	storetest.BenchStatsDays(b, st, n, from, every)
}
