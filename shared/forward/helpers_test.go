package forward_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/testkit/receiver"
)

// The tests sign with testkit/receiver's secret, and configure
// forwarding with its Config.
var (
	secretKey     = receiver.SecretKey
	secret        = receiver.Secret
	forwardConfig = receiver.Config
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testEvents are n stored events of call c1 (and one of no call).
func testEvents(n int) []call.Event {
	var evs []call.Event
	for i := range n {
		raw := fmt.Sprintf(`{"CallbackCommand":"Call.CallbackAfterStartCall","n":%d}`, i)
		evs = append(evs, call.Event{
			Provider: call.Tencent, Channel: "v4", Command: "Call.CallbackAfterStartCall", Event: "call_started",
			CallID: "c1", EventTime: 1740464128807 + int64(i), ReceivedAt: 1740464129000 + int64(i),
			DeliveryID: call.DeliveryID(call.Tencent, "Call.CallbackAfterStartCall", []byte(raw)),
			Facts:      call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob"}},
			Raw:        raw,
		})
	}
	return evs
}

// sent decodes a received message's body.
func sent(t *testing.T, m receiver.Message) forward.Message {
	t.Helper()
	var msg struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			Event   *call.Event   `json:"event"`
			Summary *call.Summary `json:"summary"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Body, &msg); err != nil {
		t.Fatalf("body of %s: %v", m.ID, err)
	}
	return forward.Message{Type: msg.Type, Timestamp: msg.Timestamp, Data: forward.Data{Event: msg.Data.Event, Summary: msg.Data.Summary}}
}

// within fails unless d is in [lo, hi).
func within(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d >= hi {
		t.Errorf("%s: %s, want [%s, %s)", what, d, lo, hi)
	}
}
