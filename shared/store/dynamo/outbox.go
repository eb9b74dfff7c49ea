package dynamo

// The outbox (store.Forwarding) on DynamoDB.
//
//	delivery   CALL#<callId>   OUT#<deliveryId>#<endpoint>   (NOCALL#<deliveryId> for an event of no call;
//	                                                          store.KeyID of the ids when too long)
//
// A row sits in its event's partition, so one Query reads a call's
// deliveries. A Pending row carries the keys of the due index
// (store.DynamoIndexDue): gsi2pk "DUE#<endpoint>", gsi2sk its NextAt in
// Unix ns; Delivered and Failed rows carry neither and leave the index.
// Lease queries that index, never the table, and takes each row with a
// conditional update (still Pending, still due), so drainers side by side
// never take one row together. A row owed or replayed, and not yet leased,
// carries fresh = "1": the table's stream is filtered on it, so that only
// those start the forward function (template.yaml).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/store"
)

const (
	skOut  = store.DynamoOutboxSK
	pkDue  = "DUE#"
	isTrue = "1"
)

var _ store.Forwarding = (*tableStore)(nil)

// dynDelivery is a delivery row.
type dynDelivery struct {
	dynKey
	forward.Delivery
	DuePK     string `json:"gsi2pk,omitempty"`
	DueSK     string `json:"gsi2sk,omitempty"`
	Fresh     string `json:"fresh,omitempty"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
}

// deliveryPK is the partition of the event's rows: its own.
func deliveryPK(callID, deliveryID string) string {
	return eventPK(&call.Event{CallID: callID, DeliveryID: deliveryID})
}

func deliverySK(deliveryID, endpoint string) string {
	return skOut + store.KeyID(deliveryID+"#"+endpoint)
}

// dueSK is a due index sort key: t in Unix ns, sortable as text.
func dueSK(t time.Time) string {
	if t.Before(time.Unix(0, 0)) {
		return fmt.Sprintf("%020d", 0)
	}
	return fmt.Sprintf("%020d", t.UnixNano())
}

// deliveryItem is d's row as written.
func (d *tableStore) deliveryItem(dl forward.Delivery) (map[string]types.AttributeValue, error) {
	r := dynDelivery{
		dynKey:    dynKey{deliveryPK(dl.CallID, dl.DeliveryID), deliverySK(dl.DeliveryID, dl.Endpoint)},
		Delivery:  dl,
		ExpiresAt: d.opts.DeliveryExpiresAt(&dl),
	}
	if dl.State == forward.Pending {
		r.DuePK, r.DueSK = pkDue+store.KeyID(dl.Endpoint), dueSK(dl.NextAt)
		if dl.Attempts == 0 && dl.NextAt.Equal(dl.OwedAt) {
			r.Fresh = isTrue
		}
	}
	return marshalItem(r)
}

// owedItems are a newly stored event's deliveries (Options.ForwardTo), as
// puts for PutEvent's transaction: they replace any row an expired copy of
// the event left.
func (d *tableStore) owedItems(ev *call.Event) ([]types.TransactWriteItem, error) {
	var tx []types.TransactWriteItem
	for _, dl := range forward.Owed(ev, d.opts.ForwardTo, d.opts.Time()) {
		item, err := d.deliveryItem(dl)
		if err != nil {
			return nil, d.errorf("delivery of %s: %w", ev.DeliveryID, err)
		}
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: item}})
	}
	return tx, nil
}

// putLoneEvent stores an event of no call together with its deliveries,
// in one transaction; stored is false when the event was already there.
func (d *tableStore) putLoneEvent(ctx context.Context, ev *call.Event, put *types.Put, owed []types.TransactWriteItem) (bool, error) {
	tx := append([]types.TransactWriteItem{{Put: put}}, owed...)
	_, err := d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return false, nil
	}
	if err != nil {
		return false, d.errorf("put event %s: %w", ev.DeliveryID, err)
	}
	return true, nil
}

func (d *tableStore) Owe(ctx context.Context, ds []forward.Delivery) error {
	if err := d.check(ctx); err != nil {
		return err
	}
	vals, err := exprValues(map[string]any{":now": d.opts.Time().Unix()})
	if err != nil {
		return d.errorf("owe: %w", err)
	}
	for _, dl := range ds {
		item, err := d.deliveryItem(dl)
		if err != nil {
			return d.errorf("owe %s: %w", dl.ID(), err)
		}
		if _, err := d.putUnlessLive(ctx, item, vals); err != nil {
			return d.errorf("owe %s: %w", dl.ID(), err)
		}
	}
	return nil
}

func (d *tableStore) Lease(ctx context.Context, endpoint string, now, until time.Time, limit int) ([]forward.Delivery, error) {
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	qvals, err := exprValues(map[string]any{":due": pkDue + store.KeyID(endpoint), ":bound": dueSK(now), ":now": d.opts.Time().Unix()})
	if err != nil {
		return nil, d.errorf("lease: %w", err)
	}
	uvals, err := exprValues(map[string]any{
		":pending": string(forward.Pending), ":bound": dueSK(now), ":now": d.opts.Time().Unix(),
		":until": until, ":untilKey": dueSK(until),
	})
	if err != nil {
		return nil, d.errorf("lease: %w", err)
	}
	var out []forward.Delivery
	in := &dynamodb.QueryInput{
		TableName:                 &d.table,
		IndexName:                 aws.String(store.DynamoIndexDue),
		KeyConditionExpression:    aws.String("#gsi2pk = :due AND #gsi2sk <= :bound"),
		FilterExpression:          aws.String("attribute_not_exists(#expiresAt) OR #expiresAt > :now"),
		ExpressionAttributeNames:  names(store.DynamoDuePK, store.DynamoDueSK, store.DynamoTTL),
		ExpressionAttributeValues: qvals,
		Limit:                     aws.Int32(int32(limit)),
	}
	// The index is eventually consistent: an entry may name a row that
	// another drainer has leased or finished since. The conditional
	// update takes only rows still Pending and due; pages are read until
	// limit rows are taken or the due entries end.
	pages := dynamodb.NewQueryPaginator(d.db, in)
	for pages.HasMorePages() && len(out) < limit {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, d.errorf("lease deliveries: %w", err)
		}
		for _, item := range page.Items {
			if len(out) == limit {
				break
			}
			var k dynKey
			if err := unmarshalItem(item, &k); err != nil {
				return out, d.errorf("lease deliveries: %w", err)
			}
			key, err := itemKey(k.PK, k.SK)
			if err != nil {
				return out, d.errorf("lease deliveries: %w", err)
			}
			res, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:        &d.table,
				Key:              key,
				UpdateExpression: aws.String("SET #nextAt = :until, #gsi2sk = :untilKey REMOVE #fresh"),
				ConditionExpression: aws.String("#state = :pending AND #gsi2sk <= :bound AND " +
					"(attribute_not_exists(#expiresAt) OR #expiresAt > :now)"),
				ExpressionAttributeNames:  names("nextAt", "state", store.DynamoDueSK, store.DynamoTTL, store.DynamoFresh),
				ExpressionAttributeValues: uvals,
				ReturnValues:              types.ReturnValueAllOld,
			})
			var ccf *types.ConditionalCheckFailedException
			if errors.As(err, &ccf) {
				continue // taken, finished or rescheduled since the index was read
			}
			if err != nil {
				return out, d.errorf("lease %s: %w", k.SK, err)
			}
			var r dynDelivery
			if err := unmarshalItem(res.Attributes, &r); err != nil {
				return out, d.errorf("lease %s: %w", k.SK, err)
			}
			out = append(out, r.Delivery)
		}
	}
	return out, nil
}

func (d *tableStore) Record(ctx context.Context, dl forward.Delivery) error {
	if err := d.check(ctx); err != nil {
		return err
	}
	item, err := d.deliveryItem(dl)
	if err != nil {
		return d.errorf("record %s: %w", dl.ID(), err)
	}
	if _, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item}); err != nil {
		return d.errorf("record %s: %w", dl.ID(), err)
	}
	return nil
}

func (d *tableStore) Event(ctx context.Context, callID, deliveryID string) (*call.Event, *call.Summary, error) {
	if err := d.check(ctx); err != nil {
		return nil, nil, err
	}
	key, err := itemKey(deliveryPK(callID, deliveryID), eventSK(&call.Event{CallID: callID, DeliveryID: deliveryID}))
	if err != nil {
		return nil, nil, d.errorf("event %s: %w", deliveryID, err)
	}
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, nil, d.errorf("event %s: %w", deliveryID, err)
	}
	var e dynEvent
	if out.Item != nil {
		if err := unmarshalItem(out.Item, &e); err != nil {
			return nil, nil, d.errorf("event %s: %w", deliveryID, err)
		}
	}
	if out.Item == nil || d.opts.Expired(e.ExpiresAt) {
		return nil, nil, d.errorf("event %s of call %q: %w", deliveryID, callID, forward.ErrEventGone)
	}
	ev, err := e.event()
	if err != nil {
		return nil, nil, d.errorf("event %s: %w", deliveryID, err)
	}
	if callID == "" {
		return ev, nil, nil
	}
	skey, err := itemKey(callPK(callID), skSummary)
	if err != nil {
		return nil, nil, d.errorf("summary of %q: %w", callID, err)
	}
	sout, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: skey, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, nil, d.errorf("summary of %q: %w", callID, err)
	}
	if sout.Item == nil {
		return ev, nil, nil
	}
	var s dynSummary
	if err := unmarshalSummary(sout.Item, &s); err != nil {
		return nil, nil, d.errorf("summary of %q: %w", callID, err)
	}
	if d.opts.Expired(s.ExpiresAt) {
		return ev, nil, nil
	}
	return ev, &s.Summary, nil
}

func (d *tableStore) Deliveries(ctx context.Context, callID string, fn func(*forward.Delivery) error) error {
	if err := d.check(ctx); err != nil {
		return err
	}
	visit := func(item map[string]types.AttributeValue) error {
		var r dynDelivery
		if err := unmarshalItem(item, &r); err != nil {
			return err
		}
		if d.opts.Expired(r.ExpiresAt) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(&r.Delivery)
	}
	if callID != "" {
		var fnErr error
		err := d.queryPartition(ctx, callPK(callID), skOut, func(item map[string]types.AttributeValue) error {
			fnErr = visit(item)
			return fnErr
		})
		if fnErr != nil {
			return fnErr
		}
		if err != nil {
			return d.errorf("deliveries of %q: %w", callID, err)
		}
		return nil
	}
	// Every row: a Scan (an operator's listing, not a drain).
	if err := d.scanPrefix(ctx, skOut, visit); err != nil {
		return d.errorf("deliveries: %w", err)
	}
	return nil
}

// scanPrefix visits every item of the table whose sort key begins with
// prefix, page by page as the Scan reads them, until visit fails. It is
// for the operator's commands (callfn events, callfn deliveries), never a
// function's route.
func (d *tableStore) scanPrefix(ctx context.Context, prefix string, visit func(map[string]types.AttributeValue) error) error {
	vals, err := exprValues(map[string]any{":prefix": prefix})
	if err != nil {
		return err
	}
	pages := dynamodb.NewScanPaginator(d.db, &dynamodb.ScanInput{
		TableName:                 &d.table,
		FilterExpression:          aws.String("begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  names(store.DynamoSK),
		ExpressionAttributeValues: vals,
		ConsistentRead:            aws.Bool(true),
	})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if !strings.HasPrefix(itemSK(item), prefix) {
				continue
			}
			if err := visit(item); err != nil {
				return err
			}
		}
	}
	return nil
}

func itemSK(item map[string]types.AttributeValue) string {
	if s, ok := item[store.DynamoSK].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
