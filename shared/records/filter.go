package records

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// Filter is GET /records' query. Its parameters, all optional:
//
//	from      start of the range, inclusive: Unix milliseconds (1714557600000)
//	          or an RFC 3339 time (2024-05-01T10:00:00Z); default to − 7 days
//	to        end of the range, exclusive, in the same forms; default now
//	result    cancel | reject | not_answer | normal_end | call_busy |
//	          interrupt | offline (Tencent's v4 spellings, NotAnswer..., too)
//	type      single | group (SingleCall, MultiCall too)
//	page      1, 2, ... (default 1)
//	pageSize  1..100 (default 20)
//
// Calls are selected by their start time. Any other parameter, a repeated
// one, an unknown result or type, a range whose from is not before its to,
// or a page or page size out of bounds is a 400 that names the parameter.
type Filter struct {
	From, To int64  // ms, [From, To)
	Result   string // a call.Result* name; "" for any
	CallType string // call.TypeSingle or call.TypeGroup; "" for any
	Page     int
	PageSize int
}

// Filter bounds.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxPage         = 100000
	// DefaultRange is the range of a query that names neither from nor to:
	// Tencent's window.
	DefaultRange = rest.RecordRetention
	// maxMillis is 9999-12-31T23:59:59.999Z.
	maxMillis = 253402300799999
)

// FilterError is a bad filter parameter.
type FilterError struct {
	Field string // the query parameter
	Msg   string
}

func (e *FilterError) Error() string { return e.Field + ": " + e.Msg }

func badParam(field, format string, args ...any) error {
	return &FilterError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

var filterParams = []string{"from", "to", "result", "type", "page", "pageSize"}

// ParseFilter reads GET /records' query at now.
func ParseFilter(q url.Values, now time.Time) (Filter, error) {
	f := Filter{Page: 1, PageSize: DefaultPageSize}
	if err := checkParams(q, filterParams); err != nil {
		return f, err
	}
	var hasFrom, hasTo bool
	var err error
	if v := q.Get("to"); v != "" {
		if f.To, err = parseTime("to", v); err != nil {
			return f, err
		}
		hasTo = true
	} else {
		f.To = now.UnixMilli()
	}
	if v := q.Get("from"); v != "" {
		if f.From, err = parseTime("from", v); err != nil {
			return f, err
		}
		hasFrom = true
	} else {
		f.From = max(0, f.To-DefaultRange.Milliseconds())
	}
	if f.From >= f.To {
		field := "from"
		if hasTo && !hasFrom {
			field = "to"
		}
		return f, badParam(field, "the range is empty or inverted: from %s is not before to %s", msText(f.From), msText(f.To))
	}
	if v := q.Get("result"); v != "" {
		f.Result = tencent.Result(v)
		if !slices.Contains(call.Results, f.Result) {
			return f, badParam("result", "unknown call result %q (want one of %s)", v, strings.Join(call.Results, ", "))
		}
	}
	if v := q.Get("type"); v != "" {
		f.CallType = tencent.CallType(v)
		if f.CallType != call.TypeSingle && f.CallType != call.TypeGroup {
			return f, badParam("type", "unknown call type %q (want single or group)", v)
		}
	}
	if f.Page, err = parseInt(q, "page", 1, 1, MaxPage); err != nil {
		return f, err
	}
	if f.PageSize, err = parseInt(q, "pageSize", DefaultPageSize, 1, MaxPageSize); err != nil {
		return f, err
	}
	return f, nil
}

// checkParams refuses a parameter not in known, and one given twice.
func checkParams(q url.Values, known []string) error {
	for k, vs := range q {
		if !slices.Contains(known, k) {
			msg := fmt.Sprintf("unknown parameter (want %s)", strings.Join(known, ", "))
			for _, p := range known {
				if strings.EqualFold(p, k) {
					msg = fmt.Sprintf("unknown parameter: it is spelled %q", p)
				}
			}
			return badParam(k, "%s", msg)
		}
		if len(vs) > 1 {
			return badParam(k, "given %d times; give it once", len(vs))
		}
	}
	return nil
}

// parseTime reads Unix milliseconds or an RFC 3339 time.
func parseTime(field, v string) (int64, error) {
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil || n > maxMillis:
			return 0, badParam(field, "%s is out of range", v)
		case n > 0 && n < 1e11:
			return 0, badParam(field, "%s looks like seconds: give Unix milliseconds (%s000) or an RFC 3339 time", v, v)
		}
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || t.UnixMilli() < 0 || t.UnixMilli() > maxMillis {
		return 0, badParam(field, "%q is neither Unix milliseconds nor an RFC 3339 time such as 2024-05-01T10:00:00Z", v)
	}
	return t.UnixMilli(), nil
}

func parseInt(q url.Values, field string, def, lo, hi int) (int, error) {
	v := q.Get(field)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badParam(field, "%q: want a whole number from %d to %d", v, lo, hi)
	}
	return n, nil
}

func msText(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }
