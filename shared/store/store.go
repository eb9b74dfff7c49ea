// Package store is callfn's key-value table: every stored event, each call's
// summary folded from its events, a per-user index of calls, schedule claims
// and small bits of state (cursors). Three implementations sit behind Store:
// DynamoDB (the cloud), bbolt (an embedded file, the local default) and
// memory. Open picks one from a CALLFN_STORE spec.
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/call"
)

// The DynamoDB table's layout. template.yaml declares the same names (its
// tests check), and CreateDynamoTable creates them for local use.
const (
	DynamoPK          = "pk"        // S
	DynamoSK          = "sk"        // S
	DynamoTTL         = "expiresAt" // N, Unix seconds; the table's TTL attribute
	DynamoIndexByTime = "byTime"    // GSI listing call summaries by time
	DynamoIndexPK     = "gsi1pk"    // S, "CALLS#YYYY-MM" (UTC month of SortTime)
	DynamoIndexSK     = "gsi1sk"    // S, "%013d#callId" (SortTime ms, call id)
)

// ErrNotFound is returned for a call the table does not know.
var ErrNotFound = errors.New("store: not found")

// ErrClosed is returned by every method of a Store after Close.
var ErrClosed = errors.New("store: closed")

// Store is the table. Every implementation passes the same behavioural suite
// (store_test.go).
type Store interface {
	// PutEvent persists ev exactly once, keyed by its call and delivery id,
	// and folds it into the call's summary and user index in the same atomic
	// write. It reports stored=false, and no error, when that delivery is
	// already in the table. It returns only once the write is durable.
	PutEvent(ctx context.Context, ev *call.Event) (stored bool, err error)
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
	// Stats returns the rollups of the calls whose SortTime lies in
	// [from, to) (ms, multiples of StatsBucketMs): one BucketCounts per
	// bucket that holds calls, in time order. Every fold moves the rollups
	// by StatsDelta (the old summary's contribution out, the new one's in)
	// in the same atomic write as the summary, so the counts stay exact
	// under redelivered and reordered events and when a call's result or
	// time changes; reading them costs the number of buckets, not calls.
	Stats(ctx context.Context, from, to int64) ([]BucketCounts, error)
	// Claim records key until the given time and reports whether this caller
	// is the first to claim it (a conditional write, no read-then-write).
	Claim(ctx context.Context, key string, until time.Time) (bool, error)
	// GetMeta and PutMeta keep small named values, such as a resume cursor.
	// GetMeta returns "" for a name never put.
	GetMeta(ctx context.Context, name string) (string, error)
	PutMeta(ctx context.Context, name, value string) error
	Close() error
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

func (q CallQuery) limit() int {
	if q.Limit <= 0 {
		return 100
	}
	return q.Limit
}

func (q CallQuery) matches(s *call.Summary) bool {
	t := s.SortTime()
	return t >= q.From && (q.To == 0 || t < q.To) &&
		(q.Provider == "" || s.Carrier() == q.Provider) &&
		(q.User == "" || slices.Contains(s.Users(), q.User)) &&
		(q.Status == "" || s.Status == q.Status) &&
		(q.Result == "" || s.Result == q.Result) &&
		(!q.Missed || s.MissedBy(q.User)) &&
		(q.CallType == "" || s.CallType == q.CallType)
}

// ListKey orders calls for ListCalls: "%013d#callId" of the call's
// SortTime in ms. A page's Next is a ListKey; DynamoDB's indexes have it
// as their sort key.
func ListKey(s *call.Summary) string { return fmt.Sprintf("%013d#%s", s.SortTime(), s.CallID) }

// Options apply to every implementation.
type Options struct {
	// Retention is how long events and summaries live after their newest
	// event; 0 keeps them. Expired items are never returned, and DynamoDB's
	// TTL deletes them.
	Retention time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// expiresAt is the TTL attribute value (Unix seconds) for an item whose
// newest event is at ms; 0 means it never expires.
func (o Options) expiresAt(ms int64) int64 {
	if o.Retention <= 0 {
		return 0
	}
	return time.UnixMilli(ms).Add(o.Retention).Unix()
}

func (o Options) expired(expiresAt int64) bool {
	return expiresAt != 0 && expiresAt <= o.now().Unix()
}

// Open opens the store named by spec: "memory:", "bolt:PATH" or
// "dynamodb:TABLE" (the AWS SDK finds the endpoint, region and credentials
// in its usual places, AWS_ENDPOINT_URL_DYNAMODB included).
func Open(ctx context.Context, spec string, opts Options) (Store, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "memory":
		return NewMemory(opts), nil
	case "bolt":
		if arg == "" {
			return nil, fmt.Errorf("store: %q: bolt needs a file path, as bolt:PATH", spec)
		}
		return OpenBolt(arg, opts)
	case "dynamodb":
		if arg == "" {
			return nil, fmt.Errorf("store: %q: dynamodb needs a table name, as dynamodb:TABLE", spec)
		}
		return OpenDynamo(ctx, arg, opts)
	}
	return nil, fmt.Errorf("store: unknown store %q: want memory:, bolt:PATH or dynamodb:TABLE", spec)
}
