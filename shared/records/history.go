package records

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent"
)

// History is the answer of the table's lists: GET /records, GET
// /users/{userId}/calls and GET /me/calls. Next is the cursor of the next
// page, "" on the last one. A page may hold fewer than limit records while
// Next is not "" (a page examines a bounded number of calls, so a selective
// filter can leave it short): follow Next until it is "".
type History struct {
	Records []Record `json:"records"`
	Next    string   `json:"next"`
}

// The table lists' parameters (README, "Call history"):
//
//	from, to   the range of start times, [from, to): Unix ms or RFC 3339;
//	           default: every call
//	result     a result (cancel, reject, not_answer, normal_end, call_busy,
//	           interrupt, offline; Tencent's spellings too), or "missed"
//	           with a user: the calls the user missed (call.MissedResults)
//	type       single | group                      (GET /records only)
//	provider   tencent | yunxin                    (GET /records only)
//	user       calls the user took part in         (GET /records only)
//	status     ringing | in_progress | ended
//	order      desc (default, newest first) | asc  (GET /records only)
//	limit      1..100 (default 20)
//	cursor     the previous page's next
var (
	recordsParams = []string{"source", "from", "to", "result", "type", "provider", "user", "status", "order", "limit", "cursor"}
	userParams    = []string{"from", "to", "result", "status", "limit", "cursor"}
)

// ResultMissed is the result filter of a user's missed calls.
const ResultMissed = "missed"

// MaxUserID bounds a user id (Tencent's are at most 32 bytes, Yunxin's
// accid too).
const MaxUserID = 256

// historyQuery reads a table list's query. route is the route's pattern
// (it binds the cursor); user, when not "", is the route's own user (the
// path's, or the UserSig's) and the query may not name another.
func historyQuery(route string, q url.Values, user string) (store.CallQuery, error) {
	known := recordsParams
	if user != "" {
		known = userParams
	}
	cq := store.CallQuery{User: user, Desc: true}
	if err := checkParams(q, known); err != nil {
		if fe := (*FilterError)(nil); errors.As(err, &fe) && (fe.Field == "page" || fe.Field == "pageSize") {
			return cq, badParam(fe.Field, "the table is paged by cursor (limit, and cursor from the previous answer's next); page and pageSize are Tencent's, with source=tencent")
		}
		return cq, err
	}
	var err error
	if v := q.Get("from"); v != "" {
		if cq.From, err = parseTime("from", v); err != nil {
			return cq, err
		}
	}
	if v := q.Get("to"); v != "" {
		if cq.To, err = parseTime("to", v); err != nil {
			return cq, err
		}
		if cq.To <= cq.From {
			field := "to"
			if q.Get("from") != "" {
				field = "from"
			}
			return cq, badParam(field, "the range is empty or inverted: from %s is not before to %s", msText(cq.From), msText(cq.To))
		}
	}
	if v := q.Get("user"); v != "" {
		if err := checkUserID(v); err != nil {
			return cq, badParam("user", "%s", err)
		}
		cq.User = v
	}
	if v := q.Get("result"); v != "" {
		switch r := tencent.Result(v); {
		case strings.EqualFold(v, ResultMissed):
			if cq.User == "" {
				return cq, badParam("result", "missed calls are a user's: give user too")
			}
			cq.Missed = true
		case slices.Contains(call.Results, r):
			cq.Result = r
		default:
			return cq, badParam("result", "unknown call result %q (want one of %s, or missed)", v, strings.Join(call.Results, ", "))
		}
	}
	if v := q.Get("type"); v != "" {
		cq.CallType = tencent.CallType(v)
		if cq.CallType != call.TypeSingle && cq.CallType != call.TypeGroup {
			return cq, badParam("type", "unknown call type %q (want single or group)", v)
		}
	}
	if v := q.Get("provider"); v != "" {
		cq.Provider = strings.ToLower(v)
		if cq.Provider != call.Tencent && cq.Provider != call.Yunxin {
			return cq, badParam("provider", "unknown provider %q (want tencent or yunxin)", v)
		}
	}
	if v := q.Get("status"); v != "" {
		cq.Status = strings.ToLower(v)
		if !slices.Contains([]string{call.StatusRinging, call.StatusOngoing, call.StatusEnded}, cq.Status) {
			return cq, badParam("status", "unknown status %q (want ringing, in_progress or ended)", v)
		}
	}
	switch v := strings.ToLower(q.Get("order")); v {
	case "", "desc":
	case "asc":
		cq.Desc = false
	default:
		return cq, badParam("order", "%q: want desc (newest first) or asc (oldest first)", q.Get("order"))
	}
	if cq.Limit, err = parseInt(q, "limit", DefaultPageSize, 1, MaxPageSize); err != nil {
		return cq, err
	}
	if v := q.Get("cursor"); v != "" {
		if cq.Cursor, err = openCursor(route, cq, v); err != nil {
			return cq, err
		}
	}
	return cq, nil
}

// checkUserID refuses user ids no provider makes.
func checkUserID(id string) error {
	if len(id) > MaxUserID {
		return fmt.Errorf("a user id is at most %d bytes", MaxUserID)
	}
	return checkID(id)
}

// A cursor is the store's position (the ListKey the next page starts
// after) bound to the query it pages: base64url of a version byte, a hash
// of the route and every filter, and the position. Another query's cursor
// is refused; the position itself is no secret (it is a start time and a
// call id), so it is not signed.
const cursorVersion = 1

// queryHash binds a cursor to its route and query (the limit aside: a
// client may change its page size between pages).
func queryHash(route string, q store.CallQuery) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%s\x00%s\x00%s\x00%s\x00%t\x00%s\x00%t",
		route, q.From, q.To, q.Provider, q.User, q.Status, q.Result, q.Missed, q.CallType, q.Desc)
	return h.Sum64()
}

func makeCursor(route string, q store.CallQuery, position string) string {
	if position == "" {
		return ""
	}
	b := make([]byte, 9, 9+len(position))
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], queryHash(route, q))
	return base64.RawURLEncoding.EncodeToString(append(b, position...))
}

func openCursor(route string, q store.CallQuery, cursor string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < 10 || b[0] != cursorVersion {
		return "", badParam("cursor", "not a cursor of this API: pass the next of the previous answer as it came")
	}
	if binary.BigEndian.Uint64(b[1:9]) != queryHash(route, q) {
		return "", badParam("cursor", "the cursor pages another query: repeat the parameters of the answer it came from (only limit may change)")
	}
	return string(b[9:]), nil
}

// listHistory answers a table list for route; user is the route's own
// user ("" for GET /records).
func (s *Service) listHistory(w http.ResponseWriter, r *http.Request, route, user string) {
	q, err := historyQuery(route, r.URL.Query(), user)
	if err != nil {
		badRequest(w, err)
		return
	}
	sctx, cancel := store.CallContext(r.Context())
	page, err := s.store.ListCalls(sctx, q)
	cancel()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := History{Records: make([]Record, 0, len(page.Calls)), Next: makeCursor(route, q, page.Next)}
	for i := range page.Calls {
		h.Records = append(h.Records, fromSummary(&page.Calls[i], tableSource(&page.Calls[i])))
	}
	api.JSON(w, http.StatusOK, h)
}

// tableSource is the source of a record the table answers alone: its
// summary holds Tencent's record of the call, or not.
func tableSource(s *call.Summary) string {
	if s.Recorded {
		return SourceBoth
	}
	return SourceTable
}

// badRequest answers a bad parameter: 400 naming it.
func badRequest(w http.ResponseWriter, err error) {
	var fe *FilterError
	if errors.As(err, &fe) {
		api.Error(w, http.StatusBadRequest, fe.Error(), "field", fe.Field)
		return
	}
	api.Error(w, http.StatusBadRequest, err.Error())
}
