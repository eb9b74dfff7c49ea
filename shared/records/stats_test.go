package records_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/records"
)

func utc(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func TestStats(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	a := utc("2026-03-01T23:50:00Z")
	b := utc("2026-03-02T00:10:00Z")
	c := utc("2026-03-02T18:40:00Z")
	d := utc("2026-03-02T18:20:00Z")
	f := utc("2026-03-02T12:00:00Z")
	// a's end arrives before its start, and twice.
	e.callback("a", a+65000, call.Facts{Status: call.StatusEnded, StartTime: a, AcceptTime: a + 5000, EndTime: a + 65000, Result: call.ResultNormalEnd})
	e.callback("a", a, call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}, StartTime: a})
	e.callback("a", a+65000, call.Facts{Status: call.StatusEnded, StartTime: a, AcceptTime: a + 5000, EndTime: a + 65000, Result: call.ResultNormalEnd})
	e.yunxin("b", b+30000, call.Facts{Status: call.StatusEnded, StartTime: b, EndTime: b + 30000, Result: call.ResultNotAnswer})
	e.callback("c", c, call.Facts{Status: call.StatusRinging, StartTime: c})
	robot := call.Event{Provider: call.CallFn, Command: "start_call", CallID: "d", EventTime: d, DeliveryID: "d",
		Facts: call.Facts{Status: call.StatusRinging, StartTime: d}}
	if _, err := e.st.PutEvent(context.Background(), &robot); err != nil {
		t.Fatal(err)
	}
	// f first looks cancelled, then a later event says it was answered and
	// ended normally: it counts once, with its last result.
	e.callback("f", f+1000, call.Facts{Status: call.StatusEnded, StartTime: f, EndTime: f + 1000, Result: call.ResultCancel})
	e.callback("f", f+9000, call.Facts{Status: call.StatusEnded, StartTime: f, AcceptTime: f + 1000, EndTime: f + 9000, Result: call.ResultNormalEnd})

	tally := func(calls int64, byResult, byProvider map[string]int64, inProgress, talk int64) records.Tally {
		return records.Tally{Calls: calls, ByResult: byResult, ByProvider: byProvider, InProgress: inProgress, TalkSeconds: talk}
	}
	none := map[string]int64{}
	cases := []struct {
		query string
		want  records.Stats
	}{{
		query: "from=2026-03-01&to=2026-03-04&tz=Asia/Kolkata",
		want: records.Stats{From: utc("2026-02-28T18:30:00Z"), To: utc("2026-03-03T18:30:00Z"), TZ: "Asia/Kolkata",
			Days: []records.DayStats{
				{Date: "2026-03-01", Tally: tally(0, none, none, 0, 0)},
				{Date: "2026-03-02", Tally: tally(4, map[string]int64{"normal_end": 2, "not_answer": 1},
					map[string]int64{"tencent": 3, "yunxin": 1}, 1, 68)},
				{Date: "2026-03-03", Tally: tally(1, none, map[string]int64{"tencent": 1}, 1, 0)},
			},
			Total: tally(5, map[string]int64{"normal_end": 2, "not_answer": 1}, map[string]int64{"tencent": 4, "yunxin": 1}, 2, 68)},
	}, {
		query: fmt.Sprintf("from=%d&to=%d", a, c),
		want: records.Stats{From: utc("2026-03-01T00:00:00Z"), To: utc("2026-03-03T00:00:00Z"), TZ: "UTC",
			Days: []records.DayStats{
				{Date: "2026-03-01", Tally: tally(1, map[string]int64{"normal_end": 1}, map[string]int64{"tencent": 1}, 0, 60)},
				{Date: "2026-03-02", Tally: tally(4, map[string]int64{"normal_end": 1, "not_answer": 1},
					map[string]int64{"tencent": 3, "yunxin": 1}, 2, 8)},
			},
			Total: tally(5, map[string]int64{"normal_end": 2, "not_answer": 1}, map[string]int64{"tencent": 4, "yunxin": 1}, 2, 68)},
	}}
	for _, c := range cases {
		var got records.Stats
		if status, _, raw := e.get("/stats?"+c.query, &got); status != http.StatusOK {
			t.Fatalf("%s: %d %v", c.query, status, raw)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", c.query, got, c.want)
		}
	}

	var got records.Stats
	e.get("/stats", &got)
	today := time.UnixMilli(ms(e.now)).UTC().Format(time.DateOnly)
	if len(got.Days) != records.DefaultStatsDays || got.Days[len(got.Days)-1].Date != today || got.TZ != "UTC" {
		t.Errorf("default range: %+v", got)
	}
	for query, field := range map[string]string{
		"tz=Mars/Olympus":               "tz",
		"tz=Local":                      "tz",
		"from=2026-03-02&to=2026-03-01": "from",
		"from=2024-01-01&to=2026-01-01": "from",
		"from=tomorrow":                 "from",
		"to=2026-13-01":                 "to",
		"days=7":                        "days",
		"tz=UTC&tz=Asia/Tokyo":          "tz",
	} {
		status, _, raw := e.get("/stats?"+query, nil)
		if status != http.StatusBadRequest || raw["field"] != field {
			t.Errorf("%s: %d %v, want 400 naming %s", query, status, raw, field)
		}
	}
}
