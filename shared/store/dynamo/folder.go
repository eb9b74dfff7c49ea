package dynamo

// The call's folder: one process at a time folds a contended call's parked
// events (fold.go).
//
// When many processes meet on one call at once (every member of a group
// call answering in the same second, each callback in a Lambda instance
// of its own), each used to help fold the parked events: N helpers, one
// summary version, so every round one commit and N-1 cancelled
// transactions, each retried after a backoff, until replies ran out of
// time (200 such callbacks took tens of seconds, most answered with a
// retry). Now a process whose events are parked takes the call's folder,
// an item CALL#<callId> FOLDER with a token and an expiry, by a
// conditional write: the one that gets it folds every parked event, 25 a
// transaction, and deletes it; the others only read, now and then,
// whether their events' markers are gone, and take the folder themselves
// when it is free again. A fold that finds the folder taken does not try
// its own commit, which would only meet the folder's: it parks its events
// at once.
//
// The folder makes contention cheap, not correctness: every fold is still
// conditional on the summary's version, so a folder that outlived its
// expiry (folderFor) and a process that took it over after that cannot
// both commit. A process lost while holding it delays its call's parked
// events until it expires; DynamoDB's TTL deletes a folder left behind.

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/backoff"
	"github.com/callfn/callfn/shared/store"
)

const (
	skFolder = "FOLDER"
	// folderFor is how long a folder is held before another process may
	// take it: longer than folding a few hundred parked events takes.
	folderFor = 10 * time.Second
)

// folderPoll is how often a process whose events another folds reads
// whether they are folded.
var folderPoll = backoff.Policy{Base: 250 * time.Millisecond, Max: 2 * time.Second}

// errFolderHeld: a fold found its call's folder held by another process.
var errFolderHeld = errors.New("another process folds the call")

type dynFolder struct {
	dynKey
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expiresAt"` // Unix seconds; also the item's TTL
}

// folderLive reports whether item (as read, nil for none) is a folder another
// process holds now.
func (d *tableStore) folderLive(item map[string]types.AttributeValue) bool {
	if item == nil {
		return false
	}
	var f dynFolder
	return unmarshalItem(item, &f) == nil && !d.opts.Expired(f.ExpiresAt)
}

// takeFolder takes callID's folder unless another process holds it; its
// token ("" when held) releases it.
func (d *tableStore) takeFolder(ctx context.Context, callID string) (string, error) {
	token := rand.Text()
	now := d.opts.Time()
	item, err := marshalItem(dynFolder{dynKey{callPK(callID), skFolder}, token, now.Add(folderFor).Unix()})
	if err != nil {
		return "", err
	}
	vals, err := exprValues(map[string]any{":now": now.Unix()})
	if err != nil {
		return "", err
	}
	took, err := d.putUnlessLive(ctx, item, vals)
	if !took {
		return "", classify(err)
	}
	return token, nil
}

// dropFolder deletes callID's folder if it still holds token. It runs
// after the fold, even when the request's time is up; a folder it cannot
// delete expires.
func (d *tableStore) dropFolder(ctx context.Context, callID, token string) {
	key, err := itemKey(callPK(callID), skFolder)
	if err != nil {
		return
	}
	vals, err := exprValues(map[string]any{":t": token})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), store.CallMargin)
	defer cancel()
	d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &d.table,
		Key:                       key,
		ConditionExpression:       aws.String("#token = :t"),
		ExpressionAttributeNames:  names("token"),
		ExpressionAttributeValues: vals,
	})
}

// awaitFold returns once none of mine (events parked) is parked any more:
// folded by this process, holding the call's folder, or by the process
// that holds it. held says another process holds the folder, as last read.
func (d *tableStore) awaitFold(ctx context.Context, callID string, mine []*putReq, held bool) error {
	for n := 1; ; n++ {
		if !held {
			token, err := d.takeFolder(ctx, callID)
			if err != nil {
				return d.errorf("fold of call %.64q: %w", callID, err)
			}
			if token != "" {
				err := d.help(ctx, callID)
				d.dropFolder(ctx, callID, token)
				return err
			}
		}
		if err := folderPoll.Wait(ctx, n); err != nil {
			return d.errorf("fold of call %.64q: %w", callID, err)
		}
		left, folder, err := d.readMarkers(ctx, callID, mine)
		if err != nil {
			return d.errorf("fold of call %.64q: %w", callID, err)
		}
		if left == 0 {
			return nil
		}
		held = d.folderLive(folder)
	}
}

// readMarkers reads, in one BatchGetItem, how many of mine are still
// parked, and callID's folder (nil when there is none).
func (d *tableStore) readMarkers(ctx context.Context, callID string, mine []*putReq) (left int, folder map[string]types.AttributeValue, err error) {
	pk := callPK(callID)
	keys := make([]map[string]types.AttributeValue, 0, len(mine)+1)
	for _, r := range mine {
		k, err := itemKey(pk, markerSK(r.ev))
		if err != nil {
			return 0, nil, err
		}
		keys = append(keys, k)
	}
	k, err := itemKey(pk, skFolder)
	if err != nil {
		return 0, nil, err
	}
	keys = append(keys, k)
	err = d.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		if itemSK(item) == skFolder {
			folder = item
		} else {
			left++
		}
		return nil
	})
	return left, folder, err
}
