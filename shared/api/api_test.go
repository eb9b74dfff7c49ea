package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/callfn/callfn/shared/api"
)

func TestRequireBearer(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { api.JSON(w, 200, map[string]bool{"ok": true}) }
	cases := []struct {
		token, header string
		status        int
	}{
		{"s3cret", "", 401},
		{"s3cret", "Bearer", 401},
		{"s3cret", "Bearer ", 401},
		{"s3cret", "Basic s3cret", 401},
		{"s3cret", "Bearer s3cre", 401},
		{"s3cret", "Bearer s3cret-and-more", 401},
		{"s3cret", "Bearer s3cret", 200},
		{"s3cret", "bearer s3cret", 200},
		{"", "", 403},
		{"", "Bearer ", 403},
		{"", "Bearer anything", 403},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/calls", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		api.RequireBearer(c.token, ok)(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("not JSON: %s", rec.Body)
		}
		if rec.Code != c.status {
			t.Errorf("token %q, header %q: %d, want %d", c.token, c.header, rec.Code, c.status)
		}
		if c.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
		if c.status != 200 && (body["error"] == nil || strings.Contains(rec.Body.String(), "s3cret")) {
			t.Errorf("refusal %s", rec.Body)
		}
	}
}

func TestError(t *testing.T) {
	rec := httptest.NewRecorder()
	api.Error(rec, 418, "short and stout", "field", "Spout", "line", 2)
	if rec.Code != 418 || rec.Header().Get("Content-Type") != "application/json" ||
		strings.TrimSpace(rec.Body.String()) != `{"error":"short and stout","field":"Spout","line":2}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

type inner struct {
	Name string
	N    *int `json:",omitempty"`
}

type Base struct {
	Robot_Account string
}

type target struct {
	Base
	Inner  inner
	List   []inner
	Raw    json.RawMessage
	Tagged string `json:"tagged_name"`
}

func TestDecode(t *testing.T) {
	cases := []struct {
		body   string
		field  string
		words  string
		line   int
		column int
	}{
		{``, "", "empty", 0, 0},
		{"{\n  \"Inner\": {\"Name\": \"x\",}\n}", "", "not JSON", 2, 25},
		{`{"Inner": {}} []`, "", "more than one", 1, 15},
		{`{"Inner": {"Name": "x"`, "", "ends before", 1, 23},
		{`{"robot_account": "r"}`, "robot_account", `spelled "Robot_Account"`, 0, 0},
		{`{"Inner": {"name": "x"}}`, "Inner.name", `spelled "Name"`, 0, 0},
		{`{"List": [{"Name": "a"}, {"Nope": 1}]}`, "List[1].Nope", "unknown field", 0, 0},
		{`{"Inner": {"N": "7"}}`, "Inner.N", "want an integer, got a JSON string", 0, 0},
		{`{"Robot_Account": 7}`, "Robot_Account", "want a string, got a JSON number", 0, 0},
		{`{"TAGGED_NAME": "x"}`, "TAGGED_NAME", `spelled "tagged_name"`, 0, 0},
		{`{"Tagged": "x"}`, "Tagged", `unknown field "Tagged"`, 0, 0},
	}
	for _, c := range cases {
		var v target
		err := api.Decode([]byte(c.body), &v)
		var be *api.BodyError
		if !errors.As(err, &be) {
			t.Errorf("%q: %v", c.body, err)
			continue
		}
		if be.Field != c.field || !strings.Contains(be.Msg, c.words) || be.Line != c.line || be.Column != c.column {
			t.Errorf("%q: %+v; want field %q, %q at %d:%d", c.body, be, c.field, c.words, c.line, c.column)
		}
	}
	var v target
	good := `{"Robot_Account":"r","Inner":{"Name":"n","N":3},"List":[{"Name":"a"}],"Raw":{"anything":[1,{"goes":true}]},"tagged_name":"t"}`
	if err := api.Decode([]byte(good), &v); err != nil || v.Robot_Account != "r" || *v.Inner.N != 3 || v.Tagged != "t" {
		t.Fatalf("%+v %v", v, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"Robot_Account":"r","Inner":{"Name":"n"}}`))
	f.Add([]byte("{\n\"a\": 1 // x\n}"))
	f.Add([]byte(`{"List":[null,{"N":1e999}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v target
		err := api.Decode(b, &v)
		var be *api.BodyError
		if err != nil && !errors.As(err, &be) {
			t.Fatalf("%q: %T %v", b, err, err)
		}
		if be != nil && be.Line > 0 && (be.Offset < 0 || be.Offset > int64(len(b))) {
			t.Fatalf("%q: offset %d", b, be.Offset)
		}
	})
}

// ReadBody takes a body of exactly its limit and refuses one byte more as
// ErrTooLarge; other read failures pass through.
func TestReadBody(t *testing.T) {
	const limit = 1 << 20
	read := func(body string) ([]byte, error) {
		return api.ReadBody(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)), limit)
	}
	if b, err := read(strings.Repeat("x", limit)); err != nil || len(b) != limit {
		t.Errorf("exactly the limit: %d bytes, %v", len(b), err)
	}
	if b, err := read(strings.Repeat("x", limit+1)); !errors.Is(err, api.ErrTooLarge) || b != nil {
		t.Errorf("the limit + 1: %d bytes, %v; want ErrTooLarge", len(b), err)
	}
	if b, err := read(""); err != nil || len(b) != 0 {
		t.Errorf("empty: %q, %v", b, err)
	}
	broken := errors.New("connection reset")
	r := httptest.NewRequest(http.MethodPost, "/", iotest.ErrReader(broken))
	if _, err := api.ReadBody(r, limit); !errors.Is(err, broken) {
		t.Errorf("a failing body: %v", err)
	}
}
