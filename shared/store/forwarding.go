package store

import (
	"context"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
)

// Forwarding is the table's side of forwarding (shared/forward): the
// outbox of deliveries owed to the endpoints, and the events they send.
// Every backend implements it, and passes the suite's Outbox cases.
//
// The rows are written in the first place by PutEvent itself: when
// Options.ForwardTo names endpoints, a newly stored event's deliveries
// (forward.Owed, one per endpoint, Pending and due at once) are written in
// the same atomic write as the event, so that an event is never durable
// without them. A redelivery (stored=false) owes nothing.
type Forwarding interface {
	// Owe records deliveries newly owed, durably, before it returns; a
	// delivery already recorded (and not expired) is left as it is.
	Owe(ctx context.Context, ds []forward.Delivery) error
	// Lease takes up to limit Pending deliveries to endpoint that are due
	// at now (NextAt <= now), earliest NextAt first, and sets each one's
	// stored NextAt to until in the same conditional write, so that two
	// drainers never take one delivery together; it returns them as they
	// were before the lease. It reads an index of due rows by endpoint and
	// time: never the whole table.
	Lease(ctx context.Context, endpoint string, now, until time.Time, limit int) ([]forward.Delivery, error)
	// Record replaces a delivery's row with d (creating it when there is
	// none): an attempt's outcome, a lease given back, a replay.
	Record(ctx context.Context, d forward.Delivery) error
	// Event returns a stored event and its call's summary (nil for an
	// event of no call); an error wrapping forward.ErrEventGone when the
	// table does not hold it (never stored, or expired).
	Event(ctx context.Context, callID, deliveryID string) (*call.Event, *call.Summary, error)
	// Deliveries calls fn for every delivery row of callID's events
	// (every row of every event when callID is ""), in no particular
	// order, skipping expired rows.
	Deliveries(ctx context.Context, callID string, fn func(*forward.Delivery) error) error
}

var (
	_ forward.Outbox = Forwarding(nil)
	_ forward.Events = Forwarding(nil)
)

// DeliveryExpiresAt is the TTL value of a delivery row (0: none): its
// rows live Retention after they were owed or replayed, as an event lives
// Retention after its time.
func (o Options) DeliveryExpiresAt(d *forward.Delivery) int64 {
	return o.ExpiresAt(d.OwedAt.UnixMilli())
}
