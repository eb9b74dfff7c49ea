package callback

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fastBodies are bodies the fast decoders must read as jsonx.Decode does,
// or leave to it: the samples, and the unusual shapes.
var fastBodies = []string{
	`{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"bench-1","CallMediaType":"Audio","ChatGroupId":"","RoomId":"r1","RoomIdType":2},"UserList":[{"User_Account":144115212830834855,"Status":"Calling"},{"User_Account":"user-1","Status":"Waiting"}],"EventTime":1740464128807}`,
	`{"CallbackCommand":"Call.CallbackAfterMemberChanged","CallId":"c","UserList":[],"ChangedUserList":[{"User_Account":7,"ActionType":"Answer"}],"EventTime":"1740464128807"}`,
	`{"CallbackCommand":"Call.CallbackAfterEndCall","CallRecord":{"CallId":"c","Caller_Account":"a","CalleeList_Account":["b",3],"StartTime":"1740464128","EndTime":1740464130.0,"CallResult":"Normal"},"EventTime":1}`,
	` {"CallbackCommand" : "x" , "Extra" : {"a":[1,2,{"b":null}],"c":true} , "Other":-1.5e-3 } ` + "\n",
	`{}`, `{"CallInfo":null,"UserList":null,"CallRecord":null,"EventTime":null,"CallId":null}`,
	`{"CallId":true}`, `{"CallId":false}`, `{"CallId":-0}`, `{"CallId":1e400}`, `{"EventTime":-0}`,
	`{"CallId":"a\"b\\c\u00e9\ud800"}`, `{"CallId":"é中"}`,
	// Names in another case, escaped or folded (ſ, K): encoding/json sets the field.
	`{"callid":"a"}`, `{"CALLBACKCOMMAND":"x"}`, `{"CallId":"a","callId":"b"}`, `{"C\u0061llId":"a"}`,
	`{"Statuſ":"x"}`, `{"UserList":[{"ſtatus":"Calling","User_Account":"u"}]}`, `{"CallInfo":{"callid":"x","CallId":"y"}}`,
	// Twice.
	`{"CallId":"a","CallId":"b"}`, `{"UserList":[{"Status":"a","Status":"b"}]}`, `{"UserList":[{"Status":"a"}],"UserList":[{"User_Account":"b"}]}`,
	// Values of other shapes.
	`{"CallId":{}}`, `{"CallId":[]}`, `{"EventTime":"abc"}`, `{"EventTime":" 42 "}`, `{"EventTime":1.9}`, `{"EventTime":9223372036854775807}`,
	`{"EventTime":9223372036854775808}`, `{"EventTime":123456789012345678}`, `{"EventTime":-123456789012345678}`, `{"EventTime":1234567890123456789}`,
	`{"CallInfo":"x"}`, `{"CallInfo":[]}`, `{"UserList":{}}`, `{"UserList":[null]}`, `{"UserList":[1]}`, `{"UserList":"[]"}`,
	`{"CallRecord":"x"}`, `{"CallRecord":{"StartTime":"x"}}`, `{"CallInfo":{"RoomIdType":"2"}}`, `{"CallInfo":{}}`,
	// Not one valid object.
	``, ` `, `null`, `[]`, `"x"`, `1`, `{`, `}`, `{}}`, `{}]`, `{} {}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":.1}`, `{"a":-}`,
	`{"a":1e}`, `{"a":tru}`, `{"a":nul}`, `{"CallInfo":nul}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"` + "\x01" + `"}`, `{"a" 1}`, `{a:1}`,
	"\xef\xbb\xbf{}", "{\"a\":\"\xff\"}", `{"a":[1 2]}`, `{"a":[,]}`, `{"a":{"b"}}`, "{\"a\":1}\x00", `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	// v1.
	`{"UserId":"u","RoomId":7,"TotalNum":"2","MediaType":"Audio","CallType":"1","CallId":"c","Role":"caller","Event":"x","CallResult":"normal_end","EventTime":1740464128,"StartCallTs":"1","AcceptTs":null,"EndTs":2}`,
	`{"userid":"u"}`, `{"UserId":"u","UserId":"v"}`, `{"EndTs":"x"}`,
}

func fastSeeds(t testing.TB) []string {
	seeds := append([]string(nil), fastBodies...)
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, string(b))
	}
	return seeds
}

// checkFast fails when a fast decoder reads body otherwise than jsonx.Decode.
func checkFast(t *testing.T, body []byte) {
	var fast4 v4Fast
	var slow4 v4Callback
	if fastV4(body, string(body), &fast4) {
		if err := decode(body, &slow4); err != nil {
			t.Fatalf("%q: fastV4 read it, jsonx.Decode refused it: %v", body, err)
		}
		if !reflect.DeepEqual(fast4.cb, slow4) {
			t.Fatalf("%q: fastV4 read\n%+v\njsonx.Decode\n%+v", body, fast4.cb, slow4)
		}
	}
	var fast1, slow1 v1Callback
	if fastV1(body, string(body), &fast1) {
		if err := decode(body, &slow1); err != nil {
			t.Fatalf("%q: fastV1 read it, jsonx.Decode refused it: %v", body, err)
		}
		if fast1 != slow1 {
			t.Fatalf("%q: fastV1 read\n%+v\njsonx.Decode\n%+v", body, fast1, slow1)
		}
	}
}

func TestFastDecodeAsJSONX(t *testing.T) {
	read := 0
	for _, s := range fastSeeds(t) {
		checkFast(t, []byte(s))
		var b v4Fast
		if fastV4([]byte(s), s, &b) {
			read++
		}
	}
	if read < 10 {
		t.Fatalf("the fast path read only %d bodies", read)
	}
	// The samples are read by the fast path itself.
	for _, s := range fastBodies[:3] {
		var b v4Fast
		if !fastV4([]byte(s), s, &b) {
			t.Errorf("%s: not read by fastV4", s)
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFast(t, body) })
}
