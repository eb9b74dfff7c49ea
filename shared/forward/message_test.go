package forward_test

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
)

func TestMessageShape(t *testing.T) {
	ev := call.Event{
		Provider: call.Tencent, Channel: "v4", Command: "Call.CallbackAfterEndCall", Event: "call_ended",
		CallID: "c1", EventTime: 1740464128807, DeliveryID: "d1", ReceivedAt: 1740464129000,
		Facts: call.Facts{Status: call.StatusEnded, Caller: "alice", Callees: []string{"bob"}, Result: call.ResultNormalEnd},
		Raw:   `{"CallbackCommand":"Call.CallbackAfterEndCall"}`,
	}
	var sum call.Summary
	sum.Apply(&ev)
	body, err := forward.NewMessage(&ev, &sum).Body()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Type      string                     `json:"type"`
		Timestamp string                     `json:"timestamp"`
		Data      map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "call.event" {
		t.Errorf("type %q", m.Type)
	}
	ts, err := time.Parse(time.RFC3339, m.Timestamp)
	if err != nil || !ts.Equal(time.UnixMilli(ev.EventTime)) || m.Timestamp != "2025-02-25T06:15:28.807Z" {
		t.Errorf("timestamp %q (%v): want the event's time", m.Timestamp, err)
	}
	var gotEv call.Event
	var gotSum call.Summary
	if err := json.Unmarshal(m.Data["event"], &gotEv); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(m.Data["summary"], &gotSum); err != nil {
		t.Fatal(err)
	}
	if gotEv.Raw != ev.Raw || gotEv.CallID != "c1" || gotEv.Event != "call_ended" || gotEv.Facts.Result != call.ResultNormalEnd || gotEv.EventTime != ev.EventTime {
		t.Errorf("data.event %+v", gotEv)
	}
	if gotSum.CallID != "c1" || gotSum.Status != call.StatusEnded || gotSum.EventCount != 1 {
		t.Errorf("data.summary %+v", gotSum)
	}
	// The names receivers read.
	var raw map[string]map[string]map[string]any
	json.Unmarshal(body, &raw)
	for _, k := range []string{"provider", "callId", "event", "eventTime", "facts", "raw"} {
		if _, ok := raw["data"]["event"][k]; !ok {
			t.Errorf("data.event has no %q", k)
		}
	}
	// An event of no call: summary null.
	body, _ = forward.NewMessage(&call.Event{DeliveryID: "x", EventTime: 1}, nil).Body()
	var noCall map[string]map[string]any
	json.Unmarshal(body, &noCall)
	if s, ok := noCall["data"]["summary"]; !ok || s != nil {
		t.Errorf("summary of an event of no call: %v %v", s, ok)
	}
}

func TestMessageID(t *testing.T) {
	id := forward.MessageID("d1", "https://a.example/h")
	if !regexp.MustCompile(`^msg_[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("id %q", id)
	}
	if forward.MessageID("d1", "https://a.example/h") != id {
		t.Error("not stable")
	}
	for _, other := range []string{
		forward.MessageID("d2", "https://a.example/h"),
		forward.MessageID("d1", "https://b.example/h"),
		forward.MessageID("d1https://a.example/", "h"),
		forward.MessageID("", "d1https://a.example/h"),
	} {
		if other == id {
			t.Errorf("collision with %s", other)
		}
	}
}
