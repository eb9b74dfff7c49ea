package deploy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/awslambda"
	"github.com/callfn/callfn/shared/platform/scf"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/deploy"
)

// gatewayResponse is what both adapters answer an API gateway event with
// (events.APIGatewayV2HTTPResponse, scf-go-lib's APIGatewayResponse).
type gatewayResponse struct {
	StatusCode      int    `json:"statusCode"`
	Body            string `json:"body"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

// sampleRun is one function built as its samples expect: over a memory
// table and, for the functions that call Tencent, the local sandbox served
// on 127.0.0.1.
type sampleRun struct {
	fn       platform.Function
	st       store.Store
	sb       *sandbox.Sandbox // nil unless the function calls Tencent
	requests atomic.Int64     // requests that reached the sandbox
}

func newSampleRun(t *testing.T, d deployable) *sampleRun {
	t.Helper()
	run := &sampleRun{st: local.NewMemory(store.Options{})}
	t.Cleanup(func() { run.st.Close() })
	cfg := d.SampleConfig
	if d.Sandbox {
		run.sb = sandbox.New(sandbox.Options{SDKAppID: cfg.TencentAppID, Key: cfg.TencentKey, Admin: cfg.TencentAdmin})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { // listens on 127.0.0.1
			run.requests.Add(1)
			run.sb.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { run.sb.Close() }) // runs first: stop playing calls, then the server
		cfg = run.sb.Config(cfg, srv.URL)
		if d.Seed != nil {
			d.Seed(run.sb, time.Now())
		}
	}
	fn, err := d.Build(cfg, run.st)
	if err != nil {
		t.Fatal(err)
	}
	run.fn = fn
	return run
}

// adapter is one platform's way in: its handler over a function, and a
// sample as the platform would deliver it now.
type adapter struct {
	platform string
	handler  func(fn platform.Function) handler
	event    func(t *testing.T, path string, now time.Time) json.RawMessage
}

var adapters = []adapter{
	{deploy.PlatformLambda, awslambda.Handler,
		func(t *testing.T, path string, now time.Time) json.RawMessage {
			if deploy.IsScheduleSample(path) {
				return checkedSample(t, path, deploy.LoadSchedulerSample)
			}
			ev, err := deploy.LoadLambdaSample(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := deploy.ResignLambdaSample(&ev, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now); err != nil {
				t.Fatal(err)
			}
			return mustMarshal(t, ev)
		}},
	{deploy.PlatformSCF, scf.Handler,
		func(t *testing.T, path string, now time.Time) json.RawMessage {
			if deploy.IsScheduleSample(path) {
				return checkedSample(t, path, deploy.LoadTimerSample)
			}
			if _, err := deploy.LoadSCFSample(path); err != nil {
				t.Fatal(err)
			}
			// Re-sign in the raw event, so that fields scf-go-lib's
			// struct lacks (isBase64Encoded) reach the adapter as sent.
			raw := rawEvent(t, readFile(t, path))
			headers := map[string]string{}
			for k, v := range raw["headers"].(map[string]any) {
				headers[k] = v.(string)
			}
			if deploy.IsYunxinSigned(headers) {
				deploy.ResignYunxin(headers, []byte(raw["body"].(string)), deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now)
			}
			raw["headers"] = headers
			return mustMarshal(t, raw)
		}},
}

// TestSamplesThroughAdapters feeds every sample, re-signed where the
// provider signs, through its platform's adapter into the real function,
// twice, and holds the answers and the table to the function's Expect: a
// callback is answered 200 and stored once; POST /calls answers 200 with
// Tencent's CallId; the records routes answer what the table and the
// sandbox know; a schedule's firing runs once however often it arrives.
func TestSamplesThroughAdapters(t *testing.T) {
	eachSample(t, func(d deployable, a adapter, f, rel string) {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(rel, func(t *testing.T) {
			ctx := context.Background()
			run := newSampleRun(t, d)
			h := a.handler(run.fn)
			event := a.event(t, f, time.Now())
			want := d.expect(name)
			for delivery := 1; delivery <= 2; delivery++ {
				out, err := h(ctx, event)
				if err != nil {
					t.Fatalf("delivery %d: %v", delivery, err)
				}
				answer := mustMarshal(t, out)
				if want.Status != 0 {
					resp := gateway(t, out)
					if resp.StatusCode != want.Status {
						t.Fatalf("delivery %d: status %d, want %d; body %s", delivery, resp.StatusCode, want.Status, resp.Body)
					}
					if resp.IsBase64Encoded || !json.Valid([]byte(resp.Body)) {
						t.Fatalf("delivery %d: reply is not JSON: %q", delivery, resp.Body)
					}
					answer = []byte(resp.Body)
				}
				if want.Check != nil {
					want.Check(t, run, delivery, answer)
				}
				if got := countEvents(t, run.st); got != want.Stored[delivery-1] {
					t.Errorf("delivery %d: %d events stored, want %d", delivery, got, want.Stored[delivery-1])
				}
			}
		})
	})
}

// TestSamplesNeedTheToken: the /calls and /records samples carry the
// bearer token; without it, or with another, each platform's adapter gets
// 401 from the function, and nothing reaches Tencent or the table.
func TestSamplesNeedTheToken(t *testing.T) {
	checked := 0
	eachSample(t, func(d deployable, a adapter, f, rel string) {
		if deploy.IsScheduleSample(f) || !strings.Contains(strings.ToLower(readFile(t, f)), `"authorization"`) {
			return
		}
		checked++
		for _, token := range []string{"", "Bearer not-" + deploy.SampleAPIToken} {
			t.Run(rel+"/"+map[bool]string{true: "no token", false: "wrong token"}[token == ""], func(t *testing.T) {
				run := newSampleRun(t, d)
				raw := rawEvent(t, string(a.event(t, f, time.Now())))
				headers := raw["headers"].(map[string]any)
				for k := range headers {
					if strings.EqualFold(k, "Authorization") {
						delete(headers, k)
					}
				}
				if token != "" {
					headers["authorization"] = token
				}
				out, err := a.handler(run.fn)(context.Background(), mustMarshal(t, raw))
				if err != nil {
					t.Fatal(err)
				}
				if resp := gateway(t, out); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("status %d, want 401; body %s", resp.StatusCode, resp.Body)
				}
				if n := countEvents(t, run.st); n != 0 {
					t.Errorf("%d events stored", n)
				}
				if n := run.requests.Load(); n != 0 {
					t.Errorf("%d requests reached Tencent (the sandbox)", n)
				}
			})
		}
	})
	if checked < 8 {
		t.Errorf("%d samples carry a token; the startcall and records samples should (4 a platform)", checked)
	}
}

// TestEndCallSample ends a call with the end-call sample, its CallId
// replaced by one the start-call sample has just started: 200, and the
// end is stored beside the start.
func TestEndCallSample(t *testing.T) {
	onEachPlatform(t, func(t *testing.T, run *sampleRun, h handler, sample func(name string) string) {
		ctx := context.Background()
		out, err := h(ctx, json.RawMessage(sample("start-call.json")))
		if err != nil {
			t.Fatal(err)
		}
		var started struct{ CallId string }
		if err := json.Unmarshal([]byte(gatewayBody(t, out, 200)), &started); err != nil || started.CallId == "" {
			t.Fatalf("started %+v (%v)", started, err)
		}
		end := strings.ReplaceAll(sample("end-call.json"), sampleCallID, started.CallId)
		out, err = h(ctx, json.RawMessage(end))
		if err != nil {
			t.Fatal(err)
		}
		var ended struct {
			CallId string
			Ended  bool
		}
		if err := json.Unmarshal([]byte(gatewayBody(t, out, 200)), &ended); err != nil || ended.CallId != started.CallId || !ended.Ended {
			t.Fatalf("ended %+v (%v)", ended, err)
		}
		_, evs, err := run.st.GetCall(ctx, started.CallId)
		if err != nil {
			t.Fatal(err)
		}
		var cmds []string
		for _, ev := range evs {
			cmds = append(cmds, ev.Command)
		}
		slices.Sort(cmds) // both may carry the same millisecond
		if want := []string{startcall.CommandEnd, startcall.CommandStart}; !slices.Equal(cmds, want) {
			t.Errorf("the call's events: %v, want %v", cmds, want)
		}
	})
}

// TestStaleSampleRefused shows the run above proves something: a Yunxin
// sample as stored, with its stale signature, is refused and not stored.
func TestStaleSampleRefused(t *testing.T) {
	d := deployables(t)[0]
	path := filepath.Join(testkit.Root(t), "events", deploy.PlatformLambda, d.Fn.Name, "yunxin-copy-5-duration.json")
	run := newSampleRun(t, d)
	out, err := awslambda.Handler(run.fn)(context.Background(), json.RawMessage(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	gatewayBody(t, out, 401)
	if n := countEvents(t, run.st); n != 0 {
		t.Errorf("%d events stored from a refused delivery", n)
	}
}

// TestScheduleSampleAtAnotherTime shows the claim is per firing: the
// example schedule fired for another time starts its call again.
func TestScheduleSampleAtAnotherTime(t *testing.T) {
	onEachPlatform(t, func(t *testing.T, run *sampleRun, h handler, sample func(name string) string) {
		event := sample("schedule-example-call.json")
		for i, ev := range []string{event, event, strings.Replace(event, "2025-03-03T01:00:00Z", "2025-03-04T01:00:00Z", 1)} {
			if _, err := h(context.Background(), json.RawMessage(ev)); err != nil {
				t.Fatalf("firing %d: %v", i+1, err)
			}
		}
		if n := run.sb.Requests("start_call_by_robot"); n != 2 {
			t.Errorf("start_call_by_robot reached Tencent %d times for two firings, one of them delivered twice", n)
		}
	})
}

// ---- what each sample's answer must say (deployables' Expect) ----

// checkStarted: POST /calls answers Tencent's CallId and CallResult, for
// a call the sandbox did start.
func checkStarted(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	out := decode[startcall.Outcome](t, answer)
	if out.CallId == "" || len(out.CallResult) != 1 || out.CallResult[0].Callee_Account != "jack" || out.Error != "" {
		t.Fatalf("delivery %d: %s", delivery, answer)
	}
	if _, ok := run.sb.Call(out.CallId); !ok {
		t.Errorf("delivery %d: the sandbox did not start call %s", delivery, out.CallId)
	}
}

// checkErrorReply: an error is answered as {"error": "..."}.
func checkErrorReply(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	var out struct{ Error string }
	if err := json.Unmarshal(answer, &out); err != nil || out.Error == "" {
		t.Errorf("delivery %d: %s is no error reply", delivery, answer)
	}
}

// checkClaimedOnce: the first delivery claims the firing and starts its
// call; the second finds the claim and starts nothing.
func checkClaimedOnce(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	res := decode[startcall.ScheduleResult](t, answer)
	if res.Schedule != "example-call" || !res.Time.Equal(time.Date(2025, 3, 3, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("delivery %d: schedule %q at %s, want the sample's", delivery, res.Schedule, res.Time)
	}
	switch {
	case delivery == 1 && (!res.Claimed || len(res.Calls) != 1 || res.Calls[0].CallId == ""):
		t.Errorf("first delivery: %s", answer)
	case delivery == 2 && (res.Claimed || len(res.Calls) != 0):
		t.Errorf("second delivery: %s", answer)
	}
	if n := run.sb.Requests("start_call_by_robot"); n != 1 {
		t.Errorf("delivery %d: start_call_by_robot reached Tencent %d times", delivery, n)
	}
}

// seedRecords gives the sandbox two calls of the last hour, as Tencent
// would have recorded them: one ended normally, one rejected.
func seedRecords(sb *sandbox.Sandbox, now time.Time) {
	at := now.Add(-time.Hour).Unix()
	sb.AddPlayed(
		sandbox.Record{CallId: "seed-normal-end", Caller_Account: "robot", MediaType: "Video", CallType: "SingleCall",
			StartTime: at, AcceptTime: at + 5, EndTime: at + 65, CallResult: "NormalEnd",
			CalleeList_Account: []string{"robot", "jack"}, RoomId: "roomid-test", RoomIdType: 2},
		sandbox.Record{CallId: "seed-reject", Caller_Account: "robot", MediaType: "Audio", CallType: "SingleCall",
			StartTime: at + 600, EndTime: at + 610, CallResult: "Reject",
			CalleeList_Account: []string{"robot", "rose"}, RoomId: "roomid-test-2", RoomIdType: 2},
	)
}

// checkListed: GET /records?source=tencent&result=normal_end answers the
// seeded call that ended normally, from Tencent.
func checkListed(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	page := decode[records.Page](t, answer)
	if len(page.Records) != 1 || page.Records[0].CallID != "seed-normal-end" || page.Records[0].Result != call.ResultNormalEnd ||
		!strings.Contains(page.Source, records.SourceTencent) {
		t.Errorf("delivery %d: %s", delivery, answer)
	}
}

// checkEmptyHistory: a list of the table that holds none of its calls.
func checkEmptyHistory(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	var h records.History
	if err := json.Unmarshal(answer, &h); err != nil || h.Records == nil || len(h.Records) != 0 || h.Next != "" {
		t.Errorf("delivery %d: %s %v", delivery, answer, err)
	}
}

// checkStats: the sample's week in Asia/Shanghai, every day counted (none
// of the seeded calls is in the table).
func checkStats(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	st := decode[records.Stats](t, answer)
	from := time.Date(2025, 2, 25, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).UnixMilli()
	if st.TZ != "Asia/Shanghai" || st.From != from || st.To != from+7*24*3600*1000 || len(st.Days) != 7 ||
		st.Days[0].Date != "2025-02-25" || st.Total.Calls != 0 {
		t.Errorf("delivery %d: %s", delivery, answer)
	}
}

// checkArchived: the archive stores both seeded records, then none anew.
func checkArchived(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	rep := decode[records.Report](t, answer)
	want := map[int]int{1: 2, 2: 0}[delivery]
	if !rep.Done || rep.Records != 2 || rep.Stored != want {
		t.Errorf("delivery %d: %s, want 2 records seen and %d stored", delivery, answer, want)
	}
}

// ---- helpers ----

// eachSample calls test with every sample of every deployable on every
// platform, and the sample's path from the repository's root.
func eachSample(t *testing.T, test func(d deployable, a adapter, path, rel string)) {
	r := testkit.Root(t)
	for _, d := range deployables(t) {
		for _, a := range adapters {
			files, err := deploy.Samples(r, a.platform, d.Fn.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				rel, _ := filepath.Rel(r, f)
				test(d, a, f, rel)
			}
		}
	}
}

// handler is an adapter's handler over a function.
type handler = func(context.Context, json.RawMessage) (any, error)

// onEachPlatform runs test in a subtest a platform, with a run of the
// startcall function of its own (the sandbox plays calls in real time:
// one may ring for seconds), its handler on that platform, and sample,
// which reads the function's sample of that name as the platform would
// deliver it now.
func onEachPlatform(t *testing.T, test func(t *testing.T, run *sampleRun, h handler, sample func(name string) string)) {
	r := testkit.Root(t)
	d := deployables(t)[1]
	for _, a := range adapters {
		t.Run(a.platform, func(t *testing.T) {
			run := newSampleRun(t, d)
			sample := func(name string) string {
				return string(a.event(t, filepath.Join(r, "events", a.platform, "startcall", name), time.Now()))
			}
			test(t, run, a.handler(run.fn), sample)
		})
	}
}

// gateway decodes an API gateway answer.
func gateway(t *testing.T, out any) gatewayResponse {
	t.Helper()
	return decode[gatewayResponse](t, mustMarshal(t, out))
}

func gatewayBody(t *testing.T, out any, status int) string {
	t.Helper()
	resp := gateway(t, out)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	return resp.Body
}

func rawEvent(t *testing.T, text string) map[string]any {
	t.Helper()
	return decode[map[string]any](t, []byte(text))
}

// checkedSample is the sample at path as it is stored, once load has
// read it.
func checkedSample[T any](t *testing.T, path string, load func(path string) (T, error)) json.RawMessage {
	t.Helper()
	if _, err := load(path); err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(readFile(t, path))
}

// decode decodes a JSON answer, failing t if it is not a T.
func decode[T any](t *testing.T, answer []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(answer, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func countEvents(t *testing.T, st store.Store) int {
	t.Helper()
	n := 0
	err := st.ListEvents(context.Background(), "", func(ev *call.Event) error {
		if ev.Raw == "" {
			t.Errorf("event %s/%s stored without its raw body", ev.CallID, ev.DeliveryID)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
