package records_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/records"
)

// yunxin stores a Yunxin-like event for callID in the table.
func (e *env) yunxin(callID string, at int64, f call.Facts) {
	ev := call.Event{Provider: call.Yunxin, Channel: "copy", Command: "5", Event: "call_ended",
		CallID: callID, EventTime: at, DeliveryID: fmt.Sprintf("yx-%s-%d-%s", callID, at, f.Status), Facts: f, Raw: "{}"}
	if _, err := e.st.PutEvent(context.Background(), &ev); err != nil {
		panic(err)
	}
}

func historyIDs(h records.History) string {
	var out []string
	for _, r := range h.Records {
		out = append(out, r.CallID)
	}
	return strings.Join(out, ",")
}

// seedHistory stores, a minute apart from an hour ago: a Tencent call that
// ended normally (alice → bob), a Yunxin call bob missed (not answered, from
// carol), a Tencent group call still ringing (alice → bob, dave), and a robot
// call callfn started that Tencent has not called back about yet.
func seedHistory(e *env) (start int64) {
	start = ms(e.now - 3600)
	at := func(i int) int64 { return start + int64(i)*60000 }
	e.callback("t-ended", at(0), call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}, StartTime: at(0),
		CallType: call.TypeSingle, MediaType: call.MediaAudio})
	e.callback("t-ended", at(0)+30000, call.Facts{Status: call.StatusEnded, StartTime: at(0), AcceptTime: at(0) + 2000,
		EndTime: at(0) + 30000, Result: call.ResultNormalEnd})
	e.yunxin("y-missed", at(1), call.Facts{Status: call.StatusEnded, Caller: "carol", Callees: []string{"bob"}, StartTime: at(1),
		EndTime: at(1) + 40000, Result: call.ResultNotAnswer, CallType: call.TypeSingle})
	e.callback("t-ringing", at(2), call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob", "dave"},
		StartTime: at(2), CallType: call.TypeGroup})
	robot := call.Event{Provider: call.CallFn, Command: "start_call", Event: "call_started", CallID: "robot", EventTime: at(3),
		DeliveryID: "robot-start", Facts: call.Facts{Status: call.StatusRinging, Caller: "robot", Callees: []string{"erin"}, StartTime: at(3)}}
	if _, err := e.st.PutEvent(context.Background(), &robot); err != nil {
		e.t.Fatal(err)
	}
	return start
}

func TestHistoryListsTheTable(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	seedHistory(e)
	before := e.hits.count()
	var h records.History
	if status, _, raw := e.get("/records", &h); status != http.StatusOK || h.Next != "" {
		t.Fatalf("%d %v", status, raw)
	}
	if got := historyIDs(h); got != "robot,t-ringing,y-missed,t-ended" {
		t.Errorf("newest first: %s", got)
	}
	byID := map[string]records.Record{}
	for _, r := range h.Records {
		byID[r.CallID] = r
	}
	if r := byID["t-ringing"]; r.Status != call.StatusRinging || r.Result != "" || r.Source != records.SourceTable ||
		!slices.Equal(r.Callees, []string{"bob", "dave"}) || r.Provider != call.Tencent {
		t.Errorf("ringing call %+v", r)
	}
	if r := byID["y-missed"]; r.Provider != call.Yunxin || r.Result != call.ResultNotAnswer || r.Status != call.StatusEnded {
		t.Errorf("Yunxin call %+v", r)
	}
	if r := byID["robot"]; r.Provider != call.Tencent || r.Caller != "robot" {
		t.Errorf("robot call %+v", r)
	}
	if n := e.hits.count() - before; n != 0 {
		t.Errorf("the table's history asked Tencent %d times", n)
	}
	for query, want := range map[string]string{
		"order=asc":                     "t-ended,y-missed,t-ringing,robot",
		"provider=yunxin":               "y-missed",
		"provider=tencent&order=asc":    "t-ended,t-ringing,robot",
		"status=ringing":                "robot,t-ringing",
		"status=ended&result=NotAnswer": "y-missed",
		"result=normal_end":             "t-ended",
		"type=group":                    "t-ringing",
		"user=bob":                      "t-ringing,y-missed,t-ended",
		"user=dave":                     "t-ringing",
		"user=bob&result=missed":        "y-missed",
		"user=carol&result=missed":      "",
		"user=nobody":                   "",
		fmt.Sprintf("from=%d", ms(e.now-3600)+60000):                          "robot,t-ringing,y-missed",
		fmt.Sprintf("to=%d", ms(e.now-3600)+60000):                            "t-ended",
		fmt.Sprintf("from=%d&to=%d", ms(e.now-3600)+1, ms(e.now-3600)+120001): "t-ringing,y-missed",
		"source=table&limit=100":                                              "robot,t-ringing,y-missed,t-ended",
	} {
		var h records.History
		if status, _, raw := e.get("/records?"+query, &h); status != http.StatusOK || historyIDs(h) != want {
			t.Errorf("%s: %d %v, want %s", query, status, raw, want)
		}
	}
}

// limit and cursor page through every call once, in both orders; a record
// whose Tencent record the table holds says tencent+table.
func TestHistoryPages(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	const n = 45
	for i := range n {
		at := ms(e.now-10*day) + int64(i)*1000
		e.callback(fmt.Sprintf("c-%02d", i), at, call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}, StartTime: at})
	}
	for _, order := range []string{"desc", "asc"} {
		var got []string
		next := ""
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatalf("%s: no end", order)
			}
			var h records.History
			path := "/records?limit=10&user=bob&order=" + order
			if next != "" {
				path += "&cursor=" + url.QueryEscape(next)
			}
			if status, _, raw := e.get(path, &h); status != http.StatusOK || len(h.Records) > 10 {
				t.Fatalf("%s: %d %v", order, status, raw)
			}
			for _, r := range h.Records {
				got = append(got, r.CallID)
			}
			if next = h.Next; next == "" {
				break
			}
		}
		want := make([]string, n)
		for i := range want {
			want[i] = fmt.Sprintf("c-%02d", i)
		}
		if order == "desc" {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v", order, got)
		}
	}

	archiveOne(t, e)
	var h records.History
	e.get("/records?result=normal_end", &h)
	if len(h.Records) != 1 || h.Records[0].Source != records.SourceBoth || h.Records[0].Status != call.StatusEnded {
		t.Errorf("archived call: %+v", h)
	}
}

func TestHistoryBadParams(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	seedHistory(e)
	var h records.History
	e.get("/records?limit=1&provider=tencent", &h)
	if h.Next == "" {
		t.Fatal("no cursor")
	}
	cursor := url.QueryEscape(h.Next)
	for query, field := range map[string]string{
		"page=2":                      "page",
		"pageSize=10":                 "pageSize",
		"limit=0":                     "limit",
		"limit=101":                   "limit",
		"limit=ten":                   "limit",
		"Limit=10":                    "Limit",
		"order=newest":                "order",
		"provider=zoom":               "provider",
		"status=busy":                 "status",
		"result=maybe":                "result",
		"result=missed":               "result",
		"type=triple":                 "type",
		"source=zoom":                 "source",
		"source=table&source=tencent": "source",
		"user=a%00b":                  "user",
		"from=yesterday":              "from",
		"from=2000&to=1000":           "from",
		"to=-1":                       "to",
		"limit=1&limit=2":             "limit",
		"cursor=bm90LWEtY3Vyc29y":     "cursor",
		"cursor=%25%25":               "cursor",
		// Another query's cursor: the order, a filter, or the route differs.
		"provider=tencent&order=asc&cursor=" + cursor: "cursor",
		"provider=yunxin&cursor=" + cursor:            "cursor",
		"cursor=" + cursor:                            "cursor",
	} {
		status, _, raw := e.get("/records?"+query, nil)
		if status != http.StatusBadRequest || raw["field"] != field || !strings.HasPrefix(fmt.Sprint(raw["error"]), field+": ") {
			t.Errorf("%s: %d %v, want 400 naming %s", query, status, raw, field)
		}
	}
	// The same query with another limit takes the cursor.
	if status, _, raw := e.get("/records?provider=tencent&limit=50&cursor="+cursor, &h); status != http.StatusOK || historyIDs(h) != "t-ringing,t-ended" {
		t.Errorf("same query, other limit: %d %v", status, raw)
	}
	if status, _, raw := e.get("/users/alice/calls?cursor="+cursor, nil); status != http.StatusBadRequest || raw["field"] != "cursor" {
		t.Errorf("cursor of /records on /users: %d %v", status, raw)
	}
	for query, field := range map[string]string{"type=group": "type", "user=bob": "user", "order=asc": "order", "provider=yunxin": "provider"} {
		if status, _, raw := e.get("/users/alice/calls?"+query, nil); status != http.StatusBadRequest || raw["field"] != field {
			t.Errorf("/users/alice/calls?%s: %d %v", query, status, raw)
		}
	}
	for _, id := range []string{strings.Repeat("u", records.MaxUserID+1), "a%00b", "%ff"} {
		if status, _, raw := e.get("/users/"+id+"/calls", nil); status != http.StatusBadRequest || raw["field"] != "userId" {
			t.Errorf("user %q: %d %v", id, status, raw)
		}
	}
}

func TestUserCalls(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	start := seedHistory(e)
	for path, want := range map[string]string{
		"/users/bob/calls":                               "t-ringing,y-missed,t-ended",
		"/users/bob/calls?result=missed":                 "y-missed",
		"/users/bob/calls?status=ringing":                "t-ringing",
		"/users/bob/calls?result=normal_end":             "t-ended",
		"/users/carol/calls":                             "y-missed",
		"/users/carol/calls?result=missed":               "",
		"/users/erin/calls":                              "robot",
		"/users/robot/calls?status=ringing":              "robot",
		"/users/nobody/calls":                            "",
		fmt.Sprintf("/users/bob/calls?from=%d", start+1): "t-ringing,y-missed",
	} {
		var h records.History
		if status, _, raw := e.get(path, &h); status != http.StatusOK || historyIDs(h) != want {
			t.Errorf("%s: %d %v, want %s", path, status, raw, want)
		}
	}
	// One page at a time.
	var h records.History
	e.get("/users/bob/calls?limit=2", &h)
	if historyIDs(h) != "t-ringing,y-missed" || h.Next == "" {
		t.Fatalf("page 1: %+v", h)
	}
	e.get("/users/bob/calls?limit=2&cursor="+url.QueryEscape(h.Next), &h)
	if historyIDs(h) != "t-ended" || h.Next != "" {
		t.Errorf("page 2: %+v", h)
	}
}
