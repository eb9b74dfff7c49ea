package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/api/upstream"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/testkit"
)

type env struct {
	sb  *sandbox.Sandbox
	tc  *rest.Client
	clk *testkit.Clock // shared by the sandbox and the client
	now int64          // the clock's start, Unix seconds
}

func newEnv(t *testing.T, o sandbox.Options) *env {
	t.Helper()
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
	o.Clock = clk.Now
	o.Scale = sandbox.Instant
	sb := sandbox.New(o)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	tc, err := rest.New(rest.Options{SDKAppID: sb.SDKAppID(), Key: sandbox.DefaultKey, Endpoint: srv.URL, Now: clk.Now,
		Retry: rest.Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, tc: tc, clk: clk, now: clk.Now().Unix()}
}

// seed adds n ended records starting at start (seconds), one a minute,
// alternating results and types.
func (e *env) seed(start int64, n int, prefix string) []sandbox.Record {
	var recs []sandbox.Record
	for i := range n {
		r := sandbox.Record{CallId: fmt.Sprintf("%s-%03d", prefix, i), Caller_Account: "alice", MediaType: "Audio",
			CallType: "SingleCall", StartTime: start + int64(i)*60, AcceptTime: start + int64(i)*60 + 2,
			EndTime: start + int64(i)*60 + 30, CallResult: "NormalEnd", CalleeList_Account: []string{"alice", "bob"},
			RoomId: "42", RoomIdType: 1}
		if i%2 == 1 {
			r.CallResult, r.CallType, r.AcceptTime = "Reject", "MultiCall", 0
			r.CalleeList_Account = []string{"bob", "carol"}
		}
		recs = append(recs, r)
	}
	e.sb.AddPlayed(recs...)
	return recs
}

func TestRecordByCallIDBothGenerations(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	recs := e.seed(e.now-3600, 2, "c")
	e.seed(e.now-8*24*3600, 1, "old") // beyond Tencent's 7 days
	ctx := context.Background()
	for _, api := range []string{tencent.V4, tencent.V1} {
		t.Run(api, func(t *testing.T) {
			got, _, err := e.tc.GetRecordByCallID(ctx, api, recs[1].CallId)
			if err != nil {
				t.Fatal(err)
			}
			f := got.Facts
			if got.API != api || got.CallID != recs[1].CallId || f.Result != call.ResultReject || f.CallType != call.TypeGroup ||
				f.MediaType != call.MediaAudio || f.Caller != "alice" || f.StartTime != recs[1].StartTime*1000 ||
				f.EndTime != recs[1].EndTime*1000 || f.AcceptTime != 0 || f.Status != call.StatusEnded ||
				len(f.Callees) != 2 || f.Callees[0] != "bob" || f.Callees[1] != "carol" {
				t.Errorf("record %+v", got)
			}
			for _, id := range []string{"no-such-call", "old-000"} {
				_, _, err = e.tc.GetRecordByCallID(ctx, api, id)
				if !errors.Is(err, rest.ErrRecordNotFound) || upstream.Status(err) != http.StatusNotFound {
					t.Errorf("%s: %v, want ErrRecordNotFound", id, err)
				}
			}
			var te *rest.Error
			if api == tencent.V4 && (!errors.As(err, &te) || te.Code != 101050) {
				t.Errorf("v4 unknown record: %v, want code 101050", err)
			}
		})
	}
}

func TestRecordByFilterPaging(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.seed(e.now-5*3600, 25, "c")
	e.seed(e.now-8*24*3600, 3, "old")
	ctx := context.Background()
	for _, api := range []string{tencent.V4, tencent.V1} {
		t.Run(api, func(t *testing.T) {
			var ids []string
			for page := 1; ; page++ {
				p, _, err := e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{PerPage: 10, Page: page})
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != 25 {
					t.Fatalf("page %d: total %d, want 25 (the 7-day window clamps the start)", page, p.Total)
				}
				for _, r := range p.Records {
					if r.API != api {
						t.Errorf("record from %s", r.API)
					}
					ids = append(ids, r.CallID)
				}
				if p.Last(page, 10) {
					if page != 3 {
						t.Errorf("last page %d, want 3", page)
					}
					break
				}
				if page > 5 {
					t.Fatal("paging does not end")
				}
			}
			if len(ids) != 25 || ids[0] != "c-000" || ids[24] != "c-024" {
				t.Errorf("ids %v", ids)
			}
			// A page past the end: Page 0, no records.
			p, _, err := e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{PerPage: 10, Page: 4})
			if err != nil || p.Page != 0 || len(p.Records) != 0 || !p.Last(4, 10) {
				t.Errorf("past the end: %+v %v", p, err)
			}
			// Filters by result, type and time.
			p, _, err = e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{Result: call.ResultReject, CallType: call.TypeGroup, PerPage: 100})
			if err != nil || p.Total != 12 {
				t.Fatalf("reject/group: %+v %v", p, err)
			}
			p, _, err = e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{Result: call.ResultNormalEnd, CallType: call.TypeGroup})
			if err != nil || p.Total != 0 || p.Page != 0 {
				t.Fatalf("normal_end/group: %+v %v", p, err)
			}
			p, _, err = e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{StartTime: e.now - 5*3600 + 60, EndTime: e.now - 5*3600 + 180})
			if err != nil || p.Total != 3 || p.Records[0].CallID != "c-001" {
				t.Fatalf("time range: %+v %v", p, err)
			}
			// Bad parameters never reach Tencent.
			_, _, err = e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{Result: "maybe"})
			if !errors.Is(err, rest.ErrBadRequest) {
				t.Errorf("unknown result: %v", err)
			}
			_, _, err = e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{StartTime: 10, EndTime: 5})
			if !errors.Is(err, rest.ErrBadRequest) {
				t.Errorf("inverted range: %v", err)
			}
		})
	}
}

// Records last 7 days from their start; the window moves with the clock.
func TestRecordsSevenDayWindow(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	week := int64(rest.RecordRetention / time.Second)
	e.sb.AddPlayed(
		sandbox.Record{CallId: "out", StartTime: e.now - week - 30, EndTime: e.now - week, CallResult: "Cancel"},
		sandbox.Record{CallId: "in", StartTime: e.now - week + 30, EndTime: e.now - week + 60, CallResult: "Cancel"},
		sandbox.Record{CallId: "recent", StartTime: e.now - 10}, // AddPlayed ends it at its start
	)
	ctx := context.Background()
	for _, api := range []string{tencent.V4, tencent.V1} {
		count := func() int {
			p, _, err := e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{StartTime: 1, PerPage: 100})
			if err != nil {
				t.Fatal(err)
			}
			return p.Total
		}
		if n := count(); n != 2 {
			t.Errorf("%s: %d records, want 2 (the start is clamped to now - 7 days)", api, n)
		}
		if _, _, err := e.tc.GetRecordByCallID(ctx, api, "in"); err != nil {
			t.Errorf("%s: in: %v", api, err)
		}
		e.clk.Add(time.Minute)
		if n := count(); n != 1 {
			t.Errorf("%s: a minute later, %d records, want 1", api, n)
		}
		if _, _, err := e.tc.GetRecordByCallID(ctx, api, "in"); !errors.Is(err, rest.ErrRecordNotFound) {
			t.Errorf("%s: in, a minute later: %v, want not found", api, err)
		}
		e.clk.Add(-time.Minute)
	}
}

// A played call has a record once it has ended, in both generations.
func TestPlayedCallHasRecord(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctx := context.Background()
	req := &rest.StartCallRequest{Robot_Account: "robot", CalleeList_Account: []string{"bob"}, Timeout: 30000,
		UserData: "[sandbox outcome=Reject ring=1s]", CallInfo: rest.CallInfo{MediaType: "Video"}}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	started, _, err := e.tc.StartCallByRobot(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, api := range []string{tencent.V4, tencent.V1} {
		got, _, err := e.tc.GetRecordByCallID(ctx, api, string(started.CallId))
		if err != nil {
			t.Fatalf("%s: %v", api, err)
		}
		if got.Facts.Result != call.ResultReject || got.Facts.Caller != "robot" || got.Facts.MediaType != call.MediaVideo {
			t.Errorf("%s: %+v", api, got.Facts)
		}
	}
}

// Rate limits: the documented codes are ErrRateLimited (429).
func TestRecordsRateLimited(t *testing.T) {
	e := newEnv(t, sandbox.Options{RateLimit: 3})
	ctx := context.Background()
	for _, api := range []string{tencent.V4, tencent.V1} {
		var err error
		for range 10 {
			if _, _, err = e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{}); err != nil {
				break
			}
		}
		if !errors.Is(err, rest.ErrRateLimited) || upstream.Status(err) != http.StatusTooManyRequests {
			t.Errorf("%s: %v, want rate limited", api, err)
		}
	}
}

// Archived twice, a record is the same event.
func TestRecordEventIsStable(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.seed(e.now-3600, 3, "c")
	ctx := context.Background()
	for _, api := range []string{tencent.V4, tencent.V1} {
		one, _, err := e.tc.GetRecordByCallID(ctx, api, "c-002")
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := e.tc.GetRecordByFilter(ctx, api, rest.RecordFilter{PerPage: 1, Page: 3})
		if err != nil || len(p.Records) != 1 {
			t.Fatal(p, err)
		}
		a, b := one.Event(), p.Records[0].Event()
		if a.DeliveryID != b.DeliveryID || a.CallID != "c-002" || a.Provider != call.Tencent || a.Channel != api ||
			a.Command != "record" || a.EventTime != one.Facts.EndTime || a.Raw != string(one.Raw) {
			t.Errorf("%s: events differ or are wrong:\n%+v\n%+v", api, a, b)
		}
	}
}
