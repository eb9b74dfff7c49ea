package startcall_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/shared/webhook"
	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"
)

func TestStartCallIsRecorded(t *testing.T) {
	f := newFixture(t, setup{})
	b := body(func(m map[string]any) { m["CalleeList_Account"] = []any{"jack", "rose"} })
	r := f.startCall(b)
	if r.status != http.StatusOK || r.str("CallId") == "" || r.str("RequestId") == "" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	results, _ := r.body["CallResult"].([]any)
	if len(results) != 2 {
		t.Fatalf("CallResult %v", r.body["CallResult"])
	}
	id := r.str("CallId")
	sum, evs, err := f.st.GetCall(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ev *call.Event
	for i := range evs {
		if evs[i].Provider == call.CallFn {
			ev = &evs[i]
		}
	}
	if ev == nil || ev.Command != startcall.CommandStart || ev.Raw != b || ev.Facts.Caller != "robot" ||
		strings.Join(ev.Facts.Callees, ",") != "jack,rose" || ev.Facts.RoomID != "roomid-test" || ev.Facts.MediaType != call.MediaVideo ||
		ev.Facts.CallType != call.TypeGroup || ev.Facts.Detail["startedBy"] != "http" || ev.Facts.Detail["requestId"] != r.str("RequestId") {
		t.Fatalf("recorded event %+v", ev)
	}
	if sum.Caller != "robot" || sum.StartTime == 0 {
		t.Fatalf("summary %+v", sum)
	}
}

// TestSeedSample: the sample request of Tencent's own page is not JSON (a
// comment, then a missing comma); each fault is a 400 that says where.
func TestSeedSample(t *testing.T) {
	f := newFixture(t, setup{})
	seed, err := os.ReadFile("testdata/seed_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	r := f.startCall(string(seed))
	if r.status != http.StatusBadRequest || r.body["line"] != 2.0 || r.body["column"] != 26.0 || r.body["offset"] != 27.0 ||
		!strings.Contains(r.str("error"), "line 2, column 26") {
		t.Fatalf("seed sample: %d %s", r.status, r.raw)
	}
	noComment := strings.Replace(string(seed), " // robot userid, no heartbeat detection for robot", "", 1)
	r = f.startCall(noComment)
	if r.status != http.StatusBadRequest || r.body["line"] != 15.0 || r.body["column"] != 1.0 {
		t.Fatalf("without the comment, the missing comma: %d %s", r.status, r.raw)
	}
	fixed := strings.Replace(noComment, `content"`, `content",`, 1)
	if r = f.startCall(fixed); r.status != http.StatusOK {
		t.Fatalf("the repaired sample: %d %s", r.status, r.raw)
	}
	if n := f.sb.Requests("start_call_by_robot"); n != 1 {
		t.Fatalf("%d requests reached Tencent, want only the valid one", n)
	}
}

func TestRejectedBeforeAnythingIsSent(t *testing.T) {
	f := newFixture(t, setup{})
	cases := []struct {
		name  string
		body  string
		field string
		words string
	}{
		{"empty", ``, "", "empty"},
		{"array", `[1]`, "", "want an object"},
		{"two values", `{} {}`, "", "more than one JSON value"},
		{"truncated", `{"Robot_Account":"robot"`, "", "ends before"},
		{"misspelled field", body(func(m map[string]any) { m["robot_account"] = m["Robot_Account"]; delete(m, "Robot_Account") }),
			"robot_account", `spelled "Robot_Account"`},
		{"unknown nested field", body(func(m map[string]any) { m["CallInfo"].(map[string]any)["Room"] = 1 }), "CallInfo.Room", "unknown field"},
		{"timeout as a string", body(func(m map[string]any) { m["Timeout"] = "300000" }), "Timeout", "want an integer"},
		{"no robot", body(func(m map[string]any) { delete(m, "Robot_Account") }), "Robot_Account", "required"},
		{"no callees", body(func(m map[string]any) { m["CalleeList_Account"] = []any{} }), "CalleeList_Account", "required"},
		{"timeout 9999", body(func(m map[string]any) { m["Timeout"] = 9999 }), "Timeout", "10000..600000"},
		{"timeout 600001", body(func(m map[string]any) { m["Timeout"] = 600001 }), "Timeout", "10000..600000"},
		{"UserData 1001 bytes", body(func(m map[string]any) { m["UserData"] = strings.Repeat("x", 1001) }), "UserData", "1000 bytes"},
		{"MediaType", body(func(m map[string]any) { m["CallInfo"].(map[string]any)["MediaType"] = "Hologram" }), "CallInfo.MediaType", "Video"},
		{"RoomIdType 3", body(func(m map[string]any) { m["CallInfo"].(map[string]any)["RoomIdType"] = 3 }), "CallInfo.RoomIdType", "1 (integer room) or 2"},
		{"integer room of letters", body(func(m map[string]any) { m["CallInfo"].(map[string]any)["RoomIdType"] = 1 }), "CallInfo.RoomId", "integer room"},
		{"Ext not JSON", body(func(m map[string]any) { m["OfflinePushInfo"] = map[string]any{"Ext": "{nope"} }), "OfflinePushInfo.Ext", "JSON"},
		{"ingest without a room", body(func(m map[string]any) {
			delete(m["CallInfo"].(map[string]any), "RoomId")
			m["StreamIngest"] = map[string]any{"StreamUrl": "https://a.b/c.mp4"}
		}), "CallInfo.RoomId", "StreamIngest"},
		{"ingest volume", body(func(m map[string]any) {
			m["StreamIngest"] = map[string]any{"StreamUrl": "https://a.b/c.mp4", "Volume": 101}
		}),
			"StreamIngest.Volume", "0..100"},
		{"ingest without a URL", body(func(m map[string]any) { m["StreamIngest"] = map[string]any{"Volume": 10} }), "StreamIngest.StreamUrl", "required"},
	}
	for _, c := range cases {
		r := f.startCall(c.body)
		if r.status != http.StatusBadRequest || r.str("field") != c.field || !strings.Contains(r.str("error"), c.words) {
			t.Errorf("%s: %d %s; want 400 about %q saying %q", c.name, r.status, r.raw, c.field, c.words)
		}
	}
	if n := f.sb.Requests("start_call_by_robot"); n != 0 {
		t.Fatalf("%d invalid requests reached Tencent", n)
	}
	big := f.startCall(`{"UserData":"` + strings.Repeat("x", 70<<10) + `"}`)
	if big.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a huge body: %d", big.status)
	}
}

func TestPartialSuccessIsReportedPerCallee(t *testing.T) {
	f := newFixture(t, setup{})
	r := f.startCall(body(func(m map[string]any) {
		m["CalleeList_Account"] = []any{"jack", "bob"}
		m["UserData"] = "[sandbox fail=bob]"
	}))
	if r.status != http.StatusOK || fmt.Sprint(r.body["FailedCallees"]) != "[bob]" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	for _, cr := range r.body["CallResult"].([]any) {
		m := cr.(map[string]any)
		if (m["Callee_Account"] == "bob") != (m["ResultCode"] != 0.0) {
			t.Errorf("CallResult %v", m)
		}
	}
	_, evs, _ := f.st.GetCall(context.Background(), r.str("CallId"))
	if evs[0].Facts.Detail["failedCallees"] != "bob" || strings.Join(evs[0].Facts.Callees, ",") != "jack" {
		t.Errorf("recorded %+v", evs[0].Facts)
	}
	r = f.startCall(body(func(m map[string]any) { m["UserData"] = "[sandbox fail=jack]" }))
	if r.status != http.StatusBadGateway || r.str("CallId") == "" || !strings.Contains(r.str("error"), "none of its callees") {
		t.Fatalf("nobody reached: %d %s", r.status, r.raw)
	}
}

// TestTencentErrorsMapToStatuses covers every mapping callfn answers with,
// provoked for real where the sandbox can, else by injected codes; no reply
// may carry a UserSig or a key.
func TestTencentErrorsMapToStatuses(t *testing.T) {
	const key = "the-app-key-that-must-not-leak-42"
	cases := []struct {
		name   string
		s      setup
		fault  *sandbox.Fault
		status int
		words  []string
	}{
		{"bad parameter", setup{}, &sandbox.Fault{Code: 101002, Info: "bad parameter"}, 400, []string{"parameters"}},
		{"UserSig expired", setup{sandbox: sandbox.Options{Key: key, Clock: func() time.Time { return time.Now().Add(25 * time.Hour) }}},
			nil, 502, []string{"expired", "70001"}},
		{"UserSig of another app's key", setup{sandbox: sandbox.Options{Key: key}, config: func(c *config.Config) { c.TencentKey = "wrong-key" }},
			nil, 502, []string{"another app's key", "70009"}},
		{"UserSig invalid", setup{}, &sandbox.Fault{Code: 70003}, 502, []string{"malformed"}},
		{"unknown SDKAppID in the region", setup{config: func(c *config.Config) { c.TencentAppID = 1400077777 }},
			nil, 502, []string{"1400077777", "not known in endpoint http://127.0.0.1", "CALLFN_TENCENT_REGION"}},
		{"not an administrator", setup{config: func(c *config.Config) { c.TencentAdmin = "bob" }}, nil, 502, []string{"administrator"}},
		{"rate limited", setup{}, &sandbox.Fault{Code: 60007, Times: 100}, 429, []string{"rate-limited"}},
		{"internal error", setup{}, &sandbox.Fault{Code: 101001}, 504, []string{"may"}},
		{"gateway down", setup{}, &sandbox.Fault{HTTPStatus: 503}, 504, []string{"503"}},
		{"timed out", setup{http: &http.Client{Timeout: 200 * time.Millisecond}},
			&sandbox.Fault{Stall: time.Minute}, 504, []string{"may have acted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			c.s.log = &logs
			f := newFixture(t, c.s)
			if c.fault != nil {
				c.fault.Command = "start_call_by_robot"
				f.sb.Inject(*c.fault)
			}
			r := f.startCall(body(nil))
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			for _, w := range c.words {
				if !strings.Contains(r.str("error"), w) {
					t.Errorf("%q does not say %q", r.str("error"), w)
				}
			}
			if c.fault != nil && c.fault.Code != 0 && r.body["ErrorCode"] != float64(c.fault.Code) {
				t.Errorf("ErrorCode %v, want %d", r.body["ErrorCode"], c.fault.Code)
			}
			if c.status == 429 && r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			sig, err := tencentyun.GenUserSig(int(f.cfg.TencentAppID), f.cfg.TencentKey, f.cfg.TencentAdmin, 60)
			if err != nil {
				t.Fatal(err)
			}
			for what, text := range map[string]string{"reply": r.raw, "log": logs.String()} {
				// From its 11th character every UserSig spells the same
				// JSON opening ({"TLS.ver":...): a leaked one would show it.
				if strings.Contains(text, key) || strings.Contains(text, f.cfg.TencentKey) || strings.Contains(text, "usersig=") || strings.Contains(text, sig[10:24]) {
					t.Errorf("the %s reveals a secret: %s", what, text)
				}
			}
			if logs.Len() == 0 {
				t.Error("nothing was logged")
			}
		})
	}
}

func TestStreamIngest(t *testing.T) {
	f := newFixture(t, setup{sandbox: sandbox.Options{Scale: 1}}) // real time: the call is on when the robot joins
	r := f.startCall(body(func(m map[string]any) {
		m["StreamIngest"] = map[string]any{"StreamUrl": "https://media.example.com/welcome.mp4", "RepeatNum": -1, "MaxDuration": 5, "Volume": 70}
	}))
	ing, _ := r.body["StreamIngest"].(map[string]any)
	if r.status != http.StatusOK || ing == nil || ing["TaskId"] == nil {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	tasks := f.sb.IngestTasks()
	if len(tasks) != 1 || tasks[0].TaskId != ing["TaskId"] || tasks[0].CallID != r.str("CallId") || tasks[0].UserId != "robot" || tasks[0].RoomIdType != 0 {
		t.Fatalf("ingest tasks %+v", tasks)
	}
	_, evs, _ := f.st.GetCall(context.Background(), r.str("CallId"))
	if evs[0].Facts.Detail["ingestTaskId"] != ing["TaskId"] {
		t.Errorf("the recorded call lacks its ingest task: %+v", evs[0].Facts.Detail)
	}

	// An integer room: the robot must join the same integer room.
	r = f.startCall(body(func(m map[string]any) {
		m["CallInfo"] = map[string]any{"MediaType": "Audio", "RoomId": 8080, "RoomIdType": 1}
		m["StreamIngest"] = map[string]any{"StreamUrl": "rtmp://media.example.com/live/a"}
	}))
	tasks = f.sb.IngestTasks()
	if r.status != http.StatusOK || len(tasks) != 2 || tasks[1].RoomId != "8080" || tasks[1].RoomIdType != 1 || tasks[1].CallID != r.str("CallId") {
		t.Fatalf("integer room: %d %s %+v", r.status, r.raw, tasks)
	}
}

// TestSandboxUnderAPrefix serves the sandbox at a path on a mux, as a local
// server holding every function may: REST and Cloud API requests both
// reach it.
func TestSandboxUnderAPrefix(t *testing.T) {
	f := newFixture(t, setup{sandbox: sandbox.Options{Scale: 1}, prefix: "/sandbox/tencent"})
	r := f.startCall(body(func(m map[string]any) { m["StreamIngest"] = map[string]any{"StreamUrl": "https://a.b/c.mp4"} }))
	if r.status != http.StatusOK || len(f.sb.IngestTasks()) != 1 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r = f.post("/calls/"+r.str("CallId")+"/end", "", apiToken); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestIngestFailureEndsTheCall(t *testing.T) {
	f := newFixture(t, setup{sandbox: sandbox.Options{Scale: 1}}) // real time: the call would ring
	f.sb.Inject(sandbox.Fault{Command: "StartStreamIngest", CloudCode: "FailedOperation.RestrictedConcurrency"})
	withMedia := body(func(m map[string]any) { m["StreamIngest"] = map[string]any{"StreamUrl": "https://a.b/c.mp4"} })
	r := f.startCall(withMedia)
	ing, _ := r.body["StreamIngest"].(map[string]any)
	if r.status != http.StatusBadGateway || ing["CallEnded"] != true || !strings.Contains(r.str("error"), "the call was ended") ||
		!strings.Contains(r.str("error"), "FailedOperation.RestrictedConcurrency") || r.str("CallId") == "" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	f.wait()
	rec, _ := f.sb.Call(r.str("CallId"))
	if rec.EndTime == 0 || rec.CallResult != "Cancel" {
		t.Fatalf("the call was left on: %+v", rec)
	}
	_, evs, _ := f.st.GetCall(context.Background(), r.str("CallId"))
	if evs[0].Facts.Detail["ingestError"] == "" || evs[0].Facts.Detail["endedBy"] == "" {
		t.Errorf("recorded %+v", evs[0].Facts.Detail)
	}

	// Ending fails too: the reply says the call may still ring.
	f.sb.Inject(sandbox.Fault{Command: "StartStreamIngest", CloudCode: "InternalError"})
	f.sb.Inject(sandbox.Fault{Command: "end_call", Code: 101001})
	r = f.startCall(withMedia)
	ing, _ = r.body["StreamIngest"].(map[string]any)
	if r.status != http.StatusGatewayTimeout || ing["CallEnded"] != false || !strings.Contains(r.str("error"), "may still be ringing") {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestIngestNeedsCloudCredentials(t *testing.T) {
	f := newFixture(t, setup{config: func(c *config.Config) { c.CloudSecretID, c.CloudSecretKey = "", "" }})
	r := f.startCall(body(func(m map[string]any) { m["StreamIngest"] = map[string]any{"StreamUrl": "https://a.b/c.mp4"} }))
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.str("error"), "TENCENTCLOUD_SECRET_ID") || f.sb.Requests("start_call_by_robot") != 0 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestEndCall(t *testing.T) {
	var tick atomic.Int64
	t0 := time.Now()
	clock := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	f := newFixture(t, setup{sandbox: sandbox.Options{Scale: 1}, now: clock})
	id := f.startCall(body(nil)).str("CallId")
	r := f.post("/calls/"+id+"/end", "", apiToken)
	if r.status != http.StatusOK || r.body["Ended"] != true || r.str("CallId") != id {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	r = f.post("/calls/"+id+"/end", "", apiToken)
	if r.status != http.StatusNotFound || !strings.Contains(r.str("error"), "does not exist or has already ended") || r.body["ErrorCode"] != 101004.0 {
		t.Fatalf("ended twice: %d %s", r.status, r.raw)
	}
	if r = f.post("/calls/no-such-call/end", "", apiToken); r.status != http.StatusNotFound {
		t.Fatalf("unknown call: %d %s", r.status, r.raw)
	}
	if r = f.post("/calls/a%01b/end", "", apiToken); r.status != http.StatusBadRequest {
		t.Fatalf("a control character: %d %s", r.status, r.raw)
	}
	sum, evs, err := f.st.GetCall(context.Background(), id)
	if err != nil || len(evs) != 2 || evs[1].Command != startcall.CommandEnd || sum.Status != call.StatusEnded {
		t.Fatalf("recorded %+v %+v %v", sum, evs, err)
	}
	f.wait()
	if rec, _ := f.sb.Call(id); rec.CallResult != "Cancel" {
		t.Errorf("sandbox record %+v", rec)
	}
}

func TestBearerToken(t *testing.T) {
	f := newFixture(t, setup{})
	for _, c := range []struct {
		name, token string
		status      int
	}{{"missing", "", 401}, {"wrong", "nope", 401}, {"right", apiToken, 200}} {
		r := f.post("/calls", body(nil), c.token)
		if r.status != c.status {
			t.Errorf("%s token: %d %s", c.name, r.status, r.raw)
		}
		if r = f.post("/calls/x/end", "", c.token); c.status == 401 && r.status != 401 {
			t.Errorf("%s token on end: %d", c.name, r.status)
		}
	}
	if n := f.sb.Requests("start_call_by_robot"); n != 1 {
		t.Errorf("%d calls reached Tencent, want 1", n)
	}
	closed := newFixture(t, setup{config: func(c *config.Config) { c.APIToken = "" }})
	for _, tok := range []string{"", apiToken, "anything"} {
		if r := closed.post("/calls", body(nil), tok); r.status != http.StatusForbidden || !strings.Contains(r.str("error"), "CALLFN_API_TOKEN") {
			t.Errorf("no token configured, %q sent: %d %s", tok, r.status, r.raw)
		}
	}
	if closed.sb.Requests("start_call_by_robot") != 0 {
		t.Error("a closed API started a call")
	}
}

// TestReuseAcrossRequests: one UserSig and one connection for many calls.
func TestReuseAcrossRequests(t *testing.T) {
	f := newFixture(t, setup{sandbox: sandbox.Options{RateLimit: -1}})
	for range 50 {
		if r := f.startCall(body(nil)); r.status != 200 {
			t.Fatal(r.raw)
		}
	}
	if n := f.sb.UserSigs(); n != 1 {
		t.Errorf("50 calls used %d UserSigs, want 1", n)
	}
	if n := f.conns.Load(); n != 1 {
		t.Errorf("50 calls opened %d connections to Tencent, want 1", n)
	}
}

// TestCallbacksJoinTheCall runs the whole loop: startcall starts a call,
// the sandbox delivers signed callbacks to the webhook function, and the
// table holds one call with callfn's start and Tencent's events.
func TestCallbacksJoinTheCall(t *testing.T) {
	st := local.NewMemory(store.Options{})
	hookCfg := config.Config{TencentAppID: sandbox.DefaultSDKAppID, CallbackToken: "cb-token"}
	hookFn, err := webhook.New(hookCfg, st, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(hookFn.Handler())
	defer hook.Close()
	f := newFixture(t, setup{store: st, sandbox: sandbox.Options{CallbackURL: hook.URL + "/webhook/tencent", CallbackToken: "cb-token"}})

	r := f.startCall(body(func(m map[string]any) { m["UserData"] = "[sandbox outcome=Reject]" }))
	if r.status != http.StatusOK {
		t.Fatal(r.raw)
	}
	f.wait()
	for _, d := range f.sb.Deliveries() {
		if !d.OK {
			t.Fatalf("the webhook refused %s: %s", d.Command, d.Err)
		}
	}
	sum, evs, err := st.GetCall(context.Background(), r.str("CallId"))
	if err != nil {
		t.Fatal(err)
	}
	providers := map[string]int{}
	for _, ev := range evs {
		providers[ev.Provider]++
	}
	if providers[call.CallFn] != 1 || providers[call.Tencent] != 3 || sum.Status != call.StatusEnded || sum.Result != call.ResultReject {
		t.Fatalf("summary %+v, events by provider %v", sum, providers)
	}
}

// New refuses to build the function without a Tencent client (its
// composition root builds one with rest.FromConfig, which names the
// missing settings: shared/tencent/rest).
func TestNewNeedsAClient(t *testing.T) {
	if _, err := startcall.New(config.Config{}, local.NewMemory(store.Options{}), startcall.Options{}); err == nil {
		t.Error("New built the function without a Tencent client")
	}
}
