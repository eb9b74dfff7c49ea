package startcall_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/startcall"
)

func tick(name string, at time.Time, payload string) platform.Tick {
	return platform.Tick{Name: name, Time: at, Payload: json.RawMessage(payload)}
}

// TestScheduleFiredTwiceRingsOnce fires the same schedule for the same time
// from many goroutines at once: one firing claims it and starts the calls,
// the others start nothing.
func TestScheduleFiredTwiceRingsOnce(t *testing.T) {
	f := newFixture(t, setup{})
	payload := "[" + body(nil) + "," + body(func(m map[string]any) { m["CalleeList_Account"] = []any{"rose"} }) + "]"
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const firings = 8
	results := make([]*startcall.ScheduleResult, firings)
	errs := make([]error, firings)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range firings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			res, err := f.fn.Schedule(context.Background(), tick("morning", at, payload))
			results[i], errs[i] = res.(*startcall.ScheduleResult), err
		}()
	}
	close(gate)
	wg.Wait()
	claimed := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("firing %d: %v", i, errs[i])
		}
		if res.Claimed {
			claimed++
			if len(res.Calls) != 2 || res.Calls[0].CallId == "" || res.Calls[1].CallId == "" {
				t.Fatalf("the claiming firing: %+v", res.Calls)
			}
		} else if len(res.Calls) != 0 {
			t.Fatalf("an unclaimed firing started calls: %+v", res)
		}
	}
	if claimed != 1 {
		t.Fatalf("%d firings claimed the same time, want 1", claimed)
	}
	if f.sb.Rang("jack") != 1 || f.sb.Rang("rose") != 1 || f.sb.Requests("start_call_by_robot") != 2 {
		t.Fatalf("jack rang %d, rose %d times, %d start requests; want 1, 1, 2", f.sb.Rang("jack"), f.sb.Rang("rose"), f.sb.Requests("start_call_by_robot"))
	}
	// The same schedule at its next time fires again; so does another
	// schedule at the same time.
	for _, tk := range []platform.Tick{tick("morning", at.Add(24*time.Hour), body(nil)), tick("evening", at, body(nil))} {
		res, err := f.fn.Schedule(context.Background(), tk)
		if err != nil || !res.(*startcall.ScheduleResult).Claimed {
			t.Fatalf("%s at %s: %+v, %v", tk.Name, tk.Time, res, err)
		}
	}
	if f.sb.Rang("jack") != 3 {
		t.Fatalf("jack rang %d times, want 3", f.sb.Rang("jack"))
	}
	// Each call records who started it.
	for _, res := range results {
		if res.Claimed {
			_, evs, err := f.st.GetCall(context.Background(), res.Calls[0].CallId)
			if err != nil || evs[0].Facts.Detail["startedBy"] != "schedule:morning" {
				t.Fatalf("recorded %+v, %v", evs, err)
			}
		}
	}
}

func TestScheduleRejectsABadPayloadBeforeClaiming(t *testing.T) {
	f := newFixture(t, setup{})
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, bad := range []string{``, `[]`, `{"Robot_Account":"robot", // comment`, "[" + body(nil) + `,{"Timeout":5}]`, `"text"`} {
		if _, err := f.fn.Schedule(context.Background(), tick("morning", at, bad)); err == nil {
			t.Errorf("payload %q accepted", bad)
		}
	}
	if f.sb.Requests("start_call_by_robot") != 0 {
		t.Fatal("a bad payload started a call")
	}
	// Nothing was claimed: a good payload for the same time still runs.
	res, err := f.fn.Schedule(context.Background(), tick("morning", at, body(nil)))
	if err != nil || !res.(*startcall.ScheduleResult).Claimed || f.sb.Rang("jack") != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestScheduleReportsFailedCalls(t *testing.T) {
	f := newFixture(t, setup{})
	payload := "[" + body(nil) + "," + body(func(m map[string]any) { m["UserData"] = "[sandbox fail=jack]" }) + "]"
	res, err := f.fn.Schedule(context.Background(), tick("", time.Time{}, payload))
	r := res.(*startcall.ScheduleResult)
	if err == nil || !strings.Contains(err.Error(), "request 1") || !r.Claimed || r.Schedule != "default" || r.Time.IsZero() {
		t.Fatalf("%+v, %v", r, err)
	}
	if r.Calls[0].Error != "" || r.Calls[1].Error == "" {
		t.Fatalf("calls %+v %+v", r.Calls[0], r.Calls[1])
	}
	// A platform retry of the failed firing starts nothing again.
	res, err = f.fn.Schedule(context.Background(), tick("", r.Time, payload))
	if err != nil || res.(*startcall.ScheduleResult).Claimed || f.sb.Requests("start_call_by_robot") != 2 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
}

func TestClaimKey(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	if k := startcall.ClaimKey("morning", at); k != "startcall#schedule#morning#2026-03-01T01:00:00Z" {
		t.Fatal(k)
	}
	if startcall.ClaimKey("a", at) == startcall.ClaimKey("b", at) || startcall.ClaimKey("a", at) == startcall.ClaimKey("a", at.Add(time.Nanosecond)) {
		t.Fatal("claim keys collide")
	}
}
