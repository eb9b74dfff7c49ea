package rest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// env is a sandbox on a loopback HTTP server and a client pointed at it.
type env struct {
	t      testing.TB
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	conns  atomic.Int64 // TCP connections the server accepted
	client *rest.Client

	mu      sync.Mutex
	randoms []string // every request's random query parameter
}

// fastRetry keeps retry tests quick; the logic is the same.
var fastRetry = rest.Retry{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: time.Second}

func newEnv(t testing.TB, so sandbox.Options, co rest.Options) *env {
	t.Helper()
	e := &env{t: t, sb: sandbox.New(so)}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.randoms = append(e.randoms, r.URL.Query().Get("random"))
		e.mu.Unlock()
		e.sb.ServeHTTP(w, r)
	}))
	e.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			e.conns.Add(1)
		}
	}
	e.srv.Start()
	t.Cleanup(func() {
		e.srv.Close()
		e.sb.Close()
	})
	if co.SDKAppID == 0 {
		co.SDKAppID = e.sb.SDKAppID()
	}
	if co.Key == "" && co.Signer == nil {
		co.Key = sandbox.DefaultKey
	}
	if co.Endpoint == "" && co.Region == "" {
		co.Endpoint = e.srv.URL
	}
	if co.Retry == (rest.Retry{}) {
		co.Retry = fastRetry
	}
	c, err := rest.New(co)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

func intp(v int) *int       { return &v }
func int64p(v int64) *int64 { return &v }

// callReq is a valid start_call_by_robot body.
func callReq(callees ...string) *rest.StartCallRequest {
	if len(callees) == 0 {
		callees = []string{"jack"}
	}
	return &rest.StartCallRequest{Robot_Account: "robot", CalleeList_Account: callees, Timeout: 30000,
		CallInfo: rest.CallInfo{MediaType: "Video", RoomId: []byte(`"roomid-test"`), RoomIdType: intp(2)}}
}

func (e *env) start(req *rest.StartCallRequest) (*rest.StartCallResponse, rest.Meta, error) {
	e.t.Helper()
	if err := req.Validate(); err != nil {
		e.t.Fatal(err)
	}
	return e.client.StartCallByRobot(context.Background(), req)
}

func (e *env) mustStart(req *rest.StartCallRequest) *rest.StartCallResponse {
	e.t.Helper()
	resp, _, err := e.start(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// distinctRandoms checks every request carried its own uint32 random.
func (e *env) distinctRandoms() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range e.randoms {
		if _, err := strconv.ParseUint(r, 10, 32); err != nil {
			e.t.Errorf("random %q is not a uint32", r)
		}
		if seen[r] {
			e.t.Errorf("random %s was sent twice", r)
		}
		seen[r] = true
	}
}
