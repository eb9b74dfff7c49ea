package rest_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// BenchmarkStartCallByRobot sends start_call_by_robot one call after
// another to the sandbox and reports per 1,000 calls the UserSigs made and
// the connections opened, and the client's own time per call as a ratio to
// the sandbox's answer time.
func BenchmarkStartCallByRobot(b *testing.B) {
	e := newEnv(b, sandbox.Options{Scale: sandbox.Instant, RateLimit: -1}, rest.Options{})
	var sbTime atomic.Int64
	inner := e.srv.Config.Handler
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		inner.ServeHTTP(w, r)
		sbTime.Add(int64(time.Since(start)))
	})
	req := callReq("jack")
	if err := req.Validate(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, _, err := e.client.StartCallByRobot(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	total := time.Since(start)
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(e.client.Signer().Generations())*1000/n, "usersigs/1000calls")
	b.ReportMetric(float64(e.conns.Load())*1000/n, "conns/1000calls")
	b.ReportMetric(float64(int64(total)-sbTime.Load())/float64(sbTime.Load()), "added/sandbox")
}
