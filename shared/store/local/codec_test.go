package local

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

func foldedSummary() *call.Summary {
	var s call.Summary
	s.Apply(&call.Event{Provider: call.Tencent, CallID: "c1", EventTime: 1000, DeliveryID: "d1",
		Facts: call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"alice", "bob", "carol"}, StartTime: 1000, MediaType: call.MediaAudio}})
	s.Apply(&call.Event{Provider: call.Tencent, Command: call.CommandRecord, CallID: "c1", EventTime: 5000, DeliveryID: "d2",
		Facts: call.Facts{Status: call.StatusEnded, Result: call.ResultNormalEnd, EndTime: 5000}})
	s.Stamps["custom"] = s.Stamps["status"] // a field without a code
	return &s
}

// The compact form gives back the summary it was made from, Callees
// recomputed from Named and the Caller.
func TestSummaryFormRoundTrip(t *testing.T) {
	for _, s := range []*call.Summary{foldedSummary(), {CallID: "x", Provider: call.Yunxin, FirstEventTime: -5, EventCount: 1}} {
		got, err := summaryForm(s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("through the stored form:\n got %+v\nwant %+v", got, s)
		}
	}
	s := foldedSummary()
	b := encodeSummary(&storedSummary{Summary: *s, ExpiresAt: 42})
	j, _ := json.Marshal(storedSummary{Summary: *s, ExpiresAt: 42})
	if len(b)*3 > len(j) {
		t.Errorf("compact form %d bytes, JSON %d: want at most a third", len(b), len(j))
	}
	var out storedSummary
	if err := decodeStoredSummary(b, &out); err != nil || out.ExpiresAt != 42 {
		t.Errorf("expiry: %d, %v", out.ExpiresAt, err)
	}
	for i := range b {
		if decodeStoredSummary(b[:i], &out) == nil {
			t.Errorf("a summary cut to %d of %d bytes decoded", i, len(b))
		}
	}
}

// Summaries stored as JSON, by earlier versions, still read.
func TestSummaryJSONStillReads(t *testing.T) {
	s := foldedSummary()
	j, _ := json.Marshal(storedSummary{Summary: *s, ExpiresAt: 7})
	var out storedSummary
	if err := decodeStoredSummary(j, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&out.Summary, s) || out.ExpiresAt != 7 {
		t.Errorf("from JSON:\n got %+v\nwant %+v", out.Summary, *s)
	}
}

func sampleEvent() *call.Event {
	return &call.Event{Provider: call.Tencent, Channel: "v4", Command: "Call.CallbackAfterStartCall", Event: "call_started",
		CallID: "c1", EventTime: 1740464138806, DeliveryID: "d1", ReceivedAt: 1740464138900, RequestID: "r1",
		Facts: call.Facts{Status: call.StatusRinging, Caller: "alice", Callees: []string{"bob", ""}, StartTime: 1740464138806,
			Detail: map[string]string{"b": "2", "a": "1"}},
		Raw: `{"CallbackCommand":"Call.CallbackAfterStartCall","x":"\u00e9\n"}`}
}

// Events, too: the binary form gives back the event, JSON still reads.
func TestEventForms(t *testing.T) {
	for _, ev := range []*call.Event{sampleEvent(), {Provider: call.Yunxin, EventTime: -1}} {
		var got storedEvent
		if err := decodeStoredEvent(encodeEvent(ev, 99), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got.Event, ev) || got.ExpiresAt != 99 {
			t.Errorf("through the stored form:\n got %+v\nwant %+v", got, *ev)
		}
		if exp, err := eventExpiry(encodeEvent(ev, 99)); exp != 99 || err != nil {
			t.Errorf("expiry %d, %v", exp, err)
		}
		j, _ := json.Marshal(storedEvent{*ev, 7})
		if err := decodeStoredEvent(j, &got); err != nil || !reflect.DeepEqual(&got.Event, ev) || got.ExpiresAt != 7 {
			t.Errorf("from JSON: %+v, %v", got, err)
		}
		if exp, err := eventExpiry(j); exp != 7 || err != nil {
			t.Errorf("expiry from JSON %d, %v", exp, err)
		}
	}
}

func TestEntryForms(t *testing.T) {
	for _, e := range []entry{{ID: "c1", Provider: "tencent", Status: "ended", Result: "cancel", CallType: "single", Callee: true}, {}} {
		var got entry
		if err := decodeEntry(encodeEntry(e), &got); err != nil || got != e {
			t.Errorf("through the stored form: %+v, %v; want %+v", got, err, e)
		}
		j, _ := json.Marshal(e)
		if err := decodeEntry(j, &got); err != nil || got != e {
			t.Errorf("from JSON: %+v, %v; want %+v", got, err, e)
		}
	}
}

func TestCountsForms(t *testing.T) {
	for _, c := range []store.Counts{{Calls: 3, InProgress: 1, TalkMs: -2, ByResult: map[string]int64{"cancel": 1, "normal_end": 2}, ByProvider: map[string]int64{"tencent": 3}}, {}} {
		var got store.Counts
		if err := decodeCounts(encodeCounts(&c), &got); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("through the stored form: %+v, %v; want %+v", got, err, c)
		}
		j, _ := json.Marshal(c)
		if err := decodeCounts(j, &got); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("from JSON: %+v, %v; want %+v", got, err, c)
		}
	}
}
