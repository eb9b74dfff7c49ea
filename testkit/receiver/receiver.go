// Package receiver is a Standard Webhooks endpoint on loopback for tests:
// it verifies every request's signature with the standard-webhooks
// library's Verify (the timestamp tolerance included), records what it
// got, and answers as the test says: accept, fail the first attempts of
// each message, answer 500, hang, redirect, send a huge body, go away and
// come back on the same address. A request that fails verification is
// answered 400 and fails the test at its end. The endpoint's path holds a
// random part: a request to any other path on its port (a stray one from
// another test process that held the port before, such as a browser
// retrying a server that went away) is answered 404 and does not count.
package receiver

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// MaxBody is the largest request body the receiver reads.
const MaxBody = 1 << 20

// Message is one verified request.
type Message struct {
	ID        string    // webhook-id
	Timestamp time.Time // webhook-timestamp
	Body      []byte
	Header    http.Header
	// Attempt counts the requests with this ID, this one included.
	Attempt int
	// Status is what the receiver answered: 0 while it is answering, or
	// if the client went away first. Accepted counts it once it is 2xx.
	Status int
	At     time.Time
}

// Responder answers one verified request; m.Status is not yet set. It may
// block until r.Context() ends (the client gave up, or the receiver went
// down).
type Responder func(w http.ResponseWriter, r *http.Request, m Message)

// Receiver is a running endpoint.
type Receiver struct {
	// URL is the endpoint, http://127.0.0.1:PORT/hook/RANDOM; it stays the
	// same across Down and Up. Paths below it are the endpoint's too.
	URL  string
	path string

	t    testing.TB
	wh   *standardwebhooks.Webhook
	addr string

	mu      sync.Mutex
	srv     *httptest.Server
	respond Responder
	got     []Message
	counts  map[string]int
	invalid []string
	changed chan struct{} // closed and replaced whenever got grows
}

// Start runs a receiver for secret (whsec_ + base64) on loopback that
// accepts everything (204) until told otherwise; it is shut down when the
// test ends, and the test fails if any request was not correctly signed.
func Start(t testing.TB, secret string) *Receiver {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("receiver: secret: %v", err)
	}
	r := &Receiver{t: t, wh: wh, counts: map[string]int{}, respond: Status(http.StatusNoContent), changed: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("receiver: %v", err)
	}
	r.addr = l.Addr().String()
	r.path = "/hook/" + rand.Text()
	r.URL = "http://" + r.addr + r.path
	r.serve(l)
	t.Cleanup(func() {
		r.Down()
		for _, bad := range r.Invalid() {
			t.Errorf("receiver: a request failed verification: %s", bad)
		}
	})
	return r
}

func (r *Receiver) serve(l net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(r.handle))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
}

// Respond sets how the receiver answers from now on.
func (r *Receiver) Respond(fn Responder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = fn
}

// Down closes the listener and every connection, in-flight requests
// included: until Up, connecting is refused.
func (r *Receiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// Up listens again on the same address after Down.
func (r *Receiver) Up() {
	r.t.Helper()
	var (
		l   net.Listener
		err error
	)
	// The port may take a moment to be free again.
	for range 50 {
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("receiver: listen again on %s: %v", r.addr, err)
	}
	r.serve(l)
}

// Messages are the verified requests so far, in arrival order, those
// still being answered included.
func (r *Receiver) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.got...)
}

// Accepted are the verified requests answered 2xx, in arrival order.
func (r *Receiver) Accepted() []Message {
	var out []Message
	for _, m := range r.Messages() {
		if m.Status >= 200 && m.Status <= 299 {
			out = append(out, m)
		}
	}
	return out
}

// Invalid describes the requests that failed verification.
func (r *Receiver) Invalid() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.invalid...)
}

// Await waits until at least n requests were accepted, and returns them;
// it fails the test after timeout.
func (r *Receiver) Await(n int, timeout time.Duration) []Message {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		changed := r.changed
		r.mu.Unlock()
		if acc := r.Accepted(); len(acc) >= n {
			return acc
		}
		select {
		case <-changed:
		case <-deadline:
			r.t.Fatalf("receiver: %d of %d messages accepted after %s", len(r.Accepted()), n, timeout)
			return nil
		}
	}
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	if p := req.URL.Path; p != r.path && !strings.HasPrefix(p, r.path+"/") {
		http.NotFound(w, req) // not sent to this receiver: see the package comment
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBody))
	if err != nil {
		r.reject(w, fmt.Sprintf("reading the body: %v", err))
		return
	}
	if req.Method != http.MethodPost {
		r.reject(w, "method "+req.Method)
		return
	}
	if err := r.wh.Verify(body, req.Header); err != nil {
		r.reject(w, fmt.Sprintf("%s: %v", req.Header.Get(standardwebhooks.HeaderWebhookID), err))
		return
	}
	sec, _ := strconv.ParseInt(req.Header.Get(standardwebhooks.HeaderWebhookTimestamp), 10, 64)
	m := Message{
		ID: req.Header.Get(standardwebhooks.HeaderWebhookID), Timestamp: time.Unix(sec, 0),
		Body: body, Header: req.Header.Clone(), At: time.Now(),
	}
	// Recorded on arrival (Status 0 while the answer is being made), so a
	// test sees a request in flight.
	r.mu.Lock()
	r.counts[m.ID]++
	m.Attempt = r.counts[m.ID]
	i := len(r.got)
	r.got = append(r.got, m)
	respond := r.respond
	r.notify()
	r.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	respond(sw, req, m)
	if sw.status == 0 && req.Context().Err() == nil {
		sw.WriteHeader(http.StatusOK) // what net/http sends for a handler that wrote nothing
	}
	r.mu.Lock()
	r.got[i].Status = sw.status
	r.notify()
	r.mu.Unlock()
}

// notify wakes Await; r.mu is held.
func (r *Receiver) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Receiver) reject(w http.ResponseWriter, why string) {
	r.mu.Lock()
	r.invalid = append(r.invalid, why)
	r.mu.Unlock()
	http.Error(w, "invalid webhook", http.StatusBadRequest)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Status answers every request with code.
func Status(code int) Responder {
	return func(w http.ResponseWriter, _ *http.Request, _ Message) { w.WriteHeader(code) }
}

// FailFirst answers the first n requests of each message with code, and
// accepts (204) from then on.
func FailFirst(n, code int) Responder {
	return func(w http.ResponseWriter, _ *http.Request, m Message) {
		if m.Attempt <= n {
			w.WriteHeader(code)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// Hang never answers: it waits until the client gives up or the receiver
// goes down.
func Hang() Responder {
	return func(_ http.ResponseWriter, r *http.Request, _ Message) { <-r.Context().Done() }
}

// Redirect answers with code (a 3xx) and a Location of to.
func Redirect(code int, to string) Responder {
	return func(w http.ResponseWriter, _ *http.Request, _ Message) {
		w.Header().Set("Location", to)
		w.WriteHeader(code)
	}
}

// Huge answers code and then writes an endless body until the client
// stops reading and closes the connection (or the receiver goes down).
// written counts the bytes that went out, to the socket's buffers
// included; stopped is closed when the first such answer ended.
func Huge(code int, written *atomic.Int64, stopped chan<- struct{}) Responder {
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request, _ Message) {
		defer once.Do(func() { close(stopped) })
		w.WriteHeader(code)
		chunk := make([]byte, 32<<10)
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
}
