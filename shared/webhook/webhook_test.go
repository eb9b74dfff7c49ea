package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/webhook"
	"github.com/callfn/callfn/shared/yunxin"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/dynamolocal"
)

// Secrets the tests configure; none may ever appear in a log line.
const (
	appID         = 1400000001
	callbackToken = "cb-token-Zq8vK2"
	tencentKey    = "tencent-secret-key-9f3e"
	yunxinKey     = "yx-appkey-158983881e4d"
	yunxinSecret  = "yx-app-secret-77c1d0"
	fakeUserSig   = "eJwtzEELgjAYxvGvsvZS0fakeUserSig"
)

var t0 = time.Unix(1740464200, 0) // the handler's clock, unless a test moves it

// tencentFixture is one of Tencent's callback samples, kept once beside the
// parser that reads them, in shared/tencent/callback/testdata.
func tencentFixture(t testing.TB, name string) []byte {
	t.Helper()
	return testkit.Fixture(t, "..", "..", "tencent", "callback", "testdata", name)
}

func baseConfig() config.Config {
	return config.Config{
		TencentAppID: appID, TencentKey: tencentKey,
		YunxinAppKey: yunxinKey, YunxinSecret: yunxinSecret,
		APIToken: "api-token-not-for-webhooks",
	}
}

// signedConfig is baseConfig with a Tencent callback token: every Tencent
// callback must then be signed.
func signedConfig() config.Config {
	cfg := baseConfig()
	cfg.CallbackToken = callbackToken
	return cfg
}

// countingStore counts PutEvent calls and can fail or block them.
type countingStore struct {
	store.Store
	puts  atomic.Int32
	fail  error
	block chan struct{} // when set, PutEvent waits on it (after signalling entered)
	enter chan struct{}
}

func (s *countingStore) PutEvent(ctx context.Context, ev *call.Event) (bool, error) {
	s.puts.Add(1)
	if s.enter != nil {
		s.enter <- struct{}{}
	}
	if s.block != nil {
		<-s.block
	}
	if s.fail != nil {
		return false, s.fail
	}
	return s.Store.PutEvent(ctx, ev)
}

type env struct {
	t     testing.TB
	cfg   config.Config
	st    *countingStore
	clock *testkit.Clock
	h     http.Handler
}

func newEnv(t testing.TB, cfg config.Config, st store.Store) *env {
	t.Helper()
	if st == nil {
		st = local.NewMemory(store.Options{})
	}
	e := &env{t: t, cfg: cfg, st: &countingStore{Store: st}, clock: testkit.NewClock(t0)}
	fn, err := webhook.New(cfg, e.st, webhook.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.h = fn.Handler()
	return e
}

func boltStore(t testing.TB) store.Store {
	t.Helper()
	st, err := bolt.Open(t.TempDir()+"/x.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// stores runs f against both real local stores.
func stores(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("memory", func(t *testing.T) { f(t, local.NewMemory(store.Options{})) })
	t.Run("bolt", func(t *testing.T) { f(t, boltStore(t)) })
}

type resp struct {
	code int
	body []byte
}

func (e *env) do(path string, q url.Values, h http.Header, body []byte) resp {
	e.t.Helper()
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Body.Bytes()}
}

func v4Query(command string) url.Values {
	return url.Values{"SdkAppid": {strconv.Itoa(appID)}, "CallbackCommand": {command}, "contenttype": {"json"}, "ClientIP": {"10.0.0.1"}, "OptPlatform": {"Android"}}
}

func v1Query(command string) url.Values {
	return url.Values{"sdkappid": {strconv.Itoa(appID)}, "command": {command}, "contenttype": {"json"}, "clientip": {"10.0.0.1"}, "optplatform": {"iOS"}}
}

func signQuery(q url.Values, token string, rt time.Time) url.Values {
	s := strconv.FormatInt(rt.Unix(), 10)
	q.Set("RequestTime", s)
	q.Set("Sign", callback.Sign(token, s))
	return q
}

func (e *env) tencent(q url.Values, body []byte) resp {
	e.t.Helper()
	return e.do("/webhook/tencent", q, nil, body)
}

func (e *env) yunxinSigned(channel string, body []byte) resp {
	e.t.Helper()
	h := http.Header{}
	yunxin.Sign(h, yunxinKey, yunxinSecret, body, e.clock.Now())
	return e.do("/webhook/yunxin/"+channel, nil, h, body)
}

func (e *env) events() []call.Event {
	e.t.Helper()
	var out []call.Event
	err := e.st.ListEvents(context.Background(), "", func(ev *call.Event) error {
		out = append(out, *ev)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) wantStored(n int) []call.Event {
	e.t.Helper()
	evs := e.events()
	if len(evs) != n {
		e.t.Fatalf("%d events stored, want %d: %+v", len(evs), n, evs)
	}
	return evs
}

// wantNoPut checks that nothing was stored, nor even offered to the store.
func (e *env) wantNoPut() {
	e.t.Helper()
	e.wantStored(0)
	if n := e.st.puts.Load(); n != 0 {
		e.t.Errorf("PutEvent called %d times", n)
	}
}

var (
	v4OK = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
	v1OK = `{"ErrorCode":0,"ErrorMessage":"Success"}`
)

// wantV4Fail and wantV1Fail check a refusal is in the generation's format.
func wantV4Fail(t testing.TB, r resp) {
	t.Helper()
	var v struct {
		ActionStatus string
		ErrorInfo    string
		ErrorCode    *int
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.ActionStatus != "FAIL" || v.ErrorCode == nil || *v.ErrorCode == 0 || v.ErrorInfo == "" {
		t.Errorf("v4 refusal body %s (%v), want ActionStatus FAIL and a non-zero ErrorCode", r.body, err)
	}
}

func wantV1Fail(t testing.TB, r resp) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil || v["ErrorCode"] == nil || v["ErrorCode"] == float64(0) || v["ErrorMessage"] == nil {
		t.Errorf("v1 refusal body %s (%v), want a non-zero ErrorCode", r.body, err)
	}
	if _, ok := v["ActionStatus"]; ok {
		t.Errorf("v1 refusal in v4 format: %s", r.body)
	}
}

// --- Tencent: acceptance and what is stored -------------------------------

func TestTencentV4AfterStartStoredExactly(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, baseConfig(), st)
		body := tencentFixture(t, "v4_after_start.json")
		req := httptest.NewRequest(http.MethodPost, "/webhook/tencent?"+v4Query(callback.CmdAfterStartCall).Encode(), bytes.NewReader(body))
		req.Header.Set("X-Request-Id", "req-after-start-1")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != v4OK {
			t.Fatalf("reply %d %s, want 200 %s", rec.Code, rec.Body, v4OK)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		ev := e.wantStored(1)[0]
		if ev.Raw != string(body) {
			t.Fatalf("raw not exactly as received:\n got %q\nwant %q", ev.Raw, body)
		}
		if ev.Provider != call.Tencent || ev.CallID != "055662e1-bc8a-469c-a334-1126c8c17d58" || ev.Event != "call_started" || ev.EventTime != 1740464128807 {
			t.Errorf("event %+v", ev)
		}
		if ev.Facts.Caller != "144115212830834855" || len(ev.Facts.Callees) != 1 || ev.Facts.Callees[0] != "144115212948889925" {
			t.Errorf("accounts not exact: %q %q", ev.Facts.Caller, ev.Facts.Callees)
		}
		if ev.RequestID != "req-after-start-1" || ev.ReceivedAt != t0.UnixMilli() || ev.DeliveryID == "" {
			t.Errorf("requestId %q receivedAt %d deliveryId %q", ev.RequestID, ev.ReceivedAt, ev.DeliveryID)
		}
		s, evs, err := e.st.GetCall(context.Background(), ev.CallID)
		if err != nil || len(evs) != 1 {
			t.Fatalf("GetCall: %v, %d events", err, len(evs))
		}
		if s.Caller != "144115212830834855" || s.Status != call.StatusRinging || s.StartTime != 1740464128807 {
			t.Errorf("summary %+v", s)
		}
		// What `callfn events` prints: one JSON object, with these names.
		b, _ := json.Marshal(ev)
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["provider"] != "tencent" || m["callId"] != ev.CallID || m["event"] != "call_started" || m["eventTime"] != json.Number("1740464128807") || m["raw"] != string(body) {
			t.Errorf("events line %s", b)
		}
	})
}

func TestTencentV1Stored(t *testing.T) {
	e := newEnv(t, baseConfig(), nil)
	body := tencentFixture(t, "v1_caller_start_call.json")
	r := e.tencent(v1Query("caller_start_call"), body)
	if r.code != http.StatusOK || string(r.body) != v1OK {
		t.Fatalf("reply %d %s, want 200 %s", r.code, r.body, v1OK)
	}
	ev := e.wantStored(1)[0]
	if ev.Raw != string(body) || ev.Channel != tencent.V1 || ev.Command != "caller_start_call" || ev.CallID != "aheahfo-eqwnknoihfsd-qweqf" {
		t.Errorf("event %+v", ev)
	}
	if ev.EventTime != 1704695566000 { // seconds in, ms stored
		t.Errorf("eventTime %d", ev.EventTime)
	}
}

// A callback with no event time of its own is dated by its arrival.
func TestTencentNoEventTime(t *testing.T) {
	e := newEnv(t, baseConfig(), nil)
	if r := e.tencent(v1Query("cancel"), []byte(`{"CallId":"c-no-time","Role":"caller","UserId":"a"}`)); r.code != http.StatusOK {
		t.Fatalf("reply %d %s", r.code, r.body)
	}
	ev := e.wantStored(1)[0]
	if ev.EventTime != t0.UnixMilli() {
		t.Errorf("eventTime %d, want arrival %d", ev.EventTime, t0.UnixMilli())
	}
}

// --- Tencent: SDKAppID ----------------------------------------------------

func TestTencentAppIDRefused(t *testing.T) {
	v4 := tencentFixture(t, "v4_after_start.json")
	v1 := tencentFixture(t, "v1_caller_start_call.json")
	for _, tc := range []struct {
		name  string
		appID uint64
		q     url.Values
		body  []byte
		gen   string
	}{
		{"v4 wrong", appID, with(v4Query(callback.CmdAfterStartCall), "SdkAppid", "1400000002"), v4, tencent.V4},
		{"v4 missing", appID, without(v4Query(callback.CmdAfterStartCall), "SdkAppid"), v4, tencent.V4},
		{"v4 empty", appID, with(v4Query(callback.CmdAfterStartCall), "SdkAppid", ""), v4, tencent.V4},
		{"v4 not a number", appID, with(v4Query(callback.CmdAfterStartCall), "SdkAppid", "abc"), v4, tencent.V4},
		{"v1 wrong", appID, with(v1Query("cancel"), "sdkappid", "8888888"), v1, tencent.V1},
		{"v1 missing", appID, without(v1Query("cancel"), "sdkappid"), v1, tencent.V1},
		{"not configured", 0, v4Query(callback.CmdAfterStartCall), v4, tencent.V4},
		{"not configured, v1", 0, v1Query("cancel"), v1, tencent.V1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.TencentAppID = tc.appID
			e := newEnv(t, cfg, nil)
			logs := captureLogs(t)
			r := e.tencent(tc.q, tc.body)
			if r.code != http.StatusForbidden {
				t.Errorf("status %d, want 403", r.code)
			}
			// The log says which SDKAppID was refused, as sent.
			sent := tc.q.Get("SdkAppid") + tc.q.Get("sdkappid")
			refused := 0
			for _, l := range logLines(t, logs) {
				if l["msg"] == "callback refused" {
					refused++
					if got, ok := l["sdkAppId"]; !ok || got != sent {
						t.Errorf("refusal logged sdkAppId %v (present %v), want %q", got, ok, sent)
					}
				}
			}
			if refused != 1 {
				t.Errorf("%d refusal lines logged, want 1", refused)
			}
			if tc.gen == tencent.V4 {
				wantV4Fail(t, r)
			} else {
				wantV1Fail(t, r)
			}
			e.wantNoPut()
		})
	}
}

func with(q url.Values, k, v string) url.Values { q.Set(k, v); return q }
func without(q url.Values, k string) url.Values { q.Del(k); return q }

// --- Tencent: Sign/RequestTime ------------------------------------------

func TestTencentSign(t *testing.T) {
	v4 := tencentFixture(t, "v4_after_start.json")
	v1 := tencentFixture(t, "v1_caller_start_call.json")
	cfg := signedConfig()
	for _, tc := range []struct {
		name string
		q    func(url.Values) url.Values
		ok   bool
	}{
		{"signed now", func(q url.Values) url.Values { return signQuery(q, callbackToken, t0) }, true},
		{"RequestTime 5 min ago", func(q url.Values) url.Values { return signQuery(q, callbackToken, t0.Add(-5*time.Minute)) }, true},
		{"RequestTime 5 min ahead", func(q url.Values) url.Values { return signQuery(q, callbackToken, t0.Add(5*time.Minute)) }, true},
		{"RequestTime 5 min 1 s ago", func(q url.Values) url.Values { return signQuery(q, callbackToken, t0.Add(-5*time.Minute-time.Second)) }, false},
		{"RequestTime 5 min 1 s ahead", func(q url.Values) url.Values { return signQuery(q, callbackToken, t0.Add(5*time.Minute+time.Second)) }, false},
		{"a day old", func(q url.Values) url.Values { return signQuery(q, callbackToken, t0.Add(-24*time.Hour)) }, false},
		{"unsigned", func(q url.Values) url.Values { return q }, false},
		{"Sign missing", func(q url.Values) url.Values { return without(signQuery(q, callbackToken, t0), "Sign") }, false},
		{"RequestTime missing", func(q url.Values) url.Values { return without(signQuery(q, callbackToken, t0), "RequestTime") }, false},
		{"wrong token", func(q url.Values) url.Values { return signQuery(q, "not-the-token", t0) }, false},
		{"Sign for another time", func(q url.Values) url.Values {
			q = signQuery(q, callbackToken, t0)
			q.Set("RequestTime", strconv.FormatInt(t0.Unix()+1, 10))
			return q
		}, false},
		{"Sign with one hex digit changed", func(q url.Values) url.Values {
			q = signQuery(q, callbackToken, t0)
			s := []byte(q.Get("Sign"))
			s[10] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", s[10])+1)%16]
			q.Set("Sign", string(s))
			return q
		}, false},
	} {
		for _, gen := range []string{tencent.V4, tencent.V1} {
			t.Run(gen+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, cfg, nil)
				q, body := v4Query(callback.CmdAfterStartCall), v4
				if gen == tencent.V1 {
					q, body = v1Query("caller_start_call"), v1
				}
				r := e.tencent(tc.q(q), body)
				switch {
				case tc.ok && r.code == http.StatusOK:
					e.wantStored(1)
				case tc.ok:
					t.Fatalf("refused: %d %s", r.code, r.body)
				default:
					if r.code != http.StatusUnauthorized {
						t.Errorf("status %d, want 401", r.code)
					}
					if gen == tencent.V4 {
						wantV4Fail(t, r)
					} else {
						wantV1Fail(t, r)
					}
					e.wantNoPut()
				}
			})
		}
	}
}

// The window is measured against the injected clock, at its exact edges.
func TestTencentSignClockEdges(t *testing.T) {
	cfg := signedConfig()
	body := tencentFixture(t, "v4_after_start.json")
	rt := time.Unix(1740464000, 0)
	for _, tc := range []struct {
		now time.Time
		ok  bool
	}{
		{rt.Add(5 * time.Minute), true},
		{rt.Add(5*time.Minute + 999*time.Millisecond), false},
		{rt.Add(5*time.Minute + time.Second), false},
		{rt.Add(-5 * time.Minute), true},
		{rt.Add(-5*time.Minute - time.Second), false},
	} {
		e := newEnv(t, cfg, nil)
		e.clock.Set(tc.now)
		r := e.tencent(signQuery(v4Query(callback.CmdAfterStartCall), callbackToken, rt), body)
		if tc.ok != (r.code == http.StatusOK) || !tc.ok && r.code != http.StatusUnauthorized {
			t.Errorf("now = RequestTime%+v: status %d", tc.now.Sub(rt), r.code)
		}
	}
}

// Without a token configured, callbacks need no Sign (and one is ignored).
func TestTencentNoTokenConfigured(t *testing.T) {
	e := newEnv(t, baseConfig(), nil)
	if r := e.tencent(v4Query(callback.CmdAfterStartCall), tencentFixture(t, "v4_after_start.json")); r.code != http.StatusOK {
		t.Fatalf("unsigned: %d %s", r.code, r.body)
	}
	q := signQuery(v4Query(callback.CmdAfterEndCall), "whatever", t0.Add(-time.Hour))
	if r := e.tencent(q, tencentFixture(t, "v4_after_end.json")); r.code != http.StatusOK {
		t.Fatalf("stale sign, no token: %d %s", r.code, r.body)
	}
}

// --- Malformed and oversized bodies --------------------------------------

func TestTencentMalformed(t *testing.T) {
	good := string(tencentFixture(t, "v4_after_start.json"))
	for _, tc := range []struct {
		name string
		body string
		code int
	}{
		{"not JSON", `this is not json`, http.StatusBadRequest},
		{"truncated", good[:len(good)/2], http.StatusBadRequest},
		{"empty", ``, http.StatusBadRequest},
		{"null", `null`, http.StatusBadRequest},
		{"array", `[{"CallbackCommand":"Call.CallbackAfterStartCall"}]`, http.StatusBadRequest},
		{"trailing garbage", good + `garbage`, http.StatusBadRequest},
		{"trailing brace", good + `}`, http.StatusBadRequest},
		{"two objects", good + good, http.StatusBadRequest},
		{"wrong type", `{"CallbackCommand":"Call.CallbackAfterStartCall","EventTime":"yesterday"}`, http.StatusBadRequest},
		{"invalid UTF-8", "{\"CallbackCommand\":\"Call.CallbackAfterStartCall\",\"CallInfo\":{\"CallId\":\"a\xff\xfeb\"}}", http.StatusBadRequest},
		{"2 MiB", `{"CallbackCommand":"Call.CallbackAfterStartCall","Pad":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		for _, gen := range []string{tencent.V4, tencent.V1} {
			t.Run(gen+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, baseConfig(), nil)
				q := v4Query(callback.CmdAfterStartCall)
				if gen == tencent.V1 {
					q = v1Query("caller_start_call")
				}
				r := e.tencent(q, []byte(tc.body))
				if r.code != tc.code {
					t.Errorf("status %d, want %d (%s)", r.code, tc.code, r.body)
				}
				if gen == tencent.V4 {
					wantV4Fail(t, r)
				} else {
					wantV1Fail(t, r)
				}
				e.wantStored(0)
			})
		}
	}
}

func TestBodyLimitEdge(t *testing.T) {
	e := newEnv(t, baseConfig(), nil)
	head := `{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"big"}}`
	exact := head + strings.Repeat(" ", webhook.MaxBody-len(head))
	if r := e.tencent(v4Query(callback.CmdAfterStartCall), []byte(exact)); r.code != http.StatusOK {
		t.Errorf("exactly MaxBody: %d %s", r.code, r.body)
	}
	if r := e.tencent(v4Query(callback.CmdAfterStartCall), []byte(exact+" ")); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("MaxBody+1: %d %s", r.code, r.body)
	}
	e.wantStored(1)
}

// --- Yunxin ---------------------------------------------------------------

func TestYunxinStored(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, baseConfig(), st)
		cb := testkit.Fixture(t, "yunxin_callback_20.json")
		r := e.yunxinSigned("callback", cb)
		if r.code != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"errCode":0}` {
			t.Fatalf("callback channel: %d %s", r.code, r.body)
		}
		cp := testkit.Fixture(t, "yunxin_copy_5.json")
		if r := e.yunxinSigned("copy", cp); r.code != http.StatusOK {
			t.Fatalf("copy channel: %d %s", r.code, r.body)
		}
		byRaw := map[string]call.Event{}
		for _, ev := range e.wantStored(2) {
			byRaw[ev.Raw] = ev
		}
		ev, ok := byRaw[string(cb)]
		if !ok || ev.Provider != call.Yunxin || ev.Channel != "callback" || ev.Command != "20" || ev.Event != "call_started" || ev.EventTime != 1573459861008 {
			t.Errorf("callback event %+v (raw kept: %v)", ev, ok)
		}
		ev, ok = byRaw[string(cp)]
		if !ok || ev.Channel != "copy" || ev.CallID != "6290737000999815988" || ev.Event != "call_ended" || ev.EventTime != 1573459861008+42000 {
			t.Errorf("copy event %+v (raw kept: %v)", ev, ok)
		}
		s, _, err := e.st.GetCall(context.Background(), "6290737000999815988")
		if err != nil || s.Status != call.StatusEnded || s.MediaType != call.MediaVideo || s.Caller != "rss02" {
			t.Errorf("summary %+v %v", s, err)
		}
	})
}

func TestYunxinProbe(t *testing.T) {
	for _, ch := range []string{"callback", "copy"} {
		e := newEnv(t, baseConfig(), nil)
		for _, body := range []string{`{}`, " {}\n"} {
			if r := e.yunxinSigned(ch, []byte(body)); r.code != http.StatusOK {
				t.Errorf("%s probe %q: %d %s", ch, body, r.code, r.body)
			}
		}
		e.wantStored(0)
		// Even a probe must be signed.
		if r := e.do("/webhook/yunxin/"+ch, nil, nil, []byte(`{}`)); r.code == http.StatusOK {
			t.Errorf("%s: unsigned probe answered 200", ch)
		}
	}
}

func TestYunxinUnknownEventKept(t *testing.T) {
	e := newEnv(t, baseConfig(), nil)
	body := []byte(`{"eventType":"42","channelId":"c42","new":"field"}`)
	if r := e.yunxinSigned("copy", body); r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if ev := e.wantStored(1)[0]; ev.Event != "eventtype_42" || ev.Raw != string(body) {
		t.Errorf("%+v", ev)
	}
}

func TestYunxinRefused(t *testing.T) {
	body := testkit.Fixture(t, "yunxin_copy_5.json")
	signedAt := func(now time.Time, key, secret string, b []byte) http.Header {
		h := http.Header{}
		yunxin.Sign(h, key, secret, b, now)
		return h
	}
	tampered := bytes.Clone(body)
	tampered[bytes.Index(tampered, []byte("rss02"))+4] = '3' // one byte
	for _, tc := range []struct {
		name string
		h    http.Header
		body []byte
	}{
		{"unsigned", nil, body},
		{"one byte of the body changed", signedAt(t0, yunxinKey, yunxinSecret, body), tampered},
		{"wrong AppKey", signedAt(t0, "another-appkey", yunxinSecret, body), body},
		{"wrong secret", signedAt(t0, yunxinKey, "not-the-secret", body), body},
		{"CurTime 5 min 1 ms ago", signedAt(t0.Add(-5*time.Minute-time.Millisecond), yunxinKey, yunxinSecret, body), body},
		{"CurTime 5 min 1 ms ahead", signedAt(t0.Add(5*time.Minute+time.Millisecond), yunxinKey, yunxinSecret, body), body},
		{"CheckSum missing", func() http.Header {
			h := signedAt(t0, yunxinKey, yunxinSecret, body)
			h.Del("CheckSum")
			return h
		}(), body},
	} {
		for _, ch := range []string{"callback", "copy"} {
			t.Run(ch+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, baseConfig(), nil)
				r := e.do("/webhook/yunxin/"+ch, nil, tc.h, tc.body)
				if r.code != http.StatusUnauthorized {
					t.Errorf("status %d, want 401 (%s)", r.code, r.body)
				}
				if bytes.Contains(r.body, []byte("errCode\":0")) {
					t.Errorf("refusal allows the call: %s", r.body)
				}
				e.wantNoPut()
			})
		}
	}
	// At the window's edges, accepted.
	for _, d := range []time.Duration{5 * time.Minute, -5 * time.Minute} {
		e := newEnv(t, baseConfig(), nil)
		if r := e.do("/webhook/yunxin/copy", nil, signedAt(t0.Add(d), yunxinKey, yunxinSecret, body), body); r.code != http.StatusOK {
			t.Errorf("CurTime %v away: %d %s", d, r.code, r.body)
		}
	}
}

func TestYunxinNotConfigured(t *testing.T) {
	for _, c := range []struct{ key, secret string }{
		{"", ""},
		// An AppKey is no secret: with an empty AppSecret anyone could sign.
		{yunxinKey, ""},
	} {
		cfg := baseConfig()
		cfg.YunxinAppKey, cfg.YunxinSecret = c.key, c.secret
		for _, ch := range []string{"callback", "copy"} {
			e := newEnv(t, cfg, nil)
			for _, body := range []string{`{}`, string(testkit.Fixture(t, "yunxin_copy_5.json"))} {
				h := http.Header{}
				yunxin.Sign(h, c.key, c.secret, []byte(body), t0) // signed with what is configured
				r := e.do("/webhook/yunxin/"+ch, nil, h, []byte(body))
				if r.code/100 != 4 {
					t.Errorf("key %q secret %q, %s: status %d, want a refusal", c.key, c.secret, ch, r.code)
				}
			}
			e.wantStored(0)
		}
	}
}

// Lower-case header names on the wire, through a real listener.
func TestYunxinLowerCaseHeadersOverHTTP(t *testing.T) {
	e := newEnv(t, baseConfig(), nil)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	body := testkit.Fixture(t, "yunxin_callback_20.json")
	signed := http.Header{}
	yunxin.Sign(signed, yunxinKey, yunxinSecret, body, t0)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhook/yunxin/callback", bytes.NewReader(body))
	for _, name := range []string{"AppKey", "CurTime", "MD5", "CheckSum"} {
		req.Header[strings.ToLower(name)] = []string{signed.Get(name)} // sent as written
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	e.wantStored(1)
}

func TestYunxinMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"not JSON", `<xml/>`, http.StatusBadRequest},
		{"trailing garbage", `{"eventType":5}x`, http.StatusBadRequest},
		{"trailing bracket", `{"eventType":5}]`, http.StatusBadRequest},
		{"null", `null`, http.StatusBadRequest},
		{"bad members", `{"eventType":5,"members":"[{"}`, http.StatusBadRequest},
		{"invalid UTF-8", "{\"eventType\":5,\"channelId\":\"\xc3\x28\"}", http.StatusBadRequest},
		{"2 MiB", `{"eventType":5,"ext":"` + strings.Repeat("y", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		for _, ch := range []string{"callback", "copy"} {
			e := newEnv(t, baseConfig(), nil)
			r := e.yunxinSigned(ch, []byte(tc.body))
			if r.code != tc.code {
				t.Errorf("%s %s: status %d, want %d (%s)", ch, tc.name, r.code, tc.code, r.body)
			}
			if !json.Valid(r.body) {
				t.Errorf("%s %s: reply is not JSON: %s", ch, tc.name, r.body)
			}
			e.wantStored(0)
		}
	}
}

// --- Exactly once --------------------------------------------------------

func TestDuplicateDeliveries(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, baseConfig(), st)
		v4 := tencentFixture(t, "v4_after_start.json")
		v1 := tencentFixture(t, "v1_normal_end.json")
		yx := testkit.Fixture(t, "yunxin_copy_5.json")
		for range 2 {
			if r := e.tencent(v4Query(callback.CmdAfterStartCall), v4); r.code != http.StatusOK || string(r.body) != v4OK {
				t.Fatalf("v4: %d %s", r.code, r.body)
			}
			if r := e.tencent(v1Query("callee_call_end"), v1); r.code != http.StatusOK || string(r.body) != v1OK {
				t.Fatalf("v1: %d %s", r.code, r.body)
			}
			if r := e.yunxinSigned("copy", yx); r.code != http.StatusOK {
				t.Fatalf("yunxin: %d %s", r.code, r.body)
			}
			e.clock.Set(e.clock.Now().Add(time.Second)) // a retry arrives later
		}
		e.wantStored(3)
		if n := e.st.puts.Load(); n != 6 {
			t.Errorf("PutEvent called %d times, want once a delivery", n)
		}
	})
}

// A Tencent retry carries a fresh RequestTime and Sign in the URL and the
// same body: one event.
func TestTencentRetryWithNewSign(t *testing.T) {
	cfg := signedConfig()
	e := newEnv(t, cfg, boltStore(t))
	body := tencentFixture(t, "v4_after_end.json")
	for i, delay := range []time.Duration{0, time.Second, time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second} {
		e.clock.Set(e.clock.Now().Add(delay))
		q := signQuery(v4Query(callback.CmdAfterEndCall), callbackToken, e.clock.Now())
		q.Set("ClientIP", fmt.Sprintf("10.0.0.%d", i)) // anything else in the URL may differ too
		if r := e.tencent(q, body); r.code != http.StatusOK {
			t.Fatalf("attempt %d: %d %s", i, r.code, r.body)
		}
	}
	e.wantStored(1)
}

func TestConcurrentDuplicates(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, baseConfig(), st)
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		v4 := tencentFixture(t, "v4_after_end.json")
		yx := testkit.Fixture(t, "yunxin_copy_6.json")
		yh := http.Header{}
		yunxin.Sign(yh, yunxinKey, yunxinSecret, yx, t0)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var req *http.Request
				if i%2 == 0 {
					req, _ = http.NewRequest(http.MethodPost, srv.URL+"/webhook/tencent?"+v4Query(callback.CmdAfterEndCall).Encode(), bytes.NewReader(v4))
				} else {
					req, _ = http.NewRequest(http.MethodPost, srv.URL+"/webhook/yunxin/copy", bytes.NewReader(yx))
					req.Header = yh.Clone()
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || i%2 == 0 && string(b) != v4OK {
					errs <- fmt.Errorf("request %d: %d %s", i, res.StatusCode, b)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		e.wantStored(2)
	})
}

// --- Several callbacks of one call ----------------------------------------

func TestTwoCallbacksOneCall(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, baseConfig(), st)
		e.tencent(v4Query(callback.CmdAfterStartCall), tencentFixture(t, "v4_after_start.json"))
		e.tencent(v4Query(callback.CmdAfterMemberChanged), tencentFixture(t, "v4_member_changed.json"))
		s, evs, err := e.st.GetCall(context.Background(), "055662e1-bc8a-469c-a334-1126c8c17d58")
		if err != nil || len(evs) != 2 {
			t.Fatalf("%v, %d events", err, len(evs))
		}
		if evs[0].Event != "call_started" || evs[1].Event != "member_changed" {
			t.Errorf("timeline %s, %s", evs[0].Event, evs[1].Event)
		}
		if s.Status != call.StatusOngoing || s.AcceptTime != 1740464131000 || s.StartTime != 1740464128807 || s.EventCount != 2 {
			t.Errorf("summary %+v", s)
		}
		if s.Caller != "144115212830834855" || len(s.Callees) != 1 || s.Callees[0] != "144115212948889925" {
			t.Errorf("users %q %q", s.Caller, s.Callees)
		}
	})
}

// After-end arrives before after-start: the summary is the record's.
func TestOutOfOrder(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, baseConfig(), st)
		for _, f := range []struct{ cmd, name string }{
			{callback.CmdAfterEndCall, "v4_after_end.json"},
			{callback.CmdAfterMemberChanged, "v4_member_changed.json"},
			{callback.CmdAfterStartCall, "v4_after_start.json"},
		} {
			if r := e.tencent(v4Query(f.cmd), tencentFixture(t, f.name)); r.code != http.StatusOK {
				t.Fatalf("%s: %d %s", f.name, r.code, r.body)
			}
		}
		s, evs, err := e.st.GetCall(context.Background(), "055662e1-bc8a-469c-a334-1126c8c17d58")
		if err != nil || len(evs) != 3 {
			t.Fatalf("%v, %d events", err, len(evs))
		}
		if s.Status != call.StatusEnded || s.Result != call.ResultNormalEnd {
			t.Errorf("status %q result %q", s.Status, s.Result)
		}
		// The record's times (seconds, as ms), not the earlier callbacks'.
		if s.StartTime != 1740464128000 || s.AcceptTime != 1740464131000 || s.EndTime != 1740464190000 {
			t.Errorf("times %d %d %d", s.StartTime, s.AcceptTime, s.EndTime)
		}
		if evs[0].Event != "call_started" || evs[2].Event != "call_ended" {
			t.Errorf("timeline not in event-time order: %s ... %s", evs[0].Event, evs[2].Event)
		}
	})
}

// --- Store failure, reply after write, logs --------------------------------

func captureLogs(t *testing.T) *testkit.Buffer {
	t.Helper()
	buf := &testkit.Buffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

// logLines are the JSON log lines in buf.
func logLines(t *testing.T, buf *testkit.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		out = append(out, m)
	}
	return out
}

func TestStoreFailure(t *testing.T) {
	logs := captureLogs(t)
	cfg := signedConfig()
	e := newEnv(t, cfg, nil)
	e.st.fail = errors.New("table unavailable")

	q := signQuery(v4Query(callback.CmdAfterStartCall), callbackToken, t0)
	q.Set("usersig", fakeUserSig) // never sent by Tencent; if it were, it must not be logged
	r := e.tencent(q, tencentFixture(t, "v4_after_start.json"))
	if r.code/100 == 2 {
		t.Errorf("v4: status %d on a store failure", r.code)
	}
	wantV4Fail(t, r)

	r = e.tencent(signQuery(v1Query("callee_call_end"), callbackToken, t0), tencentFixture(t, "v1_normal_end.json"))
	if r.code/100 == 2 {
		t.Errorf("v1: status %d on a store failure", r.code)
	}
	wantV1Fail(t, r)

	for _, ch := range []string{"callback", "copy"} {
		body := testkit.Fixture(t, "yunxin_copy_5.json")
		if ch == "callback" {
			body = testkit.Fixture(t, "yunxin_callback_20.json")
		}
		r = e.yunxinSigned(ch, body)
		if r.code/100 == 2 {
			t.Errorf("yunxin %s: status %d on a store failure", ch, r.code)
		}
		if bytes.Contains(r.body, []byte(`"errCode":0`)) {
			t.Errorf("yunxin %s: failure reply allows: %s", ch, r.body)
		}
	}
	if n := e.st.puts.Load(); n != 4 {
		t.Errorf("PutEvent called %d times, want 4", n)
	}
	// Refusals are logged too, with nothing secret in them.
	e.tencent(signQuery(v4Query(callback.CmdAfterStartCall), "guessed-token", t0), tencentFixture(t, "v4_after_start.json"))
	h := http.Header{}
	yunxin.Sign(h, yunxinKey, "guessed-secret", []byte(`{}`), t0)
	e.do("/webhook/yunxin/copy", nil, h, []byte(`{}`))

	out := logs.String()
	for _, secret := range []string{callbackToken, yunxinSecret, tencentKey, fakeUserSig, "api-token-not-for-webhooks"} {
		if strings.Contains(out, secret) {
			t.Errorf("a secret (%.6s…) is in the logs:\n%s", secret, out)
		}
	}
	var failures int
	for _, l := range logLines(t, logs) {
		if l["level"] != "ERROR" {
			continue
		}
		failures++
		wantLogFields(t, l)
	}
	if failures != 4 {
		t.Errorf("%d store-failure lines, want 4:\n%s", failures, out)
	}
}

// Every line about a stored callback names its request, provider, command
// and call.
func TestLogFields(t *testing.T) {
	logs := captureLogs(t)
	e := newEnv(t, baseConfig(), nil)
	e.tencent(v4Query(callback.CmdAfterStartCall), tencentFixture(t, "v4_after_start.json"))
	e.tencent(v1Query("callee_call_end"), tencentFixture(t, "v1_normal_end.json"))
	e.yunxinSigned("copy", testkit.Fixture(t, "yunxin_copy_5.json"))
	e.yunxinSigned("callback", testkit.Fixture(t, "yunxin_callback_20.json"))
	e.tencent(v4Query(callback.CmdAfterStartCall), tencentFixture(t, "v4_after_start.json")) // duplicate
	lines := logLines(t, logs)
	if len(lines) < 4 {
		t.Fatalf("%d log lines:\n%s", len(lines), logs)
	}
	for _, l := range lines {
		wantLogFields(t, l)
	}
}

// wantLogFields checks a log line about a parsed callback names its
// request, provider, command and call. Yunxin's eventType 20 carries no call
// id at all, so there the key must be present but may be empty.
func wantLogFields(t *testing.T, l map[string]any) {
	t.Helper()
	for _, k := range []string{"requestId", "provider", "command", "callId"} {
		v, present := l[k].(string)
		if !present || v == "" && !(k == "callId" && l["provider"] == "yunxin" && l["command"] == "20") {
			t.Errorf("log line lacks %s: %v", k, l)
		}
	}
}

// The reply comes only once the write has returned.
func TestReplyOnlyAfterWrite(t *testing.T) {
	for _, path := range []string{"tencent", "yunxin"} {
		e := newEnv(t, baseConfig(), nil)
		e.st.enter = make(chan struct{}, 1)
		e.st.block = make(chan struct{})
		srv := httptest.NewServer(e.h)
		done := make(chan int, 1)
		go func() {
			var req *http.Request
			if path == "tencent" {
				req, _ = http.NewRequest(http.MethodPost, srv.URL+"/webhook/tencent?"+v4Query(callback.CmdAfterStartCall).Encode(), bytes.NewReader(tencentFixture(t, "v4_after_start.json")))
			} else {
				body := testkit.Fixture(t, "yunxin_copy_5.json")
				req, _ = http.NewRequest(http.MethodPost, srv.URL+"/webhook/yunxin/copy", bytes.NewReader(body))
				yunxin.Sign(req.Header, yunxinKey, yunxinSecret, body, t0)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- -1
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		select {
		case <-e.st.enter:
		case code := <-done:
			t.Fatalf("%s: replied %d without writing", path, code)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the handler never reached the store", path)
		}
		select {
		case code := <-done:
			t.Errorf("%s: replied %d while the write was still in progress", path, code)
			close(e.st.block)
		case <-time.After(200 * time.Millisecond):
			close(e.st.block)
			if code := <-done; code != http.StatusOK {
				t.Errorf("%s: status %d after the write", path, code)
			}
		}
		srv.Close()
		e.wantStored(1)
	}
}

// TestMain keeps the handler's logs out of test output; tests that read
// logs capture them with captureLogs.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	dynamolocal.Main(m) // it stops the DynamoDB Local the tests over every backend started
}

// Verification comes before any parse: a malformed body from an unverified
// sender is refused as unverified, not as malformed.
func TestVerifyBeforeParse(t *testing.T) {
	cfg := signedConfig()
	e := newEnv(t, cfg, nil)
	garbage := []byte(`{"not json`)
	if r := e.tencent(with(v4Query(callback.CmdAfterStartCall), "SdkAppid", "1"), garbage); r.code != http.StatusForbidden {
		t.Errorf("wrong SdkAppid, bad body: %d", r.code)
	}
	if r := e.tencent(v1Query("cancel"), garbage); r.code != http.StatusUnauthorized {
		t.Errorf("unsigned, bad body: %d", r.code)
	}
	if r := e.tencent(signQuery(v1Query("cancel"), callbackToken, t0), garbage); r.code != http.StatusBadRequest {
		t.Errorf("signed, bad body: %d", r.code)
	}
	for _, ch := range []string{"callback", "copy"} {
		if r := e.do("/webhook/yunxin/"+ch, nil, nil, garbage); r.code != http.StatusUnauthorized {
			t.Errorf("yunxin %s unsigned, bad body: %d", ch, r.code)
		}
		if r := e.yunxinSigned(ch, garbage); r.code != http.StatusBadRequest {
			t.Errorf("yunxin %s signed, bad body: %d", ch, r.code)
		}
	}
	e.wantStored(0)
}
