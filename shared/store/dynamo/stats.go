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

// The rollups, in two tiers of items, per shard:
//
//	STATS#<shard>    B#<%013d block start>   each hour h (0..5) of six UTC hours
//	STATSQ#<shard>   H#<%013d hour start>    each quarter q (0..3) of an hour
//
// An item holds, for each of its hours (quarters) n, the calls c<n>, the
// calls still ringing or in progress i<n>, the talk ms t<n>, and the calls
// by result r<n>:<result> and by provider p<n>:<provider>. A fold adds its
// call's StatsDelta to both tiers with ADD, in the same transaction as the
// summary. A call's rollups always go to the same shard (a hash of its
// id), so taking its old contribution out and putting the new one in meet
// in the same items when both fall in the same hour; shards spread the
// folds of a busy moment over statsShards items, so that concurrent
// transactions seldom conflict.
//
// Stats reads the hours tier for every whole hour its ranges span (one
// Query per shard: 4 items a shard and day), and the quarters tier only
// for the hours a range starts or ends inside (a time zone half an hour
// or three quarters from UTC: one BatchGetItem for up to 100 such items).
// Hours, not quarters, keep a month's reading small (DynamoDB Local takes
// time in the number of values it reads); blocks of six hours keep an
// item small (a write's cost). Rollups have no TTL: they name no one, and
// outlive Retention.
const (
	pkStats     = "STATS#"
	pkStatsQ    = "STATSQ#"
	skBlock     = "B#"
	skHour      = "H#"
	statsShards = 4
	hourMs      = 4 * store.StatsBucketMs
	blockMs     = 6 * hourMs
)

func statsShard(callID string) int {
	h := fnv.New32a()
	h.Write([]byte(callID))
	return int(h.Sum32() % statsShards)
}

// floorTo rounds ms down to a multiple of unit.
func floorTo(ms, unit int64) int64 {
	f := ms / unit * unit
	if f > ms {
		f -= unit
	}
	return f
}

func rollupSK(prefix string, start int64) string { return fmt.Sprintf("%s%013d", prefix, start) }

// rollupItems are deltas as additions to shard's rollup items, both
// tiers, by item.
func rollupItems(shard int, deltas []store.BucketCounts) map[dynKey]map[string]int64 {
	out := map[dynKey]map[string]int64{}
	add := func(k dynKey, n int64, c *store.Counts) {
		if out[k] == nil {
			out[k] = map[string]int64{}
		}
		put := func(name string, v int64) {
			if v != 0 {
				out[k][name] += v
			}
		}
		i := strconv.FormatInt(n, 10)
		put("c"+i, c.Calls)
		put("i"+i, c.InProgress)
		put("t"+i, c.TalkMs)
		for r, v := range c.ByResult {
			put("r"+i+":"+r, v)
		}
		for p, v := range c.ByProvider {
			put("p"+i+":"+p, v)
		}
	}
	s := strconv.Itoa(shard)
	for _, d := range deltas {
		block, hour := floorTo(d.Start, blockMs), floorTo(d.Start, hourMs)
		add(dynKey{pkStats + s, rollupSK(skBlock, block)}, (hour-block)/hourMs, &d.Counts)
		add(dynKey{pkStatsQ + s, rollupSK(skHour, hour)}, (d.Start-hour)/store.StatsBucketMs, &d.Counts)
	}
	for k, attrs := range out {
		if len(attrs) == 0 {
			delete(out, k)
		}
	}
	return out
}

// statsUpdates are the transaction's actions adding deltas to callID's
// rollups: one ADD per item.
func (d *tableStore) statsUpdates(callID string, deltas []store.BucketCounts) ([]types.TransactWriteItem, error) {
	items := rollupItems(statsShard(callID), deltas)
	keys := slices.SortedFunc(maps.Keys(items), func(a, b dynKey) int { return strings.Compare(a.PK+a.SK, b.PK+b.SK) })
	var out []types.TransactWriteItem
	for _, k := range keys {
		key, err := itemKey(k.PK, k.SK)
		if err != nil {
			return nil, err
		}
		attrs := items[k]
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

// Stats adds up whole hours from the hours tier and, where a range starts
// or ends inside an hour, that hour's quarters from the quarters tier.
func (d *tableStore) Stats(ctx context.Context, bounds []int64) ([]store.Counts, error) {
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	if err := store.CheckBounds(bounds); err != nil {
		return nil, err
	}
	first, end := bounds[0], bounds[len(bounds)-1]
	hours := map[int64]*store.Counts{}    // whole hours, by start
	quarters := map[int64]*store.Counts{} // quarters of the hours ranges cut, by start
	var mu sync.Mutex
	into := func(m map[int64]*store.Counts, start int64, c *store.Counts) {
		mu.Lock()
		defer mu.Unlock()
		if m[start] == nil {
			m[start] = &store.Counts{}
		}
		m[start].Add(*c)
	}

	// The hours tier: one Query per shard.
	var wg sync.WaitGroup
	errs := make([]error, statsShards+1)
	lo, hi := rollupSK(skBlock, floorTo(first, blockMs)), rollupSK(skBlock, floorTo(end-1, blockMs))
	for shard := range statsShards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[shard] = d.query(ctx, &dynamodb.QueryInput{
				TableName:                &d.table,
				KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
				ExpressionAttributeNames: names(store.DynamoPK, store.DynamoSK),
			}, map[string]any{":pk": pkStats + strconv.Itoa(shard), ":lo": lo, ":hi": hi}, func(item map[string]types.AttributeValue) error {
				start, parts, err := rollupItem(item, skBlock, hourMs, blockMs/hourMs)
				for i, c := range parts {
					if c != nil {
						into(hours, start+int64(i)*hourMs, c)
					}
				}
				return err
			})
		}()
	}
	// The quarters tier, for the hours a bound cuts.
	var cut []int64
	for _, b := range bounds {
		if h := floorTo(b, hourMs); h != b && !slices.Contains(cut, h) {
			cut = append(cut, h)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var keys []map[string]types.AttributeValue
		for _, h := range cut {
			for shard := range statsShards {
				k, err := itemKey(pkStatsQ+strconv.Itoa(shard), rollupSK(skHour, h))
				if err != nil {
					errs[statsShards] = err
					return
				}
				keys = append(keys, k)
			}
		}
		errs[statsShards] = d.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
			start, parts, err := rollupItem(item, skHour, store.StatsBucketMs, hourMs/store.StatsBucketMs)
			for i, c := range parts {
				if c != nil {
					into(quarters, start+int64(i)*store.StatsBucketMs, c)
				}
			}
			return err
		})
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, d.errorf("rollups: %w", err)
		}
	}

	out := make([]store.Counts, len(bounds)-1)
	for r := range out {
		a, b := bounds[r], bounds[r+1]
		// [a, b) = the quarters of a's hour from a, whole hours, the
		// quarters of b's hour until b.
		headEnd := min(b, floorTo(a+hourMs-1, hourMs)) // a's hour's end, or b within it
		for t := a; t < headEnd; t += store.StatsBucketMs {
			if c := quarters[t]; c != nil {
				out[r].Add(*c)
			}
		}
		tail := max(headEnd, floorTo(b, hourMs))
		for t := headEnd; t < tail; t += hourMs {
			if c := hours[t]; c != nil {
				out[r].Add(*c)
			}
		}
		for t := tail; t < b; t += store.StatsBucketMs {
			if c := quarters[t]; c != nil {
				out[r].Add(*c)
			}
		}
	}
	return out, nil
}

// rollupItem reads a rollup item whose sort key is prefix and its start:
// its start and the counts of each of its n parts of width ms (nil where
// it holds nothing).
func rollupItem(item map[string]types.AttributeValue, prefix string, width int64, n int64) (int64, []*store.Counts, error) {
	parts := make([]*store.Counts, n)
	sk, _ := item[store.DynamoSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return 0, nil, fmt.Errorf("rollup item without %s", store.DynamoSK)
	}
	start, err := strconv.ParseInt(strings.TrimPrefix(sk.Value, prefix), 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("rollup item %q: %w", sk.Value, err)
	}
	for name, v := range item {
		num, ok := v.(*types.AttributeValueMemberN)
		if !ok || name == "" || !strings.Contains("citrp", name[:1]) {
			continue
		}
		// kind, part, and for r and p ":" and a name.
		idx, label, _ := strings.Cut(name[1:], ":")
		i, err := strconv.ParseInt(idx, 10, 64)
		if err != nil || i < 0 || i >= n {
			continue
		}
		val, err := strconv.ParseInt(num.Value, 10, 64)
		if err != nil {
			return 0, nil, fmt.Errorf("rollup item %q, %s: %w", sk.Value, name, err)
		}
		if parts[i] == nil {
			parts[i] = &store.Counts{}
		}
		c := parts[i]
		switch kind := name[0]; {
		case kind == 'c' && label == "":
			c.Calls += val
		case kind == 'i' && label == "":
			c.InProgress += val
		case kind == 't' && label == "":
			c.TalkMs += val
		case kind == 'r' && label != "":
			c.Add(store.Counts{ByResult: map[string]int64{label: val}})
		case kind == 'p' && label != "":
			c.Add(store.Counts{ByProvider: map[string]int64{label: val}})
		}
	}
	return start, parts, nil
}
