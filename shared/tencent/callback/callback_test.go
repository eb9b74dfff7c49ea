package callback

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/testkit"
)

// The generations, short.
const (
	V4 = tencent.V4
	V1 = tencent.V1
)

// v4Query and v1Query are the query strings each generation's callbacks
// carry (spec §1.3): v4 in mixed case, v1 in lower case.
func v4Query(command string) url.Values {
	return url.Values{"SdkAppid": {"1400000001"}, "CallbackCommand": {command}, "contenttype": {"json"}, "ClientIP": {"127.0.0.1"}, "OptPlatform": {"iOS"}}
}

func v1Query(command string) url.Values {
	return url.Values{"sdkappid": {"1400000001"}, "command": {command}, "contenttype": {"json"}, "clientip": {"127.0.0.1"}, "optplatform": {"miniProgram"}}
}

func mustParse(t *testing.T, gen string, q url.Values, body []byte) call.Event {
	t.Helper()
	ev, err := parse(gen, q, body)
	if err != nil {
		t.Fatalf("parse(%s, %s): %v", gen, body, err)
	}
	if ev.Provider != call.Tencent || ev.Channel != gen {
		t.Errorf("provider/channel = %q/%q, want %q/%q", ev.Provider, ev.Channel, call.Tencent, gen)
	}
	if ev.Raw != string(body) {
		t.Errorf("Raw is not the body exactly:\n got %q\nwant %q", ev.Raw, body)
	}
	return ev
}

func TestCallbackGeneration(t *testing.T) {
	v4Body := testkit.Fixture(t, "v4_after_start.json")
	v1Body := testkit.Fixture(t, "v1_caller_start_call.json")
	for _, tc := range []struct {
		name string
		q    url.Values
		body []byte
		want string
	}{
		{"v4 URL", v4Query(CmdAfterStartCall), v4Body, V4},
		{"v4 URL, lower-case names", url.Values{"sdkappid": {"1"}, "callbackcommand": {CmdAfterEndCall}}, []byte(`{}`), V4},
		{"v4 body only", url.Values{"SdkAppid": {"1"}}, v4Body, V4},
		{"v1 URL", v1Query("caller_start_call"), v1Body, V1},
		{"v1 URL, v4-looking body", v1Query("cancel"), v4Body, V1},
		{"v1 URL, odd case", url.Values{"sdkappid": {"1"}, "Command": {"cancel"}}, v1Body, V1},
		{"nothing to go by", url.Values{}, []byte(`{}`), V4},
	} {
		if got := generation(tc.q, tc.body); got != tc.want {
			t.Errorf("%s: generation = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCallbackCommand(t *testing.T) {
	if got := command(V4, v4Query(CmdAfterEndCall)); got != CmdAfterEndCall {
		t.Errorf("v4: %q", got)
	}
	if got := command(V1, v1Query("callee_reject_call")); got != "callee_reject_call" {
		t.Errorf("v1: %q", got)
	}
	if got := command(V4, url.Values{"callbackcommand": {"X"}}); got != "X" {
		t.Errorf("v4 lower case: %q", got)
	}
}

func TestCallbackVerifyAppID(t *testing.T) {
	const ours = 1400000001
	for _, tc := range []struct {
		q     url.Values
		appID uint64
		ok    bool
	}{
		{url.Values{"SdkAppid": {"1400000001"}}, ours, true},
		{url.Values{"sdkappid": {"1400000001"}}, ours, true},
		{url.Values{"SDKAPPID": {"1400000001"}}, ours, true},
		{url.Values{"SdkAppid": {"1400000002"}}, ours, false},
		{url.Values{"SdkAppid": {""}}, ours, false},
		{url.Values{"SdkAppid": {"14000000011"}}, ours, false},
		{url.Values{"SdkAppid": {"1400000001x"}}, ours, false},
		{url.Values{"SdkAppid": {"-1"}}, ours, false},
		{url.Values{}, ours, false},
		// Not configured: nothing is ours.
		{url.Values{"SdkAppid": {"0"}}, 0, false},
		{url.Values{}, 0, false},
	} {
		err := verifyAppID(tc.q, tc.appID)
		if (err == nil) != tc.ok {
			t.Errorf("verifyAppID(%v, %d) = %v, want ok=%v", tc.q, tc.appID, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrWrongApp) {
			t.Errorf("error %v is not ErrWrongApp", err)
		}
	}
}

func TestCallbackV4AfterStartFieldTableSpelling(t *testing.T) {
	// MediaType (the field table) instead of CallMediaType (the sample),
	// numbers as strings, a chat group: a group call.
	ev := mustParse(t, V4, v4Query(CmdAfterStartCall), testkit.Fixture(t, "v4_after_start_mediatype.json"))
	f := ev.Facts
	if ev.CallID != "call-mt" || ev.EventTime != 1740464128807 {
		t.Errorf("callId/eventTime = %q/%d", ev.CallID, ev.EventTime)
	}
	if f.MediaType != call.MediaVideo || f.CallType != call.TypeGroup || f.RoomID != "8848" {
		t.Errorf("facts = %+v", f)
	}
	if f.Caller != "alice" || !slices.Equal(f.Callees, []string{"bob"}) {
		t.Errorf("caller/callees = %q/%q", f.Caller, f.Callees)
	}
	// CallMediaType wins when both are sent.
	ev = mustParse(t, V4, v4Query(CmdAfterStartCall), []byte(`{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"x","CallMediaType":"Video","MediaType":"Audio"}}`))
	if ev.Facts.MediaType != call.MediaVideo {
		t.Errorf("both spellings: mediaType = %q", ev.Facts.MediaType)
	}
	// More than two users and no chat group: still a group call.
	ev = mustParse(t, V4, v4Query(CmdAfterStartCall), []byte(`{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"x"},"UserList":[{"User_Account":"a","Status":"Calling"},{"User_Account":"b","Status":"Waiting"},{"User_Account":"c","Status":"Waiting"}],"EventTime":1}`))
	if ev.Facts.CallType != call.TypeGroup || ev.Facts.Caller != "a" || !slices.Equal(ev.Facts.Callees, []string{"b", "c"}) {
		t.Errorf("three users: %+v", ev.Facts)
	}
}

// The published samples (seed 001), byte for byte: the unquoted 18-digit
// accounts must come through exactly, not rounded by a float64.
func TestCallbackV4Samples(t *testing.T) {
	for _, tc := range []struct {
		fixture, command, event string
		eventTime               int64
		facts                   call.Facts
		unquoted                string // in the body, and so in Raw, as sent
	}{
		{"v4_after_start.json", CmdAfterStartCall, "call_started", 1740464128807, call.Facts{
			Status: call.StatusRinging, MediaType: call.MediaAudio, CallType: call.TypeSingle,
			Caller: "144115212830834855", Callees: []string{"144115212948889925"},
			StartTime: 1740464128807,
		}, `"User_Account":144115212830834855,`},
		{"v4_after_end.json", CmdAfterEndCall, "call_ended", 1740464190512, call.Facts{
			Status: call.StatusEnded, MediaType: call.MediaAudio, CallType: call.TypeSingle,
			// CalleeList_Account names the caller too; the caller is not a callee.
			Caller: "144115212830834855", Callees: []string{"144115212948889925"},
			RoomID: "123456", StartTime: 1740464128000, AcceptTime: 1740464131000, EndTime: 1740464190000,
			Result: call.ResultNormalEnd,
		}, ""},
	} {
		body := testkit.Fixture(t, tc.fixture)
		ev := mustParse(t, V4, v4Query(tc.command), body)
		want := call.Event{
			Provider: call.Tencent, Channel: V4, Command: tc.command, Event: tc.event,
			CallID: "055662e1-bc8a-469c-a334-1126c8c17d58", EventTime: tc.eventTime,
			Facts: tc.facts, Raw: string(body),
		}
		if !reflect.DeepEqual(ev, want) {
			t.Fatalf("%s: got  %+v\nwant %+v", tc.fixture, ev, want)
		}
		if !strings.Contains(ev.Raw, tc.unquoted) {
			t.Fatalf("%s: raw lost the unquoted account", tc.fixture)
		}
	}
}

func TestCallbackV4AfterEndRoomIDTypeAsString(t *testing.T) {
	ev := mustParse(t, V4, v4Query(CmdAfterEndCall), testkit.Fixture(t, "v4_after_end_roomidtype_string.json"))
	f := ev.Facts
	if ev.CallID != "call-str-room" || f.RoomID != "room-abc" || f.CallType != call.TypeGroup || f.MediaType != call.MediaVideo {
		t.Errorf("event %+v", ev)
	}
	if f.Result != call.ResultNotAnswer || f.AcceptTime != 0 || f.StartTime != 1740464128000 || f.EndTime != 1740464150000 {
		t.Errorf("facts %+v", f)
	}
	if !slices.Equal(f.Callees, []string{"bob", "carol"}) || f.Caller != "alice" {
		t.Errorf("users %q %q", f.Caller, f.Callees)
	}
}

func TestCallbackV4MemberChangedActionTypes(t *testing.T) {
	for _, tc := range []struct {
		action   string
		accepted bool
	}{
		{"Answer", true}, {"Accept", true}, {"answer", true},
		{"Hangup", false}, {"Hang Up", false},
		{"Invite", false}, {"Invited", false},
		{"Cancel_Invite", false}, {"Canncel_Invite", false},
		{"Reject", false}, {"NotAnswer", false}, {"Join", false}, {"Offline", false},
		{"SomethingNew", false}, // unknown: kept, not refused
		{"", false},
	} {
		body := `{"CallbackCommand":"Call.CallbackAfterMemberChanged","CallId":"c1",` +
			`"UserList":[{"User_Account":"alice","Status":"Calling"},{"User_Account":144115212948889925,"Status":"Calling"}],` +
			`"ChangedUserList":[{"User_Account":144115212948889925,"ActionType":` + quote(tc.action) + `}],"EventTime":1740464131000}`
		ev, err := parse(V4, v4Query(CmdAfterMemberChanged), []byte(body))
		if err != nil {
			t.Errorf("%q: %v", tc.action, err)
			continue
		}
		f := ev.Facts
		if ev.Event != "member_changed" || ev.CallID != "c1" || ev.EventTime != 1740464131000 {
			t.Errorf("%q: event %q callId %q time %d", tc.action, ev.Event, ev.CallID, ev.EventTime)
		}
		if got, want := f.Detail["actions"], "144115212948889925:"+tc.action; got != want {
			t.Errorf("%q: actions = %q, want %q", tc.action, got, want)
		}
		if tc.accepted {
			if f.Status != call.StatusOngoing || f.AcceptTime != 1740464131000 {
				t.Errorf("%q: status %q acceptTime %d, want %q at the event time", tc.action, f.Status, f.AcceptTime, call.StatusOngoing)
			}
		} else if f.Status != "" || f.AcceptTime != 0 {
			t.Errorf("%q: status %q acceptTime %d, want none", tc.action, f.Status, f.AcceptTime)
		}
		// A member-changed callback does not say who the caller is.
		if f.Caller != "" || !slices.Equal(f.Callees, []string{"alice", "144115212948889925"}) {
			t.Errorf("%q: caller %q callees %q", tc.action, f.Caller, f.Callees)
		}
	}
}

func TestCallbackV4MemberChangedSeveralChanges(t *testing.T) {
	ev := mustParse(t, V4, v4Query(CmdAfterMemberChanged), testkit.Fixture(t, "v4_member_changed.json"))
	if ev.Facts.Status != call.StatusOngoing || ev.Facts.AcceptTime != 1740464131000 {
		t.Errorf("facts %+v", ev.Facts)
	}
	body := []byte(`{"CallbackCommand":"Call.CallbackAfterMemberChanged","CallId":"c1","ChangedUserList":[{"User_Account":"bob","ActionType":"Hang Up"},{"User_Account":"carol","ActionType":"Canncel_Invite"}],"EventTime":5}`)
	ev = mustParse(t, V4, v4Query(CmdAfterMemberChanged), body)
	if got := ev.Facts.Detail["actions"]; got != "bob:Hang Up,carol:Canncel_Invite" {
		t.Errorf("actions %q", got)
	}
}

func TestCallbackV4UnknownAndMissing(t *testing.T) {
	// An unknown command is kept, named after itself.
	ev := mustParse(t, V4, v4Query("Call.CallbackAfterSomethingNew"), []byte(`{"CallbackCommand":"Call.CallbackAfterSomethingNew","CallId":"c9","EventTime":1740464131000}`))
	if ev.Command != "Call.CallbackAfterSomethingNew" || ev.Event != "callbackaftersomethingnew" || ev.CallID != "c9" || ev.Facts.Status != "" {
		t.Errorf("unknown command: %+v", ev)
	}
	// The body's command is missing: the URL's is used.
	ev = mustParse(t, V4, v4Query(CmdAfterEndCall), []byte(`{"CallRecord":{"CallId":"c2"}}`))
	if ev.Command != CmdAfterEndCall || ev.Event != "call_ended" || ev.CallID != "c2" || ev.Facts.Status != call.StatusEnded {
		t.Errorf("command from URL: %+v", ev)
	}
	// Every field missing: accepted, with no event time (the caller stamps arrival).
	for _, cmd := range []string{CmdAfterStartCall, CmdAfterEndCall, CmdAfterMemberChanged, ""} {
		ev = mustParse(t, V4, v4Query(cmd), []byte(`{}`))
		if ev.EventTime != 0 || ev.CallID != "" {
			t.Errorf("%q, empty body: %+v", cmd, ev)
		}
	}
	ev = mustParse(t, V4, v4Query(""), []byte(`{}`))
	if ev.Event != "unknown" {
		t.Errorf("no command at all: event %q", ev.Event)
	}
	// A command that is only the prefix still names an event (found by fuzzing).
	ev = mustParse(t, V4, v4Query("Call."), []byte(`{"CallbackCommand":"Call."}`))
	if ev.Event != "unknown" || ev.Command != "Call." {
		t.Errorf("command %q: event %q", ev.Command, ev.Event)
	}
	// Nulls where objects and arrays are expected.
	mustParse(t, V4, v4Query(CmdAfterStartCall), []byte(`{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":null,"UserList":null,"EventTime":null}`))
}

// v1 status commands: the call ended with the command's result.
func TestCallbackV1StatusCommands(t *testing.T) {
	for cmd, result := range map[string]string{
		"cancel": call.ResultCancel, "reject": call.ResultReject, "not_answer": call.ResultNotAnswer,
		"normal_end": call.ResultNormalEnd, "call_busy": call.ResultBusy, "interrupt": call.ResultInterrupt,
	} {
		body := []byte(`{"UserId":"Alice","RoomId":"r1","TotalNum":2,"MediaType":"video","CallType":"single","CallId":"v1c","Role":"caller","Event":"` + cmd + `","CallResult":"","EventTime":1704695566}`)
		ev := mustParse(t, V1, v1Query(cmd), body)
		f := ev.Facts
		if ev.Command != cmd || ev.Event != "call_ended" || f.Status != call.StatusEnded || f.Result != result {
			t.Errorf("%s: command %q event %q status %q result %q, want result %q", cmd, ev.Command, ev.Event, f.Status, f.Result, result)
		}
		// v1 EventTime is in seconds; Event.EventTime is ms. With no EndTs,
		// the call ended at the event.
		if ev.EventTime != 1704695566000 || f.EndTime != 1704695566000 {
			t.Errorf("%s: eventTime %d endTime %d", cmd, ev.EventTime, f.EndTime)
		}
		if ev.CallID != "v1c" || f.Caller != "Alice" || len(f.Callees) != 0 || f.MediaType != call.MediaVideo || f.CallType != call.TypeSingle || f.RoomID != "r1" {
			t.Errorf("%s: %+v", cmd, ev)
		}
	}
}

// Every v1 event command of spec §1.3, "call_end" from Tencent's own
// example, and an unknown one.
func TestCallbackV1EventCommands(t *testing.T) {
	type want struct{ event, status, result string }
	ended := func(result string) want { return want{"call_ended", call.StatusEnded, result} }
	for cmd, w := range map[string]want{
		"caller_start_call":       {"call_started", call.StatusRinging, ""},
		"caller_call_accepted":    {"call_accepted", call.StatusOngoing, ""},
		"caller_call_missed":      ended(call.ResultNotAnswer),
		"caller_call_rejected":    ended(call.ResultReject),
		"caller_call_busy":        ended(call.ResultBusy),
		"caller_cancel_call":      ended(call.ResultCancel),
		"caller_call_failed":      {"call_failed", call.StatusEnded, ""},
		"caller_call_end":         ended(""),
		"caller_call_interrupted": ended(call.ResultInterrupt),
		"callee_receive_call":     {"call_received", call.StatusRinging, ""},
		"callee_accept_call":      {"call_accepted", call.StatusOngoing, ""},
		"callee_not_answer_call":  ended(call.ResultNotAnswer),
		"callee_reject_call":      ended(call.ResultReject),
		"callee_ignore_call":      {"call_ignored", "", ""},
		"callee_call_canceled":    ended(call.ResultCancel),
		"callee_call_end":         ended(""),
		"callee_call_interrupted": ended(call.ResultInterrupt),
		"invite_user":             {"member_changed", "", ""},
		"join_in_group_call":      {"member_changed", "", ""},
		"call_end":                ended(""),
		"caller_do_something_new": {"caller_do_something_new", "", ""},
		"CALLER_START_CALL":       {"call_started", call.StatusRinging, ""}, // case of the command
	} {
		role := "callee"
		if strings.HasPrefix(strings.ToLower(cmd), "caller") {
			role = "caller"
		}
		body := []byte(`{"UserId":"u1","RoomId":"r","TotalNum":3,"MediaType":"audio","CallType":"group","CallId":"v1c","Role":"` + role + `","Event":"x","EventTime":1704695566}`)
		ev := mustParse(t, V1, v1Query(cmd), body)
		f := ev.Facts
		if ev.Event != w.event || f.Status != w.status || f.Result != w.result {
			t.Errorf("%s: event %q status %q result %q, want %q %q %q", cmd, ev.Event, f.Status, f.Result, w.event, w.status, w.result)
		}
		if ev.Command != cmd {
			t.Errorf("%s: command kept as %q", cmd, ev.Command)
		}
		// The time the status implies is the event's time.
		var got int64
		switch w.status {
		case call.StatusRinging:
			got = f.StartTime
		case call.StatusOngoing:
			got = f.AcceptTime
		case call.StatusEnded:
			got = f.EndTime
		default:
			got = 1704695566000
		}
		if got != 1704695566000 {
			t.Errorf("%s: status %q time %d", cmd, w.status, got)
		}
		if role == "caller" && (f.Caller != "u1" || len(f.Callees) != 0) || role == "callee" && (f.Caller != "" || !slices.Equal(f.Callees, []string{"u1"})) {
			t.Errorf("%s: caller %q callees %q", cmd, f.Caller, f.Callees)
		}
	}
	// No command in the URL: named after the body's Event.
	ev := mustParse(t, V1, url.Values{"sdkappid": {"1"}, "command": {""}}, []byte(`{"Event":"Start_Call","CallId":"c"}`))
	if ev.Event != "start_call" {
		t.Errorf("no command: event %q", ev.Event)
	}
}

func TestCallbackV1SeedSample(t *testing.T) {
	body := testkit.Fixture(t, "v1_caller_start_call.json")
	ev := mustParse(t, V1, v1Query("caller_start_call"), body)
	f := ev.Facts
	if ev.CallID != "aheahfo-eqwnknoihfsd-qweqf" || ev.Event != "call_started" || ev.EventTime != 1704695566000 {
		t.Errorf("event %+v", ev)
	}
	if f.Caller != "Alice" || f.RoomID != "Alice's Room" || f.MediaType != call.MediaAudio || f.CallType != call.TypeSingle || f.Status != call.StatusRinging {
		t.Errorf("facts %+v", f)
	}
	// StartCallTs is the call's start, in seconds.
	if f.StartTime != 1704856873000 || f.AcceptTime != 1704856876000 || f.EndTime != 1704856885000 {
		t.Errorf("times %d %d %d", f.StartTime, f.AcceptTime, f.EndTime)
	}
}

func TestCallbackV1CallResultCase(t *testing.T) {
	for _, spelled := range []string{"normal_end", "Normal_end", "NORMAL_END", "NormalEnd", " normal_end "} {
		body := []byte(`{"CallId":"c","Role":"caller","UserId":"a","CallResult":"` + spelled + `","EventTime":1704695600}`)
		for _, cmd := range []string{"caller_call_end", "callee_call_end", "call_end"} {
			ev := mustParse(t, V1, v1Query(cmd), body)
			if ev.Facts.Result != call.ResultNormalEnd {
				t.Errorf("%s %q: result %q", cmd, spelled, ev.Facts.Result)
			}
		}
	}
	// A result on a status command overrides the command's own.
	ev := mustParse(t, V1, v1Query("cancel"), []byte(`{"CallId":"c","CallResult":"Reject"}`))
	if ev.Facts.Result != call.ResultReject {
		t.Errorf("CallResult on a status command: %q", ev.Facts.Result)
	}
	// A result on a non-ending event says nothing about the call yet.
	ev = mustParse(t, V1, v1Query("caller_start_call"), []byte(`{"CallId":"c","CallResult":"normal_end"}`))
	if ev.Facts.Result != "" {
		t.Errorf("CallResult on a start event: %q", ev.Facts.Result)
	}
}

func TestCallbackV1NumbersAsStrings(t *testing.T) {
	ev := mustParse(t, V1, v1Query("callee_call_end"), testkit.Fixture(t, "v1_normal_end.json"))
	f := ev.Facts
	if ev.EventTime != 1704695600000 || f.StartTime != 1704695500000 || f.AcceptTime != 1704695510000 || f.EndTime != 1704695600000 {
		t.Errorf("times: %d %+v", ev.EventTime, f)
	}
	if f.Result != call.ResultNormalEnd || f.CallType != call.TypeGroup || f.MediaType != call.MediaVideo || !slices.Equal(f.Callees, []string{"Bob"}) {
		t.Errorf("facts %+v", f)
	}
	// A numeric user id and room id.
	ev = mustParse(t, V1, v1Query("caller_start_call"), []byte(`{"UserId":144115212830834855,"RoomId":123456,"Role":"caller","CallId":"c","EventTime":1704695566}`))
	if ev.Facts.Caller != "144115212830834855" || ev.Facts.RoomID != "123456" {
		t.Errorf("numeric ids: %+v", ev.Facts)
	}
}

func TestCallbackV1MissingFields(t *testing.T) {
	ev := mustParse(t, V1, v1Query("cancel"), []byte(`{}`))
	if ev.CallID != "" || ev.EventTime != 0 || ev.Facts.EndTime != 0 || ev.Facts.Status != call.StatusEnded || ev.Facts.Result != call.ResultCancel {
		t.Errorf("empty body: %+v", ev)
	}
	if len(ev.Facts.Callees) != 0 || ev.Facts.Caller != "" {
		t.Errorf("empty body names users: %+v", ev.Facts)
	}
}

// EventTime: ms in v4, seconds in v1, both stored as ms.
func TestCallbackEventTimeUnits(t *testing.T) {
	v4 := mustParse(t, V4, v4Query(CmdAfterEndCall), []byte(`{"CallbackCommand":"Call.CallbackAfterEndCall","EventTime":1740464190512}`))
	v1 := mustParse(t, V1, v1Query("normal_end"), []byte(`{"EventTime":1740464190}`))
	if v4.EventTime != 1740464190512 || v1.EventTime != 1740464190000 {
		t.Errorf("v4 %d, v1 %d", v4.EventTime, v1.EventTime)
	}
}

func TestCallbackMalformed(t *testing.T) {
	good := string(testkit.Fixture(t, "v4_after_start.json"))
	for _, body := range []string{
		``, ` `, `{`, `not json`, `[]`, `null`, `"x"`, `42`,
		good + `x`, good + `}`, good + `]`, good + `{}`, good + `,`,
		`{"EventTime":"soon"}`, `{"EventTime":{}}`, `{"CallInfo":"x"}`, `{"UserList":{}}`,
		`{"UserList":[{"User_Account":{}}]}`, `{"CallRecord":{"StartTime":"yesterday"}}`,
		`{"EventTime":1e300}`,
	} {
		for _, gen := range []string{V4, V1} {
			q := v4Query(CmdAfterStartCall)
			if gen == V1 {
				q = v1Query("cancel")
			}
			if gen == V1 && (strings.Contains(body, "UserList") || strings.Contains(body, "CallInfo") || strings.Contains(body, "CallRecord")) {
				continue // v1 has no such fields; they are ignored
			}
			_, err := parse(gen, q, []byte(body))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s %q: err = %v, want ErrMalformed", gen, body, err)
			}
		}
	}
}

func TestCallbackReply(t *testing.T) {
	// Exactly the bodies of spec §1.3.
	if got := string(Reply(V4, nil)); got != `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}` {
		t.Errorf("v4 OK: %s", got)
	}
	if got := string(Reply(V1, nil)); got != `{"ErrorCode":0,"ErrorMessage":"Success"}` {
		t.Errorf("v1 OK: %s", got)
	}
	var v4 struct {
		ActionStatus string
		ErrorInfo    string
		ErrorCode    int
	}
	if err := json.Unmarshal(Reply(V4, errors.New("boom")), &v4); err != nil || v4.ActionStatus != "FAIL" || v4.ErrorCode == 0 || v4.ErrorInfo != "boom" {
		t.Errorf("v4 FAIL: %+v %v", v4, err)
	}
	var v1 map[string]any
	if err := json.Unmarshal(Reply(V1, errors.New("boom")), &v1); err != nil || v1["ErrorCode"] == float64(0) || v1["ErrorCode"] == nil || v1["ErrorMessage"] != "boom" {
		t.Errorf("v1 fail: %v %v", v1, err)
	}
	if _, ok := v1["ActionStatus"]; ok {
		t.Error("v1 reply in v4 format")
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Commands lists what a callback configuration should ask for: every
// command the webhook reads, of one generation, and none it cannot ask for.
func TestCallbackCommands(t *testing.T) {
	if got := Commands(V4); !slices.Equal(got, []string{CmdAfterStartCall, CmdAfterEndCall, CmdAfterMemberChanged}) {
		t.Fatalf("v4: %v", got)
	}
	if got := Commands(""); len(got) != 3 {
		t.Fatalf("the default generation is v4: %v", got)
	}
	v1 := Commands(V1)
	// Tencent's command list: 6 status, 9 caller, 8 callee and 2 midway
	// commands; call_end, from an example, is in none.
	if len(v1) != 25 || slices.Contains(v1, "call_end") || !slices.IsSorted(v1) {
		t.Fatalf("v1: %d commands %v", len(v1), v1)
	}
	for _, c := range v1 {
		ev := mustParse(t, V1, v1Query(c), []byte(`{"CallId":"c","UserId":"u","Role":"caller","EventTime":1700000000}`))
		if _, known := v1Commands[c]; !known || ev.Event == "" || ev.Event == eventName(c) {
			t.Errorf("v1 %s is listed but not read: event %q", c, ev.Event)
		}
	}
	v1[0] = "changed"
	if Commands(V1)[0] == "changed" {
		t.Error("Commands returned its own slice")
	}
}
