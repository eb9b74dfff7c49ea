package local

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/callfn/callfn/shared/store"
)

// Keys. A key is made of parts joined by "\x00": events callId \x00
// deliveryId, summaries callId, users user \x00 callId. A part is the id
// itself, unless the id holds a "\x00" or is longer than maxKeyPart: then
// it is the id's digest, "\x01" and its hex SHA-256 (the item keeps the id).
// So no part holds a "\x00", a key splits one way only, and the scan of one
// call's (or user's) prefix sees its own keys alone: a call "a\x00x" no
// longer lists its events under call "a", and keys of any length fit
// bbolt's 32 KiB.
//
// An id without a "\x00" and at most maxKeyPart long — every id a file
// written before this encoding held correctly — keeps the key it had, so
// such files read as they did; store/bolt moves the other keys of an older
// file once, when it opens it (CanonicalKey).
const maxKeyPart = 16000

// keySep joins a key's parts; keyDigest starts a part that is a digest.
const (
	keySep    = "\x00"
	keyDigest = "\x01"
)

// keyPart is id as a part of a key.
func keyPart(id string) string {
	if len(id) <= maxKeyPart && !strings.Contains(id, keySep) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return keyDigest + hex.EncodeToString(sum[:])
}

func eventKey(callID, eventKey string) string { return keyPart(callID) + keySep + keyPart(eventKey) }

// eventPrefix is the prefix of callID's event keys; "" (every event) when
// callID is "".
func eventPrefix(callID string) string {
	if callID == "" {
		return ""
	}
	return keyPart(callID) + keySep
}

func summaryKey(callID string) string    { return keyPart(callID) }
func userKey(user, callID string) string { return keyPart(user) + keySep + keyPart(callID) }
func userPrefix(user string) string      { return keyPart(user) + keySep }

// userCallKey is the usercalls key of user's entry under listKey (its
// userPrefix, then listKey), made in one concatenation.
func userCallKey(user, listKey string) string { return keyPart(user) + keySep + listKey }
func isPart(p string) bool                    { return len(p) <= maxKeyPart && !strings.Contains(p, keySep) }
func isPair(k string) bool {
	a, b, ok := strings.Cut(k, keySep)
	return ok && isPart(a) && isPart(b)
}

// CanonicalKey is the key, in this encoding, of the item that bucket holds
// under key with value val, as a file written by an earlier encoding may
// hold it (ids joined as they were, "\x00" and all). Keys that are already
// canonical — all but those of ids holding a "\x00" or longer than
// maxKeyPart — are returned as they are without reading val.
func CanonicalKey(bucket, key string, val []byte) (string, error) {
	switch bucket {
	case bEvents:
		if isPair(key) {
			return key, nil
		}
		var ev storedEvent
		if err := decodeStoredEvent(val, &ev); err != nil {
			return "", fmt.Errorf("store: event under %.80q: %w", key, err)
		}
		return eventKey(ev.CallID, store.EventKey(&ev.Event)), nil
	case bSummaries:
		if isPart(key) {
			return key, nil
		}
		var s storedSummary
		if err := decodeStoredSummary(val, &s); err != nil {
			return "", fmt.Errorf("store: summary under %.80q: %w", key, err)
		}
		return summaryKey(s.CallID), nil
	case bUsers:
		if isPair(key) {
			return key, nil
		}
		// user \x00 callId, and the value is callId: the user is what
		// is left.
		callID := string(val)
		user, ok := strings.CutSuffix(key, keySep+callID)
		if !ok {
			return "", fmt.Errorf("store: user index entry %.80q does not end with its call %.80q", key, callID)
		}
		return userKey(user, callID), nil
	}
	return key, nil
}
