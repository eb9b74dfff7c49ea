package forward

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/callfn/callfn/shared/call"
)

// Type is the Standard Webhooks event type of every message callfn sends.
const Type = "call.event"

// timestampLayout is RFC 3339 in UTC with milliseconds, the precision of
// call.Event's times.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// Message is the JSON body of a delivery, in the Standard Webhooks shape:
//
//	{"type": "call.event", "timestamp": "2025-02-25T06:15:28.807Z",
//	 "data": {"event": {"provider": ..., "callId": ..., "event": ...,
//	          "eventTime": ..., "facts": {...}, "raw": ...},
//	          "summary": {"callId": ..., "status": ..., ...}}}
//
// Timestamp is when the event happened (its EventTime), not when it is
// sent, so every attempt of a delivery says the same; Data.Summary is the
// call as the table knows it when the attempt is made (null for an event
// that belongs to no call), so a later attempt may carry a newer summary.
type Message struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      Data   `json:"data"`
}

// Data is a message's payload: the stored event and its call's summary.
type Data struct {
	Event   *call.Event   `json:"event"`
	Summary *call.Summary `json:"summary"`
}

// NewMessage is the message that forwards ev; sum may be nil.
func NewMessage(ev *call.Event, sum *call.Summary) Message {
	return Message{
		Type:      Type,
		Timestamp: time.UnixMilli(ev.EventTime).UTC().Format(timestampLayout),
		Data:      Data{Event: ev, Summary: sum},
	}
}

// Body is the message as sent: its JSON encoding.
func (m Message) Body() ([]byte, error) { return json.Marshal(m) }

// MessageID is the webhook-id of the delivery of one stored event (its
// delivery id, call.Event.DeliveryID) to one endpoint (its canonical URL,
// config.ParseForwardURL): "msg_" and 32 hex digits of a SHA-256 of both.
// Every attempt and every replay of that delivery carries this id, so a
// receiver can deduplicate on it; another endpoint gets another id.
func MessageID(deliveryID, endpoint string) string {
	h := sha256.New()
	h.Write([]byte("callfn/forward/v1\x00"))
	h.Write([]byte(deliveryID))
	h.Write([]byte{0})
	h.Write([]byte(endpoint))
	return "msg_" + hex.EncodeToString(h.Sum(nil)[:16])
}
