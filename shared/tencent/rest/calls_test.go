package rest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/tencent/rest"
)

// TestValidateAtTheBounds checks each of start_call_by_robot's rules on
// both sides of its bound.
func TestValidateAtTheBounds(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(r *rest.StartCallRequest)
		field string // "" when valid
	}{
		{"valid", func(r *rest.StartCallRequest) {}, ""},
		{"no robot", func(r *rest.StartCallRequest) { r.Robot_Account = "" }, "Robot_Account"},
		{"robot of 32 bytes", func(r *rest.StartCallRequest) { r.Robot_Account = strings.Repeat("r", 32) }, ""},
		{"robot of 33 bytes", func(r *rest.StartCallRequest) { r.Robot_Account = strings.Repeat("r", 33) }, "Robot_Account"},
		{"no callees", func(r *rest.StartCallRequest) { r.CalleeList_Account = nil }, "CalleeList_Account"},
		{"empty callee list", func(r *rest.StartCallRequest) { r.CalleeList_Account = []string{} }, "CalleeList_Account"},
		{"empty callee", func(r *rest.StartCallRequest) { r.CalleeList_Account = []string{"jack", ""} }, "CalleeList_Account[1]"},
		{"no timeout", func(r *rest.StartCallRequest) { r.Timeout = 0 }, "Timeout"},
		{"timeout 9999", func(r *rest.StartCallRequest) { r.Timeout = 9999 }, "Timeout"},
		{"timeout 10000", func(r *rest.StartCallRequest) { r.Timeout = 10000 }, ""},
		{"timeout 600000", func(r *rest.StartCallRequest) { r.Timeout = 600000 }, ""},
		{"timeout 600001", func(r *rest.StartCallRequest) { r.Timeout = 600001 }, "Timeout"},
		{"negative timeout", func(r *rest.StartCallRequest) { r.Timeout = -10000 }, "Timeout"},
		{"UserData 1000 bytes", func(r *rest.StartCallRequest) { r.UserData = strings.Repeat("é", 500) }, ""},
		{"UserData 1001 bytes", func(r *rest.StartCallRequest) { r.UserData = strings.Repeat("é", 500) + "x" }, "UserData"},
		{"no media type", func(r *rest.StartCallRequest) { r.CallInfo.MediaType = "" }, "CallInfo.MediaType"},
		{"media Audio", func(r *rest.StartCallRequest) { r.CallInfo.MediaType = "Audio" }, ""},
		{"media video", func(r *rest.StartCallRequest) { r.CallInfo.MediaType = "video" }, ""},
		{"media screen", func(r *rest.StartCallRequest) { r.CallInfo.MediaType = "Screen" }, "CallInfo.MediaType"},
		{"no room", func(r *rest.StartCallRequest) { r.CallInfo.RoomId, r.CallInfo.RoomIdType = nil, nil }, ""},
		{"room type without room", func(r *rest.StartCallRequest) { r.CallInfo.RoomId = nil }, ""},
		{"room without type", func(r *rest.StartCallRequest) { r.CallInfo.RoomIdType = nil }, "CallInfo.RoomIdType"},
		{"room type 0", func(r *rest.StartCallRequest) { r.CallInfo.RoomIdType = intp(0) }, "CallInfo.RoomIdType"},
		{"room type 3", func(r *rest.StartCallRequest) { r.CallInfo.RoomIdType = intp(3) }, "CallInfo.RoomIdType"},
		{"int room 1", func(r *rest.StartCallRequest) { intRoom(r, `1`) }, ""},
		{"int room 0", func(r *rest.StartCallRequest) { intRoom(r, `0`) }, "CallInfo.RoomId"},
		{"int room 4294967294", func(r *rest.StartCallRequest) { intRoom(r, `4294967294`) }, ""},
		{"int room 4294967295", func(r *rest.StartCallRequest) { intRoom(r, `4294967295`) }, "CallInfo.RoomId"},
		{"int room in a string", func(r *rest.StartCallRequest) { intRoom(r, `"12345"`) }, ""},
		{"int room of letters", func(r *rest.StartCallRequest) { intRoom(r, `"abc"`) }, "CallInfo.RoomId"},
		{"int room fraction", func(r *rest.StartCallRequest) { intRoom(r, `12.5`) }, "CallInfo.RoomId"},
		{"string room of 64 bytes", func(r *rest.StartCallRequest) { strRoom(r, `"`+strings.Repeat("a", 64)+`"`) }, ""},
		{"string room of 65 bytes", func(r *rest.StartCallRequest) { strRoom(r, `"`+strings.Repeat("a", 65)+`"`) }, "CallInfo.RoomId"},
		{"empty string room", func(r *rest.StartCallRequest) { strRoom(r, `""`) }, "CallInfo.RoomId"},
		{"string room as a number", func(r *rest.StartCallRequest) { strRoom(r, `123`) }, "CallInfo.RoomId"},
		{"string room, allowed punctuation", func(r *rest.StartCallRequest) { strRoom(r, `"a b!#$%&()+-:;<=.>?@[]^_{}|~,"`) }, ""},
		{"string room with a slash", func(r *rest.StartCallRequest) { strRoom(r, `"a/b"`) }, "CallInfo.RoomId"},
		{"string room with unicode", func(r *rest.StartCallRequest) { strRoom(r, `"房间"`) }, "CallInfo.RoomId"},
		{"push flag 1", func(r *rest.StartCallRequest) { r.OfflinePushInfo = &rest.OfflinePushInfo{PushFlag: intp(1)} }, ""},
		{"push flag 2", func(r *rest.StartCallRequest) { r.OfflinePushInfo = &rest.OfflinePushInfo{PushFlag: intp(2)} }, "OfflinePushInfo.PushFlag"},
		{"Ext JSON", func(r *rest.StartCallRequest) {
			r.OfflinePushInfo = &rest.OfflinePushInfo{Ext: `{"entity":{"key1":"value1"}}`}
		}, ""},
		{"Ext not JSON", func(r *rest.StartCallRequest) { r.OfflinePushInfo = &rest.OfflinePushInfo{Ext: `{entity}`} }, "OfflinePushInfo.Ext"},
		{"ApnsInfo not an object", func(r *rest.StartCallRequest) {
			r.OfflinePushInfo = &rest.OfflinePushInfo{ApnsInfo: []byte(`[1]`)}
		}, "OfflinePushInfo.ApnsInfo"},
	}
	for _, c := range cases {
		r := callReq()
		c.edit(r)
		err := r.Validate()
		var pe *rest.ParamError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: rejected: %v", c.name, err)
		case c.field != "" && (!errors.As(err, &pe) || pe.Field != c.field):
			t.Errorf("%s: got %v, want an error about %s", c.name, err, c.field)
		case c.field != "" && !errors.Is(err, rest.ErrBadRequest):
			t.Errorf("%s: %v does not wrap ErrBadRequest", c.name, err)
		}
	}
	r := callReq()
	r.CallInfo.MediaType = "audio"
	if r.Validate(); r.CallInfo.MediaType != "Audio" {
		t.Errorf("MediaType audio became %q, want Audio", r.CallInfo.MediaType)
	}
}

func intRoom(r *rest.StartCallRequest, raw string) {
	r.CallInfo.RoomId, r.CallInfo.RoomIdType = []byte(raw), intp(rest.RoomIdTypeInt)
}

func strRoom(r *rest.StartCallRequest, raw string) {
	r.CallInfo.RoomId, r.CallInfo.RoomIdType = []byte(raw), intp(rest.RoomIdTypeString)
}

func TestRoomIDText(t *testing.T) {
	for raw, want := range map[string]string{`12345`: "12345", `"00042"`: "42", `null`: "", ``: ""} {
		if got, err := rest.RoomID([]byte(raw), rest.RoomIdTypeInt); err != nil || got != want {
			t.Errorf("RoomID(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if got, err := rest.RoomID([]byte(`"roomid-test"`), rest.RoomIdTypeString); err != nil || got != "roomid-test" {
		t.Errorf("string room: %q %v", got, err)
	}
}
