package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// query runs in, with vals as its expression values, page by page (the
// SDK's paginator), calling fn for every item; fn's errStop ends it
// quietly. in.Limit, if set, is the size of every page.
func (d *tableStore) query(ctx context.Context, in *dynamodb.QueryInput, vals map[string]any, fn func(map[string]types.AttributeValue) error) error {
	var err error
	if in.ExpressionAttributeValues, err = exprValues(vals); err != nil {
		return err
	}
	pages := dynamodb.NewQueryPaginator(d.db, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
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
	}
	return nil
}

// queryPartition runs query over the items of partition pk whose sort key
// begins with prefix (every item when prefix is ""), read consistently.
func (d *tableStore) queryPartition(ctx context.Context, pk, prefix string, fn func(map[string]types.AttributeValue) error) error {
	in := &dynamodb.QueryInput{
		TableName:                &d.table,
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: names(store.DynamoPK),
		ConsistentRead:           aws.Bool(true),
	}
	vals := map[string]any{":pk": pk}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :prefix)")
		in.ExpressionAttributeNames = names(store.DynamoPK, store.DynamoSK)
		vals[":prefix"] = prefix
	}
	return d.query(ctx, in, vals, fn)
}

// GetCall reads the call's partition in one Query (more only if DynamoDB
// truncates it at 1 MB): its events, then its summary.
func (d *tableStore) GetCall(ctx context.Context, callID string) (*call.Summary, []call.Event, error) {
	if err := d.check(ctx); err != nil {
		return nil, nil, err
	}
	var sum *call.Summary
	var evs []call.Event
	err := d.queryPartition(ctx, callPK(callID), "", func(item map[string]types.AttributeValue) error {
		var k dynKey
		if err := unmarshalItem(item, &k); err != nil {
			return err
		}
		switch {
		case k.SK == skSummary:
			var s dynSummary
			if err := unmarshalSummary(item, &s); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
			if !d.opts.Expired(s.ExpiresAt) {
				sum = &s.Summary
			}
		case strings.HasPrefix(k.SK, skEvent):
			var e dynEvent
			if err := unmarshalItem(item, &e); err != nil {
				return fmt.Errorf("event %s: %w", k.SK, err)
			}
			if !d.opts.Expired(e.ExpiresAt) {
				ev, err := e.event()
				if err != nil {
					return err
				}
				evs = append(evs, *ev)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, d.errorf("get call %q: %w", callID, err)
	}
	if sum == nil {
		return nil, nil, store.ErrNotFound
	}
	store.SortEvents(evs)
	return sum, evs, nil
}

func (d *tableStore) ListEvents(ctx context.Context, callID string, fn func(*call.Event) error) error {
	if err := d.check(ctx); err != nil {
		return err
	}
	// visit hands fn each live event; fnErr keeps fn's own error apart
	// from the table's.
	var fnErr error
	visit := func(item map[string]types.AttributeValue) error {
		var e dynEvent
		if err := unmarshalItem(item, &e); err != nil {
			return err
		}
		if d.opts.Expired(e.ExpiresAt) {
			return nil
		}
		ev, err := e.event()
		if err != nil {
			return err
		}
		if fnErr = ctx.Err(); fnErr == nil {
			fnErr = fn(ev)
		}
		return fnErr
	}
	var err error
	if callID != "" {
		err = d.queryPartition(ctx, callPK(callID), skEvent, visit)
	} else {
		// Every call's events: a Scan, streamed as it comes.
		err = d.scanPrefix(ctx, skEvent, visit)
	}
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return d.errorf("list events of %q: %w", callID, err)
	}
	return nil
}

// UserCalls queries the user's partition, then reads the summaries it names
// with BatchGetItem.
func (d *tableStore) UserCalls(ctx context.Context, user string, limit int) ([]call.Summary, error) {
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	var ids []string
	err := d.queryPartition(ctx, userPK(user), "", func(item map[string]types.AttributeValue) error {
		var u dynUser
		if err := unmarshalItem(item, &u); err != nil {
			return err
		}
		// The item names the call; its sort key holds the call id's KeyID.
		if u.CallID != "" {
			ids = append(ids, u.CallID)
		} else if id, ok := strings.CutPrefix(u.SK, skUser); ok {
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
	store.SortNewestFirst(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// summaries reads the unexpired summaries of ids (100 per BatchGetItem),
// in no particular order; calls with none are left out.
func (d *tableStore) summaries(ctx context.Context, ids []string) ([]call.Summary, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		k, err := itemKey(callPK(id), skSummary)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	var out []call.Summary
	err := d.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		var s dynSummary
		if err := unmarshalSummary(item, &s); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		if !d.opts.Expired(s.ExpiresAt) {
			out = append(out, s.Summary)
		}
		return nil
	})
	return out, err
}

// batchGet reads the items of keys, 100 per BatchGetItem (consistently),
// calling fn for each one there, in no particular order; it retries what
// comes back unprocessed.
func (d *tableStore) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, fn func(map[string]types.AttributeValue) error) error {
	for len(keys) > 0 {
		n := min(len(keys), 100)
		pending := map[string]types.KeysAndAttributes{d.table: {Keys: keys[:n], ConsistentRead: aws.Bool(true)}}
		keys = keys[n:]
		for attempt := 1; len(pending[d.table].Keys) > 0; attempt++ {
			if attempt > maxBatchAttempts {
				return fmt.Errorf("batch get: %d keys still unprocessed after %d attempts", len(pending[d.table].Keys), maxBatchAttempts)
			}
			if attempt > 1 {
				if err := retryBackoff.Wait(ctx, attempt); err != nil {
					return err
				}
			}
			res, err := d.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("batch get: %w", err)
			}
			for _, item := range res.Responses[d.table] {
				if err := fn(item); err != nil {
					return err
				}
			}
			pending = res.UnprocessedKeys
		}
	}
	return nil
}
