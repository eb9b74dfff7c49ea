package awslambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/testkit"
)

// seen is what the handler was given.
type seen struct {
	Method, Path, RawQuery, Host, RemoteAddr, RequestID string
	Header                                              http.Header
	Body                                                string
	ContentLength                                       int64
	HasDeadline                                         bool
}

// echo is a function whose every route records the request into *got and
// answers 201 with several headers, two cookies and body.
func echo(got *seen, body []byte) platform.Function {
	var mu sync.Mutex
	return platform.Function{
		Name: "echo",
		Routes: []platform.Route{{Pattern: "/", Handler: func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			b, _ := io.ReadAll(r.Body)
			_, dl := r.Context().Deadline()
			*got = seen{
				Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host,
				RemoteAddr: r.RemoteAddr, RequestID: platform.RequestID(r.Context()),
				Header: r.Header, Body: string(b), ContentLength: r.ContentLength, HasDeadline: dl,
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Add("X-Multi", "1")
			w.Header().Add("X-Multi", "2")
			w.Header().Add("Set-Cookie", "a=1; Path=/")
			w.Header().Add("Set-Cookie", "b=2; Path=/")
			w.WriteHeader(http.StatusCreated)
			w.Header().Set("X-Too-Late", "ignored") // after WriteHeader: a client never sees it
			w.Write(body)
		}}},
	}
}

func TestHTTPFixtures(t *testing.T) {
	tests := []struct {
		file   string
		want   seen
		header map[string]string // a sample of the headers
	}{
		{
			file: "apigw-request.json",
			want: seen{Method: "POST", Path: "/hello/world", RawQuery: "name=me",
				Host: "gy415nuibc.execute-api.us-east-1.amazonaws.com", RemoteAddr: "192.168.196.186:0",
				RequestID: "deef4878-7910-11e6-8f14-25afc3e9ae33", Body: "{\r\n\t\"a\": 1\r\n}"},
			header: map[string]string{"Headername": "headerValue", "Cache-Control": "no-cache",
				"X-Forwarded-For": "54.240.196.186, 54.182.214.83", "Content-Type": "application/json"},
		},
		{
			file: "apigw-v2-request-no-authorizer.json",
			want: seen{Method: "GET", Path: "/", RawQuery: "",
				Host: "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com", RemoteAddr: "1.2.3.4:0",
				RequestID: "LV7fzho-PHcEJPw="},
			header: map[string]string{"User-Agent": "curl/7.58.0", "X-Forwarded-Proto": "https"},
		},
		{
			file: "apigw-v2-request-jwt-authorizer.json",
			want: seen{Method: "GET", Path: "/my/path", RawQuery: "parameter1=value1&parameter1=value2&parameter2=value",
				Host: "id.execute-api.us-east-1.amazonaws.com", RemoteAddr: "IP:0",
				RequestID: "id", Body: "{\r\n\t\"a\": 1\r\n}"},
			header: map[string]string{"Header1": "value1", "Header2": "value2", "Cookie": "cookie1; cookie2"},
		},
		{
			file: "apigw-v2-request-iam.json",
			want: seen{Method: "GET", Path: "/my/path", RawQuery: "parameter1=value1&parameter1=value2&parameter2=value",
				Host: "id.execute-api.us-east-1.amazonaws.com", RemoteAddr: "IP:0",
				RequestID: "id", Body: "{\r\n\t\"a\": 1\r\n}"},
			header: map[string]string{"Header1": "value1", "Cookie": "cookie1; cookie2"},
		},
		{
			file: "lambda-urls-request.json",
			want: seen{Method: "POST", Path: "/my/path", RawQuery: "parameter1=value1&parameter1=value2&parameter2=value",
				Host: "<url-id>.lambda-url.us-west-2.on.aws", RemoteAddr: "123.123.123.123:0",
				RequestID: "id", Body: "Hello from client!"},
			header: map[string]string{"Header2": "value1,value2", "Cookie": "cookie1; cookie2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var got seen
			out := testkit.Invoke(t, Handler(echo(&got, []byte("done"))), tt.file)
			testkit.HasHeaders(t, got.Header, tt.header)
			if got.Header.Get("Host") != "" {
				t.Errorf("Host left among the headers: %q", got.Header.Get("Host"))
			}
			if got.ContentLength != int64(len(tt.want.Body)) {
				t.Errorf("ContentLength = %d, want %d", got.ContentLength, len(tt.want.Body))
			}
			if !got.HasDeadline {
				t.Error("the request's context lost the invocation's deadline")
			}
			got.Header, got.ContentLength, got.HasDeadline = nil, 0, false
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("request:\n got %+v\nwant %+v", got, tt.want)
			}
			if out == nil {
				t.Fatal("no response")
			}
		})
	}
}

func TestResponses(t *testing.T) {
	var got seen
	h := Handler(echo(&got, []byte("done")))

	v2 := answer[events.APIGatewayV2HTTPResponse](t, h, "apigw-v2-request-jwt-authorizer.json")
	wantV2 := events.APIGatewayV2HTTPResponse{
		StatusCode: 201,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Multi": "1, 2"},
		Cookies:    []string{"a=1; Path=/", "b=2; Path=/"},
		Body:       "done",
	}
	if !reflect.DeepEqual(v2, wantV2) {
		t.Errorf("HTTP API 2.0 response:\n got %+v\nwant %+v", v2, wantV2)
	}

	v1 := answer[events.APIGatewayProxyResponse](t, h, "apigw-request.json")
	wantV1 := events.APIGatewayProxyResponse{
		StatusCode: 201,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		MultiValueHeaders: map[string][]string{
			"Content-Type": {"text/plain; charset=utf-8"},
			"X-Multi":      {"1", "2"},
			"Set-Cookie":   {"a=1; Path=/", "b=2; Path=/"},
		},
		Body: "done",
	}
	if !reflect.DeepEqual(v1, wantV1) {
		t.Errorf("REST API response:\n got %+v\nwant %+v", v1, wantV1)
	}
}

// TestThroughLambdaLibrary runs Handler as lambda.Start would, through
// aws-lambda-go's reflection and JSON, and reads the JSON API Gateway gets.
func TestThroughLambdaLibrary(t *testing.T) {
	var got seen
	lh := lambda.NewHandler(Handler(echo(&got, []byte(`{"ok":true}`))))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "invocation-1"})
	out, err := lh.Invoke(ctx, testkit.Fixture(t, "apigw-v2-request-no-authorizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Cookies         []string          `json:"cookies"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if resp.StatusCode != 201 || resp.Body != `{"ok":true}` || resp.IsBase64Encoded || len(resp.Cookies) != 2 {
		t.Errorf("response JSON: %s", out)
	}
	if got.RequestID != "invocation-1" {
		t.Errorf("request id = %q, want Lambda's invocation id", got.RequestID)
	}
}

func TestBase64Bodies(t *testing.T) {
	binary := []byte{0xff, 0xd8, 0xff, 0x00, 0x10, 'J', 'F', 'I', 'F'}
	b64 := base64.StdEncoding.EncodeToString(binary)

	var v2 events.APIGatewayV2HTTPRequest
	json.Unmarshal(testkit.Fixture(t, "apigw-v2-request-jwt-authorizer.json"), &v2)
	var v1 events.APIGatewayProxyRequest
	json.Unmarshal(testkit.Fixture(t, "apigw-request.json"), &v1)

	event := func(body string, isBase64 bool, rest bool) json.RawMessage {
		var b []byte
		if rest {
			e := v1
			e.Body, e.IsBase64Encoded = body, isBase64
			b, _ = json.Marshal(e)
		} else {
			e := v2
			e.Body, e.IsBase64Encoded = body, isBase64
			b, _ = json.Marshal(e)
		}
		return b
	}

	for _, rest := range []bool{false, true} {
		name := map[bool]string{false: "v2", true: "v1"}[rest]
		t.Run(name, func(t *testing.T) {
			var got seen
			h := Handler(echo(&got, binary))

			// base64 request body in, non-UTF-8 response body out as base64.
			out, err := h(context.Background(), event(b64, true, rest))
			if err != nil {
				t.Fatal(err)
			}
			if got.Body != string(binary) {
				t.Errorf("handler got body %q, want the decoded %q", got.Body, binary)
			}
			status, body, isB64 := fields(out)
			if status != 201 || !isB64 || body != b64 {
				t.Errorf("response: status %d, isBase64Encoded %v, body %q; want 201, true, %q", status, isB64, body, b64)
			}

			// Unpadded base64 is read too.
			got = seen{}
			if _, err := h(context.Background(), event(base64.RawStdEncoding.EncodeToString([]byte("hi")), true, rest)); err != nil {
				t.Fatal(err)
			}
			if got.Body != "hi" {
				t.Errorf("unpadded base64: handler got %q", got.Body)
			}

			// Malformed base64: 400, and the handler is not called.
			got = seen{}
			out, err = h(context.Background(), event("not base64!", true, rest))
			if err != nil {
				t.Fatal(err)
			}
			if status, body, _ := fields(out); status != http.StatusBadRequest || got.Method != "" {
				t.Errorf("malformed base64: status %d (body %s), handler called: %v", status, body, got.Method != "")
			}

			// A UTF-8 response body stays as it is.
			h = Handler(echo(&got, []byte("héllo")))
			out, _ = h(context.Background(), event("plain", false, rest))
			if _, body, isB64 := fields(out); isB64 || body != "héllo" {
				t.Errorf("UTF-8 body: %q base64 %v", body, isB64)
			}
		})
	}
}

// answer runs h on the event in testdata/file and returns its answer,
// failing t unless it is a T.
func answer[T any](t *testing.T, h func(context.Context, json.RawMessage) (any, error), file string) T {
	t.Helper()
	out := testkit.Invoke(t, h, file)
	r, ok := out.(T)
	if !ok {
		t.Fatalf("%s answered with %T", file, out)
	}
	return r
}

func fields(out any) (status int, body string, isBase64 bool) {
	switch r := out.(type) {
	case events.APIGatewayV2HTTPResponse:
		return r.StatusCode, r.Body, r.IsBase64Encoded
	case events.APIGatewayProxyResponse:
		return r.StatusCode, r.Body, r.IsBase64Encoded
	}
	panic("not an HTTP response")
}

func TestHandlerFailures(t *testing.T) {
	fn := platform.Function{Name: "fails", Routes: []platform.Route{
		{Pattern: "GET /my/path", Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Partial", "yes")
			w.Write([]byte("half a respon"))
			panic("boom")
		}},
		{Pattern: "POST /hello/world", Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "store down", http.StatusServiceUnavailable)
		}},
	}}
	h := Handler(fn)
	for i := 0; i < 2; i++ { // and again: the process is still serving
		r := answer[events.APIGatewayV2HTTPResponse](t, h, "apigw-v2-request-jwt-authorizer.json")
		if r.StatusCode != 500 || r.Headers["X-Partial"] != "" {
			t.Errorf("panicking handler: %+v; want a clean 500", r)
		}
	}
	if r := answer[events.APIGatewayProxyResponse](t, h, "apigw-request.json"); r.StatusCode != 503 || r.Body != "store down\n" {
		t.Errorf("erroring handler: %+v", r)
	}
	// A route the function does not have: net/http's 404, not an error.
	if r := answer[events.APIGatewayV2HTTPResponse](t, h, "apigw-v2-request-no-authorizer.json"); r.StatusCode != 404 {
		t.Errorf("unknown route: %+v", r)
	}
}

func TestRequestIDPrecedence(t *testing.T) {
	var got seen
	h := Handler(echo(&got, nil))
	ev := testkit.Fixture(t, "apigw-request.json")
	h(context.Background(), ev)
	if got.RequestID != "deef4878-7910-11e6-8f14-25afc3e9ae33" {
		t.Errorf("without a Lambda context: %q, want the gateway's requestId", got.RequestID)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req"})
	h(ctx, ev)
	if got.RequestID != "aws-req" {
		t.Errorf("with a Lambda context: %q, want its AwsRequestID", got.RequestID)
	}
}
