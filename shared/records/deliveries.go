package records

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
)

// With forwarding on (CALLFN_FORWARD_URL), GET /records/{callId} shows
// where each event's deliveries stand: every event in "events" carries
//
//	"deliveries": [{
//	  "endpoint":   "https://crm.example.com/hooks/callfn", // its scheme, host and path: never the query
//	  "webhookId":  "msg_3f0c...",          // the webhook-id every attempt and replay carries
//	  "state":      "pending",              // pending | delivered | failed
//	  "attempts":   2,                      // since it was owed or last replayed
//	  "lastAt":     "2025-02-25T06:15:34Z", // when the last attempt ended
//	  "lastStatus": 503,                    // its HTTP status, when it got one
//	  "lastError":  "HTTP 503",             // why it failed
//	  "nextAt":     "2025-02-25T06:20:40Z"  // when a pending delivery is due (or its lease ends)
//	}]
//
// ([] for an event stored before forwarding was configured); without
// forwarding the field is left out.

// DeliveryState is one delivery of an event, as GET /records/{callId}
// shows it.
type DeliveryState struct {
	Endpoint   string        `json:"endpoint"`
	WebhookID  string        `json:"webhookId"`
	State      forward.State `json:"state"`
	Attempts   int           `json:"attempts"`
	LastAt     time.Time     `json:"lastAt,omitzero"`
	LastStatus int           `json:"lastStatus,omitzero"`
	LastError  string        `json:"lastError,omitempty"`
	NextAt     time.Time     `json:"nextAt,omitzero"`
}

// NewDeliveryState is d as GET /records/{callId} shows it.
func NewDeliveryState(d *forward.Delivery) DeliveryState {
	return DeliveryState{
		Endpoint: forward.Display(d.Endpoint), WebhookID: d.ID(), State: d.State, Attempts: d.Attempts,
		LastAt: d.LastAt, LastStatus: d.LastStatus, LastError: d.LastError, NextAt: d.NextAt,
	}
}

// forwardedRecord is GET /records/{callId}'s answer with forwarding on.
type forwardedRecord struct {
	Record
	Events []forwardedEvent `json:"events"`
}

type forwardedEvent struct {
	call.Event
	Deliveries []DeliveryState `json:"deliveries"`
}

// withDeliveries is rec as GET /records/{callId} answers it: with each
// event's deliveries when forwarding is on. Should the table fail to list
// them, the record is answered without.
func (s *Service) withDeliveries(ctx context.Context, rec *CallRecord) any {
	if s.fwd == nil {
		return rec
	}
	byEvent := map[string][]DeliveryState{}
	cctx, cancel := store.CallContext(ctx)
	defer cancel()
	err := s.fwd.outbox.Deliveries(cctx, rec.CallID, func(d *forward.Delivery) error {
		byEvent[d.DeliveryID] = append(byEvent[d.DeliveryID], NewDeliveryState(d))
		return nil
	})
	if err != nil {
		slog.Warn("could not list the call's deliveries", "requestId", platform.RequestID(ctx), "callId", rec.CallID, "err", err)
		return rec
	}
	out := forwardedRecord{Record: rec.Record, Events: make([]forwardedEvent, len(rec.Events))}
	for i, ev := range rec.Events {
		ds := byEvent[ev.DeliveryID]
		if ds == nil {
			ds = []DeliveryState{}
		}
		slices.SortFunc(ds, func(a, b DeliveryState) int { return strings.Compare(a.Endpoint, b.Endpoint) })
		out.Events[i] = forwardedEvent{Event: ev, Deliveries: ds}
	}
	return out
}
