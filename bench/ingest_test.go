package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/callfn/callfn/testkit/benchkit"
)

// BenchmarkIngestHTTP: webhook ingestion over HTTP with the embedded table
// against a bare net/http handler that only reads the body and answers OK,
// each its own server process, in alternating rounds (bare, webhook, bare,
// webhook, ...; CALLFN_BENCH_ROUNDS, default 7). In each round a fresh
// process of each takes 200 callbacks to warm up, then
// CALLFN_BENCH_ROUND_CALLBACKS (default 10,000, × b.N) unique Tencent
// callbacks over 64 connections, and is killed (kill -9). The webhook
// rounds share one file, which grows round by round (to 71,400 events by
// default). After each webhook round every callback the webhook
// acknowledged, in this round and the ones before, must be in the file:
// nothing acknowledged is lost. The load generator shares the machine's
// cores with the servers; its CPU per callback is logged.
// CALLFN_BENCH_INGEST_STORE=memory runs the webhook on the memory table
// instead (nothing durable, nothing to check): what the rest of the path
// costs without the embedded table's writes.
//
// Metrics: ratio-median, ratio-min, ratio-max (webhook requests/s over the
// bare handler's in the same round; the goal is ratio-median ≥ 0.5);
// bare-req/s, webhook-req/s (medians); bare-cpu-us/cb, webhook-cpu-us/cb
// (the server's CPU time, user + system, per callback, medians); and the
// webhook server's peak-RSS-MiB (largest over the rounds).
func BenchmarkIngestHTTP(b *testing.B) {
	const conns, warm = 64, 200
	rounds := envInt(b, envRounds, 7)
	per := envInt(b, envRoundSize, 10000) * b.N
	db := filepath.Join(b.TempDir(), "bench.db")
	spec, durable := "bolt:"+db, true
	switch s := os.Getenv(envIngestStore); s {
	case "", "bolt":
	case "memory":
		spec, durable = "memory:", false
	default:
		b.Fatalf("%s=%q: want bolt or memory", envIngestStore, s)
	}
	next := 0       // the next callback's number, unique across rounds
	var acked int64 // acknowledged by the webhook, all rounds
	var bareCPU, hookCPU, bareClient, hookClient []float64
	var peak int64

	// round runs one server process through a round and returns its
	// requests per second; the figures go to the slices.
	round := func(role string, r int, env ...string) float64 {
		s := startServer(b, role, role+"-"+strconv.Itoa(r), env...)
		wack, _ := load(b, s.addr, startCallback, next, warm, conns)
		next += warm
		c0, client0 := s.cpu(b), benchkit.ProcessCPU()
		n, took := load(b, s.addr, startCallback, next, per, conns)
		c1, client1 := s.cpu(b), benchkit.ProcessCPU()
		next += per
		if n != int64(per) {
			b.Fatalf("round %d: %s acknowledged %d of %d callbacks", r+1, role, n, per)
		}
		cpu := float64((c1 - c0).Microseconds()) / float64(per)
		client := float64((client1 - client0).Microseconds()) / float64(per)
		rps := float64(per) / took.Seconds()
		if role == "bare" {
			bareCPU, bareClient = append(bareCPU, cpu), append(bareClient, client)
			s.stop()
			return rps
		}
		hookCPU, hookClient = append(hookCPU, cpu), append(hookClient, client)
		peak = max(peak, s.mem(b).Peak)
		s.stop()
		if !durable {
			return rps
		}
		acked += wack + n
		stored, err := countStored(db)
		if err != nil {
			b.Fatal(err)
		}
		if stored != acked {
			b.Fatalf("round %d: after kill -9, %d events in the file, %d acknowledged", r+1, stored, acked)
		}
		return rps
	}
	b.ResetTimer()
	rs := benchkit.Alternate(rounds,
		func(r int) float64 { return round("bare", r) },
		func(r int) float64 {
			return round("webhook", r, "CALLFN_STORE="+spec, "CALLFN_TENCENT_SDKAPPID="+strconv.Itoa(appID))
		})
	b.StopTimer()
	rs.Log(b, "req/s", "bare", "webhook")
	b.Logf("%s, µs CPU/cb", benchkit.Series("bare server", bareCPU))
	b.Logf("%s, µs CPU/cb", benchkit.Series("webhook server", hookCPU))
	b.Logf("%s; in webhook rounds: %s (µs CPU/cb; it shares the 2 cores)",
		benchkit.Series("load generator in bare rounds", bareClient), benchkit.Series("", hookClient)[2:])
	if durable {
		b.Logf("every one of the %d acknowledged callbacks was in the file after each round's kill -9", acked)
	} else {
		b.Logf("on the memory table: nothing durable, nothing checked")
	}
	benchkit.Report(b, "ratio", benchkit.Summarize(rs.Ratios()))
	b.ReportMetric(benchkit.Median(rs.Floors()), "bare-req/s")
	b.ReportMetric(benchkit.Median(rs.Subjects()), "webhook-req/s")
	b.ReportMetric(benchkit.Median(bareCPU), "bare-cpu-us/cb")
	b.ReportMetric(benchkit.Median(hookCPU), "webhook-cpu-us/cb")
	b.ReportMetric(benchkit.MiB(peak), "peak-RSS-MiB")
}
