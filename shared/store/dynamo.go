package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
)

// The DynamoDB table holds every kind of item under the one key pair
// (DynamoPK, DynamoSK):
//
//	event         CALL#<callId>        EVENT#<EventKey>   (NOCALL#<deliveryId> when it names no call)
//	summary       CALL#<callId>        SUMMARY            version, gsi1pk, gsi1sk: listed in byTime
//	user index    USER#<user>          CALL#<callId>
//	claim         CLAIM#<key>          CLAIM
//	meta          META#<name>          META
//	month         INDEX#byTime         CALLS#YYYY-MM      one per byTime partition that holds calls
//
// One Query of CALL#<callId> reads the whole call: its events (in delivery
// id order; GetCall sorts them by time) and its summary. Month
// items let ListCalls query only the byTime partitions that hold calls.
// Events, summaries and user items carry DynamoTTL when Options.Retention
// is set, claims always (their expiry); DynamoDB's TTL deletes them lazily,
// so reads also skip expired items.
const (
	pkCall    = "CALL#"
	pkNoCall  = "NOCALL#"
	pkUser    = "USER#"
	pkClaim   = "CLAIM#"
	pkMeta    = "META#"
	pkMonths  = "INDEX#" + DynamoIndexByTime
	skEvent   = "EVENT#"
	skSummary = "SUMMARY"
	skClaim   = "CLAIM"
	skMeta    = "META"
	skUser    = "CALL#"
	monthPfx  = "CALLS#"
	attrVer   = "version"
	attrValue = "value"
)

// PutEvent's transaction: the event, the summary, and at most this many
// user items (DynamoDB allows 100 actions); the rest go in a batch first.
const (
	maxTxItems       = 100
	maxPutAttempts   = 50
	retryBase        = 5 * time.Millisecond
	retryCap         = 200 * time.Millisecond
	maxBatchAttempts = 10
)

// dynamoStore is the Store on a DynamoDB table.
type dynamoStore struct {
	db     *dynamodb.Client
	table  string
	opts   Options
	closed atomic.Bool
	months sync.Map // month items known to be written, by DynamoIndexPK value
}

var _ Store = (*dynamoStore)(nil)

// OpenDynamo opens the DynamoDB table with the AWS SDK's default
// configuration: region, credentials and endpoint (AWS_ENDPOINT_URL_DYNAMODB
// included) come from the environment and shared files as the SDK reads
// them. It sends no request; a missing table shows on first use.
func OpenDynamo(ctx context.Context, table string, opts Options) (Store, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: dynamodb:%s: load AWS configuration: %w", table, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("store: dynamodb:%s: no AWS region configured (set AWS_REGION)", table)
	}
	return NewDynamo(dynamodb.NewFromConfig(cfg), table, opts), nil
}

// NewDynamo returns the Store on table, reached through client.
func NewDynamo(client *dynamodb.Client, table string, opts Options) Store {
	return &dynamoStore{db: client, table: table, opts: opts}
}

// Items, (un)marshalled by attributevalue with the domain types' json tags,
// so an item's attributes are named as the JSON the rest of callfn prints.

type dynKey struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

type dynEvent struct {
	dynKey
	call.Event
	ExpiresAt int64 `json:"expiresAt,omitempty"`
}

type dynSummary struct {
	dynKey
	call.Summary
	Version   int64  `json:"version"`
	GSI1PK    string `json:"gsi1pk"`
	GSI1SK    string `json:"gsi1sk"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
}

type dynUser struct {
	dynKey
	CallID    string `json:"callId"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
}

type dynClaim struct {
	dynKey
	ExpiresAt int64 `json:"expiresAt"` // always present: 0 is an expired claim
}

type dynMeta struct {
	dynKey
	Value string `json:"value"`
}

func marshalItem(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
}

func unmarshalItem(m map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
}

func itemKey(pk, sk string) (map[string]types.AttributeValue, error) {
	return marshalItem(dynKey{pk, sk})
}

// exprValues marshals expression attribute values (":name" -> value).
func exprValues(v map[string]any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(v)
}

// names maps "#attr" to attr, an expression's attribute names.
func names(n ...string) map[string]string {
	m := make(map[string]string, len(n))
	for _, a := range n {
		m["#"+a] = a
	}
	return m
}

// monthOf is the byTime partition of a call listed under ms.
func monthOf(ms int64) string { return monthPfx + time.UnixMilli(ms).UTC().Format("2006-01") }

func eventPK(ev *call.Event) string {
	if ev.CallID == "" {
		return pkNoCall + ev.DeliveryID
	}
	return pkCall + ev.CallID
}

func (d *dynamoStore) check(ctx context.Context) error {
	if d.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

func (d *dynamoStore) errorf(format string, args ...any) error {
	return fmt.Errorf("store: dynamodb:"+d.table+": "+format, args...)
}

func (d *dynamoStore) PutEvent(ctx context.Context, ev *call.Event) (bool, error) {
	if err := d.check(ctx); err != nil {
		return false, err
	}
	if ev == nil {
		return false, d.errorf("put event: nil event")
	}
	item, err := marshalItem(dynEvent{dynKey{eventPK(ev), skEvent + EventKey(ev)}, *ev, d.opts.expiresAt(ev.EventTime)})
	if err != nil {
		return false, d.errorf("put event %s: %w", ev.DeliveryID, err)
	}
	// A delivery is new unless its item is there and has not expired (as
	// in local.go, an expired one may be stored again).
	vals, err := exprValues(map[string]any{":now": d.opts.now().Unix()})
	if err != nil {
		return false, d.errorf("put event %s: %w", ev.DeliveryID, err)
	}
	put := &types.Put{
		TableName:                 &d.table,
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #expiresAt <= :now"),
		ExpressionAttributeNames:  names(DynamoPK, DynamoTTL),
		ExpressionAttributeValues: vals,
	}
	if ev.CallID == "" {
		_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
			ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues,
		})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return false, nil
		}
		if err != nil {
			return false, d.errorf("put event %s: %w", ev.DeliveryID, err)
		}
		return true, nil
	}
	for attempt := 1; ; attempt++ {
		stored, retry, err := d.putCallEvent(ctx, ev, put)
		if !retry {
			return stored, err
		}
		if attempt == maxPutAttempts {
			return false, d.errorf("put event %s of call %q: gave up after %d attempts: %w", ev.DeliveryID, ev.CallID, attempt, err)
		}
		if err := sleepBackoff(ctx, attempt); err != nil {
			return false, d.errorf("put event %s of call %q: %w", ev.DeliveryID, ev.CallID, err)
		}
	}
}

// putCallEvent makes one attempt at storing ev and folding it into its
// call's summary. retry is true when the summary changed under it (or the
// transaction met a conflict) and the attempt should be made again.
func (d *dynamoStore) putCallEvent(ctx context.Context, ev *call.Event, putEvent *types.Put) (stored, retry bool, err error) {
	pk := pkCall + ev.CallID
	key, err := itemKey(pk, skSummary)
	if err != nil {
		return false, false, d.errorf("summary of %q: %w", ev.CallID, err)
	}
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, false, d.errorf("read summary of %q: %w", ev.CallID, err)
	}
	var cur dynSummary
	exists := out.Item != nil
	if exists {
		if err := unmarshalItem(out.Item, &cur); err != nil {
			return false, false, d.errorf("summary of %q: %w", ev.CallID, err)
		}
	}
	var s call.Summary
	var oldUsers []string
	var oldExpiresAt int64
	if exists && !d.opts.expired(cur.ExpiresAt) {
		s, oldUsers, oldExpiresAt = cur.Summary, cur.Summary.Users(), cur.ExpiresAt
	} // else: a new call, or every event of the old summary has expired
	s.Apply(ev)
	next := dynSummary{
		dynKey:    dynKey{pk, skSummary},
		Summary:   s,
		Version:   cur.Version + 1,
		GSI1PK:    monthOf(s.SortTime()),
		GSI1SK:    ListKey(&s),
		ExpiresAt: d.opts.expiresAt(s.LastEventTime),
	}
	if next.GSI1PK != cur.GSI1PK {
		if err := d.addMonth(ctx, next.GSI1PK); err != nil {
			return false, false, err
		}
	}
	item, err := marshalItem(next)
	if err != nil {
		return false, false, d.errorf("summary of %q: %w", ev.CallID, err)
	}
	// The summary is written only over the version read (or where there
	// was none), so a concurrent fold makes this attempt fail, not vanish.
	putSummary := &types.Put{TableName: &d.table, Item: item}
	if exists {
		putSummary.ConditionExpression = aws.String("#" + attrVer + " = :v")
		putSummary.ExpressionAttributeNames = names(attrVer)
		if putSummary.ExpressionAttributeValues, err = exprValues(map[string]any{":v": cur.Version}); err != nil {
			return false, false, d.errorf("summary of %q: %w", ev.CallID, err)
		}
	} else {
		putSummary.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		putSummary.ExpressionAttributeNames = names(DynamoPK)
	}
	tx := []types.TransactWriteItem{{Put: putEvent}, {Put: putSummary}}

	// User items: for users new to the summary, or for all of them when the
	// summary's expiry moved (their TTL follows the summary's).
	var users []map[string]types.AttributeValue
	for _, u := range s.Users() {
		if next.ExpiresAt == oldExpiresAt && slices.Contains(oldUsers, u) {
			continue
		}
		ui, err := marshalItem(dynUser{dynKey{pkUser + u, skUser + ev.CallID}, ev.CallID, next.ExpiresAt})
		if err != nil {
			return false, false, d.errorf("user index of %q: %w", ev.CallID, err)
		}
		users = append(users, ui)
	}
	if room := maxTxItems - len(tx); len(users) > room {
		// Idempotent puts, written before the transaction so that a
		// redelivery after a failure finds them in place; an item for a
		// call that then fails to store is skipped by UserCalls.
		if err := d.batchPut(ctx, users[room:]); err != nil {
			return false, false, d.errorf("user index of %q: %w", ev.CallID, err)
		}
		users = users[:room]
	}
	for _, ui := range users {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: ui}})
	}

	// The SDK fills in ClientRequestToken, so its own retry of a commit
	// whose answer was lost succeeds instead of failing the event's
	// condition.
	_, err = d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		return true, false, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false, false, d.errorf("put event %s of call %q: %w", ev.DeliveryID, ev.CallID, err)
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	code := func(i int) string {
		if i < len(codes) {
			return codes[i]
		}
		return ""
	}
	switch {
	case code(0) == "ConditionalCheckFailed":
		return false, false, nil // this delivery is already stored
	case code(1) == "ConditionalCheckFailed":
		return false, true, d.errorf("summary of %q changed while folding an event in", ev.CallID)
	case slices.Contains(codes, "TransactionConflict") || slices.Contains(codes, "ThrottlingError") ||
		slices.Contains(codes, "ProvisionedThroughputExceeded"):
		return false, true, d.errorf("put event %s of call %q: %w", ev.DeliveryID, ev.CallID, err)
	}
	return false, false, d.errorf("put event %s of call %q: transaction cancelled (%s): %w",
		ev.DeliveryID, ev.CallID, strings.Join(codes, ", "), err)
}

// addMonth records that the byTime partition month holds calls, once per
// process and month; the put is idempotent and not part of the transaction
// (every new call of a month would otherwise conflict on it).
func (d *dynamoStore) addMonth(ctx context.Context, month string) error {
	if _, ok := d.months.Load(month); ok {
		return nil
	}
	item, err := marshalItem(dynKey{pkMonths, month})
	if err != nil {
		return d.errorf("month %s: %w", month, err)
	}
	if _, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item}); err != nil {
		return d.errorf("month %s: %w", month, err)
	}
	d.months.Store(month, true)
	return nil
}

// batchPut writes items with BatchWriteItem, 25 at a time, retrying what
// comes back unprocessed.
func (d *dynamoStore) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	for len(items) > 0 {
		n := min(len(items), 25)
		reqs := make([]types.WriteRequest, n)
		for i, it := range items[:n] {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		items = items[n:]
		pending := map[string][]types.WriteRequest{d.table: reqs}
		for attempt := 1; len(pending[d.table]) > 0; attempt++ {
			if attempt > maxBatchAttempts {
				return fmt.Errorf("batch write: %d items still unprocessed after %d attempts", len(pending[d.table]), maxBatchAttempts)
			}
			if attempt > 1 {
				if err := sleepBackoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := d.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("batch write: %w", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// sleepBackoff waits before attempt+1: exponential from retryBase, capped
// at retryCap, jittered to between half and one and a half of that.
func sleepBackoff(ctx context.Context, attempt int) error {
	d := retryBase << min(attempt-1, 10)
	if d > retryCap {
		d = retryCap
	}
	d = d/2 + rand.N(d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// GetCall reads the call's partition in one Query (more only if DynamoDB
// truncates it at 1 MB): its events, then its summary.
func (d *dynamoStore) GetCall(ctx context.Context, callID string) (*call.Summary, []call.Event, error) {
	if err := d.check(ctx); err != nil {
		return nil, nil, err
	}
	var sum *call.Summary
	var evs []call.Event
	err := d.query(ctx, &dynamodb.QueryInput{
		TableName:                &d.table,
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: names(DynamoPK),
		ConsistentRead:           aws.Bool(true),
	}, map[string]any{":pk": pkCall + callID}, func(item map[string]types.AttributeValue) error {
		var k dynKey
		if err := unmarshalItem(item, &k); err != nil {
			return err
		}
		switch {
		case k.SK == skSummary:
			var s dynSummary
			if err := unmarshalItem(item, &s); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
			if !d.opts.expired(s.ExpiresAt) {
				sum = &s.Summary
			}
		case strings.HasPrefix(k.SK, skEvent):
			var e dynEvent
			if err := unmarshalItem(item, &e); err != nil {
				return fmt.Errorf("event %s: %w", k.SK, err)
			}
			if !d.opts.expired(e.ExpiresAt) {
				evs = append(evs, e.Event)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, d.errorf("get call %q: %w", callID, err)
	}
	if sum == nil {
		return nil, nil, ErrNotFound
	}
	SortEvents(evs)
	return sum, evs, nil
}

// query runs in, with vals as its expression values, page by page, calling
// fn for every item; fn's errStop ends it quietly.
func (d *dynamoStore) query(ctx context.Context, in *dynamodb.QueryInput, vals map[string]any, fn func(map[string]types.AttributeValue) error) error {
	var err error
	if in.ExpressionAttributeValues, err = exprValues(vals); err != nil {
		return err
	}
	for {
		out, err := d.db.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				if err == errStop {
					return nil
				}
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (d *dynamoStore) ListEvents(ctx context.Context, callID string, fn func(*call.Event) error) error {
	if err := d.check(ctx); err != nil {
		return err
	}
	if callID != "" {
		var fnErr error
		err := d.query(ctx, &dynamodb.QueryInput{
			TableName:                &d.table,
			KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :ev)"),
			ExpressionAttributeNames: names(DynamoPK, DynamoSK),
			ConsistentRead:           aws.Bool(true),
		}, map[string]any{":pk": pkCall + callID, ":ev": skEvent}, func(item map[string]types.AttributeValue) error {
			var e dynEvent
			if err := unmarshalItem(item, &e); err != nil {
				return err
			}
			if d.opts.expired(e.ExpiresAt) {
				return nil
			}
			if fnErr = ctx.Err(); fnErr == nil {
				fnErr = fn(&e.Event)
			}
			return fnErr
		})
		if fnErr != nil {
			return fnErr
		}
		if err != nil {
			return d.errorf("list events of %q: %w", callID, err)
		}
		return nil
	}

	// Every call's events: a Scan, streamed as it comes.
	vals, err := exprValues(map[string]any{":ev": skEvent})
	if err != nil {
		return d.errorf("list events: %w", err)
	}
	in := &dynamodb.ScanInput{
		TableName:                 &d.table,
		FilterExpression:          aws.String("begins_with(#sk, :ev)"),
		ExpressionAttributeNames:  names(DynamoSK),
		ExpressionAttributeValues: vals,
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := d.db.Scan(ctx, in)
		if err != nil {
			return d.errorf("list events: %w", err)
		}
		for _, item := range out.Items {
			var e dynEvent
			if err := unmarshalItem(item, &e); err != nil {
				return d.errorf("list events: %w", err)
			}
			if d.opts.expired(e.ExpiresAt) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(&e.Event); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// UserCalls queries the user's partition, then reads the summaries it names
// with BatchGetItem.
func (d *dynamoStore) UserCalls(ctx context.Context, user string, limit int) ([]call.Summary, error) {
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	var ids []string
	err := d.query(ctx, &dynamodb.QueryInput{
		TableName:                &d.table,
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: names(DynamoPK),
		ConsistentRead:           aws.Bool(true),
	}, map[string]any{":pk": pkUser + user}, func(item map[string]types.AttributeValue) error {
		var u dynUser
		if err := unmarshalItem(item, &u); err != nil {
			return err
		}
		if id, ok := strings.CutPrefix(u.SK, skUser); ok {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, d.errorf("calls of user %q: %w", user, err)
	}
	out, err := d.summaries(ctx, ids)
	if err != nil {
		return nil, d.errorf("calls of user %q: %w", user, err)
	}
	SortNewestFirst(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// summaries reads the unexpired summaries of ids (100 per BatchGetItem),
// in no particular order; calls with none are left out.
func (d *dynamoStore) summaries(ctx context.Context, ids []string) ([]call.Summary, error) {
	var out []call.Summary
	for len(ids) > 0 {
		n := min(len(ids), 100)
		keys := make([]map[string]types.AttributeValue, n)
		for i, id := range ids[:n] {
			k, err := itemKey(pkCall+id, skSummary)
			if err != nil {
				return nil, err
			}
			keys[i] = k
		}
		ids = ids[n:]
		pending := map[string]types.KeysAndAttributes{d.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 1; len(pending[d.table].Keys) > 0; attempt++ {
			if attempt > maxBatchAttempts {
				return nil, fmt.Errorf("batch get: %d keys still unprocessed after %d attempts", len(pending[d.table].Keys), maxBatchAttempts)
			}
			if attempt > 1 {
				if err := sleepBackoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := d.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			for _, item := range res.Responses[d.table] {
				var s dynSummary
				if err := unmarshalItem(item, &s); err != nil {
					return nil, fmt.Errorf("summary: %w", err)
				}
				if !d.opts.expired(s.ExpiresAt) {
					out = append(out, s.Summary)
				}
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// ListCalls reads the month items, then queries the byTime index one month
// partition at a time, oldest first, until it has a page and one more.
func (d *dynamoStore) ListCalls(ctx context.Context, q CallQuery) (CallPage, error) {
	if err := d.check(ctx); err != nil {
		return CallPage{}, err
	}
	if q.Desc || q.User != "" {
		return CallPage{}, d.errorf("list calls: newest first and per user come with the store split (issue 8)")
	}
	months, err := d.listMonths(ctx, q)
	if err != nil {
		return CallPage{}, d.errorf("list calls: %w", err)
	}
	limit := q.limit()
	// The range on the index's sort key: above the cursor and From, below
	// To (times before 1970 do not sort as numbers; those are filtered
	// below only).
	lo := q.Cursor
	if q.From >= 0 {
		if from := fmt.Sprintf("%013d", q.From); from > lo {
			lo = from
		}
	}
	hi := ""
	if q.To > 0 {
		hi = fmt.Sprintf("%013d", q.To)
	}
	if hi != "" && lo > hi {
		return CallPage{}, nil
	}
	// Expressions name only what they use: DynamoDB refuses unused names
	// and values.
	cond := "#gsi1pk = :m"
	attrNames := names(DynamoIndexPK)
	vals := map[string]any{}
	if lo != "" || hi != "" {
		attrNames = names(DynamoIndexPK, DynamoIndexSK)
	}
	switch {
	case lo != "" && hi != "":
		cond += " AND #gsi1sk BETWEEN :lo AND :hi"
		vals[":lo"], vals[":hi"] = lo, hi
	case lo != "":
		cond += " AND #gsi1sk >= :lo"
		vals[":lo"] = lo
	case hi != "":
		cond += " AND #gsi1sk < :hi"
		vals[":hi"] = hi
	}
	var filters []string
	if q.Result != "" {
		filters = append(filters, "#result = :result")
		attrNames["#result"], vals[":result"] = "result", q.Result
	}
	if q.CallType != "" {
		filters = append(filters, "#callType = :callType")
		attrNames["#callType"], vals[":callType"] = "callType", q.CallType
	}
	var calls []call.Summary
	for _, m := range months {
		vals[":m"] = m
		in := &dynamodb.QueryInput{
			TableName:                &d.table,
			IndexName:                aws.String(DynamoIndexByTime),
			KeyConditionExpression:   aws.String(cond),
			ExpressionAttributeNames: attrNames,
		}
		if len(filters) > 0 {
			// Filtered on the server; a page is then up to 1 MB read.
			in.FilterExpression = aws.String(strings.Join(filters, " AND "))
		} else {
			in.Limit = aws.Int32(int32(min(limit+1-len(calls), 1000)))
		}
		err := d.query(ctx, in, vals, func(item map[string]types.AttributeValue) error {
			var s dynSummary
			if err := unmarshalItem(item, &s); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
			if d.opts.expired(s.ExpiresAt) || !q.matches(&s.Summary) || ListKey(&s.Summary) <= q.Cursor {
				return nil
			}
			calls = append(calls, s.Summary)
			if len(calls) > limit {
				return errStop
			}
			if in.Limit != nil {
				in.Limit = aws.Int32(int32(min(limit+1-len(calls), 1000)))
			}
			return nil
		})
		if err != nil {
			return CallPage{}, d.errorf("list calls in %s: %w", m, err)
		}
		if len(calls) > limit {
			break
		}
	}
	// Within a month the index is in key order; across months too, but a
	// sort makes the order the other implementations' by construction.
	slices.SortFunc(calls, func(a, b call.Summary) int { return strings.Compare(ListKey(&a), ListKey(&b)) })
	var page CallPage
	if len(calls) > limit {
		calls = calls[:limit]
		page.Next = ListKey(&calls[len(calls)-1])
	}
	page.Calls = calls
	return page, nil
}

// listMonths returns the byTime partitions that can hold calls for q, in
// order.
func (d *dynamoStore) listMonths(ctx context.Context, q CallQuery) ([]string, error) {
	first := monthOf(q.From)
	if t, err := strconv.ParseInt(strings.SplitN(q.Cursor, "#", 2)[0], 10, 64); err == nil && q.Cursor != "" {
		if m := monthOf(t); m > first {
			first = m
		}
	}
	last := ""
	if q.To != 0 {
		last = monthOf(q.To - 1)
	}
	var months []string
	err := d.query(ctx, &dynamodb.QueryInput{
		TableName:                &d.table,
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :first"),
		ExpressionAttributeNames: names(DynamoPK, DynamoSK),
		ConsistentRead:           aws.Bool(true),
	}, map[string]any{":pk": pkMonths, ":first": first}, func(item map[string]types.AttributeValue) error {
		var k dynKey
		if err := unmarshalItem(item, &k); err != nil {
			return err
		}
		if last != "" && k.SK > last {
			return errStop
		}
		months = append(months, k.SK)
		return nil
	})
	return months, err
}

func (d *dynamoStore) Claim(ctx context.Context, key string, until time.Time) (bool, error) {
	if err := d.check(ctx); err != nil {
		return false, err
	}
	item, err := marshalItem(dynClaim{dynKey{pkClaim + key, skClaim}, until.Unix()})
	if err != nil {
		return false, d.errorf("claim %q: %w", key, err)
	}
	vals, err := exprValues(map[string]any{":now": d.opts.now().Unix()})
	if err != nil {
		return false, d.errorf("claim %q: %w", key, err)
	}
	_, err = d.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &d.table,
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #expiresAt <= :now"),
		ExpressionAttributeNames:  names(DynamoPK, DynamoTTL),
		ExpressionAttributeValues: vals,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, d.errorf("claim %q: %w", key, err)
	}
	return true, nil
}

func (d *dynamoStore) GetMeta(ctx context.Context, name string) (string, error) {
	if err := d.check(ctx); err != nil {
		return "", err
	}
	key, err := itemKey(pkMeta+name, skMeta)
	if err != nil {
		return "", d.errorf("meta %q: %w", name, err)
	}
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", d.errorf("meta %q: %w", name, err)
	}
	if out.Item == nil {
		return "", nil
	}
	var m dynMeta
	if err := unmarshalItem(out.Item, &m); err != nil {
		return "", d.errorf("meta %q: %w", name, err)
	}
	return m.Value, nil
}

func (d *dynamoStore) PutMeta(ctx context.Context, name, value string) error {
	if err := d.check(ctx); err != nil {
		return err
	}
	item, err := marshalItem(dynMeta{dynKey{pkMeta + name, skMeta}, value})
	if err != nil {
		return d.errorf("meta %q: %w", name, err)
	}
	if _, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item}); err != nil {
		return d.errorf("meta %q: %w", name, err)
	}
	return nil
}

// Stats is not there yet (issue 8: rollups come with the store split).
func (d *dynamoStore) Stats(ctx context.Context, from, to int64) ([]BucketCounts, error) {
	return nil, d.errorf("stats come with the store split (issue 8)")
}

// Close marks the store closed; the client holds no resources to release.
func (d *dynamoStore) Close() error {
	d.closed.Store(true)
	return nil
}

// CreateDynamoTable creates table as callfn lays it out (on-demand
// capacity, the key, the byTime index), waits until it is ACTIVE and turns
// on TTL on DynamoTTL. An existing table is kept, checked for the same key
// and index, and gets TTL turned on if it has none.
func CreateDynamoTable(ctx context.Context, client *dynamodb.Client, table string) error {
	s := types.ScalarAttributeTypeS
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   &table,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(DynamoPK), AttributeType: s},
			{AttributeName: aws.String(DynamoSK), AttributeType: s},
			{AttributeName: aws.String(DynamoIndexPK), AttributeType: s},
			{AttributeName: aws.String(DynamoIndexSK), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(DynamoPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(DynamoSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(DynamoIndexByTime),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(DynamoIndexPK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(DynamoIndexSK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("store: create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 10*time.Minute); err != nil {
		return fmt.Errorf("store: table %s did not become active: %w", table, err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return fmt.Errorf("store: describe table %s: %w", table, err)
	}
	if err := checkLayout(desc.Table); err != nil {
		return fmt.Errorf("store: table %s: %w", table, err)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		return fmt.Errorf("store: table %s: describe TTL: %w", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if a := aws.ToString(d.AttributeName); a != DynamoTTL {
				return fmt.Errorf("store: table %s: TTL is on attribute %q, want %q", table, a, DynamoTTL)
			}
			return nil
		}
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(DynamoTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("store: table %s: turn on TTL: %w", table, err)
	}
	return nil
}

// checkLayout reports an existing table whose key or byTime index is not
// the one callfn uses.
func checkLayout(t *types.TableDescription) error {
	if t == nil {
		return errors.New("no table description")
	}
	keyIs := func(ks []types.KeySchemaElement, hash, rng string) bool {
		var h, r string
		for _, k := range ks {
			switch k.KeyType {
			case types.KeyTypeHash:
				h = aws.ToString(k.AttributeName)
			case types.KeyTypeRange:
				r = aws.ToString(k.AttributeName)
			}
		}
		return h == hash && r == rng
	}
	if !keyIs(t.KeySchema, DynamoPK, DynamoSK) {
		return fmt.Errorf("key is not (%s, %s)", DynamoPK, DynamoSK)
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) != DynamoIndexByTime {
			continue
		}
		if !keyIs(g.KeySchema, DynamoIndexPK, DynamoIndexSK) {
			return fmt.Errorf("index %s key is not (%s, %s)", DynamoIndexByTime, DynamoIndexPK, DynamoIndexSK)
		}
		if g.Projection == nil || g.Projection.ProjectionType != types.ProjectionTypeAll {
			return fmt.Errorf("index %s does not project ALL attributes", DynamoIndexByTime)
		}
		return nil
	}
	return fmt.Errorf("no index %s", DynamoIndexByTime)
}
