package jsonx

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// decodeCase is an input and the value it decodes to.
type decodeCase[T any] struct {
	in   string
	want T
}

// testDecode wants each case's input to decode to its value, decoding into
// from(want) (the zero value when from is nil), and each of bad to be
// refused.
func testDecode[T comparable](t *testing.T, cases []decodeCase[T], from func(want T) T, bad []string) {
	t.Helper()
	for _, tc := range cases {
		var v T
		if from != nil {
			v = from(tc.want)
		}
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if v != tc.want {
			t.Errorf("%s: got %#v, want %#v", tc.in, v, tc.want)
		}
	}
	for _, in := range bad {
		var v T
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s: accepted as %#v, want an error", in, v)
		}
	}
}

func TestString(t *testing.T) {
	testDecode(t, []decodeCase[String]{
		{`"abc"`, "abc"},
		{`""`, ""},
		{`null`, ""},
		{`"\u00e9\n"`, "é\n"},
		// Wider than a float64 holds exactly: kept as the literal text.
		{`144115212830834855`, "144115212830834855"},
		{`18446744073709551616123`, "18446744073709551616123"},
		{`-42`, "-42"},
		{`1.50`, "1.50"},
		{`1e3`, "1e3"},
		{`true`, "true"},
		{`false`, "false"},
		{` 7 `, "7"},
	}, nil, []string{`{}`, `[]`, `[1]`, `{"a":1}`})
}

// The 18-digit account of Tencent's published sample survives inside a
// struct, where a float64 would round it to 144115212830834850.
func TestStringKeepsWideNumberInStruct(t *testing.T) {
	var v struct {
		User_Account String
		Floated      float64
	}
	if err := json.Unmarshal([]byte(`{"User_Account":144115212830834855,"Floated":144115212830834855}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.User_Account != "144115212830834855" {
		t.Fatalf("User_Account = %q", v.User_Account)
	}
	if int64(v.Floated) == 144115212830834855 {
		t.Fatal("float64 holds the value exactly; the test no longer proves anything")
	}
}

func TestInt(t *testing.T) {
	testDecode(t, []decodeCase[Int]{
		{`0`, 0},
		{`1740464128807`, 1740464128807},
		{`"1740464128807"`, 1740464128807},
		{`" 42 "`, 42},
		{`""`, 0},
		{`"  "`, 0},
		{`null`, 0},
		{`-7`, -7},
		{`"-7"`, -7},
		{`9223372036854775807`, math.MaxInt64},
		{`"9223372036854775807"`, math.MaxInt64},
		{`-9223372036854775808`, math.MinInt64},
		{`1.9`, 1},
		{`-1.9`, -1},
		{`1e3`, 1000},
		{`"1.5e3"`, 1500},
		{`1740464128807.0`, 1740464128807},
	}, nil, []string{
		`"abc"`, `true`, `{}`, `[]`, `"1,5"`, `"0x10"`,
		// Not an integer that int64 holds: an error, never a wrapped or
		// platform-defined value.
		`"NaN"`, `"Inf"`, `"-Infinity"`, `1e300`, `"1e19"`, `-1e19`,
		`9223372036854775808`, `"18446744073709551616"`,
	})
}

func TestBool(t *testing.T) {
	testDecode(t, []decodeCase[Bool]{
		{`true`, true}, {`false`, false}, {`"true"`, true}, {`"false"`, false},
		{`"TRUE"`, true}, {`"False"`, false}, {`1`, true}, {`0`, false},
		{`"1"`, true}, {`"0"`, false}, {`null`, false}, {`""`, false},
	}, func(want Bool) Bool { return !want }, // from the opposite, so an untouched value fails
		[]string{`"yes"`, `2`, `{}`, `[]`})
}

type item struct {
	Accid  String `json:"accid"`
	Caller Bool   `json:"caller"`
	N      Int    `json:"n"`
}

func TestList(t *testing.T) {
	want := List[item]{{"a", true, 1}, {"b", false, 2}}
	for _, in := range []string{
		`[{"accid":"a","caller":true,"n":1},{"accid":"b","n":"2"}]`,
		// Yunxin's habit: the array encoded inside a JSON string.
		`"[{\"accid\":\"a\",\"caller\":true,\"n\":1},{\"accid\":\"b\",\"n\":\"2\"}]"`,
		`" [{\"accid\":\"a\",\"caller\":\"true\",\"n\":\"1\"},{\"accid\":\"b\",\"caller\":false,\"n\":2}] "`,
	} {
		var l List[item]
		if err := json.Unmarshal([]byte(in), &l); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("%s: got %+v, want %+v", in, l, want)
		}
	}
	for _, in := range []string{`null`, `""`, `"  "`, `[]`, `"[]"`, `"null"`} {
		l := List[item]{{Accid: "stale"}}
		if err := json.Unmarshal([]byte(in), &l); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if len(l) != 0 {
			t.Errorf("%s: got %+v, want empty", in, l)
		}
	}
	for _, in := range []string{`{}`, `"{}"`, `"[1,"`, `1`, `"abc"`, `[1]`} {
		var l List[item]
		if err := json.Unmarshal([]byte(in), &l); err == nil {
			t.Errorf("%s: accepted as %+v, want an error", in, l)
		}
	}
	// A list of strings, with numbers in it: Yunxin's toAccountList.
	var accts List[String]
	if err := json.Unmarshal([]byte(`"[\"rss01\",144115212830834855]"`), &accts); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(accts, List[String]{"rss01", "144115212830834855"}) {
		t.Fatalf("got %q", accts)
	}
}

func TestDecode(t *testing.T) {
	type obj struct{ A Int }
	for _, in := range []string{`{"A":1}`, " \n{\"A\":\"1\"}\r\n\t ", `{"A":1,"B":[1,2]}`} {
		var v obj
		if err := Decode([]byte(in), &v); err != nil || v.A != 1 {
			t.Errorf("%q: got %+v, %v", in, v, err)
		}
	}
	for _, in := range []string{
		``, ` `, `{`, `{"A":1`, `{"A":1} x`, `{"A":1}{}`, `{"A":1}}`, `{"A":1}]`, `{"A":1},`,
		`{"A":1} 1`, `null`, `[]`, `"s"`, `1`, `true`, `{"A":"x"}`,
		"{\"A\":1,\"B\":\"\xff\"}", "{\"A\":1,\"B\":\"\xc3\x28\"}", "{\"A\":1}\xff",
	} {
		var v obj
		if err := Decode([]byte(in), &v); err == nil {
			t.Errorf("%q: accepted as %+v, want an error", in, v)
		}
	}
}
