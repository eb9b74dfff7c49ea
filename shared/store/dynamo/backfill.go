package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/store"
)

// Backfill puts the calls a table holds from before the byUser index and
// the rollups existed (summaries not Indexed) into both: for each, in one
// transaction conditional on the summary's version, its participants'
// user items, its contribution to the rollups, and the summary marked
// Indexed. A call folded meanwhile is indexed by its fold and left alone,
// so Backfill is safe beside live traffic and may be run again; it reports
// how many calls it indexed. It Scans the table: an operation for `callfn
// create-table`, never a route.
func Backfill(ctx context.Context, st store.Store) (int, error) {
	d, ok := st.(*tableStore)
	if !ok {
		return 0, errors.New("store: backfill: not a DynamoDB table")
	}
	vals, err := exprValues(map[string]any{":sk": skSummary, ":yes": true})
	if err != nil {
		return 0, err
	}
	in := &dynamodb.ScanInput{
		TableName:                 &d.table,
		FilterExpression:          aws.String("#sk = :sk AND (attribute_not_exists(#indexed) OR #indexed <> :yes)"),
		ExpressionAttributeNames:  map[string]string{"#sk": store.DynamoSK, "#indexed": "indexed"},
		ExpressionAttributeValues: vals,
		ConsistentRead:            aws.Bool(true),
	}
	n := 0
	pages := dynamodb.NewScanPaginator(d.db, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return n, d.errorf("backfill: %w", err)
		}
		for _, item := range out.Items {
			var s dynSummary
			if err := unmarshalSummary(item, &s); err != nil {
				return n, d.errorf("backfill: summary %s: %w", s.PK, err)
			}
			done, err := d.backfillOne(ctx, s)
			if err != nil {
				return n, err
			}
			if done {
				n++
			}
		}
	}
	return n, nil
}

func (d *tableStore) backfillOne(ctx context.Context, cur dynSummary) (bool, error) {
	next := cur
	next.Indexed = true
	next.Version = cur.Version + 1
	item, err := marshalSummary(next)
	if err != nil {
		return false, d.errorf("backfill %q: %w", cur.CallID, err)
	}
	vals, err := exprValues(map[string]any{":v": cur.Version})
	if err != nil {
		return false, err
	}
	tx := []types.TransactWriteItem{{Put: &types.Put{
		TableName: &d.table, Item: item,
		ConditionExpression:       aws.String("#" + attrVer + " = :v"),
		ExpressionAttributeNames:  names(attrVer),
		ExpressionAttributeValues: vals,
	}}}
	stats, err := d.statsUpdates(cur.CallID, store.StatsDelta(nil, &cur.Summary))
	if err != nil {
		return false, d.errorf("backfill %q: %w", cur.CallID, err)
	}
	tx = append(tx, stats...)
	var users []map[string]types.AttributeValue
	for _, u := range cur.Summary.Users() {
		ui, err := marshalItem(userItem(u, cur.CallID, &cur.Summary, cur.ExpiresAt))
		if err != nil {
			return false, d.errorf("backfill %q: %w", cur.CallID, err)
		}
		users = append(users, ui)
	}
	if room := maxTxItems - len(tx); len(users) > room {
		if err := d.batchPut(ctx, users[room:]); err != nil {
			return false, d.errorf("backfill %q: %w", cur.CallID, err)
		}
		users = users[:room]
	}
	for _, ui := range users {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: ui}})
	}
	_, err = d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				// Folded meanwhile (the fold indexes it), or being folded:
				// left to the fold, or to the next run.
				return false, nil
			}
		}
	}
	if err != nil {
		return false, d.errorf("backfill %q: %w", cur.CallID, err)
	}
	return true, nil
}
