package records_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/storetest"
)

var forwardSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("records-replay-test-key-0123456789"))

// fwdEnv is the records function with forwarding on (or off), over a
// memory table that owes every stored event to its endpoints.
type fwdEnv struct {
	t   *testing.T
	st  store.Store
	svc *records.Service
	srv *httptest.Server
	eps []string
}

func newFwdEnv(t *testing.T, eps ...string) *fwdEnv {
	t.Helper()
	cfg := config.Config{APIToken: token, TencentAPI: "v4", ForwardURLs: eps}
	if len(eps) > 0 {
		cfg.ForwardSecret = forwardSecret
	}
	st := local.NewMemory(store.Options{ForwardTo: eps})
	svc, err := records.NewService(cfg, st, records.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Function().Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &fwdEnv{t: t, st: st, svc: svc, srv: srv, eps: eps}
}

func (e *fwdEnv) do(method, path, tok, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, answer := testkit.Do(e.t, req)
	var v map[string]any
	json.NewDecoder(bytes.NewReader(answer)).Decode(&v)
	return resp.StatusCode, v
}

// settle marks every row delivered, as a drain would.
func (e *fwdEnv) settle() {
	e.t.Helper()
	for _, d := range storetest.Rows(e.t, e.st, "") {
		d.State, d.NextAt, d.Attempts, d.LastStatus = forward.Delivered, time.Time{}, 1, 204
		if err := e.st.Record(context.Background(), d); err != nil {
			e.t.Fatal(err)
		}
	}
}

const (
	epA = "https://a.example/hook"
	epB = "https://b.example/hook?token=secret-in-query"
)

func TestRecordShowsDeliveries(t *testing.T) {
	e := newFwdEnv(t, epA, epB)
	start := storetest.Event("c1", "call_started", storetest.T0, call.Facts{Status: call.StatusRinging, Caller: "alice"})
	storetest.Put(t, e.st, start)
	e.settle()
	end := storetest.Event("c1", "call_ended", storetest.T0+60_000, call.Facts{Status: call.StatusEnded})
	storetest.Put(t, e.st, end)

	status, rec := e.do("GET", "/records/c1", token, "")
	if status != http.StatusOK {
		t.Fatalf("GET /records/c1: %d %v", status, rec)
	}
	evs := rec["events"].([]any)
	if len(evs) != 2 {
		t.Fatalf("events %v", evs)
	}
	for i, want := range []string{"delivered", "pending"} {
		ev := evs[i].(map[string]any)
		ds, _ := ev["deliveries"].([]any)
		if ev["raw"] == nil || len(ds) != 2 {
			t.Fatalf("event %d: %v", i, ev)
		}
		for j, ep := range []string{epA, epB} {
			d := ds[j].(map[string]any)
			if d["state"] != want || d["webhookId"] != forward.MessageID(ev["deliveryId"].(string), ep) {
				t.Errorf("event %d delivery %d: %v", i, j, d)
			}
		}
		if b, _ := json.Marshal(ds); strings.Contains(string(b), "secret-in-query") || !strings.Contains(string(b), `"https://b.example/hook"`) {
			t.Errorf("endpoints shown: %s", b)
		}
	}
	// Forwarding off: no deliveries field at all.
	off := newFwdEnv(t)
	storetest.Put(t, off.st, start)
	_, rec = off.do("GET", "/records/c1", token, "")
	if ev := rec["events"].([]any)[0].(map[string]any); ev["deliveries"] != nil {
		t.Errorf("forwarding off, deliveries %v", ev["deliveries"])
	}
	if status, body := off.do("POST", "/replay", token, `{"callId":"c1"}`); status != http.StatusServiceUnavailable ||
		!strings.Contains(body["error"].(string), "CALLFN_FORWARD_URL") {
		t.Errorf("replay with forwarding off: %d %v", status, body)
	}
}

func TestReplayCall(t *testing.T) {
	e := newFwdEnv(t, epA, epB)
	evs := []*call.Event{
		storetest.Event("c1", "call_started", storetest.T0, call.Facts{Caller: "alice"}),
		storetest.Event("c1", "call_ended", storetest.T0+60_000, call.Facts{Status: call.StatusEnded}),
		storetest.Event("c2", "call_started", storetest.T0, call.Facts{Caller: "bob"}),
	}
	storetest.Put(t, e.st, evs...)
	e.settle()

	status, rep := e.do("POST", "/replay", token, `{"callId":"c1"}`)
	if status != http.StatusOK || rep["events"] != 2.0 || rep["queued"] != 4.0 || len(rep["endpoints"].([]any)) != 2 {
		t.Fatalf("replay c1: %d %v", status, rep)
	}
	for _, d := range storetest.Rows(t, e.st, "") {
		if replayed := d.CallID == "c1"; (d.State == forward.Pending && d.Attempts == 0) != replayed {
			t.Errorf("row %+v after replaying c1", d)
		}
	}
	e.settle()
	// To one endpoint, named as configured or by another spelling of it.
	status, rep = e.do("POST", "/replay", token, `{"callId":"c1","url":"HTTPS://A.example:443/hook"}`)
	if status != http.StatusOK || rep["queued"] != 2.0 || !slices.Equal(toStrings(rep["endpoints"]), []string{epA}) {
		t.Fatalf("replay c1 to A: %d %v", status, rep)
	}
	for _, d := range storetest.Rows(t, e.st, "c1") {
		if (d.State == forward.Pending) != (d.Endpoint == epA) {
			t.Errorf("row %+v after replaying c1 to A", d)
		}
	}

	for body, want := range map[string]int{
		`{"callId":"c9"}`: http.StatusNotFound,
		`{"callId":"c1","url":"https://c.example/hook"}`: http.StatusBadRequest,
		`{}`:                                   http.StatusBadRequest,
		`{"callId":"c1","from":1740441600000}`: http.StatusBadRequest,
		`{"call":"c1"}`:                        http.StatusBadRequest,
		`{"from":"yesterday"}`:                 http.StatusBadRequest,
		`{"from":1740441600}`:                  http.StatusBadRequest, // seconds
		`{"from":"2025-02-26T00:00:00Z","to":1740441600000}`: http.StatusBadRequest,
		`not json`: http.StatusBadRequest,
	} {
		if status, rep := e.do("POST", "/replay", token, body); status != want {
			t.Errorf("%s: %d %v, want %d", body, status, rep, want)
		}
	}
	if status, _ := e.do("POST", "/replay", "", `{"callId":"c1"}`); status != http.StatusUnauthorized {
		t.Errorf("without the token: %d", status)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestReplayRange(t *testing.T) {
	e := newFwdEnv(t, epA)
	hour := int64(3600_000)
	t0 := storetest.T0
	evs := []*call.Event{
		// A call that started before the range, ended in it.
		storetest.Event("early", "call_started", t0-2*hour, call.Facts{Caller: "a", StartTime: t0 - 2*hour}),
		storetest.Event("early", "call_ended", t0+hour, call.Facts{Status: call.StatusEnded}),
		// Two calls in the range.
		storetest.Event("in1", "call_started", t0+2*hour, call.Facts{Caller: "b", StartTime: t0 + 2*hour}),
		storetest.Event("in2", "call_started", t0+3*hour, call.Facts{Caller: "c", StartTime: t0 + 3*hour}),
		// After it.
		storetest.Event("late", "call_started", t0+10*hour, call.Facts{Caller: "d", StartTime: t0 + 10*hour}),
	}
	storetest.Put(t, e.st, evs...)
	e.settle()
	var seen []records.ReplayProgress
	rep, err := e.svc.Replay(context.Background(), records.ReplayRequest{From: records.TimeArg(t0), To: records.TimeArg(t0 + 5*hour)},
		func(p records.ReplayProgress) { seen = append(seen, p) })
	if err != nil || rep.Events != 3 || rep.Queued != 3 {
		t.Fatalf("replay: %+v %v", rep, err)
	}
	if last := seen[len(seen)-1]; len(seen) < 2 || last.CallsDone != last.Calls || last.Events != 3 || seen[0].CallsDone != 0 {
		t.Errorf("progress %+v", seen)
	}
	pending := map[string]bool{}
	for _, d := range storetest.Rows(t, e.st, "") {
		if d.State == forward.Pending {
			pending[d.DeliveryID] = true
		}
	}
	for i, want := range []bool{false, true, true, true, false} {
		if pending[evs[i].DeliveryID] != want {
			t.Errorf("event %d (%s %s) replayed: %v, want %v", i, evs[i].CallID, evs[i].Event, !want, want)
		}
	}
	// Through the route, RFC 3339 times; to defaults to now.
	status, body := e.do("POST", "/replay", token, `{"from":"2024-03-15T07:00:00Z"}`)
	if status != http.StatusOK || body["events"] != 4.0 {
		t.Errorf("range to now: %d %v", status, body)
	}
}
