package local

// The outbox (store.Forwarding) over the engine: one row per delivery, and
// an index of the Pending ones by endpoint and due time, kept in the same
// transactions as the rows.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/store"
)

const (
	// bOutbox: callId \x00 deliveryId \x00 endpoint -> storedDelivery,
	// each part as keys.go makes it (keyPart).
	bOutbox = "outbox"
	// bDue: endpoint \x00 %020d NextAt (Unix ns) \x00 outbox key -> outbox
	// key, for every Pending row: Lease reads it in order and stops at the
	// first row not yet due.
	bDue = "due"
)

var outboxBuckets = []string{bOutbox, bDue}

// storedDelivery is a row: the delivery, its expiry, and while leased the
// NextAt the lease replaced (so that ReleaseLeases can give it back).
type storedDelivery struct {
	forward.Delivery
	ExpiresAt  int64      `json:"expiresAt,omitempty"`
	LeasedFrom *time.Time `json:"leasedFrom,omitempty"`
}

var _ store.Forwarding = (*table)(nil)

// errStop, returned by a Scan's fn, ends the scan.
var errStop = errors.New("stop")

func outboxKey(callID, deliveryID, endpoint string) string {
	return keyPart(callID) + keySep + keyPart(deliveryID) + keySep + keyPart(endpoint)
}

// duePrefix is the prefix of endpoint's entries in the due index.
func duePrefix(endpoint string) string { return keyPart(endpoint) + keySep }

func (r *storedDelivery) key() string { return outboxKey(r.CallID, r.DeliveryID, r.Endpoint) }

func dueKey(r *storedDelivery) string {
	return duePrefix(r.Endpoint) + dueNanos(r.NextAt) + keySep + r.key()
}

// dueNanos is t in Unix nanoseconds, sortable as text (times before 1970
// sort first).
func dueNanos(t time.Time) string {
	if t.Before(time.Unix(0, 0)) {
		return fmt.Sprintf("%020d", 0)
	}
	return fmt.Sprintf("%020d", t.UnixNano())
}

// row reads a row, nil when there is none (expired or not).
func row(tx Tx, key string) (*storedDelivery, error) {
	b := tx.Get(bOutbox, key)
	if b == nil {
		return nil, nil
	}
	var r storedDelivery
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("store: delivery %q: %w", key, err)
	}
	return &r, nil
}

// putRow writes r over prev (nil: none), keeping the due index in step.
func putRow(tx Tx, r, prev *storedDelivery) error {
	if prev != nil && prev.State == forward.Pending {
		if err := tx.Delete(bDue, dueKey(prev)); err != nil {
			return err
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.Put(bOutbox, r.key(), b); err != nil {
		return err
	}
	if r.State == forward.Pending {
		return tx.Put(bDue, dueKey(r), []byte(r.key()))
	}
	return nil
}

// deleteRow removes r and its index entry.
func deleteRow(tx Tx, r *storedDelivery) error {
	if r.State == forward.Pending {
		if err := tx.Delete(bDue, dueKey(r)); err != nil {
			return err
		}
	}
	return tx.Delete(bOutbox, r.key())
}

func (l *table) stored(d forward.Delivery) *storedDelivery {
	return &storedDelivery{Delivery: d, ExpiresAt: l.opts.DeliveryExpiresAt(&d)}
}

// oweEvent writes a newly stored event's deliveries in PutEvent's
// transaction (Options.ForwardTo), over any row an expired copy of the
// event left.
func (l *table) oweEvent(tx Tx, ev *call.Event) error {
	if len(l.opts.ForwardTo) == 0 {
		return nil
	}
	for _, d := range forward.Owed(ev, l.opts.ForwardTo, l.opts.Time()) {
		r := l.stored(d)
		prev, err := row(tx, r.key())
		if err != nil {
			return err
		}
		if err := putRow(tx, r, prev); err != nil {
			return err
		}
	}
	return nil
}

func (l *table) Owe(ctx context.Context, ds []forward.Delivery) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	if len(ds) == 0 {
		return nil
	}
	return l.kv.Update(func(tx Tx) error {
		for _, d := range ds {
			r := l.stored(d)
			prev, err := row(tx, r.key())
			if err != nil {
				return err
			}
			if prev != nil && !l.opts.Expired(prev.ExpiresAt) {
				continue
			}
			if err := putRow(tx, r, prev); err != nil {
				return err
			}
		}
		return nil
	})
}

func (l *table) Lease(ctx context.Context, endpoint string, now, until time.Time, limit int) ([]forward.Delivery, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	// Nothing due (most of an idle loop's looks): a read, and no commit.
	if due, err := l.anyDue(endpoint, now); err != nil || !due {
		return nil, err
	}
	var out []forward.Delivery
	err := l.kv.Update(func(tx Tx) error {
		out = nil
		bound := dueNanos(now)
		var due, expired []*storedDelivery
		err := tx.Scan(bDue, duePrefix(endpoint), func(k string, v []byte) error {
			at, _, _ := strings.Cut(strings.TrimPrefix(k, duePrefix(endpoint)), keySep)
			if at > bound || len(due) == limit {
				return errStop
			}
			r, err := row(tx, string(v))
			if err != nil {
				return err
			}
			switch {
			case r == nil || r.State != forward.Pending || r.NextAt.After(now):
				// An index entry out of step with its row: skipped.
			case l.opts.Expired(r.ExpiresAt):
				expired = append(expired, r)
			default:
				due = append(due, r)
			}
			return nil
		})
		if err != nil && err != errStop {
			return err
		}
		for _, r := range expired {
			if err := deleteRow(tx, r); err != nil {
				return err
			}
		}
		for _, r := range due {
			leased := *r
			from := r.NextAt
			leased.NextAt, leased.LeasedFrom = until, &from
			if err := putRow(tx, &leased, r); err != nil {
				return err
			}
			out = append(out, r.Delivery)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// anyDue reports whether the due index holds an entry for endpoint due at
// now.
func (l *table) anyDue(endpoint string, now time.Time) (bool, error) {
	due := false
	err := l.kv.View(func(tx Tx) error {
		return tx.Scan(bDue, duePrefix(endpoint), func(k string, _ []byte) error {
			at, _, _ := strings.Cut(strings.TrimPrefix(k, duePrefix(endpoint)), keySep)
			due = at <= dueNanos(now)
			return errStop
		})
	})
	if err == errStop {
		err = nil
	}
	return due, err
}

func (l *table) Record(ctx context.Context, d forward.Delivery) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	r := l.stored(d)
	return l.kv.Update(func(tx Tx) error {
		prev, err := row(tx, r.key())
		if err != nil {
			return err
		}
		return putRow(tx, r, prev)
	})
}

func (l *table) Event(ctx context.Context, callID, deliveryID string) (*call.Event, *call.Summary, error) {
	if err := l.check(ctx); err != nil {
		return nil, nil, err
	}
	var ev *call.Event
	var sum *call.Summary
	err := l.kv.View(func(tx Tx) error {
		b := tx.Get(bEvents, eventKey(callID, deliveryID))
		if b == nil {
			return nil
		}
		var se storedEvent
		if err := decodeStoredEvent(b, &se); err != nil {
			return fmt.Errorf("store: event %s: %w", deliveryID, err)
		}
		if l.opts.Expired(se.ExpiresAt) {
			return nil
		}
		ev = &se.Event
		if callID == "" {
			return nil
		}
		var err error
		sum, err = l.summary(tx, callID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if ev == nil {
		return nil, nil, fmt.Errorf("store: event %s of call %q: %w", deliveryID, callID, forward.ErrEventGone)
	}
	return ev, sum, nil
}

func (l *table) Deliveries(ctx context.Context, callID string, fn func(*forward.Delivery) error) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	prefix := ""
	if callID != "" {
		prefix = keyPart(callID) + keySep
	}
	return l.kv.View(func(tx Tx) error {
		return tx.Scan(bOutbox, prefix, func(k string, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var r storedDelivery
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("store: delivery %q: %w", k, err)
			}
			if l.opts.Expired(r.ExpiresAt) {
				return nil
			}
			return fn(&r.Delivery)
		})
	})
}

// ReleaseLeases gives back every lease held: each leased row is due again
// at the time its lease replaced. It is for a table one process holds
// alone (the embedded file, which bbolt locks), at start-up: a lease found
// then was taken by a process that is gone (killed mid-flight), and its
// deliveries need not wait for the lease to end. It reports how many it
// gave back.
func (l *table) ReleaseLeases(ctx context.Context) (int, error) {
	if err := l.check(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := l.kv.Update(func(tx Tx) error {
		n = 0
		var leased []*storedDelivery
		err := tx.Scan(bOutbox, "", func(k string, v []byte) error {
			var r storedDelivery
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("store: delivery %q: %w", k, err)
			}
			if r.State == forward.Pending && r.LeasedFrom != nil {
				leased = append(leased, &r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range leased {
			back := *r
			back.NextAt, back.LeasedFrom = *r.LeasedFrom, nil
			if err := putRow(tx, &back, r); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
