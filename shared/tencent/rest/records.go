package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/jsonx"
	"github.com/callfn/callfn/shared/tencent"
)

// The records commands of both generations (spec §1.1, §1.2). Both keep a
// call's record for 7 days after it ends and answer filters on the records'
// start time; each command is limited to 200 requests/s.
var (
	V4GetRecordByCallID  = Cmd{API: tencent.V4, Path: "call_record_http_srv/get_record_by_callid", Idempotent: true}
	V4GetRecordByFilter  = Cmd{API: tencent.V4, Path: "call_record_http_srv/get_record_by_filter", Idempotent: true}
	V1GetRecordByCallID  = Cmd{API: tencent.V1, Path: "records/get_record_by_callId", Idempotent: true}
	V1GetRecordsByFilter = Cmd{API: tencent.V1, Path: "records/get_records_by_filter", Idempotent: true}
)

// Records facts both generations share.
const (
	// RecordRetention is how long Tencent keeps a record.
	RecordRetention = 7 * 24 * time.Hour
	// RecordsRateLimit is each records command's limit, in requests/s.
	RecordsRateLimit = 200
	// V4DefaultPerPage and V1DefaultPerPage are the page sizes Tencent uses
	// when a filter names none.
	V4DefaultPerPage = 10
	V1DefaultPerPage = 100
)

// Record is one call record as either generation answered it.
type Record struct {
	API    string          // tencent.V4 or tencent.V1: the generation that answered
	Raw    json.RawMessage // the record exactly as Tencent sent it
	CallID string
	Facts  call.Facts // normalized (tencent.V4Record.Facts, tencent.V1Record.Facts)
}

// decodeRecord reads one record of api from raw.
func decodeRecord(api string, raw json.RawMessage) (Record, error) {
	rec := Record{API: api, Raw: raw}
	if api == tencent.V1 {
		var r tencent.V1Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return rec, err
		}
		rec.CallID, rec.Facts = string(r.CallID), r.Facts()
	} else {
		var r tencent.V4Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return rec, err
		}
		rec.CallID, rec.Facts = string(r.CallId), r.Facts()
	}
	return rec, nil
}

// Event is the record as callfn archives it in the table: one event per
// record, dated by the call's end (else its start), whose delivery id is a
// hash of the record's bytes, so that storing the same record again is a
// no-op, and whose facts (status ended) close the call's summary through
// the fold.
func (r *Record) Event() call.Event {
	compact := new(bytes.Buffer)
	if err := json.Compact(compact, r.Raw); err != nil {
		compact.Reset()
		compact.Write(r.Raw)
	}
	at := r.Facts.EndTime
	if at == 0 {
		at = r.Facts.StartTime
	}
	return call.Event{
		Provider:   call.Tencent,
		Channel:    r.API,
		Command:    call.CommandRecord,
		Event:      "record",
		CallID:     r.CallID,
		EventTime:  at,
		DeliveryID: call.DeliveryID(call.Tencent, call.CommandRecord, compact.Bytes()),
		Facts:      r.Facts,
		Raw:        string(r.Raw),
	}
}

// GetRecordByCallID asks api (tencent.V4 or tencent.V1) for one call's
// record. A record Tencent does not have (v4 101050, or an empty v1 answer) is
// ErrRecordNotFound.
func (c *Client) GetRecordByCallID(ctx context.Context, api, callID string) (*Record, Meta, error) {
	if api == tencent.V1 {
		return c.v1GetRecordByCallID(ctx, callID)
	}
	return c.v4GetRecordByCallID(ctx, callID)
}

func (c *Client) v4GetRecordByCallID(ctx context.Context, callID string) (*Record, Meta, error) {
	var out struct{ CallRecord json.RawMessage }
	meta, err := c.Do(ctx, V4GetRecordByCallID, map[string]string{"CallId": callID}, &out)
	if err != nil {
		return nil, meta, err
	}
	return c.oneRecord(V4GetRecordByCallID, out.CallRecord, meta)
}

func (c *Client) v1GetRecordByCallID(ctx context.Context, callID string) (*Record, Meta, error) {
	var out json.RawMessage
	meta, err := c.Do(ctx, V1GetRecordByCallID, map[string]string{"callId": callID}, &out)
	if err != nil {
		return nil, meta, err
	}
	return c.oneRecord(V1GetRecordByCallID, out, meta)
}

// oneRecord reads a by-call-id answer; none, or one without a call id, is
// ErrRecordNotFound.
func (c *Client) oneRecord(cmd Cmd, raw json.RawMessage, meta Meta) (*Record, Meta, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte("{}")) {
		return nil, meta, &Error{Kind: ErrRecordNotFound, API: cmd.API, Command: cmd.Path, Where: c.where,
			RequestID: meta.RequestID, Detail: "Tencent answered with no record"}
	}
	rec, err := decodeRecord(cmd.API, raw)
	if err != nil {
		return nil, meta, c.fail(cmd, ErrFailed, "Tencent's record has an unexpected shape", err)
	}
	if rec.CallID == "" {
		return nil, meta, &Error{Kind: ErrRecordNotFound, API: cmd.API, Command: cmd.Path, Where: c.where,
			RequestID: meta.RequestID, Detail: "Tencent answered with a record that has no call id"}
	}
	return &rec, meta, nil
}

// RecordFilter is a records query in callfn's names; each generation's
// command spells it its own way.
type RecordFilter struct {
	StartTime int64  // Unix seconds; 0 leaves Tencent's default (now − 7 days)
	EndTime   int64  // Unix seconds; 0 leaves Tencent's default (now)
	Result    string // a call.Result* name; "" for any
	CallType  string // call.TypeSingle or call.TypeGroup; "" for any
	PerPage   int    // records per page; 0 leaves the generation's default
	Page      int    // 1-based; 0 means 1
}

// RecordPage is one page of a filter's answer.
type RecordPage struct {
	Total   int // records matching the filter, over every page
	Page    int // the page answered; 0 when it holds no records
	Records []Record
}

// Last reports whether p is the filter's last page, for pages of perPage.
func (p *RecordPage) Last(page, perPage int) bool {
	return p.Page == 0 || len(p.Records) == 0 || len(p.Records) < perPage || page*perPage >= p.Total
}

// GetRecordByFilter asks api (tencent.V4 or tencent.V1) for one page of
// records.
func (c *Client) GetRecordByFilter(ctx context.Context, api string, f RecordFilter) (*RecordPage, Meta, error) {
	if api == tencent.V1 {
		return c.v1GetRecordsByFilter(ctx, f)
	}
	return c.v4GetRecordByFilter(ctx, f)
}

// filterCheck checks f as Tencent would and spells its call result as
// spell does.
func filterCheck(f RecordFilter, spell func(string) string) (result string, err error) {
	switch {
	case f.StartTime < 0 || f.EndTime < 0:
		return "", &ParamError{Field: "StartTime", Msg: "times must not be negative"}
	case f.EndTime != 0 && f.StartTime > f.EndTime:
		return "", &ParamError{Field: "StartTime", Msg: fmt.Sprintf("start %d is after end %d", f.StartTime, f.EndTime)}
	case f.PerPage < 0 || f.Page < 0:
		return "", &ParamError{Field: "Page", Msg: "page and page size must not be negative"}
	case f.CallType != "" && f.CallType != call.TypeSingle && f.CallType != call.TypeGroup:
		return "", &ParamError{Field: "CallType", Msg: fmt.Sprintf("want %s or %s, got %q", call.TypeSingle, call.TypeGroup, f.CallType)}
	}
	if f.Result != "" {
		if result = spell(f.Result); result == "" {
			return "", &ParamError{Field: "CallResult", Msg: fmt.Sprintf("unknown call result %q", f.Result)}
		}
	}
	return result, nil
}

func (c *Client) v4GetRecordByFilter(ctx context.Context, f RecordFilter) (*RecordPage, Meta, error) {
	result, err := filterCheck(f, tencent.V4Result)
	if err != nil {
		return nil, Meta{}, err
	}
	body := struct {
		StartTime     int64  `json:",omitempty"`
		EndTime       int64  `json:",omitempty"`
		CallResult    string `json:",omitempty"`
		CallType      string `json:",omitempty"`
		NumberPerPage int    `json:",omitempty"`
		Page          int    `json:",omitempty"`
	}{f.StartTime, f.EndTime, result, "", f.PerPage, f.Page}
	switch f.CallType {
	case call.TypeSingle:
		body.CallType = "SingleCall"
	case call.TypeGroup:
		body.CallType = "MultiCall"
	}
	var out struct {
		TotalNum       jsonx.Int
		Page           jsonx.Int
		CallRecordList []json.RawMessage
	}
	meta, err := c.Do(ctx, V4GetRecordByFilter, body, &out)
	if err != nil {
		return nil, meta, err
	}
	return c.page(V4GetRecordByFilter, int(out.TotalNum), int(out.Page), out.CallRecordList, meta)
}

func (c *Client) v1GetRecordsByFilter(ctx context.Context, f RecordFilter) (*RecordPage, Meta, error) {
	result, err := filterCheck(f, tencent.V1Result)
	if err != nil {
		return nil, Meta{}, err
	}
	if f.StartTime == 0 { // required by v1; Tencent keeps 7 days
		f.StartTime = c.now().Add(-RecordRetention).Unix()
	}
	body := struct {
		StartTimestamp int64  `json:"startTimestamp"`
		EndTimestamp   int64  `json:"endTimestamp,omitempty"`
		CallResult     string `json:"callResult,omitempty"`
		CallType       string `json:"callType,omitempty"`
		NumberPerPage  int    `json:"numberPerPage,omitempty"`
		Page           int    `json:"page,omitempty"`
	}{f.StartTime, f.EndTime, result, f.CallType, f.PerPage, f.Page}
	var out struct {
		TotalNum       jsonx.Int         `json:"totalNum"`
		Page           jsonx.Int         `json:"page"`
		CallRecordList []json.RawMessage `json:"callRecordList"`
	}
	meta, err := c.Do(ctx, V1GetRecordsByFilter, body, &out)
	if err != nil {
		return nil, meta, err
	}
	return c.page(V1GetRecordsByFilter, int(out.TotalNum), int(out.Page), out.CallRecordList, meta)
}

func (c *Client) page(cmd Cmd, total, page int, list []json.RawMessage, meta Meta) (*RecordPage, Meta, error) {
	p := &RecordPage{Total: total, Page: page, Records: make([]Record, 0, len(list))}
	for i, raw := range list {
		rec, err := decodeRecord(cmd.API, raw)
		if err != nil {
			return nil, meta, c.fail(cmd, ErrFailed, fmt.Sprintf("record %d of Tencent's page has an unexpected shape", i), err)
		}
		p.Records = append(p.Records, rec)
	}
	return p, meta, nil
}
