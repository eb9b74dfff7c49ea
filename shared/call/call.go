// Package call is callfn's domain model: one normalized Event per provider
// callback (or per record or started call), and the Summary of a call that is
// folded from its events. Providers' own spellings are translated into the
// names defined here, in shared/tencent (and its callback and rest) and
// shared/yunxin; nothing else should need to know them.
package call

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// Providers.
const (
	Tencent = "tencent"
	Yunxin  = "yunxin"
	CallFn  = "callfn" // events callfn itself records, such as a started robot call
)

// Statuses a call summary can be in.
const (
	StatusRinging = "ringing"     // started, nobody has answered yet
	StatusOngoing = "in_progress" // answered
	StatusEnded   = "ended"
)

// Media types.
const (
	MediaAudio = "audio"
	MediaVideo = "video"
)

// Call types.
const (
	TypeSingle = "single"
	TypeGroup  = "group"
)

// Call results: one spelling for both Tencent generations (v4 "NotAnswer",
// v1 "not_answer" are both ResultNotAnswer). Unknown results are kept as the
// provider spelled them, lower-cased.
const (
	ResultCancel    = "cancel"
	ResultReject    = "reject"
	ResultNotAnswer = "not_answer"
	ResultNormalEnd = "normal_end"
	ResultBusy      = "call_busy"
	ResultInterrupt = "interrupt"
	ResultOffline   = "offline"
)

// CommandRecord is the command of an event that holds Tencent's record of
// a call (archived, or fetched for GET /records/{callId}).
const CommandRecord = "record"

// Results lists the known call results, for validating filters.
var Results = []string{ResultCancel, ResultReject, ResultNotAnswer, ResultNormalEnd, ResultBusy, ResultInterrupt, ResultOffline}

// Event is one stored delivery: a provider callback, an archived record, or
// a call callfn started. Raw is the body exactly as received.
type Event struct {
	Provider   string `json:"provider"`
	Channel    string `json:"channel,omitempty"` // "v4", "v1" (Tencent); "callback", "copy" (Yunxin)
	Command    string `json:"command"`           // the provider's own command or eventType
	Event      string `json:"event"`             // normalized event name, e.g. "call_started"
	CallID     string `json:"callId"`
	EventTime  int64  `json:"eventTime"` // ms since the epoch; the provider's, else arrival
	DeliveryID string `json:"deliveryId"`
	ReceivedAt int64  `json:"receivedAt"` // ms since the epoch
	RequestID  string `json:"requestId,omitempty"`
	Facts      Facts  `json:"facts"`
	Raw        string `json:"raw"`
}

// Facts are what one event says about its call; zero values say nothing.
type Facts struct {
	Status     string   `json:"status,omitempty"`
	MediaType  string   `json:"mediaType,omitempty"`
	CallType   string   `json:"callType,omitempty"`
	Caller     string   `json:"caller,omitempty"`
	Callees    []string `json:"callees,omitempty"`
	RoomID     string   `json:"roomId,omitempty"`
	StartTime  int64    `json:"startTime,omitempty"`  // ms
	AcceptTime int64    `json:"acceptTime,omitempty"` // ms
	EndTime    int64    `json:"endTime,omitempty"`    // ms
	Result     string   `json:"result,omitempty"`
	// Detail carries provider facts with no common name (an ingest task id,
	// a Yunxin channel status...), kept for the timeline.
	Detail map[string]string `json:"detail,omitempty"`
}

// Users is everyone the facts name, caller first.
func (f Facts) Users() []string {
	if len(f.Callees) > 16 {
		return f.usersLarge()
	}
	// A few users (the usual call): looked up in the list itself, with
	// no map made for every event stored.
	var out []string
	if f.Caller != "" {
		out = make([]string, 1, 1+len(f.Callees))
		out[0] = f.Caller
	}
	for _, u := range f.Callees {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func (f Facts) usersLarge() []string {
	var out []string
	seen := map[string]bool{"": true}
	for _, u := range append([]string{f.Caller}, f.Callees...) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// DeliveryID identifies a delivery: a redelivered callback carries the same
// provider, command and body, so it gets the same id and is stored once.
func DeliveryID(provider, command string, body []byte) string {
	// The usual callback, of a few hundred bytes, is hashed in one piece
	// from the stack, with no hash.Hash made for it; a larger one grows
	// the buffer onto the heap.
	var buf [deliveryBuf]byte
	b := append(append(append(append(append(buf[:0], provider...), 0), command...), 0), body...)
	sum := sha256.Sum256(b)
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}

// deliveryBuf is the largest delivery DeliveryID hashes from the stack.
const deliveryBuf = 2048
