package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// The call history's indexes and rollups, kept by every fold in the same
// transaction as the summary:
//
//	calls      ListKey -> entry                every call, by the time it is listed under
//	usercalls  user \x00 ListKey -> entry      each participant's calls, by time (the user as keys.go keys it)
//	stats      %013d bucket start -> Counts    the rollups, by 15-minute bucket
//
// An entry carries what ListCalls filters on, so a page reads the summary
// of a call only when its entry matches. When a call's ListKey changes
// (its start time becomes known), its entries move; a user who no longer
// takes part (a caller corrected) loses theirs. ListCalls seeks to the
// cursor in these ordered buckets and examines at most ScanBudget entries,
// so a page costs the same at any depth.

// entry is a call as an index lists it.
type entry struct {
	ID       string `json:"id"`          // the call id (its key may hold its digest)
	Provider string `json:"p,omitempty"` // Summary.Carrier
	Status   string `json:"s,omitempty"`
	Result   string `json:"r,omitempty"`
	CallType string `json:"t,omitempty"`
	Callee   bool   `json:"e,omitempty"` // usercalls: the user is a callee, not the caller
}

func entryOf(s *call.Summary, user string) entry {
	e := entry{ID: s.CallID, Provider: s.Carrier(), Status: s.Status, Result: s.Result, CallType: s.CallType}
	if user != "" {
		e.Callee = user != s.Caller && slices.Contains(s.Callees, user)
	}
	return e
}

// admits reports whether a call with entry e may match q; the summary
// has the last word.
func (e entry) admits(q store.CallQuery) bool {
	return (q.Provider == "" || e.Provider == q.Provider) &&
		(q.Status == "" || e.Status == q.Status) &&
		(q.Result == "" || e.Result == q.Result) &&
		(q.CallType == "" || e.CallType == q.CallType) &&
		(!q.Missed || e.Callee && slices.Contains(call.MissedResults, e.Result))
}

func putEntry(tx Tx, bucket, key string, e entry) error {
	return tx.Put(bucket, key, encodeEntry(e))
}

// indexCall moves a call's index entries and rollups from prev (its
// summary as indexed so far; nil for a new call) to next.
func indexCall(tx Tx, prev, next *call.Summary) error {
	nextKey := store.ListKey(next)
	var prevKey string
	var prevUsers []string
	if prev != nil {
		prevKey, prevUsers = store.ListKey(prev), prev.Users()
	}
	moved := prevKey != nextKey
	if prev != nil && moved {
		if err := tx.Delete(bCalls, prevKey); err != nil {
			return err
		}
	}
	if e := entryOf(next, ""); prev == nil || moved || entryOf(prev, "") != e {
		if err := putEntry(tx, bCalls, nextKey, e); err != nil {
			return err
		}
	}
	users := next.Users()
	for _, u := range prevUsers {
		if moved || !slices.Contains(users, u) {
			if err := tx.Delete(bUserCalls, userCallKey(u, prevKey)); err != nil {
				return err
			}
		}
	}
	for _, u := range users {
		e := entryOf(next, u)
		if moved || !slices.Contains(prevUsers, u) || entryOf(prev, u) != e {
			if err := putEntry(tx, bUserCalls, userCallKey(u, nextKey), e); err != nil {
				return err
			}
		}
	}
	for _, d := range store.StatsDelta(prev, next) {
		if err := addStats(tx, d); err != nil {
			return err
		}
	}
	return nil
}

// statsKey is "%013d" of bucket (store.AppendTimeKey).
func statsKey(bucket int64) string {
	var b [20]byte
	return string(store.AppendTimeKey(b[:0], bucket))
}

// addStats adds d to its bucket's rollups.
func addStats(tx Tx, d store.BucketCounts) error {
	key := statsKey(d.Start)
	var c store.Counts
	if b := tx.Get(bStats, key); b != nil {
		if err := decodeCounts(b, &c); err != nil {
			return fmt.Errorf("store: rollups of %s: %w", key, err)
		}
	}
	c.Add(d.Counts)
	if c.IsZero() {
		return tx.Delete(bStats, key)
	}
	return tx.Put(bStats, key, encodeCounts(&c))
}

// errPageDone ends a page's seek.
var errPageDone = errors.New("page done")

func (l *table) ListCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error) {
	if err := l.check(ctx); err != nil {
		return store.CallPage{}, err
	}
	bucket, prefix := bCalls, ""
	if q.User != "" {
		bucket, prefix = bUserCalls, userPrefix(q.User)
	}
	// The range of keys: times in [From, To). A key is "%013d#callId", so
	// "%013d" of a time sorts before every key of that time.
	lo := prefix + statsKey(q.From)
	hi := ""
	if q.To != 0 {
		hi = prefix + statsKey(q.To)
	}
	from := lo
	if q.Desc {
		from = hi
	}
	if q.Cursor != "" {
		if c := prefix + q.Cursor; q.Desc && (from == "" || c < from) || !q.Desc && c > from {
			from = c
		}
	}
	limit, budget := q.PageSize(), l.opts.ScanBudget()
	var page store.CallPage
	err := l.kv.View(func(tx Tx) error {
		examined, last := 0, ""
		err := tx.Seek(bucket, prefix, from, q.Desc, func(key string, val []byte) error {
			if q.Desc && key < lo || !q.Desc && hi != "" && key >= hi {
				page.Next = ""
				return errPageDone // out of the range
			}
			if len(page.Calls) == limit || examined == budget {
				page.Next = last // there is more: the next page starts after the last
				return errPageDone
			}
			examined, last = examined+1, strings.TrimPrefix(key, prefix)
			var e entry
			if err := decodeEntry(val, &e); err != nil {
				return fmt.Errorf("store: index entry %q: %w", key, err)
			}
			if !e.admits(q) {
				return nil
			}
			s, err := l.summary(tx, e.ID)
			if s != nil && q.Matches(s) && store.ListKey(s) == last {
				page.Calls = append(page.Calls, *s)
			}
			return err
		})
		if errors.Is(err, errPageDone) {
			return nil
		}
		return err
	})
	return page, err
}

// Stats reads the 15-minute buckets the ranges span, in one seek, and adds
// them up by range.
func (l *table) Stats(ctx context.Context, bounds []int64) ([]store.Counts, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	if err := store.CheckBounds(bounds); err != nil {
		return nil, err
	}
	var buckets []store.BucketCounts
	end := statsKey(bounds[len(bounds)-1])
	err := l.kv.View(func(tx Tx) error {
		err := tx.Seek(bStats, "", statsKey(bounds[0]-1), false, func(key string, val []byte) error {
			if key >= end {
				return errPageDone
			}
			var b store.BucketCounts
			if _, err := fmt.Sscan(key, &b.Start); err != nil {
				return fmt.Errorf("store: rollups key %q: %w", key, err)
			}
			if err := decodeCounts(val, &b.Counts); err != nil {
				return fmt.Errorf("store: rollups of %s: %w", key, err)
			}
			buckets = append(buckets, b)
			return nil
		})
		if errors.Is(err, errPageDone) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return store.SumRanges(buckets, bounds), nil
}

// indexVersion names the indexes and rollups a table holds (meta
// metaIndex); a table without it predates them.
const (
	metaIndex    = "local.index"
	indexVersion = "1"
)

// buildIndexes builds the history's indexes and rollups from the
// summaries of a table written before they existed, once.
func (l *table) buildIndexes() error {
	var have string
	if err := l.kv.View(func(tx Tx) error { have = string(tx.Get(bMeta, metaIndex)); return nil }); err != nil {
		return err
	}
	if have == indexVersion {
		return nil
	}
	return l.kv.Update(func(tx Tx) error {
		if string(tx.Get(bMeta, metaIndex)) == indexVersion {
			return nil
		}
		var sums []call.Summary
		err := tx.Scan(bSummaries, "", func(k string, v []byte) error {
			var s storedSummary
			if err := decodeStoredSummary(v, &s); err != nil {
				return fmt.Errorf("store: summary of %q: %w", k, err)
			}
			if s.CallID != "" {
				sums = append(sums, s.Summary)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range sums {
			if err := indexCall(tx, nil, &sums[i]); err != nil {
				return err
			}
		}
		return tx.Put(bMeta, metaIndex, []byte(indexVersion))
	})
}
