package sandbox

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// The records commands of both generations (spec §1.1, §1.2), answered from
// the calls the sandbox has played:
//
//   - a call has a record once it has ended, and keeps it for 7 days from
//     its start (rest.RecordRetention, at the sandbox's clock);
//   - filters select by start time, in seconds, both ends inclusive; the
//     start defaults to, and is clamped to, now − 7 days; the end defaults
//     to now. Records come oldest first (then by call id).
//   - v4: NumberPerPage defaults to 10 and Page to 1; the reply's Page is
//     the page answered, or 0 when it holds no records ("when Page > 0
//     there is data"). An unknown or expired call is 101050, a bad
//     parameter 101002.
//   - v1: startTimestamp is required (70001 without it), numberPerPage
//     defaults to 100; results and types are spelled in lower case
//     (normal_end, single/group). An unknown or expired call gets an
//     answer with no data; bad parameters are 70001, a body that is not
//     JSON 70009, and more than 200 requests/s 70005.

// addRecordCommands registers the records commands (called by New).
func (s *Sandbox) addRecordCommands() {
	s.v4[rest.V4GetRecordByCallID.Path] = s.v4RecordByCallID
	s.v4[rest.V4GetRecordByFilter.Path] = s.v4RecordsByFilter
	s.v1[rest.V1GetRecordByCallID.Path] = s.v1RecordByCallID
	s.v1[rest.V1GetRecordsByFilter.Path] = s.v1RecordsByFilter
}

// AddPlayed adds calls as if the sandbox had played them to their end, for
// tests that need records Tencent made days ago, or many of them. A record
// without an EndTime ends at its start.
func (s *Sandbox) AddPlayed(recs ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if r.CallId == "" {
			r.CallId = newUUID()
		}
		if r.EndTime == 0 {
			r.EndTime = r.StartTime
		}
		r.CalleeList_Account = slices.Clone(r.CalleeList_Account)
		if _, ok := s.calls[r.CallId]; !ok {
			s.order = append(s.order, r.CallId)
		}
		s.calls[r.CallId] = &playedCall{rec: r, ended: true, state: map[string]bool{}, endByAPI: make(chan struct{})}
		if len(s.order) > maxCalls {
			delete(s.calls, s.order[0])
			s.order = s.order[1:]
		}
	}
}

// recordQuery is a filter in the sandbox's terms (v4 spellings, seconds).
type recordQuery struct {
	start, end int64
	result     string // v4 spelling; "" any
	callType   string // SingleCall / MultiCall; "" any
	perPage    int
	page       int
}

// records answers q: the page's records and the total.
func (s *Sandbox) records(q recordQuery) ([]Record, int) {
	oldest := s.o.Clock().Add(-rest.RecordRetention).Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*Record
	for _, id := range s.order {
		r := &s.calls[id].rec
		if r.EndTime == 0 || r.StartTime < oldest || r.StartTime < q.start || r.StartTime > q.end ||
			q.result != "" && r.CallResult != q.result || q.callType != "" && r.CallType != q.callType {
			continue
		}
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b *Record) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), strings.Compare(a.CallId, b.CallId))
	})
	from := (q.page - 1) * q.perPage
	if from >= len(all) {
		return nil, len(all)
	}
	page := make([]Record, 0, min(len(all)-from, q.perPage))
	for _, r := range all[from:min(len(all), from+q.perPage)] {
		c := *r
		c.CalleeList_Account = slices.Clone(r.CalleeList_Account)
		page = append(page, c)
	}
	return page, len(all)
}

// record is one call's record, if it has one.
func (s *Sandbox) record(callID string) (Record, bool) {
	oldest := s.o.Clock().Add(-rest.RecordRetention).Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	if c == nil || c.rec.EndTime == 0 || c.rec.StartTime < oldest {
		return Record{}, false
	}
	r := c.rec
	r.CalleeList_Account = slices.Clone(r.CalleeList_Account)
	return r, true
}

// window applies the documented defaults and clamp to a filter's times.
func (s *Sandbox) window(start, end int64) (int64, int64) {
	now := s.o.Clock()
	oldest := now.Add(-rest.RecordRetention).Unix()
	if start < oldest {
		start = oldest
	}
	if end == 0 {
		end = now.Unix()
	}
	return start, end
}

func (s *Sandbox) v4RecordByCallID(q *restRequest) (any, int, string) {
	id, code, info := callID(q)
	if code != 0 {
		return nil, code, info
	}
	r, ok := s.record(id)
	if !ok {
		return nil, 101050, "call record does not exist"
	}
	return struct{ CallRecord Record }{r}, 0, ""
}

func (s *Sandbox) v4RecordsByFilter(q *restRequest) (any, int, string) {
	var b struct {
		StartTime, EndTime   int64
		CallResult, CallType string
		NumberPerPage, Page  int
	}
	if code, info := decodeBody(q.body, &b); code != 0 {
		return nil, code, info
	}
	switch {
	case b.StartTime < 0 || b.EndTime < 0 || b.NumberPerPage < 0 || b.Page < 0:
		return nil, 101002, "bad parameter: negative value"
	case b.EndTime != 0 && b.StartTime > b.EndTime:
		return nil, 101002, "bad parameter: StartTime is after EndTime"
	case b.CallResult != "" && !slices.Contains(outcomes, b.CallResult):
		return nil, 101002, "bad parameter: CallResult " + b.CallResult
	case b.CallType != "" && b.CallType != "SingleCall" && b.CallType != "MultiCall":
		return nil, 101002, "bad parameter: CallType " + b.CallType
	}
	rq := recordQuery{result: b.CallResult, callType: b.CallType, perPage: cmp.Or(b.NumberPerPage, rest.V4DefaultPerPage), page: cmp.Or(b.Page, 1)}
	rq.start, rq.end = s.window(b.StartTime, b.EndTime)
	recs, total := s.records(rq)
	page := rq.page
	if len(recs) == 0 {
		page = 0
	}
	if recs == nil {
		recs = []Record{}
	}
	return struct {
		TotalNum       int
		Page           int
		CallRecordList []Record
	}{total, page, recs}, 0, ""
}

// v1Record is a record as v1 spells it.
type v1Record struct {
	CallID          string   `json:"callId"`
	SDKAppID        uint64   `json:"sdkAppId"`
	MediaType       string   `json:"mediaType"`
	RoomID          string   `json:"roomId"`
	StartCallTs     int64    `json:"startCallTs"`
	AcceptTs        int64    `json:"acceptTs"`
	EndTs           int64    `json:"endTs"`
	Caller          string   `json:"caller"`
	TotalUserNumber int      `json:"totalUserNumber"`
	CallType        string   `json:"callType"`
	CallResult      string   `json:"callResult"`
	Callees         []string `json:"callees"`
}

func (s *Sandbox) v1Record(r Record) v1Record {
	callType := "single"
	if r.CallType == "MultiCall" {
		callType = "group"
	}
	callees := slices.DeleteFunc(slices.Clone(r.CalleeList_Account), func(u string) bool { return u == r.Caller_Account })
	if callees == nil {
		callees = []string{}
	}
	return v1Record{CallID: r.CallId, SDKAppID: s.o.SDKAppID, MediaType: strings.ToLower(r.MediaType), RoomID: r.RoomId,
		StartCallTs: r.StartTime, AcceptTs: r.AcceptTime, EndTs: r.EndTime, Caller: r.Caller_Account,
		TotalUserNumber: 1 + len(callees), CallType: callType, CallResult: tencent.V1Result(tencent.Result(r.CallResult)),
		Callees: callees}
}

func (s *Sandbox) v1RecordByCallID(q *restRequest) (any, int, string) {
	var b struct {
		CallID string `json:"callId"`
	}
	if err := json.Unmarshal(q.body, &b); err != nil {
		return nil, 70009, "the request body could not be parsed: " + err.Error()
	}
	if b.CallID == "" {
		return nil, 70001, "invalid parameters: callId is required"
	}
	r, ok := s.record(b.CallID)
	if !ok {
		return nil, 0, ""
	}
	return s.v1Record(r), 0, ""
}

func (s *Sandbox) v1RecordsByFilter(q *restRequest) (any, int, string) {
	var b struct {
		StartTimestamp *int64 `json:"startTimestamp"`
		EndTimestamp   int64  `json:"endTimestamp"`
		CallResult     string `json:"callResult"`
		CallType       string `json:"callType"`
		NumberPerPage  int    `json:"numberPerPage"`
		Page           int    `json:"page"`
	}
	if err := json.Unmarshal(q.body, &b); err != nil {
		return nil, 70009, "the request body could not be parsed: " + err.Error()
	}
	rq := recordQuery{perPage: cmp.Or(b.NumberPerPage, rest.V1DefaultPerPage), page: cmp.Or(b.Page, 1)}
	switch {
	case b.StartTimestamp == nil:
		return nil, 70001, "invalid parameters: startTimestamp is required"
	case *b.StartTimestamp < 0 || b.EndTimestamp < 0 || b.NumberPerPage < 0 || b.Page < 0:
		return nil, 70001, "invalid parameters: negative value"
	case b.EndTimestamp != 0 && *b.StartTimestamp > b.EndTimestamp:
		return nil, 70001, "invalid parameters: startTimestamp is after endTimestamp"
	case b.CallType != "" && b.CallType != "single" && b.CallType != "group":
		return nil, 70001, "invalid parameters: callType " + b.CallType
	}
	if b.CallResult != "" {
		if rq.result = tencent.V4Result(b.CallResult); rq.result == "" {
			return nil, 70001, "invalid parameters: callResult " + b.CallResult
		}
	}
	switch b.CallType {
	case "single":
		rq.callType = "SingleCall"
	case "group":
		rq.callType = "MultiCall"
	}
	rq.start, rq.end = s.window(*b.StartTimestamp, b.EndTimestamp)
	recs, total := s.records(rq)
	page := rq.page
	if len(recs) == 0 {
		page = 0
	}
	list := make([]v1Record, 0, len(recs))
	for _, r := range recs {
		list = append(list, s.v1Record(r))
	}
	return struct {
		TotalNum       int        `json:"totalNum"`
		Page           int        `json:"page"`
		CallRecordList []v1Record `json:"callRecordList"`
	}{total, page, list}, 0, ""
}
