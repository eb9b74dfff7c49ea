package startcall_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// timed wraps h, adding the time it spends answering to *total.
func timed(h http.Handler, total *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		h.ServeHTTP(w, r)
		total.Add(int64(time.Since(t)))
	})
}

// BenchmarkStartCall starts calls one after another through POST /calls,
// against the sandbox, and reports per 1,000 calls the UserSigs made and
// the connections opened to Tencent, and the time callfn adds to a call as
// a ratio to the sandbox's own answer time (callfn's handler time minus the
// sandbox's, over the sandbox's).
func BenchmarkStartCall(b *testing.B) {
	sb := sandbox.New(sandbox.Options{Scale: sandbox.Instant, RateLimit: -1, Logger: quiet})
	defer sb.Close()
	var sbTime, fnTime, conns atomic.Int64
	sbSrv := httptest.NewUnstartedServer(timed(sb, &sbTime))
	sbSrv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	sbSrv.Start()
	defer sbSrv.Close()
	st := local.NewMemory(store.Options{})
	defer st.Close()
	cfg := sb.Config(config.Config{APIToken: apiToken, TencentRegion: "china"}, sbSrv.URL)
	tc, err := rest.FromConfig(cfg, rest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	fn, err := startcall.New(cfg, st, startcall.Options{Client: tc, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(timed(fn.Handler(), &fnTime))
	defer srv.Close()
	payload := body(nil)
	client := srv.Client()
	b.ResetTimer()
	for range b.N {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/calls", strings.NewReader(payload))
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(sb.UserSigs())*1000/n, "usersigs/1000calls")
	b.ReportMetric(float64(conns.Load())*1000/n, "conns/1000calls")
	b.ReportMetric(float64(fnTime.Load()-sbTime.Load())/float64(sbTime.Load()), "added/sandbox")
}
