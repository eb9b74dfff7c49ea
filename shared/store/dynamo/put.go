package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

func (d *tableStore) PutEvent(ctx context.Context, ev *call.Event) (bool, error) {
	if err := d.check(ctx); err != nil {
		return false, err
	}
	if ev == nil {
		return false, d.errorf("put event: nil event")
	}
	packed, err := store.CheckEvent(ev)
	if err != nil {
		return false, d.errorf("put event: %w", err)
	}
	item, err := marshalItem(newDynEvent(ev, packed, d.opts.ExpiresAt(ev.EventTime)))
	if err != nil {
		return false, d.errorf("put event %s: %w", ev.DeliveryID, err)
	}
	// A delivery is new unless its item is there and has not expired (as
	// in store/local, an expired one may be stored again).
	vals, err := exprValues(map[string]any{":now": d.opts.Time().Unix()})
	if err != nil {
		return false, d.errorf("put event %s: %w", ev.DeliveryID, err)
	}
	put := &types.Put{
		TableName:                 &d.table,
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #expiresAt <= :now"),
		ExpressionAttributeNames:  names(store.DynamoPK, store.DynamoTTL),
		ExpressionAttributeValues: vals,
	}
	// Forwarding: the event's deliveries, in the event's own write.
	owed, err := d.owedItems(ev)
	if err != nil {
		return false, err
	}
	if ev.CallID == "" && len(owed) > 0 {
		return d.putLoneEvent(ctx, ev, put, owed)
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
			return false, d.errorf("put event %s: %w", ev.DeliveryID, classify(err))
		}
		return true, nil
	}
	rawSize := len(ev.Raw)
	if packed != nil {
		rawSize = len(packed)
	}
	return d.queueCallEvent(ctx, &putReq{ev: ev, put: put, owed: owed, size: store.EventSize(ev, rawSize)})
}

// batchPut writes items with BatchWriteItem, 25 at a time and up to
// batchWriters batches at once, retrying what comes back unprocessed
// (waiting as retryBackoff says): a group call's thousands of user items
// take tens of round trips, not hundreds.
func (d *tableStore) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	if len(items) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []map[string]types.AttributeValue)
	errs := make(chan error, batchWriters)
	workers := min(batchWriters, (len(items)+24)/25)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range chunks {
				if err := d.batchPutChunk(ctx, chunk); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for len(items) > 0 {
		n := min(len(items), 25)
		select {
		case chunks <- items[:n]:
			items = items[n:]
		case <-ctx.Done():
			break feed
		}
	}
	close(chunks)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// batchPutChunk writes at most 25 items, retrying what comes back
// unprocessed.
func (d *tableStore) batchPutChunk(ctx context.Context, items []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	pending := map[string][]types.WriteRequest{d.table: reqs}
	for attempt := 1; len(pending[d.table]) > 0; attempt++ {
		if attempt > maxBatchAttempts {
			return fmt.Errorf("batch write: %d items still unprocessed after %d attempts", len(pending[d.table]), maxBatchAttempts)
		}
		if attempt > 1 {
			if err := retryBackoff.Wait(ctx, attempt-1); err != nil {
				return err
			}
		}
		out, err := d.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		pending = out.UnprocessedItems
	}
	return nil
}
