package callback

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/callfn/callfn/shared/jsonx"
)

// fastBodies are bodies jsonx.DecodeFast must read as jsonx.Decode does
// (encoding/json): the samples, and the unusual shapes.
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

// checkFast fails when jsonx.DecodeFast (go-json) reads body otherwise
// than jsonx.Decode (encoding/json), into the callback types of both
// generations: the same value, or the same error text.
func checkFast(t *testing.T, body []byte) {
	same(t, body, new(v4Callback), new(v4Callback))
	same(t, body, new(v1Callback), new(v1Callback))
}

func same[T any](t *testing.T, body []byte, fast, slow *T) {
	t.Helper()
	errFast, errSlow := jsonx.DecodeFast(body, fast), jsonx.Decode(body, slow)
	if (errFast == nil) != (errSlow == nil) || errFast != nil && errFast.Error() != errSlow.Error() {
		t.Fatalf("%q into %T: DecodeFast: %v; Decode: %v", body, fast, errFast, errSlow)
	}
	if errSlow == nil && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: DecodeFast read\n%+v\nDecode\n%+v", body, *fast, *slow)
	}
}

func TestDecodeFastAsDecode(t *testing.T) {
	read := 0
	for _, s := range fastSeeds(t) {
		checkFast(t, []byte(s))
		if json.Valid([]byte(s)) {
			read++
		}
	}
	if read < 10 {
		t.Fatalf("only %d of the bodies are valid JSON", read)
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFast(t, body) })
}
