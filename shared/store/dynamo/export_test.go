package dynamo

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// Import writes, in bulk (BatchWriteItem, `writers` at a time), the items
// the folds of calls' events would have left in st's table: summaries,
// month items, user items and, with rollups, the rollups, added up per
// item; no events. DynamoDB Local takes PutEvents some 40 a second, too
// few to fill a table of 20,000 calls for a benchmark; TestImport holds
// Import to what PutEvent writes. With summaries false only the rollups
// are written (Stats reads nothing else).
func Import(ctx context.Context, st store.Store, calls []call.Summary, summaries, rollups bool, writers int) error {
	d := st.(*tableStore)
	var items []map[string]types.AttributeValue
	add := func(v any) error {
		item, err := marshalItem(v)
		if err == nil {
			items = append(items, item)
		}
		return err
	}
	months := map[string]bool{}
	rollupAdds := map[dynKey]map[string]int64{}
	for i := range calls {
		s := &calls[i]
		if summaries {
			m := monthOf(s.SortTime())
			if !months[m] {
				months[m] = true
				if err := add(dynKey{pkMonths, m}); err != nil {
					return err
				}
			}
			exp := d.opts.ExpiresAt(s.LastEventTime)
			if err := add(dynSummary{dynKey: dynKey{callPK(s.CallID), skSummary}, Summary: *s, Version: int64(s.EventCount),
				GSI1PK: m, GSI1SK: store.ListKey(s), ExpiresAt: exp}); err != nil {
				return err
			}
			for _, u := range s.Users() {
				if err := add(userItem(u, s.CallID, s, exp)); err != nil {
					return err
				}
			}
		}
		if rollups {
			for k, attrs := range rollupItems(statsShard(s.CallID), store.StatsDelta(nil, s)) {
				if rollupAdds[k] == nil {
					rollupAdds[k] = map[string]int64{}
				}
				for name, n := range attrs {
					rollupAdds[k][name] += n
				}
			}
		}
	}
	for k, attrs := range rollupAdds {
		item, err := itemKey(k.PK, k.SK)
		if err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(attrs)) {
			item[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(attrs[name], 10)}
		}
		items = append(items, item)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	per := (len(items) + writers - 1) / writers
	for w := range writers {
		part := items[min(w*per, len(items)):min((w+1)*per, len(items))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = d.batchPut(ctx, part)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// StatsShards is the number of rollup shards.
const StatsShards = statsShards

// ImportOld writes calls as a table made before the history's indexes
// holds them: summaries not Indexed, user items out of byUser, no rollups.
func ImportOld(ctx context.Context, st store.Store, calls []call.Summary) error {
	d := st.(*tableStore)
	var items []map[string]types.AttributeValue
	months := map[string]bool{}
	for i := range calls {
		s := &calls[i]
		m := monthOf(s.SortTime())
		if !months[m] {
			months[m] = true
			item, err := marshalItem(dynKey{pkMonths, m})
			if err != nil {
				return err
			}
			items = append(items, item)
		}
		for _, v := range []any{
			dynSummary{dynKey: dynKey{callPK(s.CallID), skSummary}, Summary: *s, Version: int64(s.EventCount), GSI1PK: m, GSI1SK: store.ListKey(s)},
		} {
			item, err := marshalItem(v)
			if err != nil {
				return err
			}
			items = append(items, item)
		}
		for _, u := range s.Users() {
			item, err := marshalItem(dynUser{dynKey: dynKey{userPK(u), userSK(s.CallID)}, CallID: s.CallID})
			if err != nil {
				return err
			}
			items = append(items, item)
		}
	}
	return d.batchPut(ctx, items)
}

// TakeFolder takes callID's folder in st, as a process about to fold the
// call's parked events does; ok is false when another holds it. fold
// folds every parked event and releases the folder.
func TakeFolder(ctx context.Context, st store.Store, callID string) (ok bool, fold func() error, err error) {
	d := st.(*tableStore)
	token, err := d.takeFolder(ctx, callID)
	if token == "" || err != nil {
		return false, nil, err
	}
	return true, func() error {
		defer d.dropFolder(ctx, callID, token)
		return d.help(ctx, callID)
	}, nil
}

// Parked is how many of callID's events are parked in st's table.
func Parked(ctx context.Context, st store.Store, callID string) (int, error) {
	d := st.(*tableStore)
	n := 0
	err := d.queryPartition(ctx, callPK(callID), skPending, func(map[string]types.AttributeValue) error { n++; return nil })
	return n, err
}

// FolderFor is how long a call's folder is held before another may take it.
const FolderFor = folderFor
