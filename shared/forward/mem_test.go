package forward_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
)

// memOutbox is the Outbox contract held in memory, for these tests only,
// with hooks for failures; the table backends implement it for real, and
// testkit/storetest's Outbox cases hold each of them to the contract.
type memOutbox struct {
	mu        sync.Mutex
	rows      map[string]forward.Delivery
	leases    int
	recordErr error // when set, Record fails with it
}

func newOutbox() *memOutbox { return &memOutbox{rows: map[string]forward.Delivery{}} }

func rowKey(d forward.Delivery) string { return d.DeliveryID + "\x00" + d.Endpoint }

func (o *memOutbox) Owe(ctx context.Context, ds []forward.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, d := range ds {
		if _, ok := o.rows[rowKey(d)]; !ok {
			o.rows[rowKey(d)] = d
		}
	}
	return ctx.Err()
}

func (o *memOutbox) Lease(ctx context.Context, endpoint string, now, until time.Time, limit int) ([]forward.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.leases++
	var due []forward.Delivery
	for _, d := range o.rows {
		if d.Endpoint == endpoint && d.State == forward.Pending && !d.NextAt.After(now) {
			due = append(due, d)
		}
	}
	slices.SortFunc(due, func(a, b forward.Delivery) int {
		return cmp.Or(a.NextAt.Compare(b.NextAt), cmp.Compare(rowKey(a), rowKey(b)))
	})
	due = due[:min(limit, len(due))]
	for _, d := range due {
		leased := d
		leased.NextAt = until
		o.rows[rowKey(d)] = leased
	}
	return due, nil
}

func (o *memOutbox) Record(ctx context.Context, d forward.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.recordErr != nil {
		return o.recordErr
	}
	o.rows[rowKey(d)] = d
	return nil
}

func (o *memOutbox) row(deliveryID, endpoint string) forward.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	d, ok := o.rows[deliveryID+"\x00"+endpoint]
	if !ok {
		panic(fmt.Sprintf("no row for %s to %s", deliveryID, endpoint))
	}
	return d
}

func (o *memOutbox) all() []forward.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []forward.Delivery
	for _, d := range o.rows {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b forward.Delivery) int { return cmp.Compare(rowKey(a), rowKey(b)) })
	return out
}

// memEvents is the table's read side for these tests.
type memEvents struct {
	mu      sync.Mutex
	events  map[string]call.Event
	readErr error // when set, Event fails with it
	reads   int
}

func newEvents(evs ...call.Event) *memEvents {
	m := &memEvents{events: map[string]call.Event{}}
	for _, ev := range evs {
		m.events[ev.DeliveryID] = ev
	}
	return m
}

func (m *memEvents) Event(ctx context.Context, callID, deliveryID string) (*call.Event, *call.Summary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.readErr != nil {
		return nil, nil, m.readErr
	}
	ev, ok := m.events[deliveryID]
	if !ok || ev.CallID != callID {
		return nil, nil, fmt.Errorf("memEvents: %s: %w", deliveryID, forward.ErrEventGone)
	}
	if callID == "" {
		return &ev, nil, nil
	}
	var s call.Summary
	for _, other := range m.events {
		if other.CallID == callID {
			s.Apply(&other)
		}
	}
	return &ev, &s, nil
}

var errTable = errors.New("table unavailable")
