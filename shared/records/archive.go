package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent/rest"
	"golang.org/x/time/rate"
)

// The archive pages through Tencent's records of a recent window (v4
// get_record_by_filter or v1 get_records_by_filter) and stores each record
// in the table as an event (rest.Record.Event): a record already stored
// is a no-op, so running it again stores nothing new, and a record's
// "ended" facts close a call whose summary still says it goes on. Calls the
// table has open in the window that no page listed are asked for by call
// id, so that a call whose end callback was lost is closed too.
//
// The window: the last 7 days the first time; afterwards, from Overlap
// before the end of the last window archived completely (calls that were
// still going on then have records now), never more than 7 days back.
// Requests are paced under Tencent's 200 requests/s (Rate). Before each
// page the archive checks the time left before ctx's deadline; with less
// than Margin left it stops and keeps its place in the table (meta
// CursorMeta), and the next run resumes there.

// CursorMeta is the table meta entry holding the archive's place.
const CursorMeta = "archive.cursor"

// Archive defaults.
const (
	DefaultArchivePageSize = 100
	DefaultRate            = 150 // requests/s, under Tencent's 200
	DefaultMargin          = 5 * time.Second
	DefaultOverlap         = 24 * time.Hour
	DefaultWriters         = 32
	// MaxLookups bounds the open calls asked for by call id in one run.
	MaxLookups = 500
	// MaxOpenScan bounds the open calls the archive looks for, and the
	// pages of 100 it reads to find them.
	MaxOpenScan = 20000
)

// ArchiveOptions adjust one archive run; zero values take the defaults.
type ArchiveOptions struct {
	// Since archives calls started this long ago until now (at most 7
	// days), ignoring the cursor's window; 0 lets the cursor decide.
	Since    time.Duration
	PageSize int           // records per request (DefaultArchivePageSize)
	Rate     float64       // requests/s at most (DefaultRate); above 200 is refused
	Margin   time.Duration // stop this long before ctx's deadline (DefaultMargin)
	Overlap  time.Duration // DefaultOverlap
	Writers  int           // concurrent table writes (DefaultWriters)
	// Progress, when set, is called after every page.
	Progress func(Progress)
}

// Progress is an archive run so far.
type Progress struct {
	Page    int // pages done in this run
	Pages   int // pages the window holds, as Tencent counts them now
	Records int // records seen in this run
	Total   int // records the window holds, as Tencent counts them now
	Stored  int
}

// Report is what an archive run did.
type Report struct {
	API      string `json:"api"`
	From     int64  `json:"from"` // the window, ms (start times)
	To       int64  `json:"to"`
	Resumed  bool   `json:"resumed"`  // continued a window an earlier run stopped in
	Pages    int    `json:"pages"`    // pages fetched
	Requests int    `json:"requests"` // requests sent to Tencent (pages and lookups)
	Records  int    `json:"records"`  // records seen
	Stored   int    `json:"stored"`   // newly stored
	Known    int    `json:"known"`    // already in the table
	Closed   int    `json:"closed"`   // calls the table had open, now ended by their record
	Lookups  int    `json:"lookups"`  // open calls asked for by call id
	// Done is true when the window was archived completely; false when the
	// run stopped before its deadline (Stopped) and left a cursor.
	Done    bool   `json:"done"`
	Stopped string `json:"stopped,omitempty"`
}

// cursor is the archive's place, kept in the table.
type cursor struct {
	API  string `json:"api"`
	From int64  `json:"from"` // the window being archived, Unix seconds
	To   int64  `json:"to"`
	Page int    `json:"page"` // next page; 0 when no window is under way
	// Done is the end (Unix seconds) of the last window archived completely.
	Done int64 `json:"done"`
}

// ErrNoTencent is an archive run with no Tencent app configured.
var ErrNoTencent = errors.New("records: the archive needs Tencent (CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY)")

// scheduled runs the archive for a schedule. The schedule's payload may
// set {"since": "48h"} (a duration, or days as "7d").
func (s *Service) scheduled(ctx context.Context, t platform.Tick) (any, error) {
	var o ArchiveOptions
	if p := strings.TrimSpace(string(t.Payload)); p != "" && p != "null" && p != "{}" {
		var in struct {
			Since string `json:"since"`
		}
		if err := json.Unmarshal(t.Payload, &in); err != nil {
			return nil, fmt.Errorf("records: schedule payload: %w", err)
		}
		if in.Since != "" {
			d, err := ParseSince(in.Since)
			if err != nil {
				return nil, fmt.Errorf("records: schedule payload: %w", err)
			}
			o.Since = d
		}
	}
	rep, err := s.Archive(ctx, o)
	slog.Info("archive run", "schedule", t.Name, "report", rep, "err", err)
	return rep, err
}

// ParseSince reads a duration as time.ParseDuration does, or whole days
// as "7d".
func ParseSince(v string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("since %q: want a number of days such as 7d, or a duration such as 36h", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("since %q: want a number of days such as 7d, or a duration such as 36h", v)
	}
	return d, nil
}

// Archive runs the archive once (see above).
func (s *Service) Archive(ctx context.Context, o ArchiveOptions) (Report, error) {
	rep := Report{API: s.api}
	if s.tc == nil {
		return rep, ErrNoTencent
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultArchivePageSize
	}
	o.PageSize = min(o.PageSize, MaxPageSize)
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Rate > rest.RecordsRateLimit {
		return rep, fmt.Errorf("records: archive rate %g requests/s is over Tencent's %d", o.Rate, rest.RecordsRateLimit)
	}
	if o.Margin <= 0 {
		o.Margin = DefaultMargin
	}
	if o.Overlap <= 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Writers <= 0 {
		o.Writers = DefaultWriters
	}
	// A burst of 1: requests at least 1/Rate apart, so that no second
	// holds more than Rate+1 of them.
	a := &archiver{s: s, o: o, rep: &rep, pace: rate.NewLimiter(rate.Limit(o.Rate), 1)}
	return rep, a.run(ctx)
}

type archiver struct {
	s    *Service
	o    ArchiveOptions
	rep  *Report
	pace *rate.Limiter
	cur  cursor
	open map[string]bool // calls the table has open in the window
}

func (a *archiver) run(ctx context.Context) error {
	s, rep := a.s, a.rep
	now := s.now()
	oldest := now.Add(-rest.RecordRetention).Unix()
	sctx, cancel := store.CallContext(ctx)
	raw, err := s.store.GetMeta(sctx, CursorMeta)
	cancel()
	if err != nil {
		return fmt.Errorf("records: reading the archive cursor: %w", err)
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &a.cur); err != nil {
			slog.Warn("archive cursor unreadable; starting a new window", "cursor", raw, "err", err)
			a.cur = cursor{}
		}
	}
	switch {
	case a.o.Since == 0 && a.cur.Page > 0 && a.cur.API == s.api && a.cur.To > oldest:
		rep.Resumed = true
		a.cur.From = max(a.cur.From, oldest)
	default:
		from := oldest
		if a.o.Since > 0 {
			from = max(from, now.Add(-a.o.Since).Unix())
		} else if a.cur.Done > 0 && a.cur.API == s.api {
			from = max(from, a.cur.Done-int64(a.o.Overlap/time.Second))
		}
		a.cur = cursor{API: s.api, From: from, To: now.Unix(), Page: 1, Done: a.cur.Done}
	}
	rep.From, rep.To = a.cur.From*1000, a.cur.To*1000
	if err := a.findOpen(ctx); err != nil {
		return err
	}
	if stop := a.stopping(ctx); stop != "" {
		rep.Stopped = stop
		return a.save(ctx)
	}
	// Pages are fetched one ahead: page p+1 is on its way while page p is
	// stored. The deadline is checked before each fetch, so Margin must
	// cover storing one page.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := a.fetch(fctx, a.cur.Page)
	for {
		f := <-next
		if f.err != nil {
			if serr := a.save(ctx); serr != nil {
				f.err = errors.Join(f.err, serr)
			}
			return f.err
		}
		rep.Pages++
		last := f.tp.Last(f.page, a.o.PageSize)
		stop := ""
		if !last {
			if stop = a.stopping(ctx); stop == "" {
				next = a.fetch(fctx, f.page+1)
			}
		}
		if err := a.store(ctx, f.tp.Records); err != nil {
			if serr := a.save(ctx); serr != nil {
				err = errors.Join(err, serr)
			}
			return err
		}
		a.cur.Page = f.page + 1
		if a.o.Progress != nil {
			pages := (f.tp.Total + a.o.PageSize - 1) / a.o.PageSize
			a.o.Progress(Progress{Page: rep.Pages, Pages: pages, Records: rep.Records, Total: f.tp.Total, Stored: rep.Stored})
		}
		if last {
			break
		}
		// Keep the place after every page, so that a run that stops, or
		// is killed, resumes near where it was.
		if err := a.save(ctx); err != nil {
			return err
		}
		if stop != "" {
			rep.Stopped = stop
			return nil
		}
	}
	if err := a.lookups(ctx); err != nil {
		return err
	}
	if rep.Stopped != "" {
		return a.save(ctx)
	}
	rep.Done = true
	a.cur.Done, a.cur.Page = a.cur.To, 0
	return a.save(ctx)
}

// stopping says why the run should stop now, if it should.
func (a *archiver) stopping(ctx context.Context) string {
	if err := ctx.Err(); err != nil {
		return err.Error()
	}
	if dl, ok := ctx.Deadline(); ok && a.s.now().Add(a.o.Margin).After(dl) {
		return fmt.Sprintf("less than %s left before the deadline", a.o.Margin)
	}
	return ""
}

func (a *archiver) save(ctx context.Context) error {
	b, _ := json.Marshal(a.cur)
	// The cursor is kept even when ctx has ended: it is what lets the next
	// run resume (within the store's own bound).
	sctx, cancel := store.CallContext(context.WithoutCancel(ctx))
	defer cancel()
	if err := a.s.store.PutMeta(sctx, CursorMeta, string(b)); err != nil {
		return fmt.Errorf("records: saving the archive cursor: %w", err)
	}
	return nil
}

// findOpen lists the calls the table has open (ringing or in progress) in
// the window, Tencent's (robot calls callfn started included), reading at
// most MaxOpenScan of them. Records close open calls through the fold
// whether or not this found them; it is what counts them (Report.Closed)
// and what finds the calls to look up.
func (a *archiver) findOpen(ctx context.Context) error {
	a.open = map[string]bool{}
	for _, status := range []string{call.StatusRinging, call.StatusOngoing} {
		q := store.CallQuery{From: a.rep.From, To: a.rep.To + 1000, Provider: call.Tencent, Status: status, Limit: 100}
		for pages := 0; ; pages++ {
			if len(a.open) >= MaxOpenScan || pages >= MaxOpenScan/100 {
				slog.Warn("archive: the window holds more open calls than it looks for", "found", len(a.open))
				return nil
			}
			sctx, cancel := store.CallContext(ctx)
			p, err := a.s.store.ListCalls(sctx, q)
			cancel()
			if err != nil {
				return fmt.Errorf("records: listing the table's open calls: %w", err)
			}
			for _, c := range p.Calls {
				a.open[c.CallID] = true
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
	}
	return nil
}

// fetched is one page of Tencent's answer.
type fetched struct {
	page int
	tp   *rest.RecordPage
	err  error
}

// fetch asks Tencent for a page of the window, paced, in the background.
func (a *archiver) fetch(ctx context.Context, page int) <-chan fetched {
	a.rep.Requests++
	ch := make(chan fetched, 1)
	go func() {
		if err := a.pace.Wait(ctx); err != nil {
			ch <- fetched{page: page, err: err}
			return
		}
		tp, _, err := a.s.tc.GetRecordByFilter(ctx, a.s.api, rest.RecordFilter{StartTime: a.cur.From, EndTime: a.cur.To,
			PerPage: a.o.PageSize, Page: page})
		if err != nil {
			err = fmt.Errorf("records: archive page %d: %w", page, err)
		}
		ch <- fetched{page: page, tp: tp, err: err}
	}()
	return ch
}

// store stores records, Writers at a time.
func (a *archiver) store(ctx context.Context, recs []rest.Record) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		sem  = make(chan struct{}, a.o.Writers)
		now  = a.s.now().UnixMilli()
	)
	for i := range recs {
		ev := recordEvent(&recs[i])
		ev.ReceivedAt = now
		ev.RequestID = platform.RequestID(ctx)
		if ev.CallID == "" {
			slog.Warn("archive: a record without a call id is skipped", "raw", ev.Raw)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			sctx, cancel := store.CallContext(ctx)
			stored, err := a.s.store.PutEvent(sctx, &ev)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			a.rep.Records++
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("records: storing the record of %s: %w", ev.CallID, err))
			case stored:
				a.rep.Stored++
				if a.open[ev.CallID] {
					a.rep.Closed++
				}
			default:
				a.rep.Known++
			}
			delete(a.open, ev.CallID)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// recordEvent is r as the table stores it (rest.Record.Event), dated at
// the end of the second its call ended in when Tencent counted whole
// seconds: a callback of that same second (an answer in a call that lasted
// under a second, a member change) carries milliseconds and would
// otherwise be newer than the record, and keep the call open in the fold.
func recordEvent(r *rest.Record) call.Event {
	ev := r.Event()
	if ev.EventTime%1000 == 0 {
		ev.EventTime += 999
	}
	return ev
}

// lookups asks for the record of each call the table still has open in
// the window: one whose record no page listed (its end callback was lost,
// or it ended after its page was read).
func (a *archiver) lookups(ctx context.Context) error {
	ids := make([]string, 0, len(a.open))
	for id := range a.open {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if a.rep.Lookups >= MaxLookups {
			return nil
		}
		if stop := a.stopping(ctx); stop != "" {
			a.rep.Stopped = stop
			return nil
		}
		if err := a.pace.Wait(ctx); err != nil {
			return err
		}
		a.rep.Lookups++
		a.rep.Requests++
		rec, _, err := a.s.tc.GetRecordByCallID(ctx, a.s.api, id)
		switch {
		case errors.Is(err, rest.ErrRecordNotFound):
			continue // still going on, or Tencent has no record
		case err != nil:
			return fmt.Errorf("records: archive lookup of %s: %w", id, err)
		}
		if err := a.store(ctx, []rest.Record{*rec}); err != nil {
			return err
		}
	}
	return nil
}
