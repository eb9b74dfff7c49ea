package platform

// What the Lambda and SCF adapters share: an API gateway's HTTP event in, the
// function's http.Handler run in memory, the response out; and a schedule's
// tick, or a batch of the table's changes, run without letting a panic take
// the process down.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"unicode/utf8"
)

// Errors the adapters return for events they cannot run, for errors.Is.
var (
	// ErrUnknownEvent: the event is none of the shapes the adapter knows.
	ErrUnknownEvent = errors.New("platform: unrecognised event")
	// ErrNoSchedule: a schedule fired a function that has no Schedule.
	ErrNoSchedule = errors.New("platform: function has no schedule")
	// ErrNoChanges: a change stream fired a function that has no Changes.
	ErrNoChanges = errors.New("platform: function takes no table changes")
)

// HTTPEvent is an API gateway's HTTP trigger event reduced to what every
// platform's event carries; each adapter fills one from its own event type.
type HTTPEvent struct {
	RequestID string // put in the request's context (see RequestID)
	Method    string
	// Path is the decoded path, as REST API 1.0 and SCF events carry it.
	// RawPath is the path as sent on the wire, as HTTP API 2.0 carries it;
	// when set it wins over Path.
	Path, RawPath string
	RawQuery      string
	Header        http.Header
	Host          string // used when Header has no Host
	SourceIP      string // the client's address, as the gateway saw it
	Body          string // base64 when IsBase64Encoded
	// IsBase64Encoded says that Body is base64 (the gateway does this for
	// binary bodies, or for every body when so configured).
	IsBase64Encoded bool
}

// HTTPResponse is a handler's response, ready for a platform's response
// event: Body is base64 (and IsBase64Encoded set) unless it is valid UTF-8.
type HTTPResponse struct {
	StatusCode      int
	Header          http.Header
	Body            string
	IsBase64Encoded bool
}

// FlatHeader is Header with one value a name, for the gateways' single-valued
// header maps: several values are joined with ", " as RFC 9110 allows
// (Set-Cookie, which cannot be joined so, is left out when skipSetCookie).
func (r HTTPResponse) FlatHeader(skipSetCookie bool) map[string]string {
	m := make(map[string]string, len(r.Header))
	for k, vs := range r.Header {
		if len(vs) == 0 || (skipSetCookie && k == "Set-Cookie") {
			continue
		}
		m[k] = strings.Join(vs, ", ")
	}
	return m
}

// ServeHTTPEvent runs h for ev under ctx (which carries the platform's
// deadline) and returns what h answered. It does not fail: a body that is
// not valid base64 gets 400, and a handler that panics gets 500, so that one
// bad request never takes the process down.
func ServeHTTPEvent(ctx context.Context, h http.Handler, ev HTTPEvent) (resp HTTPResponse) {
	if ev.RequestID != "" {
		ctx = WithRequestID(ctx, ev.RequestID)
	}
	req, err := ev.request(ctx)
	if err != nil {
		slog.WarnContext(ctx, "event refused", "requestId", ev.RequestID, "err", err)
		return errorResponse(http.StatusBadRequest, err.Error())
	}
	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(ctx, "handler panicked", "requestId", ev.RequestID,
				"method", req.Method, "path", req.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			resp = errorResponse(http.StatusInternalServerError, "internal error")
		}
	}()
	rec := &recorder{header: make(http.Header)}
	h.ServeHTTP(rec, req)
	return rec.response()
}

// request builds the *http.Request a net/http server would hand h.
func (ev HTTPEvent) request(ctx context.Context) (*http.Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = decodeBase64(ev.Body); err != nil {
			return nil, errors.New("body is marked base64 but is not valid base64")
		}
	}
	method := ev.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bad request: %w", err)
	}
	u := &url.URL{Path: ev.Path, RawQuery: ev.RawQuery}
	if ev.RawPath != "" {
		if p, err := url.PathUnescape(ev.RawPath); err == nil {
			u.Path, u.RawPath = p, ev.RawPath
		} else {
			u.Path = ev.RawPath // not an escaped path after all: take it as sent
		}
	}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path, u.RawPath = "/"+u.Path, ""
	}
	req.URL = u
	req.RequestURI = u.RequestURI()
	req.Header = make(http.Header, len(ev.Header))
	for k, vs := range ev.Header {
		req.Header[http.CanonicalHeaderKey(k)] = append(req.Header[http.CanonicalHeaderKey(k)], vs...)
	}
	req.Host = ev.Host
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	req.Header.Del("Host") // as net/http's server does
	if ev.SourceIP != "" {
		req.RemoteAddr = net.JoinHostPort(ev.SourceIP, "0")
	}
	return req, nil
}

// decodeBase64 reads standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// EncodeBody returns body as a gateway response body: as it is when it is
// valid UTF-8, else base64 with isBase64 set.
func EncodeBody(body []byte) (s string, isBase64 bool) {
	if utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

func errorResponse(status int, msg string) HTTPResponse {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return HTTPResponse{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       string(b),
	}
}

// recorder is an in-memory http.ResponseWriter that keeps what a client would
// have seen: the headers as they were at WriteHeader, the status, the body.
type recorder struct {
	header http.Header // what the handler mutates
	sent   http.Header // header as of WriteHeader
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status != 0 || code < 200 { // repeated, or informational (1xx)
		return
	}
	r.status = code
	r.sent = r.header.Clone()
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.body.Write(p)
}

// Flush is a no-op: the whole response is returned at once.
func (r *recorder) Flush() {}

func (r *recorder) response() HTTPResponse {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if _, set := r.sent["Content-Type"]; !set && r.body.Len() > 0 {
		r.sent.Set("Content-Type", http.DetectContentType(r.body.Bytes())) // as net/http's server does
	}
	body, b64 := EncodeBody(r.body.Bytes())
	return HTTPResponse{StatusCode: r.status, Header: r.sent, Body: body, IsBase64Encoded: b64}
}

// RunSchedule runs fn's Schedule for t. A function without one, or a
// Schedule that panics, is an error, never a crash.
func RunSchedule(ctx context.Context, fn Function, t Tick) (out any, err error) {
	if fn.Schedule == nil {
		return nil, fmt.Errorf("%w: %s was fired by schedule %q", ErrNoSchedule, fn.Name, t.Name)
	}
	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(ctx, "schedule panicked", "function", fn.Name, "schedule", t.Name,
				"requestId", RequestID(ctx), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("%s: schedule %q panicked: %v", fn.Name, t.Name, v)
		}
	}()
	return fn.Schedule(ctx, t)
}

// RunChanges runs fn's Changes for batch. A function without one, or a
// handler that panics, is an error, never a crash.
func RunChanges(ctx context.Context, fn Function, batch []Change) (err error) {
	if fn.Changes == nil {
		return fmt.Errorf("%w: %s was fired by a change stream", ErrNoChanges, fn.Name)
	}
	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(ctx, "change handler panicked", "function", fn.Name,
				"requestId", RequestID(ctx), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("%s: change handler panicked: %v", fn.Name, v)
		}
	}()
	return fn.Changes(ctx, batch)
}
