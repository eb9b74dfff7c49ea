// Package store is the contract of callfn's key-value table: every stored
// event, each call's summary folded from its events, a per-user index of
// calls, schedule claims and small bits of state (cursors). It holds no
// backend. Store is the whole table; each function depends only on the
// role it plays (EventWriter, CallReader, Claimer, MetaStore, Forwarding).
//
// The backends, each in its own package, pass one behavioural suite
// (testkit/storetest):
//
//   - store/local: the table over an ordered key-value engine, with the
//     memory engine (local.NewMemory);
//   - store/bolt: the embedded file (bbolt), the local default;
//   - store/dynamo: DynamoDB, the cloud.
//
// store/open picks one from a CALLFN_STORE spec.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/call"
)

// ErrNotFound is returned for a call the table does not know.
var ErrNotFound = errors.New("store: not found")

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("store: closed")

// Store is the table: every role in one. Every implementation passes the
// same behavioural suite (testkit/storetest).
type Store interface {
	EventWriter
	CallReader
	Claimer
	MetaStore
	Forwarding
	io.Closer
}

// EventWriter stores events: the webhook's whole use of the table.
type EventWriter interface {
	// PutEvent persists ev exactly once, keyed by its call and delivery id,
	// and folds it into the call's summary and user index in the same atomic
	// write. It reports stored=false, and no error, when that delivery is
	// already in the table. It returns only once the write is durable.
	//
	// An event the table can never hold (CheckEvent, CheckSummary: too
	// large even compressed, too many users) fails with an error that is
	// ErrUnstorable, the same on every backend, and nothing is written;
	// any other error is transient. Raw bodies and ids of any length are
	// stored and read back exactly (see limits.go for the forms that fit).
	PutEvent(ctx context.Context, ev *call.Event) (stored bool, err error)
}

// CallReader reads calls: their summaries and events.
type CallReader interface {
	// GetCall returns a call's summary and its events in event-time order, in
	// one read of the table; ErrNotFound when the call has no events.
	GetCall(ctx context.Context, callID string) (*call.Summary, []call.Event, error)
	// ListEvents calls fn for every stored event of callID (all calls' events
	// when callID is ""), in no particular order.
	ListEvents(ctx context.Context, callID string, fn func(*call.Event) error) error
	// UserCalls lists the calls a user took part in, newest first.
	UserCalls(ctx context.Context, user string, limit int) ([]call.Summary, error)
	// ListCalls lists the calls q selects in ListKey order (SortTime, then
	// call id), oldest first or, with q.Desc, newest first, one page at a
	// time. Next is the ListKey the next page starts after (before, with
	// Desc), "" once no call is left. Every call stored throughout the
	// paging is listed exactly once (unless its SortTime changes
	// meanwhile); calls stored meanwhile are listed when they fall after
	// the cursor. A page costs the same at any depth: the backend seeks to
	// the cursor in an index ordered by ListKey (one per user for q.User)
	// and examines at most MaxScan of its entries, so a page may hold
	// fewer than q.Limit calls, even none, while Next is not "", when
	// filters skip many: follow Next until it is "".
	ListCalls(ctx context.Context, q CallQuery) (CallPage, error)
	// Stats returns the rollups of the calls whose SortTime lies in each of
	// the consecutive ranges [bounds[i], bounds[i+1]): len(bounds)-1
	// Counts. Bounds are increasing multiples of StatsBucketMs (CheckBounds),
	// such as the starts of days in a time zone. Every fold moves the
	// rollups by StatsDelta (the old summary's contribution out, the new
	// one's in) in the same atomic write as the summary, so the counts stay
	// exact under redelivered and reordered events and when a call's result
	// or time changes; reading them costs the time the ranges span, not the
	// calls in it.
	Stats(ctx context.Context, bounds []int64) ([]Counts, error)
}

// Claimer claims keys, so that of several runs of a schedule one acts.
type Claimer interface {
	// Claim records key until the given time and reports whether this caller
	// is the first to claim it (a conditional write, no read-then-write).
	Claim(ctx context.Context, key string, until time.Time) (bool, error)
}

// MetaStore keeps small named values, such as a resume cursor.
type MetaStore interface {
	// GetMeta returns the value last put under name; "" for a name never
	// put.
	GetMeta(ctx context.Context, name string) (string, error)
	// PutMeta sets name's value.
	PutMeta(ctx context.Context, name, value string) error
}

// CallQuery selects calls by the time they are listed under
// (Summary.SortTime) and by what their summaries say; each field set
// narrows the selection.
type CallQuery struct {
	From, To int64  // SortTime in [From, To), ms; To 0 means no upper bound
	Provider string // the call's carrier (Summary.Carrier): call.Tencent or call.Yunxin
	User     string // calls User took part in, as caller or callee
	Status   string // a call.Status* value
	Result   string // a call.Result* value
	// Missed, with User, keeps the calls User missed (Summary.MissedBy:
	// a callee, and a result in call.MissedResults).
	Missed   bool
	CallType string // call.TypeSingle or call.TypeGroup
	Desc     bool   // newest first; oldest first when false
	Limit    int    // at most this many (default 100)
	Cursor   string // the previous page's Next, for the same query
}

// MaxScan bounds the index entries one ListCalls page examines.
const MaxScan = 1000

// CallPage is one page of ListCalls; Next is "" on the last page.
type CallPage struct {
	Calls []call.Summary
	Next  string
}

// DefaultLimit is the page size of a CallQuery without a Limit.
const DefaultLimit = 100

// PageSize is q.Limit, or DefaultLimit when q has none.
func (q CallQuery) PageSize() int {
	if q.Limit <= 0 {
		return DefaultLimit
	}
	return q.Limit
}

// Matches reports whether s is in q's time range and has every property
// q asks for (the cursor aside).
func (q CallQuery) Matches(s *call.Summary) bool {
	t := s.SortTime()
	return t >= q.From && (q.To == 0 || t < q.To) &&
		(q.Provider == "" || s.Carrier() == q.Provider) &&
		(q.User == "" || slices.Contains(s.Users(), q.User)) &&
		(q.Status == "" || s.Status == q.Status) &&
		(q.Result == "" || s.Result == q.Result) &&
		(!q.Missed || s.MissedBy(q.User)) &&
		(q.CallType == "" || s.CallType == q.CallType)
}

// ListKey orders calls for ListCalls, "%013d#callId" of their SortTime in
// ms (the call id as KeyID keys it); a page's Next is a ListKey (or a
// position between two), and the next page starts after it (before it,
// newest first). DynamoDB's byTime and byUser indexes have it as their
// sort key.
func ListKey(s *call.Summary) string {
	var buf [64]byte
	return string(append(append(AppendTimeKey(buf[:0], s.SortTime()), '#'), KeyID(s.CallID)...))
}

// AppendTimeKey appends "%013d" of ms to b, made without fmt for the
// usual, non-negative times: every event stored makes a ListKey or two and
// a rollup's key.
func AppendTimeKey(b []byte, ms int64) []byte {
	if ms < 0 {
		return fmt.Appendf(b, "%013d", ms)
	}
	var d [20]byte
	t := strconv.AppendInt(d[:0], ms, 10)
	return append(append(b, "0000000000000"[:13-min(len(t), 13)]...), t...)
}

// Options apply to every implementation.
type Options struct {
	// Retention is how long events and summaries live after their newest
	// event; 0 keeps them. Expired items are never returned, and DynamoDB's
	// TTL deletes them.
	Retention time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ScanLimit bounds the index entries one ListCalls page examines; 0
	// means MaxScan (tests set less, to see short pages).
	ScanLimit int
	// ForwardTo are the endpoints (canonical, config.Config.ForwardURLs)
	// every newly stored event is owed to: PutEvent writes the event's
	// deliveries in the event's own atomic write (Forwarding). None: no
	// delivery is owed.
	ForwardTo []string
}

// ScanBudget is o.ScanLimit, or MaxScan when o has none.
func (o Options) ScanBudget() int {
	if o.ScanLimit <= 0 {
		return MaxScan
	}
	return o.ScanLimit
}

// Time is the time by o's clock.
func (o Options) Time() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// ExpiresAt is the TTL attribute value (Unix seconds) for an item whose
// newest event is at ms; 0 means it never expires.
func (o Options) ExpiresAt(ms int64) int64 {
	if o.Retention <= 0 {
		return 0
	}
	return time.UnixMilli(ms).Add(o.Retention).Unix()
}

// Expired reports whether an item with that TTL value (0: none) has
// expired by o's clock.
func (o Options) Expired(expiresAt int64) bool {
	return expiresAt != 0 && expiresAt <= o.Time().Unix()
}

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

// SortByListKey orders summaries as ListCalls lists them: by ListKey.
func SortByListKey(s []call.Summary) {
	slices.SortFunc(s, func(a, b call.Summary) int { return strings.Compare(ListKey(&a), ListKey(&b)) })
}

// Page cuts calls, already in ListKey order and past the cursor, to q's
// page size: the page, with Next set when calls had more.
func Page(calls []call.Summary, q CallQuery) CallPage {
	var page CallPage
	if limit := q.PageSize(); len(calls) > limit {
		calls = calls[:limit]
		page.Next = ListKey(&calls[len(calls)-1])
	}
	page.Calls = calls
	return page
}
