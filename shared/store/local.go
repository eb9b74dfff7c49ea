package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callfn/callfn/shared/call"
)

// local is the Store of the embedded and memory tables: the same logic over
// an ordered key-value engine whose update transactions are serializable,
// so exactly-once and the fold need no conditional writes of their own.
type local struct {
	kv     kv
	opts   Options
	closed atomic.Bool
}

// check fails once the store is closed or ctx is done.
func (l *local) check(ctx context.Context) error {
	if l.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// kv is an ordered key-value engine with serializable transactions.
type kv interface {
	update(func(kvTx) error) error
	// batch is update for many concurrent callers: the engine may run fn
	// inside one transaction shared with others (one fsync for all), and may
	// run it more than once, so fn must start from scratch each time.
	batch(func(kvTx) error) error
	view(func(kvTx) error) error
	close() error
}

type kvTx interface {
	get(bucket, key string) []byte
	put(bucket, key string, val []byte) error
	// scan visits keys with prefix in ascending order until fn returns an
	// error; errStop ends the scan quietly.
	scan(bucket, prefix string, fn func(key string, val []byte) error) error
}

var errStop = fmt.Errorf("stop")

const (
	bEvents    = "events"    // callId \x00 sortable event key -> stored event
	bSummaries = "summaries" // callId -> stored summary
	bUsers     = "users"     // user \x00 callId -> callId
	bClaims    = "claims"    // key -> expiry (Unix s)
	bMeta      = "meta"      // name -> value
)

var buckets = []string{bEvents, bSummaries, bUsers, bClaims, bMeta}

// EventKey is an event's key within its call: its delivery id alone, so a
// redelivery lands on the same key whatever else differs (an event with no
// time of its own is stamped with its arrival, which a redelivery does not
// share). Every implementation uses it; readers order events with SortEvents.
func EventKey(ev *call.Event) string { return ev.DeliveryID }

// SortEvents orders a call's events by event time, then delivery id.
func SortEvents(evs []call.Event) {
	slices.SortFunc(evs, func(a, b call.Event) int {
		if a.EventTime != b.EventTime {
			if a.EventTime < b.EventTime {
				return -1
			}
			return 1
		}
		return strings.Compare(a.DeliveryID, b.DeliveryID)
	})
}

type storedEvent struct {
	call.Event
	ExpiresAt int64 `json:"expiresAt,omitempty"`
}

type storedSummary struct {
	call.Summary
	ExpiresAt int64 `json:"expiresAt,omitempty"`
}

func (l *local) PutEvent(ctx context.Context, ev *call.Event) (bool, error) {
	if err := l.check(ctx); err != nil {
		return false, err
	}
	// Encoded before the transaction: the commit is serial, so the less
	// work inside it, the more callers one commit can serve.
	evBytes, err := json.Marshal(storedEvent{*ev, l.opts.expiresAt(ev.EventTime)})
	if err != nil {
		return false, err
	}
	key := ev.CallID + "\x00" + EventKey(ev)
	stored := false
	err = l.kv.batch(func(tx kvTx) error {
		stored = false
		if prev := tx.get(bEvents, key); prev != nil {
			var old storedEvent
			if json.Unmarshal(prev, &old) == nil && !l.opts.expired(old.ExpiresAt) {
				return nil
			}
		}
		if err := tx.put(bEvents, key, evBytes); err != nil {
			return err
		}
		stored = true
		if ev.CallID == "" {
			return nil
		}
		var s storedSummary
		if prev := tx.get(bSummaries, ev.CallID); prev != nil {
			if err := json.Unmarshal(prev, &s); err != nil {
				return fmt.Errorf("store: summary of %q: %w", ev.CallID, err)
			}
			if l.opts.expired(s.ExpiresAt) {
				// Every event it was folded from has expired too (none
				// outlives the newest): start over from this one.
				s = storedSummary{}
			}
		}
		known := s.Users()
		s.Apply(ev)
		s.ExpiresAt = l.opts.expiresAt(s.LastEventTime)
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := tx.put(bSummaries, ev.CallID, b); err != nil {
			return err
		}
		// Index entries carry no expiry of their own (the summary's
		// decides), so only users new to the call need one.
		for _, u := range s.Users() {
			if slices.Contains(known, u) {
				continue
			}
			if err := tx.put(bUsers, u+"\x00"+ev.CallID, []byte(ev.CallID)); err != nil {
				return err
			}
		}
		return nil
	})
	return stored, err
}

func (l *local) GetCall(ctx context.Context, callID string) (*call.Summary, []call.Event, error) {
	if err := l.check(ctx); err != nil {
		return nil, nil, err
	}
	var s *call.Summary
	var evs []call.Event
	err := l.kv.view(func(tx kvTx) error {
		var err error
		if s, err = l.summary(tx, callID); err != nil {
			return err
		}
		return l.scanEvents(tx, callID, func(ev *call.Event) error {
			evs = append(evs, *ev)
			return nil
		})
	})
	if err == nil && s == nil {
		err = ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	SortEvents(evs)
	return s, evs, nil
}

func (l *local) summary(tx kvTx, callID string) (*call.Summary, error) {
	b := tx.get(bSummaries, callID)
	if b == nil {
		return nil, nil
	}
	var s storedSummary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("store: summary of %q: %w", callID, err)
	}
	if l.opts.expired(s.ExpiresAt) {
		return nil, nil
	}
	return &s.Summary, nil
}

func (l *local) scanEvents(tx kvTx, callID string, fn func(*call.Event) error) error {
	prefix := ""
	if callID != "" {
		prefix = callID + "\x00"
	}
	return tx.scan(bEvents, prefix, func(_ string, v []byte) error {
		var ev storedEvent
		if err := json.Unmarshal(v, &ev); err != nil {
			return err
		}
		if l.opts.expired(ev.ExpiresAt) {
			return nil
		}
		return fn(&ev.Event)
	})
}

func (l *local) ListEvents(ctx context.Context, callID string, fn func(*call.Event) error) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	return l.kv.view(func(tx kvTx) error {
		return l.scanEvents(tx, callID, func(ev *call.Event) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(ev)
		})
	})
}

func (l *local) UserCalls(ctx context.Context, user string, limit int) ([]call.Summary, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	var out []call.Summary
	err := l.kv.view(func(tx kvTx) error {
		return tx.scan(bUsers, user+"\x00", func(_ string, v []byte) error {
			s, err := l.summary(tx, string(v))
			if s != nil {
				out = append(out, *s)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	SortNewestFirst(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SortNewestFirst orders summaries by SortTime, newest first, then call id.
func SortNewestFirst(s []call.Summary) {
	slices.SortFunc(s, func(a, b call.Summary) int {
		if c := b.SortTime() - a.SortTime(); c != 0 {
			if c > 0 {
				return 1
			}
			return -1
		}
		return strings.Compare(a.CallID, b.CallID)
	})
}

// ListCalls reads every summary (Phase A of issue 8: the indexed version
// comes with the store split).
func (l *local) ListCalls(ctx context.Context, q CallQuery) (CallPage, error) {
	if err := l.check(ctx); err != nil {
		return CallPage{}, err
	}
	var all []call.Summary
	err := l.kv.view(func(tx kvTx) error {
		return tx.scan(bSummaries, "", func(k string, _ []byte) error {
			s, err := l.summary(tx, k)
			if s == nil || !q.matches(s) {
				return err
			}
			if key := ListKey(s); q.Cursor == "" || !q.Desc && key > q.Cursor || q.Desc && key < q.Cursor {
				all = append(all, *s)
			}
			return err
		})
	})
	if err != nil {
		return CallPage{}, err
	}
	slices.SortFunc(all, func(a, b call.Summary) int { return strings.Compare(ListKey(&a), ListKey(&b)) })
	if q.Desc {
		slices.Reverse(all)
	}
	var page CallPage
	if len(all) > q.limit() {
		all = all[:q.limit()]
		page.Next = ListKey(&all[len(all)-1])
	}
	page.Calls = all
	return page, nil
}

// Stats folds every summary (Phase A of issue 8: rollups come with the
// store split).
func (l *local) Stats(ctx context.Context, from, to int64) ([]BucketCounts, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	buckets := map[int64]*Counts{}
	err := l.kv.view(func(tx kvTx) error {
		return tx.scan(bSummaries, "", func(k string, _ []byte) error {
			s, err := l.summary(tx, k)
			if c, ok := ContributionOf(s); ok && c.Bucket >= from && c.Bucket < to {
				if buckets[c.Bucket] == nil {
					buckets[c.Bucket] = &Counts{}
				}
				buckets[c.Bucket].Add(c.Counts(1))
			}
			return err
		})
	})
	var out []BucketCounts
	for b, c := range buckets {
		out = append(out, BucketCounts{Start: b, Counts: *c})
	}
	slices.SortFunc(out, func(a, b BucketCounts) int { return int(a.Start/StatsBucketMs - b.Start/StatsBucketMs) })
	return out, err
}

func (l *local) Claim(ctx context.Context, key string, until time.Time) (bool, error) {
	if err := l.check(ctx); err != nil {
		return false, err
	}
	claimed := false
	err := l.kv.update(func(tx kvTx) error {
		if b := tx.get(bClaims, key); b != nil {
			var exp int64
			if _, err := fmt.Sscan(string(b), &exp); err == nil && exp > l.opts.now().Unix() {
				return nil
			}
		}
		claimed = true
		return tx.put(bClaims, key, []byte(fmt.Sprint(until.Unix())))
	})
	return claimed, err
}

func (l *local) GetMeta(ctx context.Context, name string) (string, error) {
	if err := l.check(ctx); err != nil {
		return "", err
	}
	var v string
	err := l.kv.view(func(tx kvTx) error {
		v = string(tx.get(bMeta, name))
		return nil
	})
	return v, err
}

func (l *local) PutMeta(ctx context.Context, name, value string) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	return l.kv.update(func(tx kvTx) error { return tx.put(bMeta, name, []byte(value)) })
}

func (l *local) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.kv.close()
}
