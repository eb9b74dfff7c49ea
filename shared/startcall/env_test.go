package startcall_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/testkit"
)

const apiToken = "test-api-token-0123456789"

var quiet = slog.New(slog.DiscardHandler)

// fixture is the startcall function on a loopback server, talking to the
// sandbox on another, over a memory table.
type fixture struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	sbSrv *httptest.Server
	conns atomic.Int64 // connections the sandbox accepted
	st    store.Store
	cfg   config.Config
	fn    platform.Function
	srv   *httptest.Server
}

type setup struct {
	sandbox sandbox.Options
	config  func(*config.Config)
	http    *http.Client     // Tencent's connections (rest.NewHTTPClient())
	now     func() time.Time // the function's and the UserSigs' clock (time.Now)
	store   store.Store      // a memory table when nil
	prefix  string           // serve the sandbox under this path, as `make run` may
	log     *bytes.Buffer
}

func newFixture(t *testing.T, s setup) *fixture {
	t.Helper()
	f := &fixture{t: t}
	if s.sandbox.Scale == 0 {
		s.sandbox.Scale = sandbox.Instant
	}
	if s.sandbox.Logger == nil {
		s.sandbox.Logger = quiet
	}
	f.sb = sandbox.New(s.sandbox)
	var h http.Handler = f.sb
	if s.prefix != "" {
		mux := http.NewServeMux()
		mux.Handle(s.prefix+"/", http.StripPrefix(s.prefix, f.sb))
		h = mux
	}
	f.sbSrv = httptest.NewUnstartedServer(h)
	f.sbSrv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.sbSrv.Start()
	f.st = s.store
	if f.st == nil {
		f.st = local.NewMemory(store.Options{})
	}
	base := f.sbSrv.URL + s.prefix
	f.cfg = f.sb.Config(config.Config{APIToken: apiToken, TencentRegion: "china", Store: "memory:"}, base)
	if s.config != nil {
		s.config(&f.cfg)
	}
	logger := quiet
	if s.log != nil {
		logger = slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// As functions/startcall builds them, with quick retries, and the
	// sandbox (at base) answering the Cloud API too.
	tc, err := rest.FromConfig(f.cfg, rest.Options{HTTPClient: s.http, Now: s.now,
		Retry: rest.Retry{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond, Budget: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ingest, err := rest.IngesterFromConfig(f.cfg, tc, rest.IngestOptions{Endpoint: base})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := startcall.New(f.cfg, f.st, startcall.Options{Client: tc, Ingester: ingest, Now: s.now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	f.fn = fn
	f.srv = httptest.NewServer(fn.Handler())
	t.Cleanup(func() {
		f.srv.Close()
		f.sbSrv.Close()
		f.sb.Close()
		f.st.Close()
	})
	return f
}

// reply is a decoded JSON reply.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r reply) str(k string) string {
	s, _ := r.body[k].(string)
	return s
}

func (f *fixture) post(path, body, token string) reply {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, raw := testkit.Do(f.t, req)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		f.t.Fatalf("%s: the reply is not JSON: %s", path, raw)
	}
	return r
}

func (f *fixture) startCall(body string) reply {
	f.t.Helper()
	return f.post("/calls", body, apiToken)
}

func (f *fixture) wait() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.sb.Wait(ctx); err != nil {
		f.t.Fatal(err)
	}
}

// body builds a request body from a base and edits.
func body(edit func(m map[string]any)) string {
	m := map[string]any{
		"Robot_Account":      "robot",
		"CalleeList_Account": []any{"jack"},
		"Timeout":            30000,
		"UserData":           "",
		"CallInfo":           map[string]any{"MediaType": "Video", "RoomId": "roomid-test", "RoomIdType": 2},
	}
	if edit != nil {
		edit(m)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(m)
	return b.String()
}
