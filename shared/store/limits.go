package store

// What the table can hold, the same on every backend: an event that one
// backend could never store is refused by all of them, with an error that
// says retrying is useless (ErrUnstorable), so that a caller never asks a
// provider to retry it for ever. Everything else a backend cannot hold as
// it is, it stores in a form that fits: a raw body over CompressAbove
// compressed where items are limited (DynamoDB), an id too long for a key
// keyed by its digest (KeyID), the original always kept in the item.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/callfn/callfn/shared/call"
)

// ErrUnstorable is matched (errors.Is) by the error of a write the table
// can never accept as it is: retrying it fails the same way, so a caller
// must not ask for a retry (the webhook answers a final 4xx). Every other
// error of a store is transient: the same write may succeed later.
var ErrUnstorable = errors.New("store: the table cannot hold this event")

// ErrTooLarge is the ErrUnstorable of an event, or of the summary it would
// make, that is larger than the table can hold even with its raw body
// compressed.
var ErrTooLarge = fmt.Errorf("%w: too large", ErrUnstorable)

// The table's limits. DynamoDB holds at most 400 KB an item (attribute
// names and values) and 2048 / 1024 bytes a partition / sort key; bbolt
// holds keys of at most 32 KiB. The limits below keep every item, with its
// keys and bookkeeping, under DynamoDB's.
const (
	// MaxEventBytes bounds an event's stored size (EventSize).
	MaxEventBytes = 350 << 10
	// MaxSummaryBytes bounds a call summary's stored size (SummarySize).
	MaxSummaryBytes = 350 << 10
	// MaxUsers bounds the users one call (and so one event) names: each
	// has an index item, written with the event. Issue 11 asks that a
	// group call of 10,000 be stored: this is that, and no more.
	MaxUsers = 10000
	// CompressAbove: a raw body longer than this is counted, and stored
	// by DynamoDB, gzip-compressed (read back exactly as received).
	CompressAbove = 64 << 10
	// MaxKeyBytes: an id (call id, user account, delivery id) longer than
	// this is keyed by its digest (KeyID).
	MaxKeyBytes = 1000
)

// CheckEvent reports whether the table can hold ev: ErrTooLarge when its
// stored size exceeds MaxEventBytes, ErrUnstorable when it names more than
// MaxUsers users. It returns the raw body compressed (PackRaw) when it is
// longer than CompressAbove, so that a backend that stores it so need not
// compress it twice; nil otherwise. Every backend's PutEvent calls it
// first, so each refuses the same events.
func CheckEvent(ev *call.Event) (packedRaw []byte, err error) {
	rawSize := len(ev.Raw)
	if rawSize > CompressAbove {
		packedRaw = PackRaw(ev.Raw)
		rawSize = len(packedRaw)
	}
	if n := EventSize(ev, rawSize); n > MaxEventBytes {
		return nil, fmt.Errorf("%w: event %s of call %.64q takes %d bytes stored, more than %d (raw body %d bytes, %d compressed)",
			ErrTooLarge, ev.DeliveryID, ev.CallID, n, MaxEventBytes, len(ev.Raw), rawSize)
	}
	if n := usersOver(ev.Facts); n > MaxUsers {
		return nil, fmt.Errorf("%w: event %s of call %.64q names %d users, more than %d",
			ErrUnstorable, ev.DeliveryID, ev.CallID, n, MaxUsers)
	}
	return packedRaw, nil
}

// CheckSummary reports whether the table can hold s, the summary folding
// an event makes: ErrTooLarge beyond MaxSummaryBytes, ErrUnstorable beyond
// MaxUsers users. The event is then refused, the summary left as it was.
func CheckSummary(s *call.Summary) error {
	if n := SummarySize(s); n > MaxSummaryBytes {
		return fmt.Errorf("%w: the summary of call %.64q would take %d bytes stored, more than %d", ErrTooLarge, s.CallID, n, MaxSummaryBytes)
	}
	if n := usersOver(call.Facts{Caller: s.Caller, Callees: s.Callees}); n > MaxUsers {
		return fmt.Errorf("%w: call %.64q would name %d users, more than %d", ErrUnstorable, s.CallID, n, MaxUsers)
	}
	return nil
}

// usersOver is the number of users f names (Facts.Users) when it could
// exceed MaxUsers, else 0: names that are no more than MaxUsers in all
// cannot be more users, and then their list is not made (a check of every
// event stored, and of its summary, would otherwise allocate it).
func usersOver(f call.Facts) int {
	if 1+len(f.Callees) <= MaxUsers {
		return 0
	}
	return len(f.Users())
}

// itemOverhead covers an item's attribute names, numbers, key prefixes and
// expiry, over and above the strings counted.
const itemOverhead = 512

// EventSize is an upper bound of ev's size as an item, counted as DynamoDB
// counts it (the bytes of its strings, its keys and attribute names), with
// a raw body of rawSize bytes.
func EventSize(ev *call.Event, rawSize int) int {
	return itemOverhead + rawSize + len(KeyID(ev.CallID)) + len(KeyID(ev.DeliveryID)) +
		len(ev.Provider) + len(ev.Channel) + len(ev.Command) + len(ev.Event) + len(ev.CallID) +
		len(ev.DeliveryID) + len(ev.RequestID) + factsSize(&ev.Facts)
}

// SummarySize is an upper bound of s's size as an item, as EventSize.
// Its users are counted once: the table stores Named (everyone any event
// named) and derives Callees from it (Named less the Caller), so a group
// call of MaxUsers users with ids of up to 30 bytes fits; a summary
// without Named (folded before it existed) stores its Callees. Each
// distinct stamp is counted once with the names of the fields it stamps.
// A backend must store no more than this counts.
func SummarySize(s *call.Summary) int {
	n := itemOverhead + 2*len(KeyID(s.CallID)) + len(s.CallID) + len(s.Provider) + len(s.Status) +
		len(s.MediaType) + len(s.CallType) + len(s.Caller) + len(s.RoomID) + len(s.Result)
	if len(s.Named) > 0 {
		n += listSize(s.Named)
	} else {
		n += listSize(s.Callees)
	}
	seen := make(map[string]bool, 2)
	for k, v := range s.Stamps {
		n += len(k) + 1
		if !seen[v] {
			seen[v] = true
			n += len(v) + 1
		}
	}
	return n
}

func factsSize(f *call.Facts) int {
	n := len(f.Status) + len(f.MediaType) + len(f.CallType) + len(f.Caller) + len(f.RoomID) + len(f.Result) + listSize(f.Callees)
	for k, v := range f.Detail {
		n += len(k) + len(v) + 1
	}
	return n
}

func listSize(l []string) int {
	n := 0
	for _, s := range l {
		n += len(s) + 1
	}
	return n
}

// keyDigestPrefix marks a digest in place of an id in a key.
const keyDigestPrefix = "#sha256:"

// KeyID is id as the table's keys and ListKey hold it: id itself when it
// is at most MaxKeyBytes long, else keyDigestPrefix and the hex SHA-256 of
// id (72 bytes). Items keep the id itself; readers find them by KeyID.
func KeyID(id string) string {
	if len(id) <= MaxKeyBytes {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return keyDigestPrefix + hex.EncodeToString(sum[:])
}

// PackRaw is raw gzip-compressed, as a backend stores a raw body over
// CompressAbove where items are limited; UnpackRaw reverses it.
func PackRaw(raw string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, raw) // a bytes.Buffer does not fail
	zw.Close()
	return b.Bytes()
}

// UnpackRaw is the raw body PackRaw packed, exactly.
func UnpackRaw(packed []byte) (string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		return "", fmt.Errorf("store: compressed raw body: %w", err)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, zr); err != nil {
		return "", fmt.Errorf("store: compressed raw body: %w", err)
	}
	return b.String(), nil
}
