package dynamo

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/store"
)

// The rollups: one item per shard and UTC hour,
//
//	STATS#<shard>   H#<%013d hour start>   c<q>, i<q>, t<q>, r<q>:<result>, p<q>:<provider>
//
// holding, for each quarter hour q (0..3, the store's 15-minute buckets),
// its calls, calls in progress, talk ms, and calls by result and by
// provider. A fold adds its call's StatsDelta with ADD, in the same
// transaction as the summary. A call's rollups always go to the same shard
// (a hash of its id), so taking its old contribution out and putting the
// new one in meet in one item when both are in the same hour; shards
// spread a busy hour's folds over statsShards items, so that concurrent
// transactions seldom conflict. Stats queries each shard's hours, in
// parallel: statsShards Queries (more only past 1 MB), for any number of
// calls. Rollups have no TTL: they name no one, and outlive Retention.
const (
	pkStats     = "STATS#"
	skHour      = "H#"
	statsShards = 8
	hourMs      = 4 * store.StatsBucketMs
)

func statsShard(callID string) int {
	h := fnv.New32a()
	h.Write([]byte(callID))
	return int(h.Sum32() % statsShards)
}

func hourOf(ms int64) int64 {
	h := store.BucketOf(ms) / hourMs * hourMs
	if h > ms {
		h -= hourMs
	}
	return h
}

// statsUpdates are the transaction's actions adding deltas to callID's
// shard: one Update per hour item.
func (d *tableStore) statsUpdates(callID string, deltas []store.BucketCounts) ([]types.TransactWriteItem, error) {
	byHour := map[int64]map[string]int64{}
	for _, b := range deltas {
		h := hourOf(b.Start)
		if byHour[h] == nil {
			byHour[h] = map[string]int64{}
		}
		q := strconv.FormatInt((b.Start-h)/store.StatsBucketMs, 10)
		add := func(name string, n int64) {
			if n != 0 {
				byHour[h][name] += n
			}
		}
		add("c"+q, b.Calls)
		add("i"+q, b.InProgress)
		add("t"+q, b.TalkMs)
		for r, n := range b.ByResult {
			add("r"+q+":"+r, n)
		}
		for p, n := range b.ByProvider {
			add("p"+q+":"+p, n)
		}
	}
	var out []types.TransactWriteItem
	pk := pkStats + strconv.Itoa(statsShard(callID))
	for _, h := range slices.Sorted(maps.Keys(byHour)) {
		attrs := byHour[h]
		if len(attrs) == 0 {
			continue
		}
		key, err := itemKey(pk, fmt.Sprintf("%s%013d", skHour, h))
		if err != nil {
			return nil, err
		}
		var adds []string
		names := map[string]string{}
		vals := map[string]any{}
		for i, a := range slices.Sorted(maps.Keys(attrs)) {
			adds = append(adds, fmt.Sprintf("#a%d :v%d", i, i))
			names[fmt.Sprintf("#a%d", i)] = a
			vals[fmt.Sprintf(":v%d", i)] = attrs[a]
		}
		ev, err := exprValues(vals)
		if err != nil {
			return nil, err
		}
		out = append(out, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &d.table,
			Key:                       key,
			UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ")),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: ev,
		}})
	}
	return out, nil
}

// Stats queries every shard's hour items of [from, to) and adds them up.
func (d *tableStore) Stats(ctx context.Context, from, to int64) ([]store.BucketCounts, error) {
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	if to <= from {
		return nil, nil
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		errs    = make([]error, statsShards)
		buckets = map[int64]*store.Counts{}
	)
	lo, hi := fmt.Sprintf("%s%013d", skHour, hourOf(from)), fmt.Sprintf("%s%013d", skHour, hourOf(to-1))
	for shard := range statsShards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[shard] = d.query(ctx, &dynamodb.QueryInput{
				TableName:                &d.table,
				KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
				ExpressionAttributeNames: names(store.DynamoPK, store.DynamoSK),
			}, map[string]any{":pk": pkStats + strconv.Itoa(shard), ":lo": lo, ":hi": hi}, func(item map[string]types.AttributeValue) error {
				hour, parts, err := hourItem(item)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				for q, c := range parts {
					start := hour + int64(q)*store.StatsBucketMs
					if start < from || start >= to || c.IsZero() {
						continue
					}
					if buckets[start] == nil {
						buckets[start] = &store.Counts{}
					}
					buckets[start].Add(*c)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, d.errorf("rollups: %w", err)
		}
	}
	out := make([]store.BucketCounts, 0, len(buckets))
	for _, start := range slices.Sorted(maps.Keys(buckets)) {
		if c := buckets[start]; !c.IsZero() {
			out = append(out, store.BucketCounts{Start: start, Counts: *c})
		}
	}
	return out, nil
}

// hourItem reads a rollup item: its hour and its quarters' counts.
func hourItem(item map[string]types.AttributeValue) (int64, [4]*store.Counts, error) {
	var parts [4]*store.Counts
	for i := range parts {
		parts[i] = &store.Counts{}
	}
	sk, _ := item[store.DynamoSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return 0, parts, fmt.Errorf("rollup item without %s", store.DynamoSK)
	}
	hour, err := strconv.ParseInt(strings.TrimPrefix(sk.Value, skHour), 10, 64)
	if err != nil {
		return 0, parts, fmt.Errorf("rollup item %q: %w", sk.Value, err)
	}
	for name, v := range item {
		n, ok := v.(*types.AttributeValueMemberN)
		if !ok || len(name) < 2 || name[1] < '0' || name[1] > '3' {
			continue
		}
		val, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return 0, parts, fmt.Errorf("rollup item %q, %s: %w", sk.Value, name, err)
		}
		c := parts[name[1]-'0']
		label, sub, _ := strings.Cut(name[2:], ":")
		switch {
		case name[0] == 'c' && label == "":
			c.Calls += val
		case name[0] == 'i' && label == "":
			c.InProgress += val
		case name[0] == 't' && label == "":
			c.TalkMs += val
		case name[0] == 'r' && label == "" && sub != "":
			c.Add(store.Counts{ByResult: map[string]int64{sub: val}})
		case name[0] == 'p' && label == "" && sub != "":
			c.Add(store.Counts{ByProvider: map[string]int64{sub: val}})
		}
	}
	return hour, parts, nil
}
