package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/testkit"
)

const token = "records-test-token"

// env is the records function over a sandbox Tencent (on loopback) and a
// memory table.
type env struct {
	t    *testing.T
	api  string
	clk  *testkit.Clock
	now  int64 // the clock's start, Unix seconds
	sb   *sandbox.Sandbox
	tsrv *httptest.Server // the sandbox
	hits *hitCounter
	st   store.Store
	svc  *records.Service
	fn   platform.Function
	srv  *httptest.Server // the records function
}

type envOptions struct {
	sandbox sandbox.Options
	store   store.Store
	token   *string
	running bool // the clock follows the real time
	noKey   bool // configure no Tencent app key (the client is given anyway)
}

func newEnv(t testing.TB, api string, o envOptions) *env {
	t.Helper()
	// One settable clock for the sandbox, the client, the table and the
	// records service. It starts at the real time (UserSigs are made at the
	// real time and checked at this one); a running clock follows the real
	// time (for the sandbox's per-second rate limits) from the same start.
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
	if o.running {
		clk.Run()
	}
	o.sandbox.Clock = clk.Now
	o.sandbox.Scale = sandbox.Instant
	o.sandbox.Logger = discardLogger()
	sb := sandbox.New(o.sandbox)
	hits := &hitCounter{perSecond: map[int64]int{}}
	tsrv := httptest.NewServer(hits.wrap(sb))
	st := o.store
	if st == nil {
		st = local.NewMemory(store.Options{Now: clk.Now})
	}
	tc, err := rest.New(rest.Options{SDKAppID: sb.SDKAppID(), Key: sandbox.DefaultKey, Endpoint: tsrv.URL, Now: clk.Now,
		Retry: rest.Retry{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond, Budget: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	tok := token
	if o.token != nil {
		tok = *o.token
	}
	// The sandbox's app and key: /me/calls verifies UserSigs with them.
	cfg := config.Config{APIToken: tok, TencentAPI: api, TencentAppID: sb.SDKAppID(), TencentKey: sandbox.DefaultKey}
	if o.noKey {
		cfg.TencentAppID, cfg.TencentKey = 0, ""
	}
	svc, err := records.NewService(cfg, st, records.Options{Client: tc, Now: clk.Now, TencentTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fn := svc.Function()
	srv := httptest.NewServer(fn.Handler())
	t.Cleanup(func() { srv.Close(); tsrv.Close(); sb.Close(); st.Close() })
	e := &env{api: api, clk: clk, now: clk.Now().Unix(), sb: sb, tsrv: tsrv, hits: hits, st: st, svc: svc, fn: fn, srv: srv}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	return e
}

// hitCounter counts the requests that reach the sandbox, by command and by
// second of real time.
type hitCounter struct {
	mu        sync.Mutex
	total     int
	perSecond map[int64]int
}

func (h *hitCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.total++
		h.perSecond[time.Now().Unix()]++
		h.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (h *hitCounter) count() int { h.mu.Lock(); defer h.mu.Unlock(); return h.total }

func (h *hitCounter) maxPerSecond() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := 0
	for _, n := range h.perSecond {
		m = max(m, n)
	}
	return m
}

// played adds n ended records to the sandbox, one a minute from start
// (Unix seconds): even ones NormalEnd single calls, odd ones rejected group
// calls.
func (e *env) played(start int64, n int, prefix string) []sandbox.Record {
	var recs []sandbox.Record
	for i := range n {
		at := start + int64(i)*60
		r := sandbox.Record{CallId: fmt.Sprintf("%s-%04d", prefix, i), Caller_Account: "alice", MediaType: "Video",
			CallType: "SingleCall", StartTime: at, AcceptTime: at + 2, EndTime: at + 30, CallResult: "NormalEnd",
			CalleeList_Account: []string{"alice", "bob"}, RoomId: "1234", RoomIdType: 1}
		if i%2 == 1 {
			r.CallResult, r.CallType, r.AcceptTime, r.CalleeList_Account = "Reject", "MultiCall", 0, []string{"bob", "carol"}
		}
		recs = append(recs, r)
	}
	e.sb.AddPlayed(recs...)
	return recs
}

// callback stores a callback-like event for callID in the table.
func (e *env) callback(callID string, at int64, f call.Facts) {
	ev := call.Event{Provider: call.Tencent, Channel: tencent.V4, Command: "Call.CallbackAfterStartCall", Event: "call_started",
		CallID: callID, EventTime: at, DeliveryID: fmt.Sprintf("cb-%s-%d-%s", callID, at, f.Status), Facts: f, Raw: "{}"}
	if _, err := e.st.PutEvent(context.Background(), &ev); err != nil {
		panic(err)
	}
}

// get sends an authenticated GET to the records function and decodes the
// answer into out (when not nil).
func (e *env) get(path string, out any) (int, http.Header, map[string]any) {
	e.t.Helper()
	return getWith(e.t, e.srv.URL+path, "Bearer "+token, out)
}

func getWith(t *testing.T, url, auth string, out any) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req, out)
}

// do sends req and decodes the answer, a JSON object, into out (when not
// nil and the status is 200).
func do(t *testing.T, req *http.Request, out any) (int, http.Header, map[string]any) {
	t.Helper()
	url := req.URL.String()
	resp, body := testkit.Do(t, req)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %d, not a JSON object: %s", url, resp.StatusCode, body)
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func bothAPIs(t *testing.T, f func(t *testing.T, api string)) {
	for _, api := range []string{tencent.V4, tencent.V1} {
		t.Run(api, func(t *testing.T) { f(t, api) })
	}
}

func ms(sec int64) int64 { return sec * 1000 }
