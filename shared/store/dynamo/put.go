package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	for attempt := 1; ; attempt++ {
		stored, retry, err := d.putCallEvent(ctx, ev, put, owed)
		if !retry {
			return stored, err
		}
		if attempt == maxPutAttempts {
			return false, d.errorf("put event %s of call %q: gave up after %d attempts: %w", ev.DeliveryID, ev.CallID, attempt, err)
		}
		if err := retryBackoff.Wait(ctx, attempt); err != nil {
			return false, d.errorf("put event %s of call %q: %w", ev.DeliveryID, ev.CallID, err)
		}
	}
}

// putCallEvent makes one attempt at storing ev and folding it into its
// call's summary. retry is true when the summary changed under it (or the
// transaction met a conflict) and the attempt should be made again.
func (d *tableStore) putCallEvent(ctx context.Context, ev *call.Event, putEvent *types.Put, owed []types.TransactWriteItem) (stored, retry bool, err error) {
	pk := callPK(ev.CallID)
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
	var prev *call.Summary // as indexed and counted so far; nil when not
	if exists {
		if cur.Indexed {
			p := cur.Summary
			p.Callees, p.Named = slices.Clone(p.Callees), slices.Clone(p.Named)
			prev = &p
		}
		if !d.opts.Expired(cur.ExpiresAt) {
			s = cur.Summary
		} // else every event of the old summary has expired: start over
	}
	s.Apply(ev)
	if err := store.CheckSummary(&s); err != nil {
		return false, false, d.errorf("put event %s: %w", ev.DeliveryID, err)
	}
	next := dynSummary{
		dynKey:    dynKey{pk, skSummary},
		Summary:   s,
		Version:   cur.Version + 1,
		GSI1PK:    monthOf(s.SortTime()),
		GSI1SK:    store.ListKey(&s),
		ExpiresAt: d.opts.ExpiresAt(s.LastEventTime),
		Indexed:   true,
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
		putSummary.ExpressionAttributeNames = names(store.DynamoPK)
	}
	tx := []types.TransactWriteItem{{Put: putEvent}, {Put: putSummary}}
	// The rollups move by the change of the call's contribution.
	stats, err := d.statsUpdates(ev.CallID, store.StatsDelta(prev, &s))
	if err != nil {
		return false, false, d.errorf("rollups of %q: %w", ev.CallID, err)
	}
	tx = append(tx, stats...)

	// User items whose content changes: a user new to the call, or every
	// one when what the byUser index holds of the call changed (its time,
	// status, result...) or its expiry moved (their TTL follows the
	// summary's); a user no longer in the call leaves the index.
	var users []map[string]types.AttributeValue
	var oldUsers []string
	if prev != nil {
		oldUsers = prev.Users()
	} else if exists {
		oldUsers = cur.Summary.Users() // their items, not indexed yet: written anew
	}
	everyone := s.Users()
	for _, u := range oldUsers {
		if !slices.Contains(everyone, u) {
			everyone = append(everyone, u)
		}
	}
	for _, u := range everyone {
		item := userItem(u, ev.CallID, &s, next.ExpiresAt)
		if prev != nil && slices.Contains(oldUsers, u) && item == userItem(u, ev.CallID, prev, cur.ExpiresAt) {
			continue
		}
		ui, err := marshalItem(item)
		if err != nil {
			return false, false, d.errorf("user index of %q: %w", ev.CallID, err)
		}
		users = append(users, ui)
	}
	if room := maxTxItems - len(tx) - len(owed); len(users) > room {
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
	tx = append(tx, owed...) // last: the cancellation reasons of 0 and 1 are read below

	// The SDK fills in ClientRequestToken, so its own retry of a commit
	// whose answer was lost succeeds instead of failing the event's
	// condition.
	_, err = d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		return true, false, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false, false, d.errorf("put event %s of call %.64q: %w", ev.DeliveryID, ev.CallID, classify(err))
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
	return false, false, d.errorf("put event %s of call %.64q: transaction cancelled (%s): %w",
		ev.DeliveryID, ev.CallID, strings.Join(codes, ", "), classify(err))
}

// addMonth records that the byTime partition month holds calls, once per
// process and month; the put is idempotent and not part of the transaction
// (every new call of a month would otherwise conflict on it).
func (d *tableStore) addMonth(ctx context.Context, month string) error {
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
func (d *tableStore) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
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
				if err := retryBackoff.Wait(ctx, attempt); err != nil {
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
