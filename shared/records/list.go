package records

import (
	"context"
	"net/http"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// Page is GET /records?source=tencent's answer.
//
// Which records come from where: Tencent keeps records for 7 days, so the
// part of the range inside the last 7 days (by start time) is asked of
// Tencent, with its own paging (v4 get_record_by_filter, v1
// get_records_by_filter, pageSize records per page), and the part older
// than that comes from the table. A range wholly older than 7 days is the
// table's alone. A range that straddles the window lists Tencent's part
// first, in Tencent's order, then the table's older part, oldest first;
// each record's "source" says where it came from. When Tencent cannot
// answer (unreachable, slow, rate limiting, not configured), the whole
// range comes from the table, oldest first, and "tencentError" says why;
// when the table has nothing for that page either, Tencent's failure is
// the answer (429 with Retry-After, 504 or 502).
//
// The table lists every provider's calls (a Yunxin call in the range is
// listed too, with "provider": "yunxin"). Tencent filters by the second,
// so a range's ends are rounded to whole seconds toward Tencent.
type Page struct {
	Records  []Record `json:"records"`
	Page     int      `json:"page"`
	PageSize int      `json:"pageSize"`
	// Total counts the range's records over every page, when known: always
	// for Tencent's part; for the table's part only when this page reached
	// its end.
	Total   *int  `json:"total,omitempty"`
	HasMore bool  `json:"hasMore"`
	From    int64 `json:"from"` // the range answered, ms
	To      int64 `json:"to"`
	// Source says who answered: tencent, table, or tencent+table.
	Source       string `json:"source"`
	TencentAPI   string `json:"tencentApi,omitempty"`
	TencentError string `json:"tencentError,omitempty"`
}

// listRecords answers GET /records: the table's history (history.go), or
// with source=tencent the plain proxy of Tencent's filter API (List).
func (s *Service) listRecords(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch src := q["source"]; {
	case len(src) > 1:
		badRequest(w, badParam("source", "given %d times; give it once", len(src)))
		return
	case len(src) == 0 || src[0] == "" || src[0] == SourceTable:
		s.listHistory(w, r, RouteRecords, "")
		return
	case src[0] != SourceTencent:
		badRequest(w, badParam("source", "%q: want table (the default: every call the table holds) or tencent (Tencent's own answer, its 7 days)", src[0]))
		return
	}
	q.Del("source")
	f, err := ParseFilter(q, s.now())
	if err != nil {
		badRequest(w, err)
		return
	}
	page, err := s.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	api.JSON(w, http.StatusOK, page)
}

// List answers a filter (Page says which records come from where).
func (s *Service) List(ctx context.Context, f Filter) (*Page, error) {
	p := &Page{Records: []Record{}, Page: f.Page, PageSize: f.PageSize, From: f.From, To: f.To}
	window := s.now().Add(-rest.RecordRetention).UnixMilli()
	offset := (f.Page - 1) * f.PageSize
	q := store.CallQuery{From: f.From, To: f.To, Result: f.Result, CallType: f.CallType}
	if f.To <= window || s.tc == nil {
		p.Source = SourceTable
		if s.tc == nil && f.To > window {
			p.TencentError = s.tcErr.Error()
		}
		return p, s.fromTable(ctx, p, q, offset, 0)
	}
	winFrom := max(f.From, window)
	tp, err := s.tencentPage(ctx, f, winFrom)
	if err != nil {
		// The whole range from the table, when it has something.
		p.Source, p.TencentError = SourceTable, err.Error()
		if terr := s.fromTable(ctx, p, q, offset, 0); terr != nil {
			return nil, terr
		}
		if len(p.Records) == 0 {
			return nil, err
		}
		return p, nil
	}
	p.Source, p.TencentAPI = SourceTencent, s.api
	for i := range tp.Records {
		rec := fromTencent(&tp.Records[i])
		p.Records = append(p.Records, rec)
	}
	total := tp.Total
	p.Total = &total
	p.HasMore = offset+f.PageSize < tp.Total
	if f.From >= window {
		return p, nil
	}
	// The range straddles the window: its older part follows Tencent's.
	p.Source = SourceBoth
	q.To = window
	p.Total = nil
	if room := f.PageSize - len(p.Records); room > 0 {
		p.HasMore = false
		if err := s.fromTable(ctx, p, q, max(0, offset-tp.Total), tp.Total); err != nil {
			return nil, err
		}
	} else {
		p.HasMore = true // the table's part is still to come
	}
	return p, nil
}

// tencentPage asks Tencent for f's page of [winFrom, f.To).
func (s *Service) tencentPage(ctx context.Context, f Filter, winFrom int64) (*rest.RecordPage, error) {
	if s.tc == nil {
		return nil, s.tcErr
	}
	// Tencent's times are whole seconds, both ends inclusive.
	start, end := ceilDiv(winFrom, 1000), ceilDiv(f.To, 1000)-1
	if end < start {
		return &rest.RecordPage{}, nil
	}
	ctx, cancel := s.askTencent(ctx)
	defer cancel()
	tp, _, err := s.tc.GetRecordByFilter(ctx, s.api, rest.RecordFilter{StartTime: start, EndTime: end,
		Result: f.Result, CallType: f.CallType, PerPage: f.PageSize, Page: f.Page})
	return tp, err
}

// fromTable fills p's remaining room with the table's calls matching q,
// skipping the first offset; before counts the records listed ahead of the
// table's (for Total).
func (s *Service) fromTable(ctx context.Context, p *Page, q store.CallQuery, offset, before int) error {
	room := p.PageSize - len(p.Records)
	seen := 0
	q.Limit = min(MaxPageSize, offset+room+1)
	for {
		sctx, cancel := store.CallContext(ctx)
		cp, err := s.store.ListCalls(sctx, q)
		cancel()
		if err != nil {
			return err
		}
		for i := range cp.Calls {
			switch {
			case seen < offset:
			case room > 0:
				p.Records = append(p.Records, fromSummary(&cp.Calls[i], SourceTable))
				room--
			default:
				p.HasMore = true
				return nil
			}
			seen++
		}
		if cp.Next == "" {
			total := before + seen
			p.Total = &total
			return nil
		}
		q.Cursor = cp.Next
	}
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return a / b
	}
	return (a + b - 1) / b
}
