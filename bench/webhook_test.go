package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/store/open"
	"github.com/callfn/callfn/shared/webhook"
)

const appID = 1400000001

// TestMain lets this binary serve as a benchmark server process:
// CALLFN_BENCH_ROLE=bare (a net/http handler that only reads the body and
// answers OK) or webhook (the webhook on the embedded table at CALLFN_STORE).
func TestMain(m *testing.M) {
	// Logs are formatted as in production, then dropped, in every role.
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	switch os.Getenv("CALLFN_BENCH_ROLE") {
	case "":
		os.Exit(m.Run())
	case "bare":
		serveRole(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("OK"))
		}))
	case "webhook":
		cfg, err := config.FromEnv()
		if err != nil {
			fatal(err)
		}
		st, err := open.Open(context.Background(), cfg.Store, store.Options{})
		if err != nil {
			fatal(err)
		}
		serveRole(platform.Handler(webhook.New(cfg, st, nil)))
	}
}

func fatal(err error) { fmt.Fprintln(os.Stderr, err); os.Exit(1) }

// serveRole serves h on a loopback port, printing the address on stdout.
// With CALLFN_BENCH_CPUPROFILE set, it profiles itself until SIGTERM.
func serveRole(h http.Handler) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	if path := os.Getenv("CALLFN_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fatal(err)
		}
		pprof.StartCPUProfile(f)
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		go func() {
			<-stop
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	fmt.Println(ln.Addr().String())
	fatal(http.Serve(ln, h))
}

// server is a benchmark server process.
type server struct {
	cmd  *exec.Cmd
	addr string
}

func startServer(b *testing.B, role string, env ...string) *server {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "CALLFN_BENCH_ROLE="+role)...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line := make([]byte, 64)
	n, err := out.Read(line)
	if err != nil {
		cmd.Process.Kill()
		b.Fatalf("%s server did not start: %v", role, err)
	}
	s := &server{cmd: cmd, addr: strings.TrimSpace(string(line[:n]))}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return s
}

// peakRSS is the process's largest resident set so far, in bytes.
func (s *server) peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// startCallback is a unique Tencent v4 after-start callback.
func startCallback(i int) []byte {
	return fmt.Appendf(nil, `{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"bench-%d","CallMediaType":"Audio","ChatGroupId":"","RoomId":"r%d","RoomIdType":2},"UserList":[{"User_Account":144115212830834855,"Status":"Calling"},{"User_Account":"user-%d","Status":"Waiting"}],"EventTime":%d}`,
		i, i, i, 1740464128807+int64(i))
}

// load sends n unique callbacks over conns keep-alive connections and
// returns the acknowledged count and the requests per second.
func load(b *testing.B, addr string, n, conns int) (int64, float64) {
	url := "http://" + addr + "/webhook/tencent?SdkAppid=" + strconv.Itoa(appID) + "&CallbackCommand=Call.CallbackAfterStartCall&contenttype=json"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	var next, acked atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				resp, err := client.Post(url, "application/json", bytes.NewReader(startCallback(int(i))))
				if err != nil {
					b.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && (bytes.Contains(body, []byte(`"ActionStatus":"OK"`)) || string(body) == "OK") {
					acked.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return acked.Load(), float64(n) / time.Since(start).Seconds()
}

// BenchmarkIngestHTTP: webhook ingestion over HTTP with the embedded table,
// 64 connections, unique callbacks, every acknowledged event durable, as a
// ratio to a bare net/http handler under the same load; and the webhook
// server's peak RSS. Each b.N round sends 1000 callbacks to each server.
func BenchmarkIngestHTTP(b *testing.B) {
	const conns = 64
	n := 1000 * b.N
	dir := b.TempDir()
	db := filepath.Join(dir, "bench.db")
	bare := startServer(b, "bare")
	hook := startServer(b, "webhook", "CALLFN_STORE=bolt:"+db, "CALLFN_TENCENT_SDKAPPID="+strconv.Itoa(appID))
	load(b, bare.addr, 200, conns) // warm both
	b.ResetTimer()
	_, bareRPS := load(b, bare.addr, n, conns)
	acked, hookRPS := load(b, hook.addr, n, conns)
	b.StopTimer()
	rss := hook.peakRSS(b)
	hook.cmd.Process.Signal(syscall.SIGTERM)
	hook.cmd.Wait()

	// Every acknowledged callback must be in the table once the server is gone.
	st, err := bolt.Open(db, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	stored := 0
	st.ListEvents(context.Background(), "", func(*call.Event) error { stored++; return nil })
	if int64(stored) != acked || acked != int64(n) {
		b.Fatalf("sent %d, acknowledged %d, stored %d", n, acked, stored)
	}
	b.ReportMetric(bareRPS, "bare-req/s")
	b.ReportMetric(hookRPS, "webhook-req/s")
	b.ReportMetric(hookRPS/bareRPS, "ratio-to-bare")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
}

// BenchmarkHandlerCost: CPU time and allocations per callback in the
// webhook handler with the memory table, as ratios to decoding the same
// body with encoding/json alone.
func BenchmarkHandlerCost(b *testing.B) {
	st := local.NewMemory(store.Options{})
	h := platform.Handler(webhook.New(config.Config{TencentAppID: appID}, st, nil))
	url := "/webhook/tencent?SdkAppid=" + strconv.Itoa(appID) + "&CallbackCommand=Call.CallbackAfterStartCall"
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = startCallback(i)
	}
	// Each side is measured in its own phase, so that reading the
	// allocation counters never lands inside the other's timing.
	phase := func(f func(body []byte)) (time.Duration, uint64) {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		a0, t0 := ms.Mallocs, time.Now()
		for _, body := range bodies {
			f(body)
		}
		d := time.Since(t0)
		runtime.ReadMemStats(&ms)
		return d, ms.Mallocs - a0
	}
	b.ResetTimer()
	decodeNs, decodeAllocs := phase(func(body []byte) {
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	})
	handlerNs, handlerAllocs := phase(func(body []byte) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, url, bytes.NewReader(body)))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	b.StopTimer()
	nOps := float64(b.N)
	b.ReportMetric(float64(handlerNs.Nanoseconds())/nOps, "handler-ns/cb")
	b.ReportMetric(float64(handlerAllocs)/nOps, "handler-allocs/cb")
	b.ReportMetric(float64(handlerNs)/float64(decodeNs), "cpu-ratio-to-json")
	b.ReportMetric(float64(handlerAllocs)/float64(decodeAllocs), "allocs-ratio-to-json")
}
