package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

const token = "callback-token-for-tests"

// hook is a webhook stand-in that records what the sandbox delivers.
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []delivered
	status int // answer with this status (200)
}

type delivered struct {
	query url.Values
	body  []byte
}

func newHook(t *testing.T) *hook {
	h := &hook{status: http.StatusOK}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, delivered{r.URL.Query(), b})
		status := h.status
		h.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) deliveries() []delivered {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

type box struct {
	t    *testing.T
	sb   *sandbox.Sandbox
	srv  *httptest.Server
	hook *hook
}

func newBox(t *testing.T, o sandbox.Options) *box {
	t.Helper()
	e := &box{t: t, hook: newHook(t)}
	if o.CallbackURL == "" {
		o.CallbackURL = e.hook.srv.URL + "/webhook/tencent"
	}
	if o.Scale == 0 {
		o.Scale = sandbox.Instant
	}
	o.Logger = slog.New(slog.DiscardHandler)
	e.sb = sandbox.New(o)
	e.srv = httptest.NewServer(e.sb)
	t.Cleanup(func() { e.srv.Close(); e.sb.Close() })
	return e
}

// restURL is a correctly signed v4 or v1 URL for the administrator.
func (e *box) restURL(path string, edit func(q url.Values)) string {
	sig, err := tencentyun.GenUserSig(sandbox.DefaultSDKAppID, sandbox.DefaultKey, sandbox.DefaultAdmin, 3600)
	if err != nil {
		e.t.Fatal(err)
	}
	q := url.Values{"sdkappid": {fmt.Sprint(sandbox.DefaultSDKAppID)}, "identifier": {sandbox.DefaultAdmin},
		"usersig": {sig}, "random": {"12345"}, "contenttype": {"json"}}
	if edit != nil {
		edit(q)
	}
	return e.srv.URL + path + "?" + q.Encode()
}

type envelope struct {
	ActionStatus string
	ErrorCode    int
	ErrorInfo    string
	RequestId    string
	Response     json.RawMessage
}

func (e *box) post(path, body string, edit func(q url.Values)) envelope {
	e.t.Helper()
	resp, err := http.Post(e.restURL(path, edit), "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("%s: status %d, %v", path, resp.StatusCode, err)
	}
	if (env.ErrorCode == 0) != (env.ActionStatus == "OK") || env.RequestId == "" {
		e.t.Fatalf("%s: inconsistent envelope %+v", path, env)
	}
	return env
}

func (e *box) start(body string) string {
	e.t.Helper()
	env := e.post("/v4/call_engine_http_srv/start_call_by_robot", body, nil)
	if env.ErrorCode != 0 {
		e.t.Fatalf("start: %d %s", env.ErrorCode, env.ErrorInfo)
	}
	var r struct{ CallId string }
	json.Unmarshal(env.Response, &r)
	return r.CallId
}

func (e *box) wait() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.sb.Wait(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func startBody(callees []string, userData string, timeout int) string {
	b, _ := json.Marshal(map[string]any{"Robot_Account": "robot", "CalleeList_Account": callees, "Timeout": timeout,
		"UserData": userData, "CallInfo": map[string]any{"MediaType": "Audio", "RoomId": "room-1", "RoomIdType": 2}})
	return string(b)
}

// step is one callback as a test expects it: the command and, for member
// changes, "user:Action" pairs.
type step struct {
	command string
	changed string
}

// TestPlaysEachOutcome starts one call per outcome and checks the callbacks
// that reach the webhook: their order, their signatures, and that callfn's
// own callback parser reads them.
func TestPlaysEachOutcome(t *testing.T) {
	const (
		start   = callback.CmdAfterStartCall
		changed = callback.CmdAfterMemberChanged
		end     = callback.CmdAfterEndCall
	)
	cases := []struct {
		name    string
		callees []string
		data    string
		steps   []step
		result  string
		endAt   int64 // simulated ms from the start to the end event
	}{
		{"default answers", []string{"jack"}, "", []step{{start, ""}, {changed, "jack:Answer"}, {changed, "jack:Hangup"}, {end, ""}}, "NormalEnd", 35000},
		{"talk time", []string{"jack"}, "hi [sandbox ring=2s talk=10s]", []step{{start, ""}, {changed, "jack:Answer"}, {changed, "jack:Hangup"}, {end, ""}}, "NormalEnd", 12000},
		{"group", []string{"jack", "rose"}, "[sandbox outcome=NormalEnd]", []step{{start, ""}, {changed, "jack:Answer"}, {changed, "rose:Answer"},
			{changed, "rose:Hangup"}, {changed, "jack:Hangup"}, {end, ""}}, "NormalEnd", 36000},
		{"reject", []string{"jack"}, "[sandbox outcome=Reject]", []step{{start, ""}, {changed, "jack:Reject"}, {end, ""}}, "Reject", 5000},
		{"not answered", []string{"jack"}, "[sandbox outcome=not_answer]", []step{{start, ""}, {changed, "jack:NotAnswer"}, {end, ""}}, "NotAnswer", 20000},
		{"cancel", []string{"jack"}, "[sandbox outcome=Cancel ring=4s]", []step{{start, ""}, {changed, "jack:Cancel_Invite"}, {end, ""}}, "Cancel", 2000},
		{"busy", []string{"jack"}, "[sandbox outcome=CallBusy]", []step{{start, ""}, {end, ""}}, "CallBusy", 1000},
		{"interrupt", []string{"jack"}, "[sandbox outcome=Interrupt]", []step{{start, ""}, {changed, "jack:Answer"}, {changed, "jack:Offline"}, {end, ""}}, "Interrupt", 20000},
		{"offline", []string{"jack"}, "[sandbox outcome=Offline]", []step{{start, ""}, {changed, "jack:Offline"}, {end, ""}}, "Offline", 20000},
		{"one callee fails", []string{"jack", "bob"}, "[sandbox outcome=Reject fail=bob]", []step{{start, ""}, {changed, "jack:Reject"}, {end, ""}}, "Reject", 5000},
		{"nobody reachable", []string{"bob"}, "[sandbox fail=bob]", []step{{start, ""}, {end, ""}}, "Offline", 300},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newBox(t, sandbox.Options{CallbackToken: token})
			callID := e.start(startBody(c.callees, c.data, 20000))
			e.wait()
			got := e.hook.deliveries()
			if len(got) != len(c.steps) {
				t.Fatalf("%d callbacks, want %d", len(got), len(c.steps))
			}
			var startTime, endTime int64
			for i, d := range got {
				q := d.query
				if q.Get("CallbackCommand") != c.steps[i].command || q.Get("contenttype") != "json" || q.Get("OptPlatform") != "RESTAPI" || q.Get("ClientIP") == "" {
					t.Errorf("callback %d: query %v", i, q)
				}
				// The app id, then the signature, then the body, as the
				// webhook checks them.
				cb, err := callback.Construct(q, d.body, callback.Options{AppID: sandbox.DefaultSDKAppID, Token: token, Now: time.Now})
				if errors.Is(err, callback.ErrWrongApp) {
					t.Errorf("callback %d: %v", i, err)
				}
				if errors.Is(err, callback.ErrNotSigned) || errors.Is(err, callback.ErrBadSign) || errors.Is(err, callback.ErrSignExpired) {
					t.Errorf("callback %d: signature: %v", i, err)
				}
				ev := cb.Event
				if err != nil || ev.CallID != callID || ev.Command != c.steps[i].command {
					t.Fatalf("callback %d does not parse as call %s: %+v, %v\n%s", i, callID, ev, err, d.body)
				}
				if i > 0 && ev.EventTime < startTime {
					t.Errorf("callback %d is older than the start", i)
				}
				switch ev.Command {
				case start:
					startTime = ev.EventTime
					if ev.Facts.Caller != "robot" || ev.Facts.MediaType != call.MediaAudio || ev.Facts.RoomID != "room-1" {
						t.Errorf("start facts %+v", ev.Facts)
					}
					for _, u := range ev.Facts.Callees {
						if !slices.Contains(c.callees, u) || strings.Contains(c.data, "fail="+u) {
							t.Errorf("callee %s should not ring", u)
						}
					}
				case changed:
					if ev.Facts.Detail["actions"] != c.steps[i].changed {
						t.Errorf("callback %d: actions %q, want %q", i, ev.Facts.Detail["actions"], c.steps[i].changed)
					}
				case end:
					endTime = ev.EventTime
					if ev.Facts.Result != tencent.Result(c.result) || ev.Facts.Caller != "robot" {
						t.Errorf("end facts %+v, want result %s", ev.Facts, c.result)
					}
				}
			}
			rec, _ := e.sb.Call(callID)
			if rec.CallResult != c.result || rec.EndTime < rec.StartTime || endTime-(rec.StartTime*1000) < 0 {
				t.Errorf("record %+v", rec)
			}
			if got := endTime - startTime; got != c.endAt-200 {
				t.Errorf("the end came %d ms after the start callback, want %d", got, c.endAt-200)
			}
			if rec.AcceptTime != 0 && (rec.AcceptTime < rec.StartTime || rec.AcceptTime > rec.EndTime) {
				t.Errorf("accept time outside the call: %+v", rec)
			}
			for _, d := range e.sb.Deliveries() {
				if !d.OK {
					t.Errorf("delivery not acknowledged: %+v", d)
				}
			}
		})
	}
}

func TestEndCallWhileRinging(t *testing.T) {
	e := newBox(t, sandbox.Options{Scale: 1}) // real time: the call rings for 5 s unless ended
	callID := e.start(startBody([]string{"jack"}, "", 30000))
	body := fmt.Sprintf(`{"CallId":%q}`, callID)
	if env := e.post("/v4/call_engine_http_srv/get_call_info", body, nil); env.ErrorCode != 0 || !strings.Contains(string(env.Response), `"Waiting"`) {
		t.Fatalf("get_call_info while ringing: %+v %s", env, env.Response)
	}
	if env := e.post("/v4/call_engine_http_srv/end_call", body, nil); env.ErrorCode != 0 {
		t.Fatalf("end_call: %+v", env)
	}
	if env := e.post("/v4/call_engine_http_srv/end_call", body, nil); env.ErrorCode != 101004 {
		t.Fatalf("second end_call: %+v, want 101004", env)
	}
	if env := e.post("/v4/call_engine_http_srv/get_call_info", body, nil); env.ErrorCode != 101004 {
		t.Fatalf("get_call_info after the end: %+v, want 101004", env)
	}
	e.wait()
	got := e.hook.deliveries()
	cmds := []string{}
	for _, d := range got {
		cmds = append(cmds, d.query.Get("CallbackCommand"))
	}
	want := []string{callback.CmdAfterStartCall, callback.CmdAfterMemberChanged, callback.CmdAfterEndCall}
	if !slices.Equal(cmds, want) {
		t.Fatalf("callbacks %v, want %v", cmds, want)
	}
	if !bytes.Contains(got[1].body, []byte(`"ActionType":"Cancel_Invite"`)) || !bytes.Contains(got[2].body, []byte(`"CallResult":"Cancel"`)) {
		t.Fatalf("a call ended while ringing should be cancelled:\n%s\n%s", got[1].body, got[2].body)
	}
	if _, ok := got[0].query["Sign"]; ok {
		t.Error("signed without a token")
	}
}

func TestRejectsWhatTencentRejects(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	const path = "/v4/call_engine_http_srv/start_call_by_robot"
	good := startBody([]string{"jack"}, "", 20000)
	cases := []struct {
		name string
		body string
		edit func(q url.Values)
		code int
	}{
		{"timeout too short", startBody([]string{"jack"}, "", 9999), nil, 101002},
		{"no callees", startBody([]string{}, "", 20000), nil, 101002},
		{"unknown outcome", startBody([]string{"jack"}, "[sandbox outcome=Maybe]", 20000), nil, 101002},
		{"wrong type", `{"Robot_Account":1}`, nil, 101002},
		{"not JSON", `{"Robot_Account":"robot", // comment`, nil, 60003},
		{"empty body", ``, nil, 60003},
		{"no contenttype", good, func(q url.Values) { q.Del("contenttype") }, 60002},
		{"bad random", good, func(q url.Values) { q.Set("random", "4294967296") }, 60002},
		{"no random", good, func(q url.Values) { q.Del("random") }, 60002},
		{"no sdkappid", good, func(q url.Values) { q.Del("sdkappid") }, 60012},
		{"other sdkappid", good, func(q url.Values) { q.Set("sdkappid", "1400000001") }, 70020},
		{"no usersig", good, func(q url.Values) { q.Del("usersig") }, 70002},
		{"garbage usersig", good, func(q url.Values) { q.Set("usersig", "not-a-sig") }, 70003},
		{"usersig of another user", good, func(q url.Values) { q.Set("identifier", "bob") }, 70013},
		{"not an administrator", good, func(q url.Values) {
			sig, _ := tencentyun.GenUserSig(sandbox.DefaultSDKAppID, sandbox.DefaultKey, "bob", 3600)
			q.Set("identifier", "bob")
			q.Set("usersig", sig)
		}, 60010},
		{"usersig of another app", good, func(q url.Values) {
			sig, _ := tencentyun.GenUserSig(1400000001, sandbox.DefaultKey, sandbox.DefaultAdmin, 3600)
			q.Set("usersig", sig)
		}, 70014},
		{"usersig with another key", good, func(q url.Values) {
			sig, _ := tencentyun.GenUserSig(sandbox.DefaultSDKAppID, "another key", sandbox.DefaultAdmin, 3600)
			q.Set("usersig", sig)
		}, 70009},
	}
	for _, c := range cases {
		if env := e.post(path, c.body, c.edit); env.ErrorCode != c.code {
			t.Errorf("%s: %d %q, want %d", c.name, env.ErrorCode, env.ErrorInfo, c.code)
		}
	}
	if n := e.sb.Rang("jack"); n != 0 {
		t.Errorf("rejected requests rang jack %d times", n)
	}
	resp, err := http.Get(e.restURL(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if env.ErrorCode != 60002 {
		t.Errorf("GET: %+v", env)
	}
}

func TestDocumentedRateLimit(t *testing.T) {
	frozen := time.Now()
	e := newBox(t, sandbox.Options{Clock: func() time.Time { return frozen }, RateLimit: 2})
	var codes []int
	for range 4 {
		codes = append(codes, e.post("/v4/call_engine_http_srv/get_call_info", `{"CallId":"x"}`, nil).ErrorCode)
	}
	if !slices.Equal(codes, []int{101004, 101004, 60007, 60007}) {
		t.Fatalf("codes %v: want two answers, then 60007", codes)
	}
}

func TestCallbackConfiguration(t *testing.T) {
	e := newBox(t, sandbox.Options{CallbackURL: "-"})
	e.sb.Close()
	e = newBox(t, sandbox.Options{})
	if env := e.post("/v4/call_config/delete_callback", `{}`, nil); env.ErrorCode != 0 {
		t.Fatal(env)
	}
	if env := e.post("/v4/call_config/get_callback", `{}`, nil); env.ErrorCode != 100301 {
		t.Fatalf("get_callback with none: %+v, want 100301", env)
	}
	other := newHook(t)
	body := fmt.Sprintf(`{"Url":%q,"CallbackCommandList":[%q]}`, other.srv.URL, callback.CmdAfterEndCall)
	if env := e.post("/v4/call_config/set_callback", body, nil); env.ErrorCode != 0 {
		t.Fatal(env)
	}
	if env := e.post("/v4/call_config/get_callback", `{}`, nil); env.ErrorCode != 0 || !strings.Contains(string(env.Response), other.srv.URL) {
		t.Fatalf("get_callback: %+v %s", env, env.Response)
	}
	e.start(startBody([]string{"jack"}, "[sandbox outcome=Reject]", 20000))
	e.wait()
	if len(e.hook.deliveries()) != 0 {
		t.Error("the old callback URL still receives callbacks")
	}
	got := other.deliveries()
	if len(got) != 1 || got[0].query.Get("CallbackCommand") != callback.CmdAfterEndCall {
		t.Fatalf("the new URL got %d callbacks, want only the end", len(got))
	}
	for name, body := range map[string]string{
		"without Url":                  `{"Url":"","CallbackCommandList":[]}`,
		"with a Url that is not http":  `{"Url":"ftp://example.com/cb","CallbackCommandList":[]}`,
		"with a relative Url":          `{"Url":"/webhook/tencent","CallbackCommandList":[]}`,
		"without CallbackCommandList":  fmt.Sprintf(`{"Url":%q}`, other.srv.URL),
		"with a Url of the wrong type": `{"Url":1,"CallbackCommandList":[]}`,
	} {
		if env := e.post("/v4/call_config/set_callback", body, nil); env.ErrorCode != 100002 {
			t.Errorf("set_callback %s: %+v, want 100002", name, env)
		}
	}
	// An empty list is a configuration asking for nothing.
	if env := e.post("/v4/call_config/set_callback", fmt.Sprintf(`{"Url":%q,"CallbackCommandList":[]}`, other.srv.URL), nil); env.ErrorCode != 0 {
		t.Fatal(env)
	}
	if env := e.post("/v4/call_config/get_callback", `{}`, nil); env.ErrorCode != 0 || !strings.Contains(string(env.Response), `"CallbackCommandList":[]`) {
		t.Fatalf("get_callback after an empty list: %+v %s", env, env.Response)
	}
	e.start(startBody([]string{"jack"}, "[sandbox outcome=Reject]", 20000))
	e.wait()
	if len(other.deliveries()) != 1 {
		t.Error("a configuration asking for no command still gets callbacks")
	}
	if env := e.post("/v4/call_config/delete_callback", `{}`, nil); env.ErrorCode != 0 {
		t.Fatal(env)
	}
	if env := e.post("/v4/call_config/get_callback", `{}`, nil); env.ErrorCode != 100301 {
		t.Fatalf("get_callback after delete: %+v, want 100301", env)
	}
}

// A URL given in Options, as the console sets it, asks for every command.
func TestCallbackConfigurationFromOptions(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	env := e.post("/v4/call_config/get_callback", `{}`, nil)
	var got struct {
		Url                 string
		CallbackCommandList []string
	}
	if env.ErrorCode != 0 || json.Unmarshal(env.Response, &got) != nil || got.Url != e.hook.srv.URL+"/webhook/tencent" ||
		!slices.Equal(got.CallbackCommandList, callback.Commands(tencent.V4)) {
		t.Fatalf("get_callback: %+v %s", env, env.Response)
	}
}

func TestUnacknowledgedDeliveriesAreReported(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	e.hook.status = http.StatusInternalServerError
	e.start(startBody([]string{"jack"}, "[sandbox outcome=CallBusy]", 20000))
	e.wait()
	ds := e.sb.Deliveries()
	if len(ds) != 2 || ds[0].OK || ds[0].Status != 500 || ds[0].Err == "" {
		t.Fatalf("deliveries %+v", ds)
	}
	if len(e.hook.deliveries()) != 2 {
		t.Fatal("a failed v4 delivery should not be retried")
	}
}

func TestV1(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	post := func(path, body string, edit func(url.Values)) (code int, data json.RawMessage) {
		resp, err := http.Post(e.restURL(path, edit), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			ErrorCode    int             `json:"errorCode"`
			ErrorMessage string          `json:"errorMessage"`
			RequestID    string          `json:"requestId"`
			Data         json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.RequestID == "" {
			t.Fatalf("not a v1 envelope: %v", err)
		}
		return env.ErrorCode, env.Data
	}
	if code, data := post("/v1/callback/get", `{}`, nil); code != 0 || string(data) != `{"address":"","actions":[]}` {
		t.Fatalf("get with nothing configured: %d %s", code, data)
	}
	if code, _ := post("/v1/callback/update", `{"address":"https://example.com/v1","actions":["cancel"]}`, nil); code != 999 {
		t.Fatalf("update with nothing configured: %d, want 999", code)
	}
	if code, data := post("/v1/callback/set", `{"address":"https://example.com/v1","actions":["caller_start_call"]}`, nil); code != 0 || string(data) != `"https://example.com/v1"` {
		t.Fatalf("set: %d %s, want the address as data", code, data)
	}
	if code, data := post("/v1/callback/get", `{}`, nil); code != 0 || !strings.Contains(string(data), "example.com/v1") {
		t.Fatalf("%d %s", code, data)
	}
	for _, body := range []string{`{"address":"www.example.com","actions":[]}`, `{"address":"","actions":[]}`,
		`{"address":"https://example.com/v1"}`, `{"address":7,"actions":[]}`} {
		if code, _ := post("/v1/callback/set", body, nil); code != 70001 {
			t.Errorf("set %s: %d, want 70001", body, code)
		}
	}
	if code, data := post("/v1/callback/update", `{"address":"https://example.com/v1b","actions":["cancel"]}`, nil); code != 0 || string(data) != `"https://example.com/v1b"` {
		t.Fatalf("update: %d %s", code, data)
	}
	if code, data := post("/v1/callback/get", `{}`, nil); code != 0 || string(data) != `{"address":"https://example.com/v1b","actions":["cancel"]}` {
		t.Fatalf("get after update: %d %s", code, data)
	}
	if code, data := post("/v1/callback/delete", `{}`, nil); code != 0 || string(data) != `""` {
		t.Fatalf("delete: %d %s", code, data)
	}
	if code, data := post("/v1/callback/get", `{}`, nil); code != 0 || !strings.Contains(string(data), `"address":""`) {
		t.Fatalf("get after delete: %d %s", code, data)
	}
	post("/v1/callback/set", `{"address":"https://example.com/v1","actions":["caller_start_call"]}`, nil)
	if code, _ := post("/v1/callback/get", `{}`, func(q url.Values) { q.Set("usersig", "garbage") }); code != 70002 {
		t.Errorf("bad UserSig: %d, want 70002", code)
	}
	if code, _ := post("/v1/callback/get", `not json`, nil); code != 70009 {
		t.Errorf("bad body: %d, want 70009", code)
	}
	expired := sandbox.New(sandbox.Options{Clock: func() time.Time { return time.Now().Add(48 * time.Hour) }})
	defer expired.Close()
	rec := httptest.NewRecorder()
	expired.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, e.restURL("/v1/callback/get", nil), strings.NewReader(`{}`)))
	if !strings.Contains(rec.Body.String(), `"errorCode":70003`) {
		t.Errorf("expired UserSig on v1: %s", rec.Body)
	}
	if code, _ := post("/v1/callback/get", `{}`, func(q url.Values) {
		sig, _ := tencentyun.GenUserSig(sandbox.DefaultSDKAppID, sandbox.DefaultKey, "bob", 3600)
		q.Set("identifier", "bob")
		q.Set("usersig", sig)
	}); code != 70004 {
		t.Errorf("not an administrator: %d, want 70004", code)
	}
}

func TestCloudAPIChecks(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	try := func(edit func(r *http.Request)) string {
		r, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-TC-Action", "StartStreamIngest")
		r.Header.Set("X-TC-Version", "2019-07-22")
		r.Header.Set("X-TC-Region", "ap-guangzhou")
		r.Header.Set("X-TC-Timestamp", fmt.Sprint(time.Now().Unix()))
		edit(r)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Response struct {
				Error     struct{ Code string }
				RequestId string
			}
		}
		json.NewDecoder(resp.Body).Decode(&out)
		if out.Response.RequestId == "" {
			t.Error("no RequestId")
		}
		return out.Response.Error.Code
	}
	cases := map[string]func(r *http.Request){
		"AuthFailure.InvalidAuthorization": func(r *http.Request) {},
		"UnsupportedRegion":                func(r *http.Request) { r.Header.Set("X-TC-Region", "eu-frankfurt") },
		"NoSuchVersion":                    func(r *http.Request) { r.Header.Set("X-TC-Version", "2020-01-01") },
		"InvalidAction":                    func(r *http.Request) { r.Header.Set("X-TC-Action", "DescribeRoom") },
		"AuthFailure.SignatureExpire": func(r *http.Request) {
			r.Header.Set("X-TC-Timestamp", fmt.Sprint(time.Now().Add(-time.Hour).Unix()))
			r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential=AKIDcallfnsandbox/2020-01-01/trtc/tc3_request, SignedHeaders=content-type;host, Signature=00")
		},
		"AuthFailure.SignatureFailure": func(r *http.Request) {
			date := time.Now().UTC().Format("2006-01-02")
			r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+sandbox.DefaultCloudSecretID+"/"+date+"/trtc/tc3_request, SignedHeaders=content-type;host, Signature=00")
		},
	}
	for want, edit := range cases {
		if got := try(edit); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestSignatureCoversTheBody alters a correctly signed StartStreamIngest on
// the wire: the sandbox must notice.
func TestSignatureCoversTheBody(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	signer, _ := rest.NewSigner(sandbox.DefaultSDKAppID, sandbox.DefaultKey, rest.SignerOptions{})
	tamper := roundTripper(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		b = bytes.Replace(b, []byte(`"Volume":50`), []byte(`"Volume":99`), 1)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		return http.DefaultTransport.RoundTrip(r)
	})
	g, err := rest.NewIngester(signer, rest.IngestOptions{SecretID: sandbox.DefaultCloudSecretID, SecretKey: sandbox.DefaultCloudSecretKey,
		Endpoint: e.srv.URL, HTTPClient: &http.Client{Transport: tamper}})
	if err != nil {
		t.Fatal(err)
	}
	v := int64(50)
	_, err = g.Start(context.Background(), "robot", "room-1", rest.RoomIdTypeString, &rest.StreamIngest{StreamUrl: "https://a.b/c.mp4", Volume: &v})
	if err == nil || !strings.Contains(err.Error(), "AuthFailure.SignatureFailure") {
		t.Fatalf("a tampered body: %v", err)
	}
	v = 40 // untouched: accepted
	if _, err := g.Start(context.Background(), "robot", "room-1", rest.RoomIdTypeString, &rest.StreamIngest{StreamUrl: "https://a.b/c.mp4", Volume: &v}); err != nil {
		t.Fatal(err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestUnknownPaths(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	if env := e.post("/v4/call_engine_http_srv/no_such_thing", `{}`, nil); env.ErrorCode != 60002 {
		t.Errorf("unknown command: %+v", env)
	}
	resp, err := http.Post(e.srv.URL+"/elsewhere", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

// FuzzStartCallBody: whatever the body, the sandbox answers with a valid
// envelope and never panics.
func FuzzStartCallBody(f *testing.F) {
	f.Add([]byte(startBody([]string{"jack"}, "[sandbox outcome=Reject fail=x]", 20000)))
	f.Add([]byte(`{"Robot_Account":"robot", // comment`))
	f.Add([]byte(`{"CallInfo":{"RoomId":[],"RoomIdType":1}}`))
	f.Add([]byte(`{"Robot_Account":"r","CalleeList_Account":["a"],"Timeout":10000,"CallInfo":{"MediaType":"Video","RoomId":1e400,"RoomIdType":1}}`))
	f.Add([]byte(`null`))
	sb := sandbox.New(sandbox.Options{Scale: sandbox.Instant, RateLimit: -1})
	defer sb.Close()
	sig, _ := tencentyun.GenUserSig(sandbox.DefaultSDKAppID, sandbox.DefaultKey, sandbox.DefaultAdmin, 3600)
	target := fmt.Sprintf("http://127.0.0.1/v4/call_engine_http_srv/start_call_by_robot?sdkappid=%d&identifier=administrator&usersig=%s&random=1&contenttype=json",
		sandbox.DefaultSDKAppID, url.QueryEscape(sig))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)))
		var env envelope
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || rec.Code != 200 || (env.ErrorCode == 0) != (env.ActionStatus == "OK") {
			t.Fatalf("body %q: %d %s", body, rec.Code, rec.Body)
		}
	})
}

// TestLoopbackOnly: the sandbox answers only requests to a loopback Host,
// and delivers callbacks only to loopback URLs, whoever configures them.
// (v1 callback/set is kept as it is: the sandbox delivers no v1 callback.)
func TestLoopbackOnly(t *testing.T) {
	e := newBox(t, sandbox.Options{})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.srv.URL, "http://"))
	for host, want := range map[string]int{
		"127.0.0.1:" + port: http.StatusOK, "localhost:" + port: http.StatusOK, "[::1]:" + port: http.StatusOK, "localhost": http.StatusOK,
		"attacker.example:" + port: http.StatusForbidden, "attacker.example": http.StatusForbidden, "192.168.1.5": http.StatusForbidden,
	} {
		req, _ := http.NewRequest(http.MethodPost, e.restURL("/v4/call_config/get_callback", nil), strings.NewReader(`{}`))
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}

	for _, u := range []string{"https://attacker.example/hook", "http://192.168.1.5:8080/webhook/tencent", "http://127.0.0.1.nip.io/x", "file:///etc/passwd", "//localhost/x"} {
		body := fmt.Sprintf(`{"Url":%q}`, u)
		if env := e.post("/v4/call_config/set_callback", body, nil); env.ErrorCode != 100002 || !strings.Contains(env.ErrorInfo, "loopback") && !strings.Contains(env.ErrorInfo, "this machine") {
			t.Errorf("set_callback %s: %+v, want 100002 saying loopback only", u, env)
		}
	}
	anyHost := newBox(t, sandbox.Options{AnyHost: true})
	req, _ := http.NewRequest(http.MethodPost, anyHost.restURL("/v4/call_config/get_callback", nil), strings.NewReader(`{}`))
	req.Host = "adminapisgp.im.qcloud.com"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("AnyHost: a request to Tencent's own domain: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// The callback URL it was started with is still the one used.
	e.start(startBody([]string{"jack"}, "[sandbox outcome=Reject]", 20000))
	e.wait()
	if len(e.hook.deliveries()) == 0 {
		t.Error("a refused set_callback changed where callbacks go")
	}

	// A non-loopback URL given at construction is not delivered to either.
	far := newBox(t, sandbox.Options{CallbackURL: "http://192.0.2.1:9/webhook/tencent"})
	far.start(startBody([]string{"jack"}, "[sandbox outcome=Reject]", 20000))
	far.wait()
	ds := far.sb.Deliveries()
	if len(ds) == 0 {
		t.Fatal("no delivery recorded")
	}
	for _, d := range ds {
		if d.OK || d.Status != 0 || !strings.Contains(d.Err, "only to") {
			t.Errorf("delivery to a non-loopback URL: %+v, want refused unsent", d)
		}
	}
}

// TestEndCalls: calls still going on are ended, their last callbacks
// delivered, before EndCalls returns.
func TestEndCalls(t *testing.T) {
	e := newBox(t, sandbox.Options{Scale: 1})
	talking := e.start(startBody([]string{"jack"}, "[sandbox ring=10ms talk=1h]", 20000))
	ringing := e.start(startBody([]string{"rose"}, "[sandbox ring=1h]", 600000))
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := e.sb.EndCalls(ctx)
	if n != 2 || err != nil {
		t.Fatalf("EndCalls: %d, %v; want 2 calls ended", n, err)
	}
	for id, want := range map[string]string{talking: "NormalEnd", ringing: "Cancel"} {
		rec, _ := e.sb.Call(id)
		if rec.EndTime == 0 || rec.CallResult != want {
			t.Errorf("call %s: %+v, want ended %s", id, rec, want)
		}
		ended := false
		for _, d := range e.hook.deliveries() {
			ended = ended || d.query.Get("CallbackCommand") == callback.CmdAfterEndCall && strings.Contains(string(d.body), id)
		}
		if !ended {
			t.Errorf("call %s: no Call.CallbackAfterEndCall delivered", id)
		}
	}
	if n, _ := e.sb.EndCalls(ctx); n != 0 {
		t.Errorf("EndCalls again: %d ended", n)
	}
}
