package dashboard_test

// The server the browser tests talk to: the real records function (which
// mounts the dashboard) over a memory table, with calls put in through the
// table's PutEvent as the webhook would, and a log of the requests it got.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
)

const apiToken = "dashboard-test-token"

// htmlID is a call id, and mallory a user id, that hold HTML: the page
// must show them as text.
const (
	htmlID  = `<img src=x onerror=alert(1)>`
	mallory = `<b>mallory</b>`
)

// testTZ is the browser's time zone in the tests (not the machine's, nor
// UTC, so that a time shown in UTC by mistake is caught).
const testTZ = "Asia/Shanghai"

// seedCall is one call put in the table as its callbacks.
type seedCall struct {
	ID, Provider, Caller string
	Callees              []string
	Media, Type          string
	Start                time.Time
	Answer               time.Duration // after Start; 0: never answered
	End                  time.Duration // after Start; 0: still going
	Result               string
	Record               bool // Tencent's record is archived too
}

// talk is the call's talk time (answer to end) once it has ended.
func (c seedCall) talk() time.Duration {
	if c.Answer > 0 && c.End > 0 {
		return c.End - c.Answer
	}
	return 0
}

func (c seedCall) has(user string) bool { return c.Caller == user || slices.Contains(c.Callees, user) }

// Named calls the tests look for.
const (
	idEnded   = "2ae7d549-c441-4a9b-87c0-61810fe19582"
	idMissed  = "8c0f3b1e-5d0a-4f63-9a57-3f2e1c0a7b10"
	idRinging = "yx-7f1c2a90-0c4e-4d2e-b1a5-60a1b2c3d4e5"
	idTalking = "5b7e2f44-1a9d-4c3b-8e6f-0d9c8b7a6f51"
	idGroup   = "e3a1c9d2-77b4-4e0f-a2c1-9b8d7e6f5a40"
	idCancel  = "yx-0b9e8d7c-6a5f-4e3d-2c1b-0a9f8e7d6c5b"
	idBusy    = "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"
)

// seedCalls are the stored calls, relative to now.
func seedCalls(now time.Time) []seedCall {
	calls := []seedCall{
		{ID: idEnded, Provider: call.Tencent, Caller: "alice", Callees: []string{"bob"}, Media: call.MediaVideo, Type: call.TypeSingle,
			Start: now.Add(-2 * time.Hour), Answer: 6 * time.Second, End: 3*time.Minute + 11*time.Second, Result: call.ResultNormalEnd, Record: true},
		{ID: idMissed, Provider: call.Tencent, Caller: "carol", Callees: []string{"alice"}, Media: call.MediaAudio, Type: call.TypeSingle,
			Start: now.Add(-70 * time.Minute), End: 30 * time.Second, Result: call.ResultNotAnswer},
		{ID: idRinging, Provider: call.Yunxin, Caller: "dave", Callees: []string{"erin"}, Media: call.MediaAudio, Type: call.TypeSingle,
			Start: now.Add(-15 * time.Second)},
		{ID: idTalking, Provider: call.Tencent, Caller: "bob", Callees: []string{"alice"}, Media: call.MediaVideo, Type: call.TypeSingle,
			Start: now.Add(-4 * time.Minute), Answer: 8 * time.Second},
		{ID: idGroup, Provider: call.Tencent, Caller: "alice", Callees: []string{"bob", "carol", "dave"}, Media: call.MediaVideo, Type: call.TypeGroup,
			Start: now.Add(-27 * time.Hour), Answer: 10 * time.Second, End: 25 * time.Minute, Result: call.ResultNormalEnd, Record: true},
		{ID: htmlID, Provider: call.Tencent, Caller: mallory, Callees: []string{"alice"}, Media: call.MediaAudio, Type: call.TypeSingle,
			Start: now.Add(-29 * time.Hour), End: 7 * time.Second, Result: call.ResultReject},
		{ID: idCancel, Provider: call.Yunxin, Caller: "erin", Callees: []string{"alice"}, Media: call.MediaAudio, Type: call.TypeSingle,
			Start: now.Add(-49 * time.Hour), End: 12 * time.Second, Result: call.ResultCancel},
		{ID: idBusy, Provider: call.Tencent, Caller: "frank", Callees: []string{"alice"}, Media: call.MediaAudio, Type: call.TypeSingle,
			Start: now.Add(-73 * time.Hour), End: 2 * time.Second, Result: call.ResultBusy},
	}
	// Enough older calls for a second page.
	results := []string{call.ResultNormalEnd, call.ResultNotAnswer, call.ResultNormalEnd, call.ResultReject, call.ResultNormalEnd}
	for i := range 30 {
		c := seedCall{ID: fmt.Sprintf("bulk-%02d-4a1e-9c0d-%012d", i, i), Provider: call.Tencent, Caller: fmt.Sprintf("user%02d", i),
			Callees: []string{"bob"}, Media: call.MediaAudio, Type: call.TypeSingle,
			Start: now.Add(-5*24*time.Hour + time.Duration(i)*7*time.Minute), Result: results[i%len(results)]}
		if i%2 == 1 {
			c.Provider, c.Media = call.Yunxin, call.MediaVideo
		}
		switch c.Result {
		case call.ResultNormalEnd:
			c.Answer, c.End = 5*time.Second, time.Minute+time.Duration(i)*10*time.Second
		case call.ResultNotAnswer:
			c.End = 30 * time.Second
		default:
			c.End = 4 * time.Second
		}
		calls = append(calls, c)
	}
	return calls
}

// newestFirst is calls ordered as the list answers them.
func newestFirst(calls []seedCall) []seedCall {
	out := slices.Clone(calls)
	slices.SortStableFunc(out, func(a, b seedCall) int { return b.Start.Compare(a.Start) })
	return out
}

// events are the callbacks that tell c, as the webhook would store them.
func (c seedCall) events() []call.Event {
	ms := func(d time.Duration) int64 { return c.Start.Add(d).UnixMilli() }
	var evs []call.Event
	add := func(channel, command, event string, at int64, f call.Facts, body map[string]any) {
		raw, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		evs = append(evs, call.Event{Provider: c.Provider, Channel: channel, Command: command, Event: event, CallID: c.ID,
			EventTime: at, DeliveryID: fmt.Sprintf("%s/%s/%d", c.ID, command, at), ReceivedAt: at + 40, Facts: f, Raw: string(raw)})
	}
	start := call.Facts{Status: call.StatusRinging, Caller: c.Caller, Callees: c.Callees, MediaType: c.Media, CallType: c.Type,
		StartTime: ms(0), RoomID: "room-" + strings.ToLower(c.Caller)}
	answer := call.Facts{Status: call.StatusOngoing, AcceptTime: ms(c.Answer)}
	end := call.Facts{Status: call.StatusEnded, EndTime: ms(c.End), Result: c.Result}
	if c.Provider == call.Yunxin {
		add("callback", "20", "call_started", ms(0), start, map[string]any{"eventType": "20", "channelId": c.ID, "createtime": ms(0),
			"members": append([]string{c.Caller}, c.Callees...)})
		if c.Answer > 0 {
			add("callback", "21", "room_created", ms(c.Answer), answer, map[string]any{"eventType": "21", "channelId": c.ID})
		}
		if c.End > 0 {
			add("copy", "5", "call_ended", ms(c.End), end, map[string]any{"eventType": "5", "channelId": c.ID, "status": c.Result,
				"duration": int(c.talk().Seconds())})
		}
		return evs
	}
	callInfo := map[string]any{"CallId": c.ID, "CallMediaType": c.Media, "RoomId": start.RoomID}
	add("v4", "Call.CallbackAfterStartCall", "call_started", ms(0), start, map[string]any{"CallbackCommand": "Call.CallbackAfterStartCall",
		"CallInfo": callInfo, "Caller": c.Caller, "CalleeList": c.Callees, "EventTime": ms(0)})
	if c.Answer > 0 {
		add("v4", "Call.CallbackAfterMemberChanged", "member_changed", ms(c.Answer), answer, map[string]any{
			"CallbackCommand": "Call.CallbackAfterMemberChanged", "CallInfo": callInfo, "EventTime": ms(c.Answer)})
	}
	if c.End > 0 {
		add("v4", "Call.CallbackAfterEndCall", "call_ended", ms(c.End), end, map[string]any{"CallbackCommand": "Call.CallbackAfterEndCall",
			"CallInfo": callInfo, "Reason": c.Result, "EventTime": ms(c.End)})
	}
	if c.Record {
		f := start
		f.Status, f.AcceptTime, f.EndTime, f.Result = call.StatusEnded, answer.AcceptTime, end.EndTime, c.Result
		add("v4", "record", "record", ms(c.End), f, map[string]any{"CallId": c.ID, "Caller_Account": c.Caller,
			"CalleeList_Account": c.Callees, "StartTime": ms(0) / 1000, "AcceptTime": ms(c.Answer) / 1000, "EndTime": ms(c.End) / 1000,
			"CallResult": "NormalEnd", "MediaType": "Video"})
	}
	return evs
}

// request is one request the server got.
type request struct {
	Method, Path, Query, Auth string
}

// site is the records function serving the dashboard over a seeded table.
type site struct {
	URL   string
	Now   time.Time
	Calls []seedCall
	TZ    *time.Location

	srv      *httptest.Server
	mu       sync.Mutex
	requests []request
}

// scanLimit is how many index entries one list request of the site's
// table examines (store.Options.ScanLimit; MaxScan, 1000, when deployed).
// It is small, so that the seeded calls give what a large table gives:
// pages of fewer calls than asked for, even none, whose next is not
// empty, which the page must follow.
const scanLimit = 4

// newStore is the table the site serves.
func newStore(scan int) store.Store { return local.NewMemory(store.Options{ScanLimit: scan}) }

// newSite is the site with the seeded calls.
func newSite(t *testing.T) *site {
	t.Helper()
	return newSiteWith(t, seedCalls)
}

// newSiteWith is the site with the calls seed gives (nil: none).
func newSiteWith(t *testing.T, seed func(now time.Time) []seedCall) *site {
	t.Helper()
	return newSiteScan(t, seed, scanLimit)
}

// newSiteScan is the site with the calls seed gives, over a table whose
// list requests examine at most scan index entries.
func newSiteScan(t *testing.T, seed func(now time.Time) []seedCall, scan int) *site {
	t.Helper()
	return buildSite(t, seed, scan, apiToken)
}

// newSiteToken is the seeded site whose API token is token ("": none,
// the API is closed).
func newSiteToken(t *testing.T, token string) *site {
	t.Helper()
	return buildSite(t, seedCalls, scanLimit, token)
}

func buildSite(t *testing.T, seed func(now time.Time) []seedCall, scan int, token string) *site {
	t.Helper()
	loc, err := time.LoadLocation(testTZ)
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(scan)
	s := &site{Now: time.Now().Truncate(time.Second), TZ: loc}
	if seed != nil {
		s.Calls = seed(s.Now)
	}
	for _, c := range s.Calls {
		evs := c.events()
		// Callbacks arrive in any order; the timeline is in event-time
		// order all the same.
		slices.Reverse(evs)
		for i := range evs {
			if _, err := st.PutEvent(context.Background(), &evs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	fn, err := records.New(config.Config{APIToken: token}, st, records.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := fn.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")})
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	s.URL = srv.URL
	s.srv = srv
	return s
}

// Requests is what the server got so far.
func (s *site) Requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ids is the call ids of calls.
func ids(calls []seedCall) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.ID
	}
	return out
}

func (s *site) call(id string) seedCall {
	for _, c := range s.Calls {
		if c.ID == id {
			return c
		}
	}
	panic("no seeded call " + id)
}

func (s *site) where(keep func(seedCall) bool) []seedCall {
	var out []seedCall
	for _, c := range newestFirst(s.Calls) {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}
