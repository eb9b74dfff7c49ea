package records

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// MaxCallID bounds a call id (Tencent's are 36-byte UUIDs).
const MaxCallID = 256

// ErrNotFound is a call neither Tencent nor the table knows.
var ErrNotFound = errors.New("no such call: neither Tencent nor the table knows it")

// checkCallID refuses call ids no provider makes.
func checkCallID(id string) error {
	if len(id) > MaxCallID {
		return fmt.Errorf("callId is longer than %d bytes", MaxCallID)
	}
	if err := checkID(id); err != nil {
		return fmt.Errorf("callId %w", err)
	}
	return nil
}

// checkID refuses an empty id, and one that is not printable UTF-8.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("is required")
	case !utf8.ValidString(id):
		return errors.New("is not valid UTF-8")
	}
	for _, c := range id {
		if unicode.IsControl(c) {
			return errors.New("holds a control character")
		}
	}
	return nil
}

func (s *Service) getRecord(w http.ResponseWriter, r *http.Request) {
	callID := r.PathValue("callId")
	if err := checkCallID(callID); err != nil {
		api.Error(w, http.StatusBadRequest, err.Error(), "field", "callId")
		return
	}
	rec, err := s.Lookup(r.Context(), callID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	api.JSON(w, http.StatusOK, s.withDeliveries(r.Context(), rec))
}

// fail answers err: 404 for an unknown call, Tencent's failure as
// upstream.Status says, 500 for the table's.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	log := slog.With("requestId", platform.RequestID(r.Context()), "path", r.URL.Path)
	var te *rest.Error
	switch {
	case errors.Is(err, ErrNotFound):
		api.Error(w, http.StatusNotFound, err.Error())
	case errors.As(err, &te), errors.Is(err, context.DeadlineExceeded):
		log.Warn("Tencent failed and the table had nothing to answer with", "err", err)
		tencentFailed(w, err)
	default:
		log.Error("records query failed", "err", err)
		api.Error(w, http.StatusInternalServerError, "the table could not be read")
	}
}

// Lookup answers one call: Tencent's record merged with the table's
// summary and timeline (the package documentation says which answers when).
func (s *Service) Lookup(ctx context.Context, callID string) (*CallRecord, error) {
	sctx, cancel := store.CallContext(ctx)
	sum, evs, tableErr := s.store.GetCall(sctx, callID)
	cancel()
	if errors.Is(tableErr, store.ErrNotFound) {
		sum, evs, tableErr = nil, nil, nil
	}
	if evs == nil {
		evs = []call.Event{}
	}
	if sum != nil && hasRecord(evs) {
		return &CallRecord{Record: fromSummary(sum, tableSource(sum)), Events: evs}, nil
	}
	trec, terr := s.tencentRecord(ctx, callID)
	if terr == nil {
		ev := recordEvent(trec)
		ev.ReceivedAt = s.now().UnixMilli()
		ev.RequestID = platform.RequestID(ctx)
		source := SourceTencent
		if sum != nil {
			source = SourceBoth
		} else {
			sum = &call.Summary{}
		}
		known := slices.ContainsFunc(evs, func(e call.Event) bool { return e.DeliveryID == ev.DeliveryID })
		if tableErr == nil && !known {
			// Keep what Tencent said, as the archive would, so that the
			// record outlives Tencent's 7 days and the next answer is the
			// table's alone.
			sctx, cancel := store.CallContext(ctx)
			_, err := s.store.PutEvent(sctx, &ev)
			cancel()
			if err != nil {
				slog.Warn("could not store Tencent's record", "callId", callID, "err", err)
			} else {
				evs = append(evs, ev)
				store.SortEvents(evs)
			}
		}
		if !known {
			sum.Apply(&ev)
		}
		rec := fromSummary(sum, source)
		rec.TencentAPI = trec.API
		return &CallRecord{Record: rec, Events: evs}, nil
	}
	switch {
	case sum != nil:
		rec := fromSummary(sum, SourceTable)
		rec.TencentError = terr.Error()
		return &CallRecord{Record: rec, Events: evs}, nil
	case tableErr != nil && (errors.Is(terr, rest.ErrRecordNotFound) || s.tc == nil):
		return nil, tableErr
	case errors.Is(terr, rest.ErrRecordNotFound), s.tc == nil:
		return nil, fmt.Errorf("%w (%s)", ErrNotFound, terr)
	}
	return nil, terr
}

// tencentRecord asks Tencent for callID's record, within the timeout.
func (s *Service) tencentRecord(ctx context.Context, callID string) (*rest.Record, error) {
	if s.tc == nil {
		return nil, s.tcErr
	}
	ctx, cancel := s.askTencent(ctx)
	defer cancel()
	rec, _, err := s.tc.GetRecordByCallID(ctx, s.api, callID)
	return rec, err
}

// hasRecord reports whether the timeline holds Tencent's record of the call.
func hasRecord(evs []call.Event) bool {
	for i := range evs {
		if evs[i].Provider == call.Tencent && evs[i].Command == call.CommandRecord {
			return true
		}
	}
	return false
}
