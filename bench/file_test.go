package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/callfn/callfn/testkit/benchkit"
)

// BenchmarkFileSize: how much the embedded file grows per stored event,
// and the webhook server's memory, after CALLFN_BENCH_FILE_CALLBACKS
// (default 100,000, the figure; about 10 s each here) unique
// callbacks sent over 64 connections to a `callfn serve`-like server
// process on a new file, then killed (kill -9). Two streams:
//
//   - calls-of-3: whole one-to-one calls, each three callbacks shaped as
//     Tencent's samples (after-start, member changed, after-end; 290 to 420
//     bytes, about 370 on average) among 1,000 users;
//   - new-calls: the load of BenchmarkIngestHTTP, each callback (about 290
//     bytes) starting a call of its own: a summary and index entries per
//     event, the worst case.
//
// The file grows in steps (bbolt's: doubling, then 16 MiB at a time), so a
// small N overstates bytes/event (about 5,600 at 3,000 callbacks).
//
// Metrics: bytes/event (the file's size over the events in it; the goal is
// ≤ 1,536), body-bytes/event (the callbacks' mean size), events, file-MiB;
// peak-RSS-MiB (the server's VmHWM; the goal is < 64) and, sampled every
// 50 ms, the largest peak-RssFile-MiB (resident pages of mapped files: the
// database's mapping, and the binary's) and peak-RssAnon-MiB (the process's
// own memory).
func BenchmarkFileSize(b *testing.B) {
	n := envInt(b, envFileCallbacks, 100000)
	for _, c := range []struct {
		name string
		gen  func(int) callback
	}{
		{"calls-of-3", callSequence},
		{"new-calls", startCallback},
	} {
		b.Run(c.name, func(b *testing.B) {
			var body int
			for i := range n {
				body += len(c.gen(i).body)
			}
			for b.Loop() {
				fileSize(b, c.gen, n, float64(body)/float64(n))
			}
		})
	}
}

func fileSize(b *testing.B, gen func(int) callback, n int, body float64) {
	const conns = 64
	db := filepath.Join(b.TempDir(), "callfn.db")
	s := startServer(b, "webhook", "filesize", "CALLFN_STORE=bolt:"+db, "CALLFN_TENCENT_SDKAPPID="+strconv.Itoa(appID))
	sampler := benchkit.SampleMem(s.pid(), 50*time.Millisecond)
	acked, took := load(b, s.addr, gen, 0, n, conns)
	mem, err := sampler.Stop()
	if err != nil {
		b.Fatal(err)
	}
	s.stop()
	if acked != int64(n) {
		b.Fatalf("acknowledged %d of %d callbacks", acked, n)
	}
	stored, err := countStored(db)
	if err != nil {
		b.Fatal(err)
	}
	if stored != acked {
		b.Fatalf("after kill -9, %d events in the file, %d acknowledged", stored, acked)
	}
	fi, err := os.Stat(db)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d callbacks in %.1fs: the file is %.1f MiB, %.0f bytes per event of %.0f bytes; server peak RSS %.1f MiB (largest samples: %.1f MiB mapped files, %.1f MiB own)",
		n, took.Seconds(), benchkit.MiB(fi.Size()), float64(fi.Size())/float64(stored), body,
		benchkit.MiB(mem.Peak), benchkit.MiB(mem.File), benchkit.MiB(mem.Anon))
	b.ReportMetric(float64(fi.Size())/float64(stored), "bytes/event")
	b.ReportMetric(body, "body-bytes/event")
	b.ReportMetric(float64(stored), "events")
	b.ReportMetric(benchkit.MiB(fi.Size()), "file-MiB")
	b.ReportMetric(benchkit.MiB(mem.Peak), "peak-RSS-MiB")
	b.ReportMetric(benchkit.MiB(mem.File), "peak-RssFile-MiB")
	b.ReportMetric(benchkit.MiB(mem.Anon), "peak-RssAnon-MiB")
}
