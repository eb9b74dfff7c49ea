package records_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// tableCalls counts the table's calls in the last 8 days.
func (e *env) tableCalls() int {
	e.t.Helper()
	n := 0
	q := store.CallQuery{From: ms(e.now - 8*day)}
	for {
		p, err := e.st.ListCalls(context.Background(), q)
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(p.Calls)
		if p.Next == "" {
			return n
		}
		q.Cursor = p.Next
	}
}

func TestArchiveIsIdempotent(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		e.played(e.now-5*3600, 250, "c")
		e.played(e.now-8*day, 2, "gone")
		ctx := context.Background()
		rep, err := e.svc.Archive(ctx, records.ArchiveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Done || rep.Resumed || rep.Pages != 3 || rep.Records != 250 || rep.Stored != 250 || rep.Known != 0 || rep.API != api {
			t.Errorf("first run %+v", rep)
		}
		if rep.From != ms(e.now-7*day) || rep.To != ms(e.now) {
			t.Errorf("first window %d..%d, want the last 7 days", rep.From, rep.To)
		}
		if n := e.tableCalls(); n != 250 {
			t.Errorf("table holds %d calls, want 250", n)
		}
		sum, evs, err := e.st.GetCall(ctx, "c-0007")
		if err != nil || sum.Status != call.StatusEnded || sum.Result != call.ResultReject || len(evs) != 1 || evs[0].Command != "record" || evs[0].Channel != api {
			t.Errorf("archived call %+v %+v %v", sum, evs, err)
		}
		// Again: nothing new. The window starts a day before the last one
		// ended.
		e.clk.Add(time.Hour)
		rep, err = e.svc.Archive(ctx, records.ArchiveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Done || rep.Stored != 0 || rep.Known != 250 || rep.Closed != 0 {
			t.Errorf("second run %+v", rep)
		}
		if rep.From != ms(e.now-day) {
			t.Errorf("second window from %d, want %d (the last end less the overlap)", rep.From, ms(e.now-day))
		}
		if n := e.tableCalls(); n != 250 {
			t.Errorf("table holds %d calls after a second run, want 250", n)
		}
		// An answer for an archived call is the table's alone: it knows
		// Tencent's record, without asking Tencent (no tencentApi).
		var got records.CallRecord
		if e.get("/records/c-0007", &got); got.Source != records.SourceBoth || got.TencentAPI != "" || got.Result != call.ResultReject {
			t.Errorf("answer after the archive: %+v", got)
		}
	})
}

// A call whose summary still says it goes on is closed by its record: one
// listed in a page, and one whose record appeared after its page was read
// (asked for by call id).
func TestArchiveClosesOpenCalls(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		recs := e.played(e.now-3600, 5, "c")
		e.callback("c-0003", ms(recs[3].StartTime), call.Facts{Status: call.StatusRinging, StartTime: ms(recs[3].StartTime), Caller: "alice"})
		e.callback("late", ms(e.now-1800), call.Facts{Status: call.StatusOngoing, StartTime: ms(e.now - 1800), Caller: "alice"})
		e.callback("still-on", ms(e.now-60), call.Facts{Status: call.StatusOngoing, StartTime: ms(e.now - 60), Caller: "alice"})
		progress := 0
		rep, err := e.svc.Archive(context.Background(), records.ArchiveOptions{Progress: func(p records.Progress) {
			progress++
			// The late call ends now, after its page was read.
			e.sb.AddPlayed(sandbox.Record{CallId: "late", Caller_Account: "alice", StartTime: e.now - 1800, EndTime: e.now - 5, CallResult: "Interrupt"})
		}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Closed != 2 || rep.Lookups != 2 || rep.Stored != 6 || progress != 1 {
			t.Errorf("report %+v (progress calls %d)", rep, progress)
		}
		for id, want := range map[string]string{"c-0003": call.StatusEnded, "late": call.StatusEnded, "still-on": call.StatusOngoing} {
			sum, _, err := e.st.GetCall(context.Background(), id)
			if err != nil || sum.Status != want {
				t.Errorf("%s: %+v %v, want %s", id, sum, err, want)
			}
		}
	})
}

// Tencent's records count whole seconds, callbacks milliseconds: a call
// answered in the second it ended, whose end callback was lost, is closed
// by its record all the same, its end and result following; the history
// lists it ended, as known to Tencent, and no longer in progress.
func TestArchiveClosesCallsOfTheSameSecond(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		recs := e.played(e.now-3600, 1, "c")
		end := ms(recs[0].EndTime)
		e.callback("c-0000", ms(recs[0].StartTime), call.Facts{Status: call.StatusRinging, StartTime: ms(recs[0].StartTime), Caller: "alice"})
		e.callback("c-0000", end+700, call.Facts{Status: call.StatusOngoing, AcceptTime: end + 700})
		var h records.History
		e.get("/records?status=in_progress", &h)
		if len(h.Records) != 1 {
			t.Fatalf("before the archive: %+v", h)
		}
		rep, err := e.svc.Archive(context.Background(), records.ArchiveOptions{})
		if err != nil || rep.Closed != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
		sum, _, err := e.st.GetCall(context.Background(), "c-0000")
		if err != nil || sum.Status != call.StatusEnded || sum.Result != call.ResultNormalEnd || sum.EndTime != end || !sum.Recorded {
			t.Errorf("%+v %v", sum, err)
		}
		h = records.History{}
		e.get("/records?status=in_progress", &h)
		if len(h.Records) != 0 {
			t.Errorf("still in progress: %+v", h)
		}
		e.get("/records?status=ended", &h)
		if len(h.Records) != 1 || h.Records[0].Source != records.SourceBoth || h.Records[0].Result != call.ResultNormalEnd {
			t.Errorf("ended: %+v", h)
		}
	})
}

// A run that nears its deadline stops, keeps its place, and the next run
// resumes there.
func TestArchiveResumesAfterDeadline(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		e.played(e.now-8*3600, 450, "c")
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
		defer cancel()
		// Each page takes 11 minutes by the injected clock; with 30 minutes
		// of margin the run fetches no page after the third: it stores the
		// fourth, already on its way, and stops.
		o := records.ArchiveOptions{Margin: 30 * time.Minute, Progress: func(records.Progress) { e.clk.Add(11 * time.Minute) }}
		rep, err := e.svc.Archive(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done || rep.Pages != 4 || rep.Stored != 400 || !strings.Contains(rep.Stopped, "deadline") {
			t.Fatalf("first run %+v", rep)
		}
		raw, err := e.st.GetMeta(context.Background(), records.CursorMeta)
		var cur struct{ From, To, Page int64 }
		if err != nil || json.Unmarshal([]byte(raw), &cur) != nil || cur.Page != 5 || cur.To != e.now {
			t.Errorf("cursor %q %v", raw, err)
		}
		rep, err = e.svc.Archive(context.Background(), records.ArchiveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Done || !rep.Resumed || rep.Pages != 1 || rep.Stored != 50 || rep.Known != 0 || rep.To != ms(e.now) {
			t.Errorf("resumed run %+v", rep)
		}
		if n := e.tableCalls(); n != 450 {
			t.Errorf("table holds %d calls, want 450", n)
		}
		// A run whose context has ended stores nothing and keeps the cursor.
		before, _ := e.st.GetMeta(context.Background(), records.CursorMeta)
		done, cancel2 := context.WithCancel(context.Background())
		cancel2()
		rep, err = e.svc.Archive(done, records.ArchiveOptions{Since: time.Hour})
		after, _ := e.st.GetMeta(context.Background(), records.CursorMeta)
		if err == nil && rep.Stopped == "" || rep.Done || rep.Pages != 0 || before != after {
			t.Errorf("cancelled run %+v %v; cursor %s then %s", rep, err, before, after)
		}
	})
}

// The archive stays under Tencent's 200 requests/s: the sandbox, which
// enforces the documented limit, counts the requests of every second.
func TestArchiveRespectsRateLimit(t *testing.T) {
	e := newEnv(t, "v4", envOptions{running: true})
	e.played(e.now-8*3600, 420, "c")
	rep, err := e.svc.Archive(context.Background(), records.ArchiveOptions{PageSize: 1, Rate: 195})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pages != 420 || rep.Stored != 420 {
		t.Errorf("report %+v", rep)
	}
	if m := e.hits.maxPerSecond(); m > 200 {
		t.Errorf("%d requests in one second, over Tencent's 200", m)
	}
	if _, err := e.svc.Archive(context.Background(), records.ArchiveOptions{Rate: 250}); err == nil {
		t.Error("a rate over Tencent's limit was accepted")
	}
}

// The schedule runs the archive; its payload may set the window.
func TestArchiveSchedule(t *testing.T) {
	e := newEnv(t, "v1", envOptions{})
	e.played(e.now-3*3600, 3, "c")
	e.played(e.now-30*60, 2, "recent")
	out, err := e.fn.Schedule(context.Background(), platform.Tick{Name: "archive", Time: e.clk.Now(), Payload: json.RawMessage(`{"since":"1h"}`)})
	if err != nil {
		t.Fatal(err)
	}
	rep, ok := out.(records.Report)
	if !ok || rep.Stored != 2 || rep.From != ms(e.now-3600) || !rep.Done {
		t.Errorf("since 1h: %#v", out)
	}
	if _, err := e.fn.Schedule(context.Background(), platform.Tick{Payload: json.RawMessage(`{"since":"soon"}`)}); err == nil {
		t.Error("a bad payload was accepted")
	}
	if out, err := e.fn.Schedule(context.Background(), platform.Tick{}); err != nil || out.(records.Report).Stored != 3 {
		t.Errorf("no payload: %+v %v", out, err)
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := records.ParseSince(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0d", "-1h", "d", "7days", "1e9d"} {
		if _, err := records.ParseSince(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// Without Tencent configured, the table answers alone and the archive
// refuses to run.
func TestWithoutTencent(t *testing.T) {
	st := local.NewMemory(store.Options{})
	defer st.Close()
	svc, err := records.NewService(config.Config{APIToken: token}, st, records.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Archive(context.Background(), records.ArchiveOptions{}); !errors.Is(err, records.ErrNoTencent) {
		t.Errorf("archive: %v", err)
	}
	ev := call.Event{Provider: call.Yunxin, Command: "5", Event: "call_ended", CallID: "yx", EventTime: time.Now().UnixMilli(),
		DeliveryID: "d", Facts: call.Facts{Status: call.StatusEnded}}
	if _, err := st.PutEvent(context.Background(), &ev); err != nil {
		t.Fatal(err)
	}
	rec, err := svc.Lookup(context.Background(), "yx")
	if err != nil || rec.Source != records.SourceTable || !strings.Contains(rec.TencentError, "not configured") || rec.Provider != call.Yunxin {
		t.Errorf("lookup %+v %v", rec, err)
	}
	if _, err := svc.Lookup(context.Background(), "nope"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("unknown call: %v", err)
	}
	p, err := svc.List(context.Background(), records.Filter{From: 0, To: time.Now().UnixMilli() + 1, Page: 1, PageSize: 10})
	if err != nil || len(p.Records) != 1 || p.Source != records.SourceTable {
		t.Errorf("list %+v %v", p, err)
	}
	p, err = svc.List(context.Background(), records.Filter{From: time.Now().Add(time.Hour).UnixMilli(), To: time.Now().Add(2 * time.Hour).UnixMilli(), Page: 1, PageSize: 10})
	if err != nil || len(p.Records) != 0 || !strings.Contains(p.TencentError, "not configured") {
		t.Errorf("empty list %+v %v", p, err)
	}
}
