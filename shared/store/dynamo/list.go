package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// ListCalls reads the month items, then queries the byTime index one month
// partition at a time, oldest first, until it has a page and one more.
func (d *tableStore) ListCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error) {
	if err := d.check(ctx); err != nil {
		return store.CallPage{}, err
	}
	months, err := d.listMonths(ctx, q)
	if err != nil {
		return store.CallPage{}, d.errorf("list calls: %w", err)
	}
	limit := q.PageSize()
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
		return store.CallPage{}, nil
	}
	// The range includes the cursor's own call, listed on the page before:
	// a query reads one more for it.
	skipped := 0
	if q.Cursor != "" && lo == q.Cursor {
		skipped = 1
	}
	// Expressions name only what they use: DynamoDB refuses unused names
	// and values.
	cond := "#gsi1pk = :m"
	attrNames := names(store.DynamoIndexPK)
	vals := map[string]any{}
	if lo != "" || hi != "" {
		attrNames = names(store.DynamoIndexPK, store.DynamoIndexSK)
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
			IndexName:                aws.String(store.DynamoIndexByTime),
			KeyConditionExpression:   aws.String(cond),
			ExpressionAttributeNames: attrNames,
		}
		if len(filters) > 0 {
			// Filtered on the server; a page is then up to 1 MB read.
			in.FilterExpression = aws.String(strings.Join(filters, " AND "))
		} else {
			// Pages of what is still wanted (the paginator keeps this size
			// for a month's later pages, which only expired calls cause).
			in.Limit = aws.Int32(int32(min(limit+1-len(calls)+skipped, 1000)))
		}
		err := d.query(ctx, in, vals, func(item map[string]types.AttributeValue) error {
			var s dynSummary
			if err := unmarshalItem(item, &s); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
			if d.opts.Expired(s.ExpiresAt) || !q.Matches(&s.Summary) || store.ListKey(&s.Summary) <= q.Cursor {
				return nil
			}
			calls = append(calls, s.Summary)
			if len(calls) > limit {
				return errStop
			}
			return nil
		})
		if err != nil {
			return store.CallPage{}, d.errorf("list calls in %s: %w", m, err)
		}
		if len(calls) > limit {
			break
		}
	}
	// Within a month the index is in key order; across months too, but a
	// sort makes the order the other implementations' by construction.
	store.SortByListKey(calls)
	return store.Page(calls, q), nil
}

// listMonths returns the byTime partitions that can hold calls for q, in
// order.
func (d *tableStore) listMonths(ctx context.Context, q store.CallQuery) ([]string, error) {
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
		ExpressionAttributeNames: names(store.DynamoPK, store.DynamoSK),
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
