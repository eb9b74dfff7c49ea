package bench

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/testkit/benchkit"
)

// BenchmarkHandlerCost: CPU time per callback of the webhook handler on
// the memory table, against decoding the same body with encoding/json
// (into a map[string]any) alone, in alternating rounds (json, handler,
// json, handler, ...; CALLFN_BENCH_ROUNDS, default 7) of 5,000 unique
// callbacks (× b.N) each. CPU time is this process's (getrusage: every
// thread, the garbage collector's on the other core included), so a cost
// the collector pays in parallel is counted, as wall time would not.
// Requests are built before a round's clock starts; a collection runs
// before each round, outside it.
//
// Metrics: cpu-ratio-median, cpu-ratio-min, cpu-ratio-max (the handler's
// CPU per callback over encoding/json's in the same round; the goal is
// cpu-ratio-median ≤ 3); handler-cpu-ns/cb, json-cpu-ns/cb (medians);
// handler-wall-ns/cb (median, for contrast); handler-allocs/cb and
// allocs-ratio-to-json (over all rounds).
func BenchmarkHandlerCost(b *testing.B) {
	rounds := envInt(b, envRounds, 7)
	per := 5000 * b.N
	h := webhookHandler(config.Config{TencentAppID: appID}, memoryTable())
	var w discardWriter
	var handlerWall []float64
	var handlerAllocs, jsonAllocs uint64

	// measure runs f over a round's callbacks and returns its CPU time per
	// callback in ns, its wall time and its allocations.
	measure := func(f func(i int)) (float64, time.Duration, uint64) {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		a0 := ms.Mallocs
		c0, t0 := benchkit.ProcessCPU(), time.Now()
		for i := range per {
			f(i)
		}
		wall, cpu := time.Since(t0), benchkit.ProcessCPU()-c0
		runtime.ReadMemStats(&ms)
		return float64(cpu.Nanoseconds()) / float64(per), wall, ms.Mallocs - a0
	}
	var cbs []callback
	var reqs []*http.Request
	prepare := func(r int) {
		cbs, reqs = cbs[:0], reqs[:0]
		for i := range per {
			cb := startCallback(r*per + i)
			cbs = append(cbs, cb)
			reqs = append(reqs, httptest.NewRequest(http.MethodPost, cb.url(""), bytes.NewReader(cb.body)))
		}
	}
	b.ResetTimer()
	rs := benchkit.Alternate(rounds,
		func(r int) float64 {
			b.StopTimer()
			prepare(r)
			b.StartTimer()
			cpu, _, allocs := measure(func(i int) {
				var v map[string]any
				if err := json.Unmarshal(cbs[i].body, &v); err != nil {
					b.Fatal(err)
				}
			})
			jsonAllocs += allocs
			return cpu
		},
		func(r int) float64 {
			cpu, wall, allocs := measure(func(i int) {
				w.reset()
				h.ServeHTTP(&w, reqs[i])
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			})
			handlerWall = append(handlerWall, float64(wall.Nanoseconds())/float64(per))
			handlerAllocs += allocs
			return cpu
		})
	b.StopTimer()
	rs.Log(b, "ns CPU/cb", "json", "handler")
	n := float64(rounds * per)
	benchkit.Report(b, "cpu-ratio", benchkit.Summarize(rs.Ratios()))
	b.ReportMetric(benchkit.Median(rs.Subjects()), "handler-cpu-ns/cb")
	b.ReportMetric(benchkit.Median(rs.Floors()), "json-cpu-ns/cb")
	b.ReportMetric(benchkit.Median(handlerWall), "handler-wall-ns/cb")
	b.ReportMetric(float64(handlerAllocs)/n, "handler-allocs/cb")
	b.ReportMetric(float64(handlerAllocs)/float64(jsonAllocs), "allocs-ratio-to-json")
}

// discardWriter is the least a handler can write its reply to: it keeps
// the status and drops the body.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) reset() {
	if w.header == nil {
		w.header = http.Header{}
	}
	clear(w.header)
	w.code = 0
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}
