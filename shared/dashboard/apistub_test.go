//go:build apistub

package dashboard_test

// A stand-in for the call-history routes issue 8 adds (the paged GET
// /records, GET /users/{userId}/calls, GET /stats), to the contract in the
// plan, over the same table, so that the browser tests and screenshots can
// run before those routes merge:
//
//	go test -tags apistub ./shared/dashboard/
//
// It is a few dozen lines over ListCalls, not an implementation (it reads
// every call each time). Delete this file once issue 8's routes merge: the
// tests then run against the real ones.

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

func init() {
	wrapAPI = func(next http.Handler, st store.Store) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/", next)
		mux.HandleFunc("GET /records", api.RequireBearer(apiToken, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Has("source") {
				next.ServeHTTP(w, r)
				return
			}
			stubList(w, r, st, r.URL.Query().Get("user"), false)
		}))
		mux.HandleFunc("GET /users/{userId}/calls", api.RequireBearer(apiToken, func(w http.ResponseWriter, r *http.Request) {
			stubList(w, r, st, r.PathValue("userId"), true)
		}))
		mux.HandleFunc("GET /stats", api.RequireBearer(apiToken, func(w http.ResponseWriter, r *http.Request) { stubStats(w, r, st) }))
		return mux
	}
}

func stubCalls(ctx context.Context, st store.Store) []call.Summary {
	var out []call.Summary
	q := store.CallQuery{Limit: 100}
	for {
		p, err := st.ListCalls(ctx, q)
		if err != nil {
			panic(err)
		}
		out = append(out, p.Calls...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

func stubTime(v string, def int64) int64 {
	if v == "" {
		return def
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return def
	}
	return t.UnixMilli()
}

var stubMissed = []string{call.ResultNotAnswer, call.ResultCancel, call.ResultBusy, call.ResultOffline}

func stubList(w http.ResponseWriter, r *http.Request, st store.Store, user string, userRoute bool) {
	q := r.URL.Query()
	from, to := stubTime(q.Get("from"), 0), stubTime(q.Get("to"), 1<<62)
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit < 1 || limit > 100 {
		limit = 20
	}
	offset, _ := strconv.Atoi(q.Get("cursor"))
	var recs []map[string]any
	calls := stubCalls(r.Context(), st)
	slices.SortStableFunc(calls, func(a, b call.Summary) int { return int(b.SortTime() - a.SortTime()) })
	for _, s := range calls {
		users := s.Users()
		result := q.Get("result")
		switch {
		case s.SortTime() < from || s.SortTime() >= to:
		case user != "" && !slices.Contains(users, user):
		case q.Get("provider") != "" && s.Provider != q.Get("provider"):
		case q.Get("status") != "" && s.Status != q.Get("status"):
		case userRoute && result == "missed" && (s.Caller == user || !slices.Contains(stubMissed, s.Result)):
		case result != "" && result != "missed" && s.Result != result:
		default:
			callees := s.Callees
			if callees == nil {
				callees = []string{}
			}
			recs = append(recs, map[string]any{"callId": s.CallID, "provider": s.Provider, "caller": s.Caller, "callees": callees,
				"mediaType": s.MediaType, "callType": s.CallType, "result": s.Result, "status": s.Status, "startTime": s.StartTime,
				"acceptTime": s.AcceptTime, "endTime": s.EndTime, "roomId": s.RoomID, "source": "table"})
		}
	}
	page := recs[min(offset, len(recs)):min(offset+limit, len(recs))]
	next := ""
	if offset+limit < len(recs) {
		next = strconv.Itoa(offset + limit)
	}
	if page == nil {
		page = []map[string]any{}
	}
	api.JSON(w, http.StatusOK, map[string]any{"records": page, "next": next})
}

type stubDay struct {
	Date        string         `json:"date,omitempty"`
	Calls       int            `json:"calls"`
	ByResult    map[string]int `json:"byResult"`
	ByProvider  map[string]int `json:"byProvider"`
	InProgress  int            `json:"inProgress"`
	TalkSeconds int64          `json:"talkSeconds"`
}

func (d *stubDay) add(s call.Summary) {
	d.Calls++
	if s.Result != "" {
		d.ByResult[s.Result]++
	}
	d.ByProvider[s.Provider]++
	if s.Status != call.StatusEnded {
		d.InProgress++
	}
	if s.AcceptTime > 0 && s.EndTime > s.AcceptTime {
		d.TalkSeconds += (s.EndTime - s.AcceptTime) / 1000
	}
}

func newStubDay(date string) *stubDay {
	return &stubDay{Date: date, ByResult: map[string]int{}, ByProvider: map[string]int{}}
}

func stubStats(w http.ResponseWriter, r *http.Request, st store.Store) {
	q := r.URL.Query()
	loc, err := time.LoadLocation(q.Get("tz"))
	if err != nil {
		api.Error(w, http.StatusBadRequest, "tz: "+err.Error())
		return
	}
	from, to := stubTime(q.Get("from"), 0), stubTime(q.Get("to"), time.Now().UnixMilli())
	days := map[string]*stubDay{}
	total := newStubDay("")
	for _, s := range stubCalls(r.Context(), st) {
		if s.SortTime() < from || s.SortTime() >= to {
			continue
		}
		date := time.UnixMilli(s.SortTime()).In(loc).Format(time.DateOnly)
		if days[date] == nil {
			days[date] = newStubDay(date)
		}
		days[date].add(s)
		total.add(s)
	}
	list := []*stubDay{}
	for _, d := range days {
		list = append(list, d)
	}
	slices.SortFunc(list, func(a, b *stubDay) int { return map[bool]int{true: -1, false: 1}[a.Date < b.Date] })
	api.JSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "tz": loc.String(), "days": list, "total": total})
}
