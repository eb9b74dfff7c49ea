package records

import (
	"net/http"
	"net/url"
	"time"
	_ "time/tzdata" // any IANA zone, whatever the host (Lambda's provided.al2023, SCF) has

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/store"
)

// GET /stats?from&to&tz (bearer token) counts calls per day in the zone tz
// and in total, from the table's rollups (store.Stats): by result, by
// provider, those still ringing or in progress, and the talk time (accept
// to end). A call counts on the day of its start time (its first event's,
// while its start is unknown).
//
// The days are whole: those (in tz) that hold from and to - 1; the answer's
// from and to are the range actually counted. from and to are Unix ms, RFC
// 3339, or a date (2026-12-01, the start of that day in tz; as to, the day
// is excluded). By default the last 7 days, today included; at most
// MaxStatsDays.

// MaxStatsDays bounds the days one /stats answer counts.
const MaxStatsDays = 366

// DefaultStatsDays are the days of a /stats query that names no from.
const DefaultStatsDays = 7

var statsParams = []string{"from", "to", "tz"}

// Stats is GET /stats' answer.
type Stats struct {
	From  int64      `json:"from"` // ms, the start of the first day
	To    int64      `json:"to"`   // ms, the end of the last day (exclusive)
	TZ    string     `json:"tz"`
	Days  []DayStats `json:"days"`
	Total Tally      `json:"total"`
}

// DayStats are one day's counts.
type DayStats struct {
	Date string `json:"date"` // YYYY-MM-DD in tz
	Tally
}

// Tally is what a set of calls adds up to.
type Tally struct {
	Calls       int64            `json:"calls"`
	ByResult    map[string]int64 `json:"byResult"`   // calls with a result, by result
	ByProvider  map[string]int64 `json:"byProvider"` // tencent, yunxin
	InProgress  int64            `json:"inProgress"` // ringing or in progress
	TalkSeconds int64            `json:"talkSeconds"`
	talkMs      int64
}

func (t *Tally) add(c *store.Counts) {
	t.Calls += c.Calls
	t.InProgress += c.InProgress
	t.talkMs += c.TalkMs
	for k, v := range c.ByResult {
		t.ByResult[k] += v
	}
	for k, v := range c.ByProvider {
		t.ByProvider[k] += v
	}
}

func newTally() Tally { return Tally{ByResult: map[string]int64{}, ByProvider: map[string]int64{}} }

func (t *Tally) done() { t.TalkSeconds = t.talkMs / 1000 }

// statsQuery reads /stats' query at now: the zone, and the days [first,
// last] by their starts.
func statsQuery(q url.Values, now time.Time) (loc *time.Location, days []time.Time, err error) {
	if err := checkParams(q, statsParams); err != nil {
		return nil, nil, err
	}
	loc = time.UTC
	if v := q.Get("tz"); v != "" {
		if loc, err = time.LoadLocation(v); err != nil || v == "Local" {
			return nil, nil, badParam("tz", "%q is not an IANA time zone name such as Europe/Paris or Asia/Shanghai", v)
		}
	}
	at := func(field string) (time.Time, bool, error) {
		v := q.Get(field)
		if v == "" {
			return time.Time{}, false, nil
		}
		if d, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
			return d, true, nil
		}
		ms, err := parseTime(field, v)
		if err != nil {
			return time.Time{}, false, badParam(field, "%q is neither Unix milliseconds, an RFC 3339 time, nor a date such as 2026-12-01", v)
		}
		return time.UnixMilli(ms).In(loc), true, nil
	}
	from, hasFrom, err := at("from")
	if err != nil {
		return nil, nil, err
	}
	to, hasTo, err := at("to")
	if err != nil {
		return nil, nil, err
	}
	if !hasTo {
		to = now.In(loc)
	}
	if !hasFrom {
		from = dayOf(to.Add(-time.Millisecond)).AddDate(0, 0, 1-DefaultStatsDays)
	}
	if !from.Before(to) {
		field := "from"
		if !hasFrom {
			field = "to"
		}
		return nil, nil, badParam(field, "the range is empty or inverted: from %s is not before to %s", msText(from.UnixMilli()), msText(to.UnixMilli()))
	}
	last := dayOf(to.Add(-time.Millisecond))
	for d := dayOf(from); !d.After(last); d = d.AddDate(0, 0, 1) {
		if len(days) == MaxStatsDays {
			return nil, nil, badParam("from", "the range spans more than %d days", MaxStatsDays)
		}
		days = append(days, d)
	}
	return loc, days, nil
}

// dayOf is the start of t's day, in t's zone.
func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func (s *Service) stats(w http.ResponseWriter, r *http.Request) {
	loc, days, err := statsQuery(r.URL.Query(), s.now())
	if err != nil {
		badRequest(w, err)
		return
	}
	// A zone's midnight is a quarter hour (by today's rules; the odd
	// offsets of old local mean times round down), and the rollups answer
	// by the day.
	bounds := make([]int64, len(days)+1)
	for i, d := range days {
		bounds[i] = store.BucketOf(d.UnixMilli())
	}
	bounds[len(days)] = store.BucketOf(days[len(days)-1].AddDate(0, 0, 1).UnixMilli())
	sctx, cancel := store.CallContext(r.Context())
	counts, err := s.store.Stats(sctx, bounds)
	cancel()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := Stats{From: bounds[0], To: bounds[len(days)], TZ: loc.String(), Days: make([]DayStats, len(days)), Total: newTally()}
	for i, d := range days {
		out.Days[i] = DayStats{Date: d.Format(time.DateOnly), Tally: newTally()}
		out.Days[i].add(&counts[i])
		out.Total.add(&counts[i])
	}
	for i := range out.Days {
		out.Days[i].done()
	}
	out.Total.done()
	api.JSON(w, http.StatusOK, out)
}
