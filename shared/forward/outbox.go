package forward

import (
	"context"
	"errors"
	"time"

	"github.com/callfn/callfn/shared/call"
)

// State is where a delivery stands.
type State string

const (
	// Pending: owed, due at NextAt (or leased until NextAt).
	Pending State = "pending"
	// Delivered: the endpoint answered 2xx.
	Delivered State = "delivered"
	// Failed: MaxAttempts attempts failed, or the event is no longer
	// stored; only a replay sends it again.
	Failed State = "failed"
)

// Delivery is one stored event owed to one endpoint: a row of the Outbox,
// keyed by (DeliveryID, Endpoint).
type Delivery struct {
	CallID     string `json:"callId"`     // the event's call ("" for an event of no call)
	DeliveryID string `json:"deliveryId"` // the stored event's call.Event.DeliveryID
	Endpoint   string `json:"endpoint"`   // canonical URL (config.ParseForwardURL)
	State      State  `json:"state"`
	// Attempts counts the attempts made since the delivery was owed or
	// last replayed.
	Attempts int `json:"attempts"`
	// NextAt is when a Pending delivery is due (while leased: when the
	// lease ends); zero once Delivered or Failed.
	NextAt     time.Time `json:"nextAt,omitzero"`
	OwedAt     time.Time `json:"owedAt,omitzero"`     // when it was owed or replayed
	LastAt     time.Time `json:"lastAt,omitzero"`     // when the last attempt ended
	LastStatus int       `json:"lastStatus,omitzero"` // the last answer's HTTP status, 0 for none
	LastError  string    `json:"lastError,omitempty"` // why the last attempt failed (Result.Err)
}

// ID is the delivery's webhook-id (MessageID).
func (d Delivery) ID() string { return MessageID(d.DeliveryID, d.Endpoint) }

// Owed are the deliveries of a newly stored event: one per endpoint,
// Pending and due at now. No endpoints, none.
func Owed(ev *call.Event, endpoints []string, now time.Time) []Delivery {
	var out []Delivery
	for _, ep := range endpoints {
		out = append(out, Delivery{
			CallID: ev.CallID, DeliveryID: ev.DeliveryID, Endpoint: ep,
			State: Pending, NextAt: now, OwedAt: now,
		})
	}
	return out
}

// Outbox is the durable side of forwarding: what the table must keep so
// that no owed delivery is lost to a restart or a crash. Every table
// backend implements it (store.Forwarding); a row is keyed
// by (DeliveryID, Endpoint).
type Outbox interface {
	// Owe records deliveries newly owed, durably, before it returns. A
	// delivery already recorded is left as it is, so owing the same event
	// twice (a provider's redelivery, a retried write) changes nothing.
	// Backends should write these rows in the same atomic write that
	// stores the event (or derive them from it, as a DynamoDB stream
	// does), so an event is never durable without its deliveries.
	Owe(ctx context.Context, ds []Delivery) error
	// Lease takes up to limit Pending deliveries to endpoint that are due
	// at now (NextAt <= now), earliest NextAt first, and sets each one's
	// stored NextAt to until in the same conditional write, so that a
	// concurrent drainer does not take it and, should this one crash, it
	// is due again at until. It returns the deliveries as they were
	// before the lease (their own NextAt).
	Lease(ctx context.Context, endpoint string, now, until time.Time, limit int) ([]Delivery, error)
	// Record replaces a delivery's row with d: after an attempt, on a
	// lease given back, on a replay (which also creates rows).
	Record(ctx context.Context, d Delivery) error
}

// Events reads what a delivery sends. The table implements it.
type Events interface {
	// Event returns a stored event and its call's summary (nil for an
	// event of no call); an error wrapping ErrEventGone when the table no
	// longer holds the event (retention expired it).
	Event(ctx context.Context, callID, deliveryID string) (*call.Event, *call.Summary, error)
}

// ErrEventGone reports an owed event the table no longer holds; its
// deliveries are marked Failed without an attempt.
var ErrEventGone = errors.New("forward: event no longer stored")
