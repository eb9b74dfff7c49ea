package bench

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/webhook"
	"github.com/callfn/callfn/testkit/benchkit"
)

const appID = 1400000001

// Environment variables that size the benchmarks (see doc.go).
const (
	envRounds        = "CALLFN_BENCH_ROUNDS"
	envRoundSize     = "CALLFN_BENCH_ROUND_CALLBACKS"
	envFileCallbacks = "CALLFN_BENCH_FILE_CALLBACKS"
	envGroupUsers    = "CALLFN_BENCH_GROUP_USERS"
	envSameCall      = "CALLFN_BENCH_SAME_CALL"
	envSameCallProcs = "CALLFN_BENCH_SAME_CALL_PROCS"
	envCPUProfile    = "CALLFN_BENCH_CPUPROFILE"
	envIngestStore   = "CALLFN_BENCH_INGEST_STORE"
)

// envInt is the positive integer in the environment variable name, or def.
func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// TestMain lets this binary serve as a benchmark server process:
// CALLFN_BENCH_ROLE=bare (a net/http handler that only reads the body and
// answers OK) or webhook (the webhook on the table CALLFN_STORE names).
func TestMain(m *testing.M) {
	// Logs are formatted as in production, then dropped, in every role.
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	switch os.Getenv("CALLFN_BENCH_ROLE") {
	case "":
		code := m.Run()
		closeDynamoServer()
		os.Exit(code)
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
		st, err := openTable(cfg.Store)
		if err != nil {
			fatal(err)
		}
		serveRole(webhookHandler(cfg, st))
	}
}

func fatal(err error) { fmt.Fprintln(os.Stderr, err); os.Exit(1) }

// webhookHandler is the webhook function over st, as functions/webhook
// builds it, as an http.Handler.
func webhookHandler(cfg config.Config, st store.EventWriter) http.Handler {
	fn, err := webhook.New(cfg, st, webhook.Options{})
	if err != nil {
		fatal(err)
	}
	return platform.Handler(fn)
}

// serveRole serves h on a loopback port, printing the address on stdout.
// With CALLFN_BENCH_CPUPROFILE set, it profiles itself until SIGTERM.
func serveRole(h http.Handler) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	if path := os.Getenv(envCPUProfile); path != "" {
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
	cmd     *exec.Cmd
	addr    string
	profile bool
	stopped bool
}

// startServer starts this binary as a server in role; name tells its CPU
// profile apart (CALLFN_BENCH_CPUPROFILE=PREFIX writes PREFIX-name.pprof).
func startServer(b *testing.B, role, name string, env ...string) *server {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "CALLFN_BENCH_ROLE="+role)...)
	prefix := os.Getenv(envCPUProfile)
	if prefix != "" {
		cmd.Env = append(cmd.Env, envCPUProfile+"="+prefix+"-"+name+".pprof")
	}
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
		cmd.Wait()
		b.Fatalf("%s server did not start: %v", role, err)
	}
	s := &server{cmd: cmd, addr: strings.TrimSpace(string(line[:n])), profile: prefix != ""}
	b.Cleanup(s.stop)
	return s
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// cpu is the CPU time the server has used so far.
func (s *server) cpu(b *testing.B) time.Duration {
	d, err := benchkit.PidCPU(s.pid())
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// mem is the server's memory now, with its peak so far.
func (s *server) mem(b *testing.B) benchkit.Mem {
	m, err := benchkit.ReadMem(s.pid())
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// stop kills the server as kill -9 would, so nothing it has not made
// durable survives; a profiling server gets SIGTERM, to write its profile.
func (s *server) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	if s.profile {
		s.cmd.Process.Signal(syscall.SIGTERM)
	} else {
		s.cmd.Process.Kill()
	}
	s.cmd.Wait()
}

// callback is one Tencent callback: its command (in the URL, as Tencent
// sends it) and its body.
type callback struct {
	command string
	body    []byte
}

func (c callback) url(base string) string {
	return base + "/webhook/tencent?SdkAppid=" + strconv.Itoa(appID) + "&CallbackCommand=" + c.command + "&contenttype=json"
}

const (
	cmdStart  = "Call.CallbackAfterStartCall"
	cmdMember = "Call.CallbackAfterMemberChanged"
	cmdEnd    = "Call.CallbackAfterEndCall"
	t0        = int64(1740464128807) // ms
)

// startCallback is a unique Tencent v4 after-start callback, each of a new
// call (about 290 bytes): the load of BenchmarkIngestHTTP.
func startCallback(i int) callback {
	return callback{cmdStart, fmt.Appendf(nil, `{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"bench-%d","CallMediaType":"Audio","ChatGroupId":"","RoomId":"r%d","RoomIdType":2},"UserList":[{"User_Account":144115212830834855,"Status":"Calling"},{"User_Account":"user-%d","Status":"Waiting"}],"EventTime":%d}`,
		i, i, i, t0+int64(i))}
}

// callID is a call id shaped as Tencent's (a UUID), unique for n.
func callID(n int) string { return fmt.Sprintf("%08x-bc8a-469c-a334-%012x", n, n) }

// account is one of 1,000 numeric user accounts, as Tencent's look.
func account(n int) int64 { return 144115212830834855 + int64(n%1000)*7919 }

// callSequence is the i-th callback of a stream of whole calls, each as
// Tencent reports a one-to-one call that was answered: after-start, member
// changed (the callee answers), after-end, shaped as Tencent's samples
// (290 to 420 bytes).
func callSequence(i int) callback {
	n, step := i/3, i%3
	id, caller, callee := callID(n), account(n), account(n*13+1)
	at := t0 + int64(n)*1000
	switch step {
	case 0:
		return callback{cmdStart, fmt.Appendf(nil, `{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"%s","CallMediaType":"Audio","ChatGroupId":"","RoomId":"","RoomIdType":1},"UserList":[{"User_Account":%d,"Status":"Calling"},{"User_Account":%d,"Status":"Waiting"}],"EventTime":%d}`,
			id, caller, callee, at)}
	case 1:
		return callback{cmdMember, fmt.Appendf(nil, `{"CallbackCommand":"Call.CallbackAfterMemberChanged","CallId":"%s","UserList":[{"User_Account":%d,"Status":"Calling"},{"User_Account":%d,"Status":"Calling"}],"ChangedUserList":[{"User_Account":%d,"ActionType":"Answer"}],"EventTime":%d}`,
			id, caller, callee, callee, at+3000)}
	}
	return callback{cmdEnd, fmt.Appendf(nil, `{"CallbackCommand":"Call.CallbackAfterEndCall","CallRecord":{"CallId":"%s","Caller_Account":%d,"MediaType":"Audio","CallType":"SingleCall","StartTime":%d,"AcceptTime":%d,"EndTime":%d,"CallResult":"NormalEnd","CalleeList_Account":[%d,%d],"RoomId":"123456","RoomIdType":1},"EventTime":%d}`,
		id, caller, at/1000, at/1000+3, at/1000+62, caller, callee, at+62000)}
}

// acknowledged reports whether a reply acknowledges a callback: 200 with
// Tencent's OK (the webhook) or a plain OK (the bare handler).
func acknowledged(status int, body []byte) bool {
	return status == http.StatusOK && (bytes.Contains(body, []byte(`"ActionStatus":"OK"`)) || string(body) == "OK")
}

// load sends callbacks gen(first) .. gen(first+n-1) to addr over conns
// keep-alive connections, conns at a time, and returns how many were
// acknowledged and how long it took.
func load(b *testing.B, addr string, gen func(int) callback, first, n, conns int) (int64, time.Duration) {
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	var next, acked atomic.Int64
	next.Store(int64(first))
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= first+n {
					return
				}
				cb := gen(i)
				resp, err := client.Post(cb.url(base), "application/json", bytes.NewReader(cb.body))
				if err != nil {
					b.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if acknowledged(resp.StatusCode, body) {
					acked.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return acked.Load(), time.Since(start)
}
