package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// ListCalls queries an index from the cursor, in q's order
// (ScanIndexForward): byTime, one month partition after another, or for
// q.User the user's partition of byUser, whose items it then reads the
// summaries of in one BatchGetItem. Filters run on the server
// (FilterExpression); DynamoDB's Limit, the items a Query evaluates, is
// what is left of the page's scan budget. A page is at most
// maxPageQueries Queries (and, per user, one BatchGetItem, more only for
// keys DynamoDB leaves unprocessed), at any depth; no Scan.
func (d *tableStore) ListCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error) {
	if err := d.check(ctx); err != nil {
		return store.CallPage{}, err
	}
	p := &pager{d: d, q: q, limit: q.PageSize(), budget: d.opts.ScanBudget()}
	var err error
	if q.User != "" {
		err = p.user(ctx)
	} else {
		err = p.byTime(ctx)
	}
	if err != nil {
		return store.CallPage{}, d.errorf("list calls: %w", err)
	}
	return store.CallPage{Calls: p.calls, Next: p.next}, nil
}

// maxPageQueries bounds the Queries of one ListCalls page (beyond the one
// that lists the byTime months).
const maxPageQueries = 8

// pager is one ListCalls page under way.
type pager struct {
	d        *tableStore
	q        store.CallQuery
	limit    int
	budget   int // index items a page may still evaluate
	queries  int
	calls    []call.Summary
	userKeys []string // per user: the ListKeys of the candidates, in order
	userIDs  []string
	next     string
}

// keyCondition is the range of the index's sort key (attribute sk, named
// #sk) the page reads: [From, To) and past the cursor. Exclusive ends are
// made inclusive ones: no ListKey is "%013d" alone, and a key equal to the
// cursor (the previous page's last) is skipped as it comes.
func (p *pager) keyCondition(vals map[string]any) string {
	q := p.q
	lo, hi := "", ""
	if q.From > 0 {
		lo = fmt.Sprintf("%013d", q.From)
	}
	if q.To != 0 {
		hi = fmt.Sprintf("%013d", q.To)
	}
	if c := q.Cursor; c != "" {
		if !q.Desc && c+"\x00" > lo {
			lo = c + "\x00"
		}
		if q.Desc && (hi == "" || c < hi) {
			hi = c
		}
	}
	switch {
	case lo != "" && hi != "":
		if lo > hi {
			lo = hi // an empty range: at most the cursor, skipped
		}
		vals[":lo"], vals[":hi"] = lo, hi
		return " AND #sk BETWEEN :lo AND :hi"
	case lo != "":
		vals[":lo"] = lo
		return " AND #sk >= :lo"
	case hi != "":
		vals[":hi"] = hi
		return " AND #sk <= :hi"
	}
	return ""
}

// filter is the FilterExpression of q's filters on summary items (byTime)
// or user items (byUser, which hold the carrier and the user's role).
func (p *pager) filter(byUser bool, attrNames map[string]string, vals map[string]any) string {
	q := p.q
	var fs []string
	eq := func(attr, v string) {
		if v != "" {
			fs = append(fs, fmt.Sprintf("#%s = :%s", attr, attr))
			attrNames["#"+attr], vals[":"+attr] = attr, v
		}
	}
	if q.Provider == call.Tencent && !byUser {
		// A call callfn started is Tencent's, whose callbacks may not
		// have come yet.
		fs = append(fs, "#provider IN (:provider, :callfn)")
		attrNames["#provider"], vals[":provider"], vals[":callfn"] = "provider", q.Provider, call.CallFn
	} else {
		eq("provider", q.Provider)
	}
	eq("status", q.Status)
	eq("result", q.Result)
	eq("callType", q.CallType)
	if q.Missed && byUser {
		var in []string
		for i, r := range call.MissedResults {
			in = append(in, fmt.Sprintf(":missed%d", i))
			vals[in[i]] = r
		}
		fs = append(fs, "#callee = :true AND #result IN ("+strings.Join(in, ", ")+")")
		attrNames["#callee"], attrNames["#result"], vals[":true"] = "callee", "result", true
	}
	return strings.Join(fs, " AND ")
}

// run queries one partition of index from the page's range on, calling
// keep for each item that passes the filter, until the page is full (keep
// returns true), the budget or the Queries run out, or the partition
// ends. It returns the sort key the partition was read up to when it
// stopped before its end ("" at its end).
func (p *pager) run(ctx context.Context, index, pkAttr, skAttr, pk string, byUser bool, keep func(map[string]types.AttributeValue) (bool, error)) (string, error) {
	vals := map[string]any{":pk": pk}
	attrNames := map[string]string{"#pk": pkAttr}
	cond := "#pk = :pk" + p.keyCondition(vals)
	if strings.Contains(cond, "#sk") {
		attrNames["#sk"] = skAttr
	}
	filter := p.filter(byUser, attrNames, vals)
	in := &dynamodb.QueryInput{
		TableName:                &p.d.table,
		IndexName:                aws.String(index),
		KeyConditionExpression:   aws.String(cond),
		ExpressionAttributeNames: attrNames,
		ScanIndexForward:         aws.Bool(!p.q.Desc),
	}
	if filter != "" {
		in.FilterExpression = aws.String(filter)
	}
	var err error
	if in.ExpressionAttributeValues, err = exprValues(vals); err != nil {
		return "", err
	}
	for {
		if p.queries == maxPageQueries || p.budget <= 0 {
			return "", errOutOfRoom
		}
		limit := p.budget
		if filter == "" {
			// Unfiltered, what is still wanted, the cursor's own item, and
			// one more to tell whether the page is the last.
			limit = min(limit, p.limit-len(p.calls)-len(p.userIDs)+2)
		}
		in.Limit = aws.Int32(int32(limit))
		out, err := p.d.db.Query(ctx, in)
		if err != nil {
			return "", err
		}
		p.queries++
		p.budget -= int(out.ScannedCount)
		for i, item := range out.Items {
			key := stringAttr(item, skAttr)
			if key == p.q.Cursor {
				continue
			}
			full, err := keep(item)
			if err != nil {
				return "", err
			}
			if full {
				// More may follow: the rest of this answer, or past it.
				if i < len(out.Items)-1 || len(out.LastEvaluatedKey) > 0 {
					return key, errFull
				}
				return key, errFullAtEnd
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return "", nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		if p.queries == maxPageQueries || p.budget <= 0 {
			return stringAttr(out.LastEvaluatedKey, skAttr), errOutOfRoom
		}
	}
}

// Why run stopped before its partition's end: the page is full (errFull:
// more may follow; errFullAtEnd: the partition ended with it), or it has
// no Queries or budget left (errOutOfRoom).
var (
	errFull      = errors.New("page full")
	errFullAtEnd = errors.New("page full at the end")
	errOutOfRoom = errors.New("out of room")
)

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// byTime pages through the byTime index, a month partition at a time.
func (p *pager) byTime(ctx context.Context) error {
	months, err := p.d.listMonths(ctx, p.q)
	if err != nil {
		return err
	}
	for i, m := range months {
		pos, err := p.run(ctx, store.DynamoIndexByTime, store.DynamoIndexPK, store.DynamoIndexSK, m, false,
			func(item map[string]types.AttributeValue) (bool, error) {
				var s dynSummary
				if err := unmarshalSummary(item, &s); err != nil {
					return false, fmt.Errorf("summary: %w", err)
				}
				if p.d.opts.Expired(s.ExpiresAt) || !p.q.Matches(&s.Summary) {
					return false, nil
				}
				p.calls = append(p.calls, s.Summary)
				return len(p.calls) == p.limit, nil
			})
		last := i == len(months)-1
		switch {
		case err == errFull || err == errFullAtEnd && !last:
			p.next = pos
			return nil
		case err == errFullAtEnd:
			return nil
		case err == errOutOfRoom && pos != "":
			p.next = pos
			return nil
		case err == errOutOfRoom:
			// Out of Queries before this month began: the next page
			// starts with it.
			p.next = monthBoundary(m, p.q.Desc, true)
			return nil
		case err != nil:
			return fmt.Errorf("in %s: %w", m, err)
		}
		if !last && p.queries == maxPageQueries {
			p.next = monthBoundary(m, p.q.Desc, false)
			return nil
		}
	}
	return nil
}

// monthBoundary is the position just past month m (before is true: just
// before it) in the order of the listing: keys after it (before it,
// newest first) are those of the months still to read.
func monthBoundary(m string, desc, before bool) string {
	start, err := time.Parse("2006-01", strings.TrimPrefix(m, monthPfx))
	if err != nil {
		return ""
	}
	end := start.AddDate(0, 1, 0)
	if desc != before {
		return fmt.Sprintf("%013d", start.UnixMilli()) // newest first, past m: every key before its start
	}
	return fmt.Sprintf("%013d", end.UnixMilli())
}

// user pages through the user's partition of byUser, then reads the
// candidates' summaries.
func (p *pager) user(ctx context.Context) error {
	pos, err := p.run(ctx, store.DynamoIndexByUser, store.DynamoUserPK, store.DynamoUserSK, userPK(p.q.User), true,
		func(item map[string]types.AttributeValue) (bool, error) {
			var u dynUser
			if err := unmarshalItem(item, &u); err != nil {
				return false, fmt.Errorf("user item: %w", err)
			}
			if p.d.opts.Expired(u.ExpiresAt) {
				return false, nil
			}
			p.userIDs, p.userKeys = append(p.userIDs, u.CallID), append(p.userKeys, u.GSI3SK)
			return len(p.userIDs) == p.limit, nil
		})
	switch {
	case err == errFull, err == errOutOfRoom:
		p.next = pos
	case err == errFullAtEnd:
	case err != nil:
		return err
	}
	if len(p.userIDs) == 0 {
		return nil
	}
	sums, err := p.d.summaries(ctx, p.userIDs)
	if err != nil {
		return err
	}
	byID := map[string]*call.Summary{}
	for i := range sums {
		byID[sums[i].CallID] = &sums[i]
	}
	// The index may lag the summary a moment (a group call's items beyond
	// a transaction's room are written apart): the summary decides.
	for i, id := range p.userIDs {
		if s := byID[id]; s != nil && p.q.Matches(s) && store.ListKey(s) == p.userKeys[i] {
			p.calls = append(p.calls, *s)
		}
	}
	return nil
}

// listMonths returns the byTime partitions that can hold calls for q, in
// q's order.
func (d *tableStore) listMonths(ctx context.Context, q store.CallQuery) ([]string, error) {
	first, last := monthOf(q.From), ""
	if q.To != 0 {
		last = monthOf(q.To - 1)
	}
	if c := q.Cursor; c != "" {
		ts, hasID := c, false
		if i := strings.IndexByte(c, '#'); i >= 0 {
			ts, hasID = c[:i], true
		}
		if t, err := strconv.ParseInt(ts, 10, 64); err == nil {
			switch {
			case !q.Desc && monthOf(t) > first:
				first = monthOf(t)
			case q.Desc && !hasID: // a month's start: the months before it
				t--
				fallthrough
			case q.Desc:
				if m := monthOf(t); last == "" || m < last {
					last = m
				}
			}
		}
	}
	cond, vals := "#pk = :pk AND #sk >= :first", map[string]any{":pk": pkMonths, ":first": first}
	if last != "" {
		if last < first {
			return nil, nil
		}
		cond = "#pk = :pk AND #sk BETWEEN :first AND :last"
		vals[":last"] = last
	}
	var months []string
	err := d.query(ctx, &dynamodb.QueryInput{
		TableName:                &d.table,
		KeyConditionExpression:   aws.String(cond),
		ExpressionAttributeNames: names(store.DynamoPK, store.DynamoSK),
		ConsistentRead:           aws.Bool(true),
		ScanIndexForward:         aws.Bool(!q.Desc),
	}, vals, func(item map[string]types.AttributeValue) error {
		months = append(months, stringAttr(item, store.DynamoSK))
		return nil
	})
	return months, err
}
