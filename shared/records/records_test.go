package records_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestGetRecordMergesTencentAndTable(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		recs := e.played(e.now-3600, 2, "c")
		// The table heard the call start and answer, but never its end.
		e.callback("c-0000", ms(recs[0].StartTime), call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}, StartTime: ms(recs[0].StartTime)})
		e.callback("c-0000", ms(recs[0].AcceptTime), call.Facts{Status: call.StatusOngoing, AcceptTime: ms(recs[0].AcceptTime)})

		var got records.CallRecord
		status, _, raw := e.get("/records/c-0000", &got)
		if status != http.StatusOK {
			t.Fatalf("status %d: %v", status, raw)
		}
		want := records.Record{CallID: "c-0000", Provider: call.Tencent, Caller: "alice", Callees: []string{"bob"},
			MediaType: call.MediaVideo, CallType: call.TypeSingle, Result: call.ResultNormalEnd, Status: call.StatusEnded,
			StartTime: ms(recs[0].StartTime), AcceptTime: ms(recs[0].AcceptTime), EndTime: ms(recs[0].EndTime),
			RoomID: "1234", Source: records.SourceBoth, TencentAPI: api}
		if fmt.Sprint(got.Record) != fmt.Sprint(want) {
			t.Errorf("record\n got  %+v\n want %+v", got.Record, want)
		}
		if len(got.Events) != 3 || got.Events[2].Command != "record" || got.Events[2].Channel != api || got.Events[0].Facts.Status != call.StatusRinging {
			t.Errorf("timeline %+v", got.Events)
		}
		// The record is now in the table: the next answer is the table's
		// alone, and Tencent is not asked.
		before := e.hits.count()
		got = records.CallRecord{}
		if status, _, raw := e.get("/records/c-0000", &got); status != http.StatusOK || got.Source != records.SourceBoth || got.TencentAPI != "" ||
			got.Status != call.StatusEnded || len(got.Events) != 3 || got.TencentError != "" {
			t.Errorf("second answer %d %v", status, raw)
		}
		if n := e.hits.count() - before; n != 0 {
			t.Errorf("asked Tencent %d times for an archived record", n)
		}
		// A call only Tencent knows.
		got = records.CallRecord{}
		if status, _, raw := e.get("/records/c-0001", &got); status != http.StatusOK || got.Source != records.SourceTencent ||
			got.Result != call.ResultReject || got.CallType != call.TypeGroup || got.AcceptTime != 0 ||
			!slices.Equal(got.Callees, []string{"bob", "carol"}) || len(got.Events) != 1 {
			t.Errorf("Tencent-only call %d %v", status, raw)
		}
		// Neither knows it: 404.
		if status, _, raw := e.get("/records/no-such-call", nil); status != http.StatusNotFound || !strings.Contains(fmt.Sprint(raw["error"]), "no such call") {
			t.Errorf("unknown call: %d %v", status, raw)
		}
	})
}

// When Tencent fails, the table answers and says why; when the table has
// nothing, Tencent's failure is the answer.
func TestGetRecordWhenTencentFails(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		rateCode := 60007
		cmd := "call_record_http_srv/get_record_by_callid"
		if api == "v1" {
			rateCode, cmd = 70005, "records/get_record_by_callId"
		}
		cases := []struct {
			name       string
			fault      sandbox.Fault
			down       bool
			noTable    int    // status when the table has nothing
			retryAfter string // on noTable
			errHas     string
		}{
			{name: "rate limited", fault: sandbox.Fault{Code: rateCode, Info: "too many"}, noTable: 429, retryAfter: "1", errHas: "rate-limited"},
			{name: "unavailable", fault: sandbox.Fault{HTTPStatus: 503}, noTable: 504, errHas: "unreachable"},
			{name: "slow", fault: sandbox.Fault{Stall: 2 * time.Second}, noTable: 504, errHas: "unreachable"},
			{name: "down", down: true, noTable: 504, errHas: "connect"},
		}
		if api == "v4" {
			cases = append(cases, struct {
				name       string
				fault      sandbox.Fault
				down       bool
				noTable    int
				retryAfter string
				errHas     string
			}{name: "no record", fault: sandbox.Fault{Code: 101050, Info: "record does not exist"}, noTable: 404, errHas: "record does not exist"})
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := newEnv(t, api, envOptions{})
				e.played(e.now-3600, 1, "c")
				e.callback("c-0000", ms(e.now-3600), call.Facts{Status: call.StatusOngoing, Caller: "alice", StartTime: ms(e.now - 3600)})
				e.callback("only-table", ms(e.now-60), call.Facts{Status: call.StatusRinging, Caller: "dave"})
				if c.down {
					e.tsrv.Close()
				} else {
					c.fault.Command, c.fault.Times = cmd, 100
					e.sb.Inject(c.fault)
				}
				var got records.CallRecord
				status, _, raw := e.get("/records/c-0000", &got)
				if status != http.StatusOK || got.Source != records.SourceTable || got.Status != call.StatusOngoing ||
					!strings.Contains(got.TencentError, c.errHas) || len(got.Events) != 1 {
					t.Errorf("table answer: %d %v", status, raw)
				}
				if strings.Contains(fmt.Sprint(raw), sandbox.DefaultKey) || strings.Contains(fmt.Sprint(raw), "usersig=") {
					t.Errorf("answer leaks a secret: %v", raw)
				}
				status, hdr, raw := e.get("/records/c-unknown", nil)
				if status != c.noTable || hdr.Get("Retry-After") != c.retryAfter || raw["error"] == nil {
					t.Errorf("nothing in the table: %d Retry-After %q %v, want %d %q", status, hdr.Get("Retry-After"), raw, c.noTable, c.retryAfter)
				}
			})
		}
	})
}

// The v1 API answers an unknown call with no data; the table then answers.
func TestGetRecordNotInTencent(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		e.callback("yx-1", ms(e.now-60), call.Facts{Status: call.StatusOngoing, Caller: "erin"})
		var got records.CallRecord
		status, _, raw := e.get("/records/yx-1", &got)
		if status != http.StatusOK || got.Source != records.SourceTable || !strings.Contains(got.TencentError, "does not exist") {
			t.Errorf("%d %v", status, raw)
		}
	})
}

func TestGetRecordBadCallID(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	for _, id := range []string{strings.Repeat("x", records.MaxCallID+1), "a%00b", "%ff%fe"} {
		status, _, raw := e.get("/records/"+id, nil)
		if status != http.StatusBadRequest || raw["field"] != "callId" {
			t.Errorf("%q: %d %v", id, status, raw)
		}
	}
}

func TestBearerToken(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	for _, path := range []string{"/records?source=tencent", "/records/c-1", "/records", "/users/alice/calls", "/stats"} {
		for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Basic " + token: 401, "Bearer " + token: 0} {
			status, _, raw := getWith(t, e.srv.URL+path, auth, nil)
			if want != 0 && status != want || want == 0 && (status == 401 || status == 403) {
				t.Errorf("%s with %q: %d %v", path, auth, status, raw)
			}
		}
	}
	// With no token configured, every request is refused.
	empty := ""
	closed := newEnv(t, "v4", envOptions{token: &empty})
	for _, auth := range []string{"", "Bearer ", "Bearer anything"} {
		if status, _, raw := getWith(t, closed.srv.URL+"/records", auth, nil); status != 401 && status != 403 {
			t.Errorf("no token configured, %q: %d %v", auth, status, raw)
		}
	}
	if closed.hits.count() != 0 || e.hits.count() != 2 {
		t.Errorf("Tencent asked %d and %d times; want 0 and 2 (only the authenticated requests)", closed.hits.count(), e.hits.count())
	}
}

func TestBadFilters(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	for query, field := range map[string]string{
		"result=maybe": "result",
		"result=":      "",
		"type=triple":  "type",
		"from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z": "from",
		"from=1714600000000&to=1714600000000":               "from",
		"to=-5":                                             "to",
		"from=1714600000000&to=1000000000000":               "from",
		"from=1714600000":                                   "from",
		"from=yesterday":                                    "from",
		"to=99999999999999999999":                           "to",
		"pageSize=0":                                        "pageSize",
		"pageSize=101":                                      "pageSize",
		"pageSize=ten":                                      "pageSize",
		"page=0":                                            "page",
		"page=-1":                                           "page",
		"pagesize=10":                                       "pagesize",
		"limit=10":                                          "limit",
		"page=1&page=2":                                     "page",
	} {
		status, _, raw := e.get("/records?source=tencent&"+query, nil)
		if field == "" {
			if status != http.StatusOK {
				t.Errorf("%s: %d %v", query, status, raw)
			}
			continue
		}
		if status != http.StatusBadRequest || raw["field"] != field || !strings.Contains(fmt.Sprint(raw["error"]), field) {
			t.Errorf("%s: %d %v, want 400 naming %s", query, status, raw, field)
		}
	}
	if n := e.hits.count(); n != 1 {
		t.Errorf("bad filters reached Tencent: %d requests", n)
	}
}

func TestParseFilter(t *testing.T) {
	now := time.UnixMilli(1714600000000)
	f, err := records.ParseFilter(map[string][]string{"from": {"2024-05-01T00:00:00.5+08:00"}, "result": {"NotAnswer"}, "type": {"MultiCall"}, "page": {"3"}, "pageSize": {"100"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := records.Filter{From: 1714492800500, To: 1714600000000, Result: call.ResultNotAnswer, CallType: call.TypeGroup, Page: 3, PageSize: 100}
	if f != want {
		t.Errorf("got %+v want %+v", f, want)
	}
	f, err = records.ParseFilter(nil, now)
	if err != nil || f.To != now.UnixMilli() || f.From != now.Add(-7*24*time.Hour).UnixMilli() || f.Page != 1 || f.PageSize != records.DefaultPageSize {
		t.Errorf("defaults %+v %v", f, err)
	}
}

func FuzzParseFilter(f *testing.F) {
	f.Add("from", "1714600000000", "pageSize", "10")
	f.Add("to", "2024-05-01T00:00:00Z", "result", "NormalEnd")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		fl, err := records.ParseFilter(map[string][]string{k1: {v1}, k2: {v2}}, time.UnixMilli(1714600000000))
		if err == nil && (fl.From >= fl.To || fl.Page < 1 || fl.PageSize < 1 || fl.PageSize > records.MaxPageSize) {
			t.Errorf("accepted %+v", fl)
		}
	})
}

// Whatever the path and query, the routes answer JSON and never a 5xx.
func FuzzRoutes(f *testing.F) {
	f.Add("c-1", "from=1714600000000&result=reject")
	f.Add("%ff", "pageSize=%00")
	f.Add("", "to=2024-05-01T00:00:00Z&from=0&page=100000&pageSize=100")
	f.Add("bob", "result=missed&limit=100&cursor=AQ")
	f.Add("u", "tz=Asia/Kolkata&from=2026-01-01&to=2026-12-31")
	st := local.NewMemory(store.Options{})
	svc, err := records.NewService(config.Config{APIToken: token}, st, records.Options{})
	if err != nil {
		f.Fatal(err)
	}
	h := svc.Function().Handler()
	f.Fuzz(func(t *testing.T, id, query string) {
		for _, target := range []string{"/records?" + query, "/records/" + url.PathEscape(id) + "?" + query,
			"/users/" + url.PathEscape(id) + "/calls?" + query, "/stats?" + query} {
			req, err := http.NewRequest(http.MethodGet, "http://x"+target, nil)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code >= 500 || w.Code == 200 && !json.Valid(w.Body.Bytes()) {
				t.Errorf("%s: %d %s", target, w.Code, w.Body)
			}
		}
	})
}
