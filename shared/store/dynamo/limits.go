package dynamo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

// Keys of ids. DynamoDB keys hold at most 2048 (partition) and 1024 (sort)
// bytes, so an id longer than store.MaxKeyBytes is keyed by its digest
// (store.KeyID); the item keeps the id itself, and readers find it by the
// id's KeyID. Every id of a usual length keys as it always did.

func callPK(callID string) string { return pkCall + store.KeyID(callID) }
func userPK(user string) string   { return pkUser + store.KeyID(user) }
func userSK(callID string) string { return skUser + store.KeyID(callID) }
func eventSK(ev *call.Event) string {
	return skEvent + store.KeyID(store.EventKey(ev))
}

// newDynEvent is ev's item: its raw body compressed (packed, from
// store.CheckEvent) when it is long.
func newDynEvent(ev *call.Event, packed []byte, expiresAt int64) dynEvent {
	e := dynEvent{dynKey: dynKey{eventPK(ev), eventSK(ev)}, Event: *ev, ExpiresAt: expiresAt}
	if packed != nil {
		e.Event.Raw, e.RawGz = "", packed
	}
	return e
}

// event is the stored event, its raw body exactly as received.
func (e *dynEvent) event() (*call.Event, error) {
	if len(e.RawGz) > 0 {
		raw, err := store.UnpackRaw(e.RawGz)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", e.SK, err)
		}
		e.Event.Raw, e.RawGz = raw, nil
	}
	return &e.Event, nil
}

// classify marks as store.ErrTooLarge a request DynamoDB refused for a size
// limit (an item over 400 KB, a key over its limit), which no retry can
// change: store.CheckEvent keeps events under those limits, so this is a
// second line. Every other error stays as it is: transient.
func classify(err error) error {
	if err != nil && isSizeLimit(err) {
		return fmt.Errorf("%w: %w", store.ErrTooLarge, err)
	}
	return err
}

func isSizeLimit(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := strings.ToLower(ae.ErrorMessage())
	switch ae.ErrorCode() {
	case "ValidationException":
		return strings.Contains(msg, "size") && strings.Contains(msg, "exceed")
	case "TransactionCanceledException":
		return strings.Contains(msg, "validationerror") && strings.Contains(msg, "size")
	}
	return false
}
