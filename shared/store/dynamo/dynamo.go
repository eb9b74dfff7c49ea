// Package dynamo is callfn's table on DynamoDB (CALLFN_STORE=dynamodb:TABLE),
// the cloud backend. One table holds every kind of item under one key pair
// (store.DynamoPK, store.DynamoSK), with three global secondary indexes:
// byTime lists call summaries by time, byUser each participant's calls by
// time (store.DynamoIndexes), and due forwarding's pending deliveries.
//
//	event         CALL#<callId>        EVENT#<EventKey>   (NOCALL#<deliveryId> when it names no call)
//	summary       CALL#<callId>        SUMMARY            version, gsi1pk, gsi1sk: listed in byTime
//	user index    USER#<user>          CALL#<callId>      gsi3pk, gsi3sk while the user takes part: in byUser
//	rollups       STATS#<shard>        B#<block start>    a shard's counts of six hours, by quarter (stats.go)
//	claim         CLAIM#<key>          CLAIM
//	meta          META#<name>          META
//	month         INDEX#byTime         CALLS#YYYY-MM      one per byTime partition that holds calls
//	delivery      CALL#<callId>        OUT#<deliveryId>#<endpoint>   forwarding's outbox; Pending ones in the due index
//	parked event  CALL#<callId>        PENDING#<EventKey>   an event stored, its fold owed (fold.go): while contended
//	folder        CALL#<callId>        FOLDER             the process folding the call's parked events, till expiresAt (folder.go)
//
// Ids longer than store.MaxKeyBytes appear in keys as their store.KeyID
// (a digest; the item keeps the id), and an event's raw body longer than
// store.CompressAbove is kept gzip-compressed in rawGz (limits.go).
//
// One Query of CALL#<callId> reads the whole call: its events (in delivery
// id order; GetCall sorts them by time) and its summary. Month items let
// ListCalls query only the byTime partitions that hold calls. A fold is
// one read (BatchGetItem of the summary, the event and, once per process
// and month, the month item: a redelivery ends there) and one
// transaction: the event, the summary (conditional on the version it
// read), the rollups' ADDs, the month item when new, the event's
// deliveries, and the user items whose content changes (as many as the
// transaction has room for; a group call's others are written just
// before, in parallel batches). Events of one call in flight together in
// a process fold as one group; folds contending across processes park
// their events, and the one process holding the call's folder folds them
// (fold.go, folder.go). Events,
// summaries and user items carry store.DynamoTTL when Options.Retention is
// set, claims always (their expiry); DynamoDB's TTL deletes them lazily, so
// reads also skip expired items.
//
// A table made before the byUser index and the rollups gets the index from
// CreateTable and its earlier calls from Backfill (both run by `callfn
// create-table`); summaries say whether their call is indexed.
//
// The code is split by concern: items.go (items and keys), limits.go
// (keys of long ids, compressed raw bodies, size errors), put.go
// (PutEvent), fold.go (the fold: groups, parking), folder.go (who folds
// the parked events), read.go (GetCall, ListEvents, UserCalls),
// list.go (ListCalls), stats.go (the rollups), backfill.go (Backfill),
// claim.go (claims and meta), table.go (CreateTable and the layout check),
// outbox.go and table_outbox.go (forwarding's outbox: store.Forwarding, the
// due index and the stream).
package dynamo

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/callfn/callfn/shared/store"
)

// tableStore is the Store on a DynamoDB table.
type tableStore struct {
	db     *dynamodb.Client
	table  string
	opts   store.Options
	closed atomic.Bool
	months sync.Map // month items known to be written, by DynamoIndexPK value

	qmu    sync.Mutex
	queues map[string]*callQueue // by call id, while a fold of the call is in flight (fold.go)
}

var _ store.Store = (*tableStore)(nil)

// Open opens the DynamoDB table with the AWS SDK's default configuration:
// region, credentials and endpoint (AWS_ENDPOINT_URL_DYNAMODB included)
// come from the environment and shared files as the SDK reads them. It
// sends no request; a missing table shows on first use.
func Open(ctx context.Context, table string, opts store.Options) (store.Store, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: dynamodb:%s: load AWS configuration: %w", table, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("store: dynamodb:%s: no AWS region configured (set AWS_REGION)", table)
	}
	return New(dynamodb.NewFromConfig(cfg), table, opts), nil
}

// New returns the Store on table, reached through client.
func New(client *dynamodb.Client, table string, opts store.Options) store.Store {
	return &tableStore{db: client, table: table, opts: opts}
}

func (d *tableStore) check(ctx context.Context) error {
	if d.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

func (d *tableStore) errorf(format string, args ...any) error {
	return fmt.Errorf("store: dynamodb:"+d.table+": "+format, args...)
}

// Close marks the store closed; the client holds no resources to release.
func (d *tableStore) Close() error {
	d.closed.Store(true)
	return nil
}
