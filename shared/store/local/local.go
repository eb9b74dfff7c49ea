// Package local is callfn's table over an ordered key-value engine whose
// update transactions are serializable, so exactly-once and the fold need
// no conditional writes of their own. Two engines implement Engine: the
// memory one here (NewMemory, for tests and CALLFN_STORE=memory:) and the
// embedded file in store/bolt.
package local

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// Engine is an ordered key-value engine with serializable transactions.
// Its buckets are those Buckets names; an engine creates them when it
// opens.
type Engine interface {
	// Update runs fn in a read-write transaction, committed when fn
	// returns nil and rolled back when it returns an error.
	Update(fn func(Tx) error) error
	// Batch is Update for many concurrent callers: the engine may run fn
	// inside one transaction shared with others (one fsync for all), and
	// may run it more than once, so fn must start from scratch each time.
	Batch(fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	Close() error
}

// Tx is one transaction of an Engine.
type Tx interface {
	// Get returns key's value in bucket, nil when there is none. The slice
	// stays valid after the transaction.
	Get(bucket, key string) []byte
	// Put writes val under key. It may keep val rather than a copy: the
	// caller must not change val afterwards.
	Put(bucket, key string, val []byte) error
	// Delete removes key from bucket; a key that is not there is no error.
	Delete(bucket, key string) error
	// Scan visits the keys of bucket that start with prefix, in ascending
	// order, until fn returns an error, which Scan returns.
	Scan(bucket, prefix string, fn func(key string, val []byte) error) error
	// Seek is Scan from a place, in either order, without visiting what
	// lies before it: the keys with prefix after from (every one when from
	// is ""), ascending; or with desc the keys with prefix before from
	// (every one when from is ""), descending. It costs the keys visited,
	// not the keys skipped.
	Seek(bucket, prefix, from string, desc bool, fn func(key string, val []byte) error) error
}

// Keys are encoded as keys.go says (ids with a "\x00", or too long, by
// their digest).
const (
	bEvents    = "events"    // callId \x00 event key (store.EventKey) -> stored event
	bSummaries = "summaries" // callId -> stored summary
	bUsers     = "users"     // user \x00 callId -> callId: everyone ever named (UserCalls)
	bCalls     = "calls"     // ListKey -> index entry: every call by its time (ListCalls)
	bUserCalls = "usercalls" // user \x00 ListKey -> index entry: each participant's calls by time
	bStats     = "stats"     // %013d bucket start -> store.Counts: the rollups (Stats)
	bClaims    = "claims"    // key -> expiry (Unix s)
	bMeta      = "meta"      // name -> value
)

// Buckets names the buckets the table keeps; an Engine holds them all.
func Buckets() []string {
	return append([]string{bEvents, bSummaries, bUsers, bCalls, bUserCalls, bStats, bClaims, bMeta}, outboxBuckets...)
}

// table is the Store over an Engine.
type table struct {
	kv     Engine
	opts   store.Options
	closed atomic.Bool
}

var _ store.Store = (*table)(nil)

// New returns the table kept in e, which it closes on Close. A table
// written before the history's indexes and rollups existed gets them here,
// built once from its summaries.
func New(e Engine, opts store.Options) (store.Store, error) {
	l := &table{kv: e, opts: opts}
	if err := l.buildIndexes(); err != nil {
		return nil, err
	}
	return l, nil
}

// check fails once the store is closed or ctx is done.
func (l *table) check(ctx context.Context) error {
	if l.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

type storedEvent struct {
	call.Event
	ExpiresAt int64 `json:"expiresAt,omitempty"`
}

type storedSummary struct {
	call.Summary
	ExpiresAt int64 `json:"expiresAt,omitempty"`
}

func (l *table) PutEvent(ctx context.Context, ev *call.Event) (bool, error) {
	if err := l.check(ctx); err != nil {
		return false, err
	}
	if _, err := store.CheckEvent(ev); err != nil {
		return false, err
	}
	// Encoded before the transaction: the commit is serial, so the less
	// work inside it, the more callers one commit can serve.
	evBytes := encodeEvent(ev, l.opts.ExpiresAt(ev.EventTime))
	key := eventKey(ev.CallID, store.EventKey(ev))
	stored := false
	err := l.kv.Batch(func(tx Tx) error {
		stored = false
		if prev := tx.Get(bEvents, key); prev != nil {
			if exp, err := eventExpiry(prev); err == nil && !l.opts.Expired(exp) {
				return nil
			}
		}
		if err := tx.Put(bEvents, key, evBytes); err != nil {
			return err
		}
		stored = true
		// Forwarding: the event's deliveries, in this same transaction.
		if err := l.oweEvent(tx, ev); err != nil {
			return err
		}
		if ev.CallID == "" {
			return nil
		}
		var s storedSummary
		var prev *call.Summary // as indexed and counted so far
		if b := tx.Get(bSummaries, summaryKey(ev.CallID)); b != nil {
			if err := decodeStoredSummary(b, &s); err != nil {
				return fmt.Errorf("store: summary of %q: %w", ev.CallID, err)
			}
			p := s.Summary
			p.Callees, p.Named = slices.Clone(p.Callees), slices.Clone(p.Named)
			prev = &p
			if l.opts.Expired(s.ExpiresAt) {
				// Every event it was folded from has expired too (none
				// outlives the newest): start over from this one.
				s = storedSummary{}
			}
		}
		known := s.Users()
		s.Apply(ev)
		if err := store.CheckSummary(&s.Summary); err != nil {
			return err // the event is not stored either
		}
		s.ExpiresAt = l.opts.ExpiresAt(s.LastEventTime)
		if err := tx.Put(bSummaries, summaryKey(ev.CallID), encodeSummary(&s)); err != nil {
			return err
		}
		// Index entries carry no expiry of their own (the summary's
		// decides), so only users new to the call need one. They all
		// hold the call id: one copy of it serves them all.
		var id []byte
		for _, u := range s.Users() {
			if slices.Contains(known, u) {
				continue
			}
			if id == nil {
				id = []byte(ev.CallID)
			}
			if err := tx.Put(bUsers, userKey(u, ev.CallID), id); err != nil {
				return err
			}
		}
		return indexCall(tx, prev, &s.Summary)
	})
	return stored && err == nil, err
}

func (l *table) GetCall(ctx context.Context, callID string) (*call.Summary, []call.Event, error) {
	if err := l.check(ctx); err != nil {
		return nil, nil, err
	}
	var s *call.Summary
	var evs []call.Event
	err := l.kv.View(func(tx Tx) error {
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
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	store.SortEvents(evs)
	return s, evs, nil
}

func (l *table) summary(tx Tx, callID string) (*call.Summary, error) {
	return l.decodeSummary(tx.Get(bSummaries, summaryKey(callID)), callID)
}

// decodeSummary is the summary stored as b (nil: none), unless expired.
func (l *table) decodeSummary(b []byte, callID string) (*call.Summary, error) {
	if b == nil {
		return nil, nil
	}
	var s storedSummary
	if err := decodeStoredSummary(b, &s); err != nil {
		return nil, fmt.Errorf("store: summary of %q: %w", callID, err)
	}
	if l.opts.Expired(s.ExpiresAt) {
		return nil, nil
	}
	return &s.Summary, nil
}

func (l *table) scanEvents(tx Tx, callID string, fn func(*call.Event) error) error {
	return tx.Scan(bEvents, eventPrefix(callID), func(_ string, v []byte) error {
		var ev storedEvent
		if err := decodeStoredEvent(v, &ev); err != nil {
			return err
		}
		if l.opts.Expired(ev.ExpiresAt) {
			return nil
		}
		return fn(&ev.Event)
	})
}

func (l *table) ListEvents(ctx context.Context, callID string, fn func(*call.Event) error) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	return l.kv.View(func(tx Tx) error {
		return l.scanEvents(tx, callID, func(ev *call.Event) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(ev)
		})
	})
}

func (l *table) UserCalls(ctx context.Context, user string, limit int) ([]call.Summary, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	var out []call.Summary
	err := l.kv.View(func(tx Tx) error {
		return tx.Scan(bUsers, userPrefix(user), func(_ string, v []byte) error {
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
	store.SortNewestFirst(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (l *table) Claim(ctx context.Context, key string, until time.Time) (bool, error) {
	if err := l.check(ctx); err != nil {
		return false, err
	}
	claimed := false
	err := l.kv.Update(func(tx Tx) error {
		if b := tx.Get(bClaims, key); b != nil {
			var exp int64
			if _, err := fmt.Sscan(string(b), &exp); err == nil && exp > l.opts.Time().Unix() {
				return nil
			}
		}
		claimed = true
		return tx.Put(bClaims, key, []byte(fmt.Sprint(until.Unix())))
	})
	return claimed, err
}

func (l *table) GetMeta(ctx context.Context, name string) (string, error) {
	if err := l.check(ctx); err != nil {
		return "", err
	}
	var v string
	err := l.kv.View(func(tx Tx) error {
		v = string(tx.Get(bMeta, name))
		return nil
	})
	return v, err
}

func (l *table) PutMeta(ctx context.Context, name, value string) error {
	if err := l.check(ctx); err != nil {
		return err
	}
	return l.kv.Update(func(tx Tx) error { return tx.Put(bMeta, name, []byte(value)) })
}

func (l *table) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.kv.Close()
}
