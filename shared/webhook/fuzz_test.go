package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/yunxin"
	"github.com/callfn/callfn/testkit"
)

// In a plain `go test` these run their seed corpus only; to search:
//
//	go test -run '^$' -fuzz FuzzTencentCallback -fuzztime 20s ./shared/webhook/
//	go test -run '^$' -fuzz FuzzYunxin -fuzztime 20s ./shared/webhook/

// FuzzTencentCallback: no body or command makes the handler panic, every
// reply is in the generation's format, and a callback is either refused
// with a 4xx and nothing stored, or acknowledged and stored once, its raw
// exactly the body received.
func FuzzTencentCallback(f *testing.F) {
	for _, s := range []struct {
		v1      bool
		command string
		file    string
	}{
		{false, callback.CmdAfterStartCall, "v4_after_start.json"},
		{false, callback.CmdAfterEndCall, "v4_after_end.json"},
		{false, callback.CmdAfterMemberChanged, "v4_member_changed.json"},
		{true, "caller_start_call", "v1_caller_start_call.json"},
		{true, "callee_call_end", "v1_normal_end.json"},
	} {
		f.Add(s.v1, s.command, tencentFixture(f, s.file))
	}
	f.Add(false, "", []byte(`{}`))
	f.Add(true, "cancel", []byte(`null`))
	f.Add(false, callback.CmdAfterStartCall, []byte(`{"UserList":[{"User_Account":1e400}]}`))
	f.Add(true, "x", []byte("{\"CallId\":\"\xff\"}"))
	f.Add(false, callback.CmdAfterEndCall, []byte(`{"CallRecord":{"CalleeList_Account":"[1]"}}}`))
	// Times outside any sane range, ids that once ran into others' keys,
	// ids too long for a key.
	f.Add(false, callback.CmdAfterStartCall, []byte(`{"CallInfo":{"CallId":"c"},"EventTime":-1}`))
	f.Add(false, callback.CmdAfterStartCall, []byte(`{"CallInfo":{"CallId":"c"},"EventTime":9223372036854775807}`))
	f.Add(false, callback.CmdAfterEndCall, []byte(`{"CallRecord":{"CallId":"c","StartTime":-1,"EndTime":9223372036854775807},"EventTime":"1e18"}`))
	f.Add(true, "callee_call_end", []byte(`{"CallId":"c","EventTime":"-1","StartCallTs":9223372036854775807,"EndTs":"1e18"}`))
	f.Add(false, callback.CmdAfterStartCall, []byte(`{"CallInfo":{"CallId":"a\u0000x"},"UserList":[{"User_Account":"u\u0000v","Status":"Calling"}]}`))
	f.Add(true, "caller_start_call", []byte(`{"CallId":"a\u0000","UserId":"\u0000","Role":"caller"}`))
	f.Add(false, callback.CmdAfterStartCall, []byte(`{"CallInfo":{"CallId":"`+strings.Repeat("c", 3000)+`"},"UserList":[{"User_Account":"`+strings.Repeat("u", 40000)+`","Status":"Calling"}]}`))

	f.Fuzz(func(t *testing.T, v1 bool, command string, body []byte) {
		e := newEnv(t, baseConfig(), nil)
		q, gen := v4Query(command), tencent.V4
		if v1 {
			q, gen = v1Query(command), tencent.V1
		}
		r := e.tencent(q, body)
		var reply map[string]any
		if err := json.Unmarshal(r.body, &reply); err != nil {
			t.Fatalf("reply is not JSON: %q", r.body)
		}
		_, v4Shape := reply["ActionStatus"]
		if v4Shape != (gen == tencent.V4) {
			t.Fatalf("%s callback answered in the other generation's format: %s", gen, r.body)
		}
		if r.code != http.StatusOK {
			if r.code/100 != 4 {
				t.Fatalf("status %d: a bad body is the sender's fault (4xx)", r.code)
			}
			e.wantStored(0)
			return
		}
		if gen == tencent.V4 && string(r.body) != v4OK || gen == tencent.V1 && string(r.body) != v1OK {
			t.Fatalf("200 with body %s", r.body)
		}
		ev := e.wantStored(1)[0]
		if ev.Raw != string(body) {
			t.Fatalf("raw not exactly as received:\n got %q\nwant %q", ev.Raw, body)
		}
		if ev.Provider != "tencent" || ev.Event == "" || ev.EventTime == 0 || ev.DeliveryID == "" {
			t.Fatalf("stored event lacks what `callfn events` prints: %+v", ev)
		}
		wantSaneAndApart(t, e, &ev)
		// The same delivery again: acknowledged, not stored twice.
		if r := e.tencent(q, body); r.code != http.StatusOK {
			t.Fatalf("redelivery: %d %s", r.code, r.body)
		}
		e.wantStored(1)
	})
}

// FuzzYunxin: correctly signed bodies on either channel never panic the
// handler; each is refused with a 4xx and nothing stored, answered as a
// probe with nothing stored, or stored once with its raw exactly as received.
func FuzzYunxin(f *testing.F) {
	for _, s := range []struct {
		copy bool
		file string
	}{
		{false, "yunxin_callback_20.json"},
		{true, "yunxin_copy_5.json"},
		{true, "yunxin_copy_6.json"},
	} {
		f.Add(s.copy, testkit.Fixture(f, s.file))
	}
	f.Add(true, []byte(`{}`))
	f.Add(false, []byte(` {} `))
	f.Add(true, []byte(`{"eventType":"5","members":"[{\"accid\":1}]"}`))
	f.Add(false, []byte(`{"eventType":21,"channelName":12345678901234567890}`))
	f.Add(true, []byte(`{"eventType":6,"fileinfo":"null"}`))
	f.Add(true, []byte(`{"eventType":5,"channelId":"c","createtime":1573459861008,"duration":1000000000000000000}`))
	f.Add(true, []byte(`{"eventType":5,"channelId":"c","createtime":"1573459861008","duration":"1e18"}`))
	f.Add(true, []byte(`{"eventType":5,"channelId":"c","createtime":-1,"duration":-1}`))
	f.Add(false, []byte(`{"eventType":20,"timestamp":"9223372036854775807","fromAccount":"a\u0000x"}`))
	f.Add(true, []byte(`{"eventType":5,"channelId":"a\u0000x","members":[{"accid":"u\u0000v","caller":true}]}`))

	f.Fuzz(func(t *testing.T, copyChannel bool, body []byte) {
		e := newEnv(t, baseConfig(), nil)
		ch := "callback"
		if copyChannel {
			ch = "copy"
		}
		r := e.yunxinSigned(ch, body)
		if !json.Valid(r.body) {
			t.Fatalf("reply is not JSON: %q", r.body)
		}
		if r.code != http.StatusOK {
			if r.code/100 != 4 {
				t.Fatalf("status %d: a bad body is the sender's fault (4xx)", r.code)
			}
			e.wantStored(0)
			return
		}
		if yunxin.IsProbe(body) {
			e.wantStored(0)
			return
		}
		ev := e.wantStored(1)[0]
		if ev.Raw != string(body) {
			t.Fatalf("raw not exactly as received:\n got %q\nwant %q", ev.Raw, body)
		}
		if ev.Provider != "yunxin" || ev.Channel != ch || ev.Event == "" || ev.EventTime == 0 {
			t.Fatalf("stored event %+v", ev)
		}
		wantSaneAndApart(t, e, &ev)
		if r := e.yunxinSigned(ch, body); r.code != http.StatusOK {
			t.Fatalf("redelivery: %d %s", r.code, r.body)
		}
		e.wantStored(1)
	})
}

// wantSaneAndApart checks a stored event's times are sane (or absent), and
// that a call id holding a NUL lists nothing under the id before it.
func wantSaneAndApart(t *testing.T, e *env, ev *call.Event) {
	t.Helper()
	if call.SaneTime(ev.EventTime) == 0 {
		t.Fatalf("stored with an insane event time: %d", ev.EventTime)
	}
	for _, ms := range []int64{ev.Facts.StartTime, ev.Facts.AcceptTime, ev.Facts.EndTime} {
		if ms != 0 && call.SaneTime(ms) == 0 {
			t.Fatalf("stored with an insane time in its facts: %+v", ev.Facts)
		}
	}
	if before, _, ok := strings.Cut(ev.CallID, "\x00"); ok {
		err := e.st.ListEvents(context.Background(), before, func(x *call.Event) error {
			return fmt.Errorf("call %q lists the events of call %q", before, x.CallID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
