package tencent

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/testkit"
)

// The record of seed 002 (records/get_record_by_callId's data).
func TestRecordV1Sample(t *testing.T) {
	var r V1Record
	if err := json.Unmarshal(testkit.Fixture(t, "v1_record.json"), &r); err != nil {
		t.Fatal(err)
	}
	if r.CallID != "2ae7d549-c441-4a9b-87c0-61810fe19582" || r.SDKAppID != "88888888" || r.TotalUserNumber != 2 {
		t.Errorf("record %+v", r)
	}
	want := call.Facts{
		Status: call.StatusEnded, MediaType: call.MediaVideo, CallType: call.TypeSingle,
		Caller: "alice", Callees: []string{"bob1", "bob2"}, RoomID: "123456",
		StartTime: 1688705638000, AcceptTime: 1688705641000, EndTime: 1688705668000,
		Result: call.ResultNormalEnd,
	}
	if got := r.Facts(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestRecordV4(t *testing.T) {
	var r V4Record
	if err := json.Unmarshal(testkit.Fixture(t, "v4_record.json"), &r); err != nil {
		t.Fatal(err)
	}
	if r.RoomIdType != 1 {
		t.Errorf("RoomIdType %d", r.RoomIdType)
	}
	want := call.Facts{
		Status: call.StatusEnded, MediaType: call.MediaVideo, CallType: call.TypeGroup,
		// CalleeList_Account may include the caller (spec §1.1).
		Caller: "alice", Callees: []string{"bob", "144115212948889925"}, RoomID: "9999",
		StartTime: 1688705638000, EndTime: 1688705668000, // AcceptTime 0: never accepted
		Result: call.ResultCancel,
	}
	if got := r.Facts(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// A v1-shaped record in v4 field names, and an empty one: no error.
	var empty V4Record
	if err := json.Unmarshal([]byte(`{}`), &empty); err != nil {
		t.Fatal(err)
	}
	if f := empty.Facts(); f.Status != call.StatusEnded || f.Caller != "" || f.StartTime != 0 || f.Result != "" || f.Callees != nil {
		t.Errorf("empty record %+v", f)
	}
}

func TestRecordResult(t *testing.T) {
	for in, want := range map[string]string{
		// v4 spellings
		"Cancel": call.ResultCancel, "Reject": call.ResultReject, "NotAnswer": call.ResultNotAnswer,
		"NormalEnd": call.ResultNormalEnd, "CallBusy": call.ResultBusy, "Interrupt": call.ResultInterrupt,
		"Offline": call.ResultOffline,
		// v1 spellings, and the case variants callbacks send
		"cancel": call.ResultCancel, "reject": call.ResultReject, "not_answer": call.ResultNotAnswer,
		"normal_end": call.ResultNormalEnd, "Normal_end": call.ResultNormalEnd, "call_busy": call.ResultBusy,
		"interrupt": call.ResultInterrupt, "offline": call.ResultOffline, "busy": call.ResultBusy,
		"": "", "  ": "",
		// unknown: kept, lower-cased
		"Transferred": "transferred", " Weird_One ": "weird_one",
	} {
		if got := Result(in); got != want {
			t.Errorf("Result(%q) = %q, want %q", in, got, want)
		}
	}
	// Every known result round-trips through each generation's spelling.
	for _, r := range call.Results {
		if Result(V4Result(r)) != r || Result(V1Result(r)) != r {
			t.Errorf("%q: v4 %q v1 %q", r, V4Result(r), V1Result(r))
		}
	}
	if V4Result("nonsense") != "" || V1Result("nonsense") != "" {
		t.Error("unknown results have a spelling")
	}
	if V4Result(call.ResultNotAnswer) != "NotAnswer" || V1Result(call.ResultNotAnswer) != "not_answer" {
		t.Error("not_answer spelled wrong")
	}
}

func TestRecordMediaCallTypeMillis(t *testing.T) {
	for in, want := range map[string]string{"Video": "video", "video": "video", "Audio": "audio", " AUDIO ": "audio", "": ""} {
		if got := Media(in); got != want {
			t.Errorf("Media(%q) = %q", in, got)
		}
	}
	for in, want := range map[string]string{
		"SingleCall": call.TypeSingle, "single": call.TypeSingle, "MultiCall": call.TypeGroup,
		"group": call.TypeGroup, "GroupCall": call.TypeGroup, "": "", "Other": "other",
	} {
		if got := CallType(in); got != want {
			t.Errorf("CallType(%q) = %q", in, got)
		}
	}
	for in, want := range map[int64]int64{
		0: 0, -5: -5, 1: 1000, 1669872112: 1669872112000, 1740464128807: 1740464128807, 99999999999: 99999999999000,
	} {
		if got := Millis(in); got != want {
			t.Errorf("Millis(%d) = %d, want %d", in, got, want)
		}
	}
}
