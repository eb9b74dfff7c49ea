package scf

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/testkit"
	"github.com/tencentyun/scf-go-lib/events"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

// seen is what the handler was given.
type seen struct {
	Method, Path, RawQuery, Host, RemoteAddr, RequestID string
	Header                                              http.Header
	Body                                                string
	HasDeadline                                         bool
}

// echo is a function whose every route records the request into *got and
// answers 201 with several headers and body.
func echo(got *seen, body []byte) platform.Function {
	return platform.Function{
		Name: "echo",
		Routes: []platform.Route{{Pattern: "/", Handler: func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			_, dl := r.Context().Deadline()
			*got = seen{
				Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host,
				RemoteAddr: r.RemoteAddr, RequestID: platform.RequestID(r.Context()),
				Header: r.Header, Body: string(b), HasDeadline: dl,
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Add("X-Multi", "1")
			w.Header().Add("X-Multi", "2")
			w.WriteHeader(http.StatusCreated)
			w.Write(body)
		}}},
	}
}

func TestAPIGatewayFixtures(t *testing.T) {
	tests := []struct {
		file   string
		want   seen
		header map[string]string
	}{
		{
			file: "apigw-request.json",
			want: seen{Method: "POST", Path: "/test/value", RawQuery: "bob=alice&foo=bar",
				Host: "service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com", RemoteAddr: "10.0.2.14:0",
				RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", Body: `{"test":"body"}`},
			header: map[string]string{"Accept-Language": "en-US,en,cn", "User-Agent": "User Agent String"},
		},
		{
			file: "apigw-request-scf-go-lib.json",
			want: seen{Method: "GET", Path: "/ritchiechen-apigw-test", RawQuery: "a=b&a=c&i=&x=y",
				Host: "service-xxx-123456.ap-shanghai.apigateway.myqcloud.com", RemoteAddr: "8.8.8.8:0"},
			header: map[string]string{"Endpoint-Timeout": "15", "X-Qualifier": "$LATEST"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var got seen
			out := testkit.Invoke(t, Handler(echo(&got, []byte(`{"ok":true}`))), tt.file)
			testkit.HasHeaders(t, got.Header, tt.header)
			if !got.HasDeadline {
				t.Error("the request's context lost the invocation's deadline")
			}
			got.Header, got.HasDeadline = nil, false
			if tt.want.RequestID == "" && got.RequestID != "" {
				got.RequestID = "" // no id in the event: platform.Handler made one
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("request:\n got %+v\nwant %+v", got, tt.want)
			}
			want := events.APIGatewayResponse{
				StatusCode: 201,
				Headers:    map[string]string{"Content-Type": "application/json", "X-Multi": "1, 2"},
				Body:       `{"ok":true}`,
			}
			if !reflect.DeepEqual(out, want) {
				t.Errorf("response:\n got %#v\nwant %#v", out, want)
			}
		})
	}
}

func TestAPIGatewayRequestID(t *testing.T) {
	var got seen
	h := Handler(echo(&got, nil))
	ctx := functioncontext.NewContext(context.Background(), &functioncontext.FunctionContext{RequestID: "scf-invocation"})
	h(ctx, testkit.Fixture(t, "apigw-request.json"))
	if got.RequestID != "scf-invocation" {
		t.Errorf("request id %q, want SCF's invocation id", got.RequestID)
	}
}

// withBody is the documented API gateway event with body and isBase64Encoded
// replaced (isBase64Encoded as raw JSON: real events send a boolean).
func withBody(t *testing.T, body string, isBase64 string) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(testkit.Fixture(t, "apigw-request.json"), &m); err != nil {
		t.Fatal(err)
	}
	m["body"], _ = json.Marshal(body)
	if isBase64 != "" {
		m["isBase64Encoded"] = json.RawMessage(isBase64)
	}
	b, _ := json.Marshal(m)
	return b
}

func TestBase64Bodies(t *testing.T) {
	binary := []byte{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff}
	b64 := base64.StdEncoding.EncodeToString(binary)
	var got seen
	h := Handler(echo(&got, binary))

	for _, flag := range []string{`true`, `"true"`, `"True"`} {
		got = seen{}
		out, err := h(context.Background(), withBody(t, b64, flag))
		if err != nil {
			t.Fatal(err)
		}
		if got.Body != string(binary) {
			t.Errorf("isBase64Encoded %s: handler got %q, want the decoded body", flag, got.Body)
		}
		r := out.(events.APIGatewayResponse)
		if r.StatusCode != 201 || !r.IsBase64Encoded || r.Body != b64 {
			t.Errorf("non-UTF-8 response: %+v, want base64 %q", r, b64)
		}
	}

	// isBase64Encoded false or absent: the body is taken as it is.
	for _, flag := range []string{`false`, ``, `null`} {
		got = seen{}
		h(context.Background(), withBody(t, b64, flag))
		if got.Body != b64 {
			t.Errorf("isBase64Encoded %q: handler got %q, want the body untouched", flag, got.Body)
		}
	}

	// Malformed base64: 400, and the handler is not called.
	got = seen{}
	out, err := h(context.Background(), withBody(t, "%%%", `true`))
	if err != nil {
		t.Fatal(err)
	}
	if r := out.(events.APIGatewayResponse); r.StatusCode != http.StatusBadRequest || got.Method != "" {
		t.Errorf("malformed base64: %+v, handler called: %v", r, got.Method != "")
	}

	// An isBase64Encoded that is not a boolean is not an event we know.
	if _, err := h(context.Background(), withBody(t, "x", `"maybe"`)); !errors.Is(err, platform.ErrUnknownEvent) {
		t.Errorf("isBase64Encoded \"maybe\": %v", err)
	}
}

func TestAPIGatewayHandlerFailures(t *testing.T) {
	calls := 0
	fn := platform.Function{Name: "fails", Routes: []platform.Route{
		{Pattern: "POST /test/value", Handler: func(w http.ResponseWriter, r *http.Request) {
			calls++
			panic("the handler failed")
		}},
	}}
	h := Handler(fn)
	for i := 0; i < 2; i++ {
		if r := testkit.Invoke(t, h, "apigw-request.json").(events.APIGatewayResponse); r.StatusCode != 500 {
			t.Errorf("panicking handler: %+v", r)
		}
	}
	if calls != 2 {
		t.Errorf("handler ran %d times, want 2", calls)
	}
}

func TestUnknownEvents(t *testing.T) {
	var got seen
	h := Handler(echo(&got, nil))
	for _, ev := range []string{
		``, `null`, `[]`, `"hello"`, `{}`, `garbage`, `{"Type":"Cos"}`,
		`{"Records":[{"cos":{"cosSchemaVersion":"1.0"}}]}`,
		`{"httpMethod":"GET"}`, // no requestContext
		`{"httpMethod":"GET","requestContext":{},"queryString":{"a":{"b":1}}}`,
	} {
		out, err := h(context.Background(), json.RawMessage(ev))
		if !errors.Is(err, platform.ErrUnknownEvent) || out != nil {
			t.Errorf("%q: (%v, %v), want ErrUnknownEvent", ev, out, err)
		}
	}
}
