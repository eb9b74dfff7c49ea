package dynamo

// The fold of events into their call's summary, grouped.
//
// A call's events are folded one transaction at a time: each transaction
// is conditioned on the summary's version it read, so two folds of one
// call never both commit. Events of one call that arrive together in this
// process queue behind the fold in flight, and the next fold takes them
// all (up to a transaction's room): one read and one transaction for the
// group instead of one each, most of which would fail on the version and
// retry. Each event keeps its own condition (no item at its key), so a
// delivery stored elsewhere meanwhile cancels the group, and the retry
// reads it and reports it as already stored: exactly once holds across
// processes as within one.
//
// A fold starts with one BatchGetItem (consistent) of the summary, the
// group's event items and, the first time this process folds a call of
// a month, the month's item: an event already stored ends there (a
// duplicate costs that one request), and a month already listed is not
// written again. A month not yet listed is written in the transaction.

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// A group holds at most maxGroupEvents events, their items and deliveries
// at most maxGroupItems transaction actions and about maxGroupBytes
// (DynamoDB allows 100 actions and 4 MB in a transaction; the summary,
// the rollups, the month and user items share the rest).
const (
	maxGroupEvents = 25
	maxGroupItems  = 50
	maxGroupBytes  = 1 << 20
)

// putReq is one PutEvent of a call event, waiting in its call's queue.
type putReq struct {
	ev   *call.Event
	put  *types.Put                // the event's item, conditional on its absence
	owed []types.TransactWriteItem // its deliveries
	size int                       // the event item's size, about
	del  *types.Delete             // for a parked event being folded: its marker's removal, in place of put

	done chan putResult // its outcome, once its group's fold ends
	lead chan struct{}  // signalled when it is to fold the next group

	// Under tableStore.qmu:
	taken   bool // in a group being folded
	leading bool // to fold the next group
}

type putResult struct {
	stored bool
	err    error
}

// callQueue is a call's events waiting to be folded; it is in
// tableStore.queues while a fold of the call is in flight.
type callQueue struct{ pending []*putReq }

// queueCallEvent stores r's event and folds it into its call's summary:
// at once, when no fold of the call is in flight in this process, else in
// the next group.
func (d *tableStore) queueCallEvent(ctx context.Context, r *putReq) (bool, error) {
	r.done, r.lead = make(chan putResult, 1), make(chan struct{}, 1)
	callID := r.ev.CallID
	d.qmu.Lock()
	if d.queues == nil {
		d.queues = map[string]*callQueue{}
	}
	q, busy := d.queues[callID]
	if !busy {
		q = &callQueue{}
		d.queues[callID] = q
		r.leading = true
	}
	q.pending = append(q.pending, r)
	d.qmu.Unlock()
	if busy {
		select {
		case res := <-r.done:
			return res.stored, res.err
		case <-r.lead:
		case <-ctx.Done():
			d.qmu.Lock()
			defer d.qmu.Unlock()
			if !r.taken {
				q.pending = slices.DeleteFunc(q.pending, func(p *putReq) bool { return p == r })
				if r.leading {
					d.handOff(q, callID)
				}
			} // else the group it is in may yet store it: a redelivery will tell
			return false, d.errorf("put event %s of call %.64q: %w", r.ev.DeliveryID, callID, ctx.Err())
		}
	}
	// r leads: it is q.pending[0].
	d.qmu.Lock()
	group := d.takeGroup(q)
	d.qmu.Unlock()
	d.foldGroup(ctx, group)
	d.qmu.Lock()
	d.handOff(q, callID)
	d.qmu.Unlock()
	res := <-r.done
	return res.stored, res.err
}

// takeGroup takes the next group from q's head (its leader first), under
// qmu: events up to a transaction's room, no delivery twice.
func (d *tableStore) takeGroup(q *callQueue) []*putReq {
	var group, rest []*putReq
	items, bytes := 0, 0
	seen := map[string]bool{}
	for i, r := range q.pending {
		n := 1 + len(r.owed)
		full := len(group) == maxGroupEvents || items+n > maxGroupItems || bytes+r.size > maxGroupBytes
		if i > 0 && (full || seen[r.ev.DeliveryID]) {
			rest = append(rest, r)
			continue
		}
		seen[r.ev.DeliveryID] = true
		r.taken = true
		group = append(group, r)
		items, bytes = items+n, bytes+r.size
	}
	q.pending = rest
	return group
}

// handOff, under qmu, after a fold: the next waiting event leads the next
// group, or the call has no fold in flight.
func (d *tableStore) handOff(q *callQueue, callID string) {
	if len(q.pending) == 0 {
		delete(d.queues, callID)
		return
	}
	next := q.pending[0]
	if !next.leading {
		next.leading = true
		next.lead <- struct{}{}
	}
}

// foldGroup stores group's events (of one call, delivery ids distinct)
// and folds them into the call's summary, in one attempt or, when another
// fold of the call meets it, by parking them (parkAndAwait); every event's
// done gets its outcome.
func (d *tableStore) foldGroup(ctx context.Context, group []*putReq) {
	finish := func(r *putReq, stored bool, err error) { r.done <- putResult{stored, err} }
	left, retry, err := d.foldOnce(ctx, group, finish)
	if retry {
		// Another fold of the call met this one, or holds the call's
		// folder: park the events and see them folded (see parkAndAwait).
		d.parkAndAwait(ctx, left, errors.Is(err, errFolderHeld), finish)
		return
	}
	for _, r := range left {
		finish(r, false, err)
	}
}

// foldOnce makes one attempt at group: it finishes the events it settles
// (already stored, unstorable, or stored now) and returns those left,
// with retry true when the attempt met another fold (or a throttle) and
// is to be made again, else with the error that fails them all.
func (d *tableStore) foldOnce(ctx context.Context, group []*putReq, finish func(*putReq, bool, error)) (left []*putReq, retry bool, err error) {
	callID := group[0].ev.CallID
	pk := callPK(callID)

	// One read: the summary, the events, the month (see above).
	keys := make([]map[string]types.AttributeValue, 0, len(group)+2)
	add := func(pk, sk string) error {
		k, err := itemKey(pk, sk)
		keys = append(keys, k)
		return err
	}
	if err := add(pk, skSummary); err != nil {
		return group, false, d.errorf("summary of %.64q: %w", callID, err)
	}
	for _, r := range group {
		if err := add(pk, eventSK(r.ev)); err != nil {
			return group, false, d.errorf("event %s: %w", r.ev.DeliveryID, err)
		}
		if err := add(pk, markerSK(r.ev)); err != nil {
			return group, false, d.errorf("event %s: %w", r.ev.DeliveryID, err)
		}
	}
	if err := add(pk, skFolder); err != nil {
		return group, false, d.errorf("folder of %.64q: %w", callID, err)
	}
	month := monthOf(guessSortTime(group[0].ev))
	if _, ok := d.months.Load(month); !ok {
		if err := add(pkMonths, month); err != nil {
			return group, false, d.errorf("month %s: %w", month, err)
		}
	}
	var summaryItem, folder map[string]types.AttributeValue
	stored := map[string]bool{} // sort keys of events there and not expired
	err = d.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		var k dynKey
		if err := unmarshalItem(item, &k); err != nil {
			return err
		}
		switch {
		case k.PK == pkMonths:
			d.months.Store(k.SK, true)
		case k.SK == skSummary:
			summaryItem = item
		case k.SK == skFolder:
			folder = item
		default:
			if !d.opts.Expired(ttlOf(item)) {
				stored[k.SK] = true
			}
		}
		return nil
	})
	if err != nil {
		return group, false, d.errorf("read call %.64q: %w", callID, err)
	}
	var unfolded []*putReq
	for _, r := range group {
		switch {
		case stored[eventSK(r.ev)] && stored[markerSK(r.ev)]:
			unfolded = append(unfolded, r) // stored, parked, not folded yet
		case stored[eventSK(r.ev)]:
			finish(r, false, nil) // this delivery is already stored
		default:
			left = append(left, r)
		}
	}
	if len(unfolded) > 0 {
		// Its delivery is stored, but its fold is owed: see it folded.
		err := d.awaitFold(ctx, callID, unfolded, d.folderLive(folder))
		for _, r := range unfolded {
			finish(r, false, err)
		}
	}
	if len(left) == 0 {
		return nil, false, nil
	}
	if d.folderLive(folder) {
		return left, true, errFolderHeld // park at once: the folder's commits would cancel this one's
	}
	return d.commitFold(ctx, callID, summaryItem, left, map[dynKey]dynUser{}, false, finish)
}

// commitFold folds group's events into the summary as read (summaryItem,
// nil for none) and commits the fold with the group's own actions (their
// events' puts, or their markers' removal), as foldOnce says. holding says
// this process holds the call's folder.
func (d *tableStore) commitFold(ctx context.Context, callID string, summaryItem map[string]types.AttributeValue, group []*putReq, written map[dynKey]dynUser, holding bool, finish func(*putReq, bool, error)) (left []*putReq, retry bool, err error) {
	pk := callPK(callID)
	// The fold: cur as read, s the summary with the group in.
	var cur dynSummary
	exists := summaryItem != nil
	base := func() (call.Summary, error) {
		var c dynSummary
		if !exists {
			return call.Summary{}, nil
		}
		if err := unmarshalSummary(summaryItem, &c); err != nil {
			return call.Summary{}, err
		}
		if d.opts.Expired(c.ExpiresAt) {
			return call.Summary{}, nil // every event of the old summary has expired: start over
		}
		return c.Summary, nil
	}
	if exists {
		if err := unmarshalSummary(summaryItem, &cur); err != nil {
			return group, false, d.errorf("summary of %.64q: %w", callID, err)
		}
	}
	var prev *call.Summary // as indexed and counted so far; nil when not
	if exists && cur.Indexed {
		p := cur.Summary
		prev = &p
	}
	s, err := base()
	if err != nil {
		return group, false, d.errorf("summary of %.64q: %w", callID, err)
	}
	left = left[:0:0]
	for i, r := range group {
		s.Apply(r.ev)
		if err := store.CheckSummary(&s); err != nil {
			// r is refused; the summary goes back to without it.
			finish(r, false, d.errorf("put event %s: %w", r.ev.DeliveryID, err))
			if s, err = base(); err != nil {
				return append(left, group[i+1:]...), false, d.errorf("summary of %.64q: %w", callID, err)
			}
			for _, l := range left {
				s.Apply(l.ev)
			}
			continue
		}
		left = append(left, r)
	}
	if len(left) == 0 {
		return nil, false, nil
	}
	group = left
	next := dynSummary{
		dynKey:    dynKey{pk, skSummary},
		Summary:   s,
		Version:   cur.Version + 1,
		GSI1PK:    monthOf(s.SortTime()),
		GSI1SK:    store.ListKey(&s),
		ExpiresAt: d.opts.ExpiresAt(s.LastEventTime),
		Indexed:   true,
	}
	item, err := marshalSummary(next)
	if err != nil {
		return group, false, d.errorf("summary of %.64q: %w", callID, err)
	}
	// The summary is written only over the version read (or where there
	// was none), so a concurrent fold makes this attempt fail, not vanish.
	putSummary := &types.Put{TableName: &d.table, Item: item}
	if exists {
		putSummary.ConditionExpression = aws.String("#" + attrVer + " = :v")
		putSummary.ExpressionAttributeNames = names(attrVer)
		if putSummary.ExpressionAttributeValues, err = exprValues(map[string]any{":v": cur.Version}); err != nil {
			return group, false, d.errorf("summary of %.64q: %w", callID, err)
		}
	} else {
		putSummary.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		putSummary.ExpressionAttributeNames = names(store.DynamoPK)
	}
	// The events first, then the summary: the cancellation reasons of
	// those are read below.
	tx := make([]types.TransactWriteItem, 0, maxTxItems)
	var owed int
	for _, r := range group {
		if r.del != nil {
			tx = append(tx, types.TransactWriteItem{Delete: r.del})
		} else {
			tx = append(tx, types.TransactWriteItem{Put: r.put})
		}
		owed += len(r.owed)
	}
	tx = append(tx, types.TransactWriteItem{Put: putSummary})
	// The rollups move by the change of the call's contribution.
	stats, err := d.statsUpdates(callID, store.StatsDelta(prev, &s))
	if err != nil {
		return group, false, d.errorf("rollups of %.64q: %w", callID, err)
	}
	tx = append(tx, stats...)
	// The month the call is listed under, when not known to be listed.
	var newMonth string
	if next.GSI1PK != cur.GSI1PK {
		if _, ok := d.months.Load(next.GSI1PK); !ok {
			newMonth = next.GSI1PK
			mi, err := marshalItem(dynKey{pkMonths, newMonth})
			if err != nil {
				return group, false, d.errorf("month %s: %w", newMonth, err)
			}
			tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: mi}})
		}
	}

	// User items whose content changes: a user new to the call, or every
	// one when what the byUser index holds of the call changed (its time,
	// status, result...) or its expiry moved (their TTL follows the
	// summary's); a user no longer in the call leaves the index.
	var users []dynUser
	var oldUsers []string
	if prev != nil {
		oldUsers = prev.Users()
	} else if exists {
		oldUsers = cur.Summary.Users() // their items, not indexed yet: written anew
	}
	everyone := s.Users()
	if len(oldUsers) > 0 {
		in := make(map[string]bool, len(everyone))
		for _, u := range everyone {
			in[u] = true
		}
		for _, u := range oldUsers {
			if !in[u] {
				everyone = append(everyone, u)
			}
		}
	}
	var wasIn map[string]bool
	if prev != nil {
		wasIn = make(map[string]bool, len(oldUsers))
		for _, u := range oldUsers {
			wasIn[u] = true
		}
	}
	now, was := newUserItems(callID, &s, next.ExpiresAt), newUserItems(callID, prev, cur.ExpiresAt)
	for _, u := range everyone {
		ui := now.item(u)
		if wasIn[u] && ui == was.item(u) {
			continue
		}
		users = append(users, ui)
	}
	if room := maxTxItems - len(tx) - owed; len(users) > room {
		// A fold this large runs in the process holding the call's folder
		// alone, so that processes meeting on a group call do not each
		// write its user items in vain: the others park their events, and
		// this one folds them after its own.
		if !holding {
			token, terr := d.takeFolder(ctx, callID)
			if terr != nil {
				return group, false, d.errorf("folder of %.64q: %w", callID, terr)
			}
			if token == "" {
				return group, true, errFolderHeld
			}
			defer func() {
				if err == nil { // commitFold's own error, as it returns
					// Committed: the events parked meanwhile are folded
					// before the folder is let go, not after another
					// process has seen it free. Those this fails to fold
					// are folded by their own processes.
					d.help(ctx, callID)
				}
				d.dropFolder(ctx, callID, token)
			}()
		}
		// Idempotent puts, written before the transaction so that a
		// redelivery after a failure finds them in place; an item for a
		// call that then fails to store is skipped by UserCalls. Those an
		// earlier attempt wrote as they are now are not written again.
		var batch []map[string]types.AttributeValue
		for _, ui := range users[room:] {
			if w, ok := written[ui.dynKey]; ok && w == ui {
				continue
			}
			m, err := marshalItem(ui)
			if err != nil {
				return group, false, d.errorf("user index of %.64q: %w", callID, err)
			}
			batch = append(batch, m)
		}
		if err := d.batchPut(ctx, batch); err != nil {
			return group, false, d.errorf("user index of %.64q: %w", callID, err)
		}
		for _, ui := range users[room:] {
			written[ui.dynKey] = ui
		}
		users = users[:room]
	}
	for _, ui := range users {
		m, err := marshalItem(ui)
		if err != nil {
			return group, false, d.errorf("user index of %.64q: %w", callID, err)
		}
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: m}})
	}
	for _, r := range group {
		tx = append(tx, r.owed...)
	}

	// The SDK fills in ClientRequestToken, so its own retry of a commit
	// whose answer was lost succeeds instead of failing the event's
	// condition.
	_, err = d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		if newMonth != "" {
			d.months.Store(newMonth, true)
		}
		for _, r := range group {
			finish(r, true, nil)
		}
		return nil, false, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return group, false, d.errorf("put events of call %.64q: %w", callID, classify(err))
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
	for i := range group {
		if code(i) == "ConditionalCheckFailed" {
			// Stored meanwhile by another process: the next attempt reads
			// it and says so.
			return group, true, d.errorf("event %s of call %.64q stored meanwhile", group[i].ev.DeliveryID, callID)
		}
	}
	switch {
	case code(len(group)) == "ConditionalCheckFailed":
		return group, true, d.errorf("summary of %.64q changed while folding an event in", callID)
	case slices.Contains(codes, "TransactionConflict") || slices.Contains(codes, "ThrottlingError") ||
		slices.Contains(codes, "ProvisionedThroughputExceeded"):
		return group, true, d.errorf("put events of call %.64q: %w", callID, err)
	}
	return group, false, d.errorf("put events of call %.64q: transaction cancelled (%s): %w",
		callID, strings.Join(codes, ", "), classify(err))
}

// guessSortTime is the time the call of ev, if new, is listed under: the
// month item read with the summary is that time's.
func guessSortTime(ev *call.Event) int64 {
	if ev.Facts.StartTime != 0 {
		return ev.Facts.StartTime
	}
	return ev.EventTime
}

// ttlOf is an item's TTL attribute (0: none).
func ttlOf(item map[string]types.AttributeValue) int64 {
	n, ok := item[store.DynamoTTL].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.ParseInt(n.Value, 10, 64)
	return v
}

// Contention across processes. When a fold fails because another fold of
// the call committed first, its events are parked instead of retried as
// they were: one transaction stores each event (still conditional on its
// absence, with its deliveries) and beside it a marker, PENDING#<event
// key>, holding the event too. Then one process at a time, the one holding
// the call's folder (folder.go), folds them: one Query reads the summary
// and the parked events (their sort keys sort next to each other), and one
// transaction folds up to a group of them at once and commits the summary
// with their markers' removal. An event is acknowledged once its marker is
// gone: folded, by its own process or another. So N processes folding one
// call at once take N/25 rounds of one process, not N rounds of N. A
// redelivery that finds its event stored with its marker still there waits
// for it to be folded (or folds it) before it answers, so a process lost
// between the park and the fold delays the fold only until the call's
// next event.
const skPending = "PENDING#"

func markerSK(ev *call.Event) string { return skPending + store.KeyID(store.EventKey(ev)) }

// parkAndAwait parks group's events and sees them folded in; held says
// the call's folder was found held.
func (d *tableStore) parkAndAwait(ctx context.Context, group []*putReq, held bool, finish func(*putReq, bool, error)) {
	callID := group[0].ev.CallID
	for len(group) > 0 {
		tx := make([]types.TransactWriteItem, 0, 2*len(group))
		for _, r := range group {
			// The marker: the event without its raw body (the fold reads
			// the rest).
			marker := maps.Clone(r.put.Item)
			marker[store.DynamoSK] = &types.AttributeValueMemberS{Value: markerSK(r.ev)}
			delete(marker, "raw")
			delete(marker, "rawGz")
			tx = append(tx, types.TransactWriteItem{Put: r.put}, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: marker}})
		}
		for _, r := range group {
			tx = append(tx, r.owed...)
		}
		_, err := d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		if err == nil {
			break
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			for _, r := range group {
				finish(r, false, d.errorf("put event %s of call %.64q: %w", r.ev.DeliveryID, callID, classify(err)))
			}
			return
		}
		// An event stored meanwhile is a duplicate: the rest try again.
		var rest []*putReq
		for i, r := range group {
			if 2*i < len(tce.CancellationReasons) && aws.ToString(tce.CancellationReasons[2*i].Code) == "ConditionalCheckFailed" {
				finish(r, false, nil)
			} else {
				rest = append(rest, r)
			}
		}
		if len(rest) == len(group) {
			for _, r := range group {
				finish(r, false, d.errorf("put event %s of call %.64q: %w", r.ev.DeliveryID, callID, classify(err)))
			}
			return
		}
		group = rest
	}
	if len(group) == 0 {
		return
	}
	err := d.awaitFold(ctx, callID, group, held)
	for _, r := range group {
		finish(r, err == nil, err)
	}
}

// help folds the call's parked events until none is left. It runs in the
// process holding the call's folder.
func (d *tableStore) help(ctx context.Context, callID string) error {
	written := map[dynKey]dynUser{}
	for attempt := 1; ; attempt++ {
		var summaryItem map[string]types.AttributeValue
		var parked []*putReq
		// One page, newest first: the summary and the last parked events
		// (at most a group's), not every one parked.
		vals, err := exprValues(map[string]any{":pk": callPK(callID), ":lo": skPending, ":hi": skSummary})
		if err != nil {
			return d.errorf("read call %.64q: %w", callID, err)
		}
		out, err := d.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &d.table,
			KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
			ExpressionAttributeNames:  names(store.DynamoPK, store.DynamoSK),
			ExpressionAttributeValues: vals,
			ConsistentRead:            aws.Bool(true),
			ScanIndexForward:          aws.Bool(false),
			Limit:                     aws.Int32(maxGroupEvents + 1),
		})
		if err == nil {
			for _, item := range out.Items {
				if err = d.readParked(item, &summaryItem, &parked); err != nil {
					break
				}
			}
		}
		if err != nil {
			return d.errorf("read call %.64q: %w", callID, err)
		}
		if len(parked) == 0 {
			return nil
		}
		if attempt == maxPutAttempts {
			return d.errorf("fold of call %.64q: gave up after %d attempts", callID, attempt)
		}
		_, retry, err := d.commitFold(ctx, callID, summaryItem, parked, written, true, func(*putReq, bool, error) {})
		if err != nil && !retry {
			return err
		}
		if retry {
			if err := retryBackoff.Wait(ctx, attempt); err != nil {
				return d.errorf("fold of call %.64q: %w", callID, err)
			}
		}
	}
}

// readParked takes one item of help's Query: the summary, or a parked
// event.
func (d *tableStore) readParked(item map[string]types.AttributeValue, summaryItem *map[string]types.AttributeValue, parked *[]*putReq) error {
	var k dynKey
	if err := unmarshalItem(item, &k); err != nil {
		return err
	}
	if k.SK == skSummary {
		*summaryItem = item
		return nil
	}
	if !strings.HasPrefix(k.SK, skPending) {
		return nil
	}
	var e dynEvent
	if err := unmarshalItem(item, &e); err != nil {
		return err
	}
	ev, err := e.event()
	if err != nil {
		return err
	}
	key, err := itemKey(k.PK, k.SK)
	if err != nil {
		return err
	}
	*parked = append(*parked, &putReq{ev: ev, del: &types.Delete{TableName: &d.table, Key: key,
		ConditionExpression: aws.String("attribute_exists(#pk)"), ExpressionAttributeNames: names(store.DynamoPK)},
		done: make(chan putResult, 1)})
	return nil
}
