package yunxin

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/testkit"
)

func mustParse(t *testing.T, channel string, body []byte) call.Event {
	t.Helper()
	ev, err := Parse(channel, body)
	if err != nil {
		t.Fatalf("Parse(%s, %s): %v", channel, body, err)
	}
	if ev.Provider != call.Yunxin || ev.Channel != channel {
		t.Errorf("provider/channel %q/%q", ev.Provider, ev.Channel)
	}
	if ev.Raw != string(body) {
		t.Errorf("Raw is not the body exactly:\n got %q\nwant %q", ev.Raw, body)
	}
	return ev
}

// Seed 004's eventType 20 sample, byte for byte.
func TestCallbackEvent20(t *testing.T) {
	body := testkit.Fixture(t, "callback_20.json")
	ev := mustParse(t, ChannelCallback, body)
	want := call.Event{
		Provider: call.Yunxin, Channel: ChannelCallback, Command: "20", Event: "call_started",
		EventTime: 1573459861008,
		Facts: call.Facts{
			Status: call.StatusRinging, MediaType: call.MediaVideo, CallType: call.TypeSingle,
			Caller: "rss02", Callees: []string{"rss01"}, StartTime: 1573459861008,
		},
		Raw: string(body),
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("got  %+v\nwant %+v", ev, want)
	}
	// eventType as a string, an audio call, several callees as a string-encoded array.
	ev = mustParse(t, ChannelCallback, []byte(`{"eventType":"20","callType":"1","fromAccount":"a","timestamp":1573459861008,"toAccountList":"[\"b\",\"c\"]"}`))
	if ev.Command != "20" || ev.Facts.MediaType != call.MediaAudio || ev.Facts.CallType != call.TypeGroup || !slices.Equal(ev.Facts.Callees, []string{"b", "c"}) || ev.EventTime != 1573459861008 {
		t.Errorf("string variants: %+v", ev)
	}
	// Every optional field missing.
	ev = mustParse(t, ChannelCallback, []byte(`{"eventType":20}`))
	if ev.Event != "call_started" || ev.EventTime != 0 || ev.Facts.Caller != "" || ev.Facts.MediaType != "" || len(ev.Facts.Callees) != 0 {
		t.Errorf("bare eventType 20: %+v", ev)
	}
}

func TestCallbackEvent21(t *testing.T) {
	ev := mustParse(t, ChannelCallback, testkit.Fixture(t, "callback_21.json"))
	if ev.Command != "21" || ev.Event != "room_created" || ev.EventTime != 1573456122632 {
		t.Errorf("event %+v", ev)
	}
	if ev.Facts.Caller != "lly1" || ev.Facts.RoomID != "ss" || ev.Facts.CallType != call.TypeGroup {
		t.Errorf("facts %+v", ev.Facts)
	}
}

func TestCopyEvent5(t *testing.T) {
	// members as a string-encoded array, every number as a string, "VEDIO".
	ev := mustParse(t, ChannelCopy, testkit.Fixture(t, "copy_5_members_string.json"))
	want := call.Facts{
		Status: call.StatusEnded, MediaType: call.MediaVideo, CallType: call.TypeSingle,
		Caller: "rss02", Callees: []string{"rss01"},
		StartTime: 1573459861008, EndTime: 1573459861008 + 42000, Result: call.ResultNormalEnd,
		Detail: map[string]string{"status": "SUCCESS"},
	}
	if ev.CallID != "6290737000999815988" || ev.Command != "5" || ev.Event != "call_ended" || ev.EventTime != 1573459861008+42000 {
		t.Errorf("event %+v", ev)
	}
	if !reflect.DeepEqual(ev.Facts, want) {
		t.Errorf("facts\n got  %+v\nwant %+v", ev.Facts, want)
	}

	// members as a real array, numbers as numbers (a channelId wider than a
	// float64), caller as "true", three members: a group call.
	ev = mustParse(t, ChannelCopy, testkit.Fixture(t, "copy_5_members_array.json"))
	if ev.CallID != "6290737000999815989" {
		t.Errorf("channelId %q", ev.CallID)
	}
	f := ev.Facts
	if f.Caller != "a1" || !slices.Equal(f.Callees, []string{"a2", "a3"}) || f.CallType != call.TypeGroup || f.MediaType != call.MediaAudio {
		t.Errorf("facts %+v", f)
	}
	if f.Result != call.ResultNotAnswer || ev.EventTime != 1573459861008+7000 || ev.Event != "call_ended" {
		t.Errorf("TIMEOUT: result %q time %d event %q", f.Result, ev.EventTime, ev.Event)
	}

	// An intermediate copy of a long call.
	ev = mustParse(t, ChannelCopy, testkit.Fixture(t, "copy_5_running.json"))
	if ev.Event != "call_progress" || ev.Facts.Status != call.StatusOngoing || ev.Facts.EndTime != 0 || ev.Facts.Result != "" || ev.Facts.MediaType != call.MediaVideo {
		t.Errorf("running: %+v", ev)
	}
	if ev.EventTime != 1573459861008+20000 {
		t.Errorf("running: time %d", ev.EventTime)
	}
}

func TestCopyEvent5Statuses(t *testing.T) {
	for status, want := range map[string]string{
		"SUCCESS": call.ResultNormalEnd, "TIMEOUT": call.ResultNotAnswer,
		"SINGLE_PARTICIPATE": "single_participate", "UNKNOWN": "unknown", "": "",
	} {
		ev := mustParse(t, ChannelCopy, []byte(`{"eventType":5,"channelId":"1","createtime":"1573459861008","duration":"1","status":"`+status+`"}`))
		if ev.Facts.Result != want {
			t.Errorf("%q: result %q, want %q", status, ev.Facts.Result, want)
		}
		if status != "" && ev.Facts.Detail["status"] != status {
			t.Errorf("%q: detail %v", status, ev.Facts.Detail)
		}
	}
	for typ, want := range map[string]string{"AUDIO": call.MediaAudio, "VEDIO": call.MediaVideo, "VIDEO": call.MediaVideo, "vedio": call.MediaVideo, "DataTunnel": ""} {
		ev := mustParse(t, ChannelCopy, []byte(`{"eventType":5,"channelId":"1","type":"`+typ+`"}`))
		if ev.Facts.MediaType != want {
			t.Errorf("type %q: media %q, want %q", typ, ev.Facts.MediaType, want)
		}
	}
}

// A duration copy with no createtime has no event time of its own: the
// caller stamps it with its arrival. It must not be dated "duration
// seconds after 1970".
func TestCopyEvent5MissingCreateTime(t *testing.T) {
	ev := mustParse(t, ChannelCopy, []byte(`{"eventType":5,"channelId":"c","duration":"42","status":"SUCCESS"}`))
	if ev.EventTime != 0 || ev.Facts.EndTime != 0 || ev.Facts.StartTime != 0 {
		t.Errorf("no createtime: eventTime %d endTime %d startTime %d", ev.EventTime, ev.Facts.EndTime, ev.Facts.StartTime)
	}
	if ev.Facts.Status != call.StatusEnded || ev.Facts.Result != call.ResultNormalEnd {
		t.Errorf("no createtime: %+v", ev.Facts)
	}
	ev = mustParse(t, ChannelCopy, []byte(`{"eventType":5}`))
	if ev.EventTime != 0 || ev.CallID != "" || ev.Event != "call_ended" {
		t.Errorf("bare eventType 5: %+v", ev)
	}
}

func TestCopyEvent6(t *testing.T) {
	for _, name := range []string{"copy_6_fileinfo_string.json", "copy_6_fileinfo_array.json"} {
		ev := mustParse(t, ChannelCopy, testkit.Fixture(t, name))
		if ev.Command != "6" || ev.Event != "recording" || ev.CallID != "6290737000999815988" || ev.EventTime != 0 {
			t.Errorf("%s: %+v", name, ev)
		}
	}
	ev := mustParse(t, ChannelCopy, testkit.Fixture(t, "copy_6_fileinfo_array.json"))
	if ev.Facts.Detail["files"] != "2" || ev.Facts.Detail["urls"] != "https://nim.example.com/b.aac https://nim.example.com/c.aac" {
		t.Errorf("detail %v", ev.Facts.Detail)
	}
	ev = mustParse(t, ChannelCopy, []byte(`{"eventType":"6","fileinfo":""}`))
	if ev.Facts.Detail["files"] != "0" {
		t.Errorf("empty fileinfo: %v", ev.Facts.Detail)
	}
}

func TestUnknownEventTypesKept(t *testing.T) {
	for _, tc := range []struct{ channel, body, event string }{
		{ChannelCopy, `{"eventType":99,"x":1}`, "eventtype_99"},
		{ChannelCallback, `{"eventType":"7"}`, "eventtype_7"},
		// Each channel's numbers mean nothing on the other channel.
		{ChannelCopy, `{"eventType":20,"fromAccount":"a"}`, "eventtype_20"},
		{ChannelCallback, `{"eventType":5,"channelId":"c"}`, "eventtype_5"},
		{ChannelCopy, `{"something":"else"}`, "eventtype_0"},
	} {
		ev := mustParse(t, tc.channel, []byte(tc.body))
		if ev.Event != tc.event || ev.Facts.Status != "" {
			t.Errorf("%s %s: event %q status %q, want %q", tc.channel, tc.body, ev.Event, ev.Facts.Status, tc.event)
		}
	}
}

func TestIsProbe(t *testing.T) {
	for body, want := range map[string]bool{
		`{}`: true, ` { } `: true, "{}\n": true,
		`{"eventType":5}`: false, `null`: false, `[]`: false, ``: false, `{`: false, `""`: false,
		`{}{}`: false, `{}}`: false,
	} {
		if got := IsProbe([]byte(body)); got != want {
			t.Errorf("IsProbe(%q) = %v, want %v", body, got, want)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	good := string(testkit.Fixture(t, "copy_5_members_string.json"))
	for _, body := range []string{
		``, `{`, `nope`, `null`, `[]`, `"x"`, `1`,
		good + `x`, good + `}`, good + `]`, good + `{}`,
		`{"eventType":"five"}`, `{"eventType":5,"members":"[{"}`, `{"eventType":5,"members":{}}`,
		`{"eventType":5,"members":"[{\"caller\":\"maybe\"}]"}`, `{"eventType":6,"fileinfo":"not json"}`,
		`{"eventType":20,"toAccountList":{}}`, `{"eventType":5,"createtime":"NaN"}`,
	} {
		for _, ch := range []string{ChannelCallback, ChannelCopy} {
			if _, err := Parse(ch, []byte(body)); !errors.Is(err, ErrMalformed) {
				t.Errorf("%s %q: err = %v, want ErrMalformed", ch, body, err)
			}
		}
	}
}

func TestAllowReply(t *testing.T) {
	if strings.TrimSpace(string(AllowReply)) != `{"errCode":0}` {
		t.Errorf("AllowReply = %s", AllowReply)
	}
}
