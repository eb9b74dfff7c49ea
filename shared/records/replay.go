package records

// POST /replay (and `callfn replay`): stored events delivered again to the
// forwarding endpoints, under the webhook-ids they were first sent with.
//
//	POST /replay
//	Authorization: Bearer $CALLFN_API_TOKEN
//	{"callId": "2ae7d549-..."}                          one call's events
//	{"from": "2025-02-25T00:00:00Z", "to": 1740528000000} the events of a range
//	{"callId": "...", "url": "https://crm.example.com/hooks/callfn"}  to one endpoint only
//
// from (inclusive) and to (exclusive, default now) are Unix milliseconds or
// RFC 3339 times, as GET /records takes them, and select events by their
// time: the events of the calls listed in the range (or that started up
// to ReplayLookback before it) whose own time is in it. Events of no call
// are not replayed by range. url, when given, must be one of
// CALLFN_FORWARD_URL's endpoints; else every endpoint gets the events
// again. Each (event, endpoint) is owed again, due at once, whatever it
// stood at: delivered, failed, or still retrying (its attempts start
// over). The answer says how many deliveries were queued:
//
//	{"events": 3, "queued": 6, "endpoints": ["https://crm.example.com/hooks/callfn", ...]}
//
// 400 for a body that names neither callId nor from (or both), a bad time
// or an unknown url; 404 for a call the table holds no event of; 413 for a
// range of more than MaxReplayEvents events; 503 when forwarding is off.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
)

// RouteReplay delivers stored events again.
const RouteReplay = "POST /replay"

// Replay bounds.
const (
	// MaxReplayEvents is the most events one range replay owes again:
	// replay a longer range in parts.
	MaxReplayEvents = 10000
	// ReplayLookback is how long before a range a call may have started
	// and still have events in it replayed.
	ReplayLookback = 24 * time.Hour
	// replayWorkers write the rows of a range side by side.
	replayWorkers = 8
)

// Errors of Replay, for errors.Is.
var (
	ErrForwardingOff = errors.New("forwarding is off: CALLFN_FORWARD_URL names no endpoint")
	ErrTooManyEvents = fmt.Errorf("the range holds more than %d events: replay it in parts", MaxReplayEvents)
	ErrNoEvents      = errors.New("the table holds no event of the call")
)

// ReplayRequest is POST /replay's body.
type ReplayRequest struct {
	CallID string  `json:"callId,omitempty"`
	From   TimeArg `json:"from,omitzero"`
	To     TimeArg `json:"to,omitzero"`
	URL    string  `json:"url,omitempty"`
}

// TimeArg is a time in a request body: Unix milliseconds, as a number or a
// string of digits, or an RFC 3339 time; 0 when absent.
type TimeArg int64

func (t *TimeArg) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b) // a number
	}
	ms, err := parseTime("time", s)
	if err != nil {
		var fe *FilterError
		if errors.As(err, &fe) {
			return errors.New(fe.Msg)
		}
		return err
	}
	*t = TimeArg(ms)
	return nil
}

// ReplayReport is what a replay did.
type ReplayReport struct {
	Events    int      `json:"events"`    // stored events owed again
	Queued    int      `json:"queued"`    // deliveries queued: events times endpoints
	Endpoints []string `json:"endpoints"` // the endpoints, as forward.Display names them
}

// ReplayProgress is a range replay's progress: calls read of those listed,
// and what was queued so far.
type ReplayProgress struct {
	Calls, CallsDone int
	Events, Queued   int
}

// replayer is the service's side of forwarding: nil when forwarding is off.
type replayer struct {
	d      *forward.Dispatcher
	outbox store.Forwarding
}

// newReplayer builds the forwarding side of the service when the
// configuration names endpoints and the table keeps an outbox.
func newReplayer(cfg config.Config, st Table) (*replayer, error) {
	fw, ok := st.(store.Forwarding)
	if !cfg.Forwarding() || !ok {
		return nil, nil
	}
	d, err := forward.New(cfg, fw, fw, forward.Options{})
	if err != nil {
		return nil, err
	}
	return &replayer{d: d, outbox: fw}, nil
}

// Forwarding reports whether the service replays (CALLFN_FORWARD_URL names
// endpoints).
func (s *Service) Forwarding() bool { return s.fwd != nil }

// Replay owes stored events again (see POST /replay): req.CallID's, or
// those of the range [req.From, req.To). progress, when not nil, is called
// as a range is worked through.
func (s *Service) Replay(ctx context.Context, req ReplayRequest, progress func(ReplayProgress)) (ReplayReport, error) {
	var rep ReplayReport
	if s.fwd == nil {
		return rep, ErrForwardingOff
	}
	eps := s.fwd.d.Endpoints()
	if req.URL != "" {
		ep, err := config.ParseForwardURL(req.URL)
		if err != nil || !contains(eps, ep) {
			return rep, forward.ErrUnknownEndpoint
		}
		eps = []string{ep}
	}
	for _, ep := range eps {
		rep.Endpoints = append(rep.Endpoints, forward.Display(ep))
	}
	switch {
	case req.CallID != "" && req.From != 0:
		return rep, &FilterError{Field: "callId", Msg: "give callId or a range (from, to), not both"}
	case req.CallID != "":
		if err := checkCallID(req.CallID); err != nil {
			return rep, &FilterError{Field: "callId", Msg: err.Error()}
		}
		_, evs, err := s.getCall(ctx, req.CallID)
		if errors.Is(err, store.ErrNotFound) {
			return rep, fmt.Errorf("%w %q", ErrNoEvents, req.CallID)
		}
		if err != nil {
			return rep, err
		}
		now := s.now()
		for i := range evs {
			if err := s.replayOne(ctx, &evs[i], req.URL, now); err != nil {
				return rep, err
			}
			rep.Events++
			rep.Queued += len(eps)
		}
		return rep, nil
	case req.From == 0:
		return rep, &FilterError{Field: "callId", Msg: "give callId, or from (and to) for a range"}
	}
	from, to := int64(req.From), int64(req.To)
	if to == 0 {
		to = s.now().UnixMilli()
	}
	if from >= to {
		return rep, &FilterError{Field: "from", Msg: fmt.Sprintf("the range is empty or inverted: from %s is not before to %s", msText(from), msText(to))}
	}
	return s.replayRange(ctx, from, to, req.URL, len(eps), rep, progress)
}

// replayRange lists the calls that may have events in [from, to), then
// owes again those of their events whose time is in it.
func (s *Service) replayRange(ctx context.Context, from, to int64, url string, neps int, rep ReplayReport, progress func(ReplayProgress)) (ReplayReport, error) {
	var calls []string
	q := store.CallQuery{From: max(0, from-ReplayLookback.Milliseconds()), To: to, Limit: store.DefaultLimit}
	for {
		lctx, cancel := store.CallContext(ctx)
		page, err := s.store.ListCalls(lctx, q)
		cancel()
		if err != nil {
			return rep, err
		}
		for _, c := range page.Calls {
			calls = append(calls, c.CallID)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	var (
		mu      sync.Mutex
		p       = ReplayProgress{Calls: len(calls)}
		firstE  error
		events  atomic.Int64
		next    atomic.Int64
		wg      sync.WaitGroup
		now     = s.now()
		ctx2, c = context.WithCancel(ctx)
	)
	defer c()
	report := func(d ReplayProgress) {
		mu.Lock()
		defer mu.Unlock()
		p.CallsDone += d.CallsDone
		p.Events += d.Events
		p.Queued += d.Queued
		if progress != nil {
			progress(p)
		}
	}
	fail := func(err error) {
		mu.Lock()
		if firstE == nil {
			firstE = err
		}
		mu.Unlock()
		c()
	}
	if progress != nil {
		progress(p)
	}
	for range min(replayWorkers, max(len(calls), 1)) {
		wg.Go(func() {
			for ctx2.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(calls) {
					return
				}
				_, evs, err := s.getCall(ctx2, calls[i])
				if errors.Is(err, store.ErrNotFound) {
					err, evs = nil, nil
				}
				if err != nil {
					fail(err)
					return
				}
				n := 0
				for j := range evs {
					if evs[j].EventTime < from || evs[j].EventTime >= to {
						continue
					}
					if events.Add(1) > MaxReplayEvents {
						fail(ErrTooManyEvents)
						return
					}
					if err := s.replayOne(ctx2, &evs[j], url, now); err != nil {
						fail(err)
						return
					}
					n++
				}
				report(ReplayProgress{CallsDone: 1, Events: n, Queued: n * neps})
			}
		})
	}
	wg.Wait()
	rep.Events, rep.Queued = p.Events, p.Queued
	if firstE == nil {
		firstE = ctx.Err()
	}
	return rep, firstE
}

// getCall reads a call under a store call's deadline (store.CallContext).
func (s *Service) getCall(ctx context.Context, callID string) (*call.Summary, []call.Event, error) {
	ctx, cancel := store.CallContext(ctx)
	defer cancel()
	return s.store.GetCall(ctx, callID)
}

// replayOne owes ev again under a store call's deadline.
func (s *Service) replayOne(ctx context.Context, ev *call.Event, url string, now time.Time) error {
	ctx, cancel := store.CallContext(ctx)
	defer cancel()
	return s.fwd.d.Replay(ctx, ev, url, now)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// replay is POST /replay.
func (s *Service) replay(w http.ResponseWriter, r *http.Request) {
	body, err := api.ReadBody(r, 1<<14)
	if err != nil {
		api.Error(w, http.StatusBadRequest, "could not read the body: "+err.Error())
		return
	}
	var req ReplayRequest
	if err := api.Decode(body, &req); err != nil {
		var be *api.BodyError
		if errors.As(err, &be) {
			api.Error(w, http.StatusBadRequest, be.Error(), be.Fields()...)
			return
		}
		api.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := s.Replay(r.Context(), req, nil)
	var fe *FilterError
	switch {
	case err == nil:
		slog.Info("replay", "requestId", platform.RequestID(r.Context()), "callId", req.CallID, "events", rep.Events, "queued", rep.Queued)
		api.JSON(w, http.StatusOK, rep)
	case errors.As(err, &fe):
		api.Error(w, http.StatusBadRequest, fe.Error(), "field", fe.Field)
	case errors.Is(err, forward.ErrUnknownEndpoint):
		api.Error(w, http.StatusBadRequest, "url is not one of CALLFN_FORWARD_URL's endpoints", "field", "url")
	case errors.Is(err, ErrNoEvents):
		api.Error(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrTooManyEvents):
		api.Error(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, ErrForwardingOff):
		api.Error(w, http.StatusServiceUnavailable, err.Error())
	default:
		slog.Error("replay failed", "requestId", platform.RequestID(r.Context()), "err", err, "queued", rep.Queued)
		api.Error(w, http.StatusInternalServerError, "the table could not be read or written; some deliveries may have been queued", "queued", rep.Queued)
	}
}
