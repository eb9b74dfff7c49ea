package dynamo

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/backoff"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// Key prefixes and fixed sort keys of the items (see the package comment).
const (
	pkCall    = "CALL#"
	pkNoCall  = "NOCALL#"
	pkUser    = "USER#"
	pkClaim   = "CLAIM#"
	pkMeta    = "META#"
	pkMonths  = "INDEX#" + store.DynamoIndexByTime
	skEvent   = "EVENT#"
	skSummary = "SUMMARY"
	skClaim   = "CLAIM"
	skMeta    = "META"
	skUser    = "CALL#"
	monthPfx  = "CALLS#"
	attrVer   = "version"
)

// PutEvent's transaction: the event, the summary, its deliveries (at most
// config.MaxForwardURLs), the rollups, and user items up to this many
// actions in all (DynamoDB allows 100); the rest of the user items go in a
// batch first.
// Retries (of a fold that met another, of a batch's unprocessed items) wait
// as retryBackoff says.
const (
	maxTxItems       = 100
	maxPutAttempts   = 50
	maxBatchAttempts = 10
)

var retryBackoff = backoff.Policy{Base: 5 * time.Millisecond, Max: 200 * time.Millisecond}

// errStop, returned by a query's fn, ends the query quietly.
var errStop = errors.New("stop")

// Items, (un)marshalled by attributevalue with the domain types' json tags,
// so an item's attributes are named as the JSON the rest of callfn prints.

type dynKey struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

type dynEvent struct {
	dynKey
	call.Event
	ExpiresAt int64 `json:"expiresAt,omitempty"`
	// RawGz is the raw body gzip-compressed (store.PackRaw), in place of
	// raw, when it is longer than store.CompressAbove.
	RawGz []byte `json:"rawGz,omitempty"`
}

type dynSummary struct {
	dynKey
	call.Summary
	Version   int64  `json:"version"`
	GSI1PK    string `json:"gsi1pk"`
	GSI1SK    string `json:"gsi1sk"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
	// Indexed says the call is in the byUser index and the rollups as this
	// summary has it: set by every fold, and by Backfill for a call stored
	// before they existed (a fold then indexes it from scratch).
	Indexed bool `json:"indexed,omitempty"`
}

// dynUser is a user's item of a call: in the user's partition for
// UserCalls (everyone ever named), and, while the user takes part, in the
// byUser index by the call's ListKey, with what ListCalls filters on.
type dynUser struct {
	dynKey
	CallID    string `json:"callId"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
	GSI3PK    string `json:"gsi3pk,omitempty"`   // USER#<user>; "" once the user no longer takes part
	GSI3SK    string `json:"gsi3sk,omitempty"`   // the call's ListKey
	Provider  string `json:"provider,omitempty"` // the call's carrier
	Status    string `json:"status,omitempty"`
	Result    string `json:"result,omitempty"`
	CallType  string `json:"callType,omitempty"`
	Callee    bool   `json:"callee,omitempty"` // the user is a callee, not the caller
}

// userItem is user's item of the call s (nil: the user no longer takes
// part in it).
func userItem(user, callID string, s *call.Summary, expiresAt int64) dynUser {
	return newUserItems(callID, s, expiresAt).item(user)
}

// userItems makes the user items of one state of a call, what they share
// worked out once (a group call names thousands).
type userItems struct {
	callID                      string
	expiresAt                   int64
	in, callee                  map[string]bool
	listKey                     string
	provider, status, result, t string
}

func newUserItems(callID string, s *call.Summary, expiresAt int64) *userItems {
	x := &userItems{callID: callID, expiresAt: expiresAt}
	if s == nil {
		return x
	}
	users := s.Users()
	x.in = make(map[string]bool, len(users))
	for _, u := range users {
		x.in[u] = true
	}
	x.callee = make(map[string]bool, len(s.Callees))
	for _, u := range s.Callees {
		if u != s.Caller {
			x.callee[u] = true
		}
	}
	x.listKey = store.ListKey(s)
	x.provider, x.status, x.result, x.t = s.Carrier(), s.Status, s.Result, s.CallType
	return x
}

func (x *userItems) item(user string) dynUser {
	u := dynUser{dynKey: dynKey{userPK(user), userSK(x.callID)}, CallID: x.callID, ExpiresAt: x.expiresAt}
	if x.in[user] {
		u.GSI3PK, u.GSI3SK = userPK(user), x.listKey
		u.Provider, u.Status, u.Result, u.CallType = x.provider, x.status, x.result, x.t
		u.Callee = x.callee[user]
	}
	return u
}

type dynClaim struct {
	dynKey
	ExpiresAt int64 `json:"expiresAt"` // always present: 0 is an expired claim
}

type dynMeta struct {
	dynKey
	Value string `json:"value"`
}

func marshalItem(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
}

func unmarshalItem(m map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
}

// marshalSummary is a summary item. Callees is left out when Named holds
// it (Callees is Named minus the caller): a group call's users are stored
// once, as store.SummarySize counts them, so a call of 10,000 users fits
// an item.
func marshalSummary(s dynSummary) (map[string]types.AttributeValue, error) {
	item, err := marshalItem(s)
	if err == nil && len(s.Named) > 0 {
		delete(item, "callees")
	}
	return item, err
}

// unmarshalSummary reads a summary item, items that still hold Callees
// among them.
func unmarshalSummary(item map[string]types.AttributeValue, s *dynSummary) error {
	if err := unmarshalItem(item, s); err != nil {
		return err
	}
	if len(s.Named) > 0 {
		s.DeriveCallees()
	}
	return nil
}

func itemKey(pk, sk string) (map[string]types.AttributeValue, error) {
	return marshalItem(dynKey{pk, sk})
}

// exprValues marshals expression attribute values (":name" -> value).
func exprValues(v map[string]any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(v)
}

// names maps "#attr" to attr, an expression's attribute names.
func names(n ...string) map[string]string {
	m := make(map[string]string, len(n))
	for _, a := range n {
		m["#"+a] = a
	}
	return m
}

// monthOf is the byTime partition of a call listed under ms.
func monthOf(ms int64) string { return monthPfx + time.UnixMilli(ms).UTC().Format("2006-01") }

func eventPK(ev *call.Event) string {
	if ev.CallID == "" {
		return pkNoCall + store.KeyID(ev.DeliveryID)
	}
	return callPK(ev.CallID)
}

// batchWriters bounds the BatchWriteItems one batchPut has in flight.
var batchWriters = 16
