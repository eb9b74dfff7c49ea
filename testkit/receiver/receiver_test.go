package receiver_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/callfn/callfn/testkit/receiver"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("receiver-test-key-0123456789abcdef"))

// post sends a message signed with key at ts.
func post(t *testing.T, url, id, body string, ts time.Time, key string) (*http.Response, error) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(key)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestAcceptsSigned(t *testing.T) {
	rc := receiver.Start(t, secret)
	if !strings.HasPrefix(rc.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s", rc.URL)
	}
	resp, err := post(t, rc.URL, "msg_1", `{"type":"x"}`, time.Now(), secret)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("%v %v", resp, err)
	}
	got := rc.Await(1, time.Second)
	if got[0].ID != "msg_1" || string(got[0].Body) != `{"type":"x"}` || got[0].Attempt != 1 || got[0].Status != 204 {
		t.Errorf("message %+v", got[0])
	}
}

// fakeTB records what the receiver reports at the end of a test.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func TestRejectsBadSignatures(t *testing.T) {
	fake := &fakeTB{TB: t}
	rc := receiver.Start(fake, secret)
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-key-0123456789abcdef"))
	for name, send := range map[string]func() (*http.Response, error){
		"wrong key": func() (*http.Response, error) { return post(t, rc.URL, "msg_a", "{}", time.Now(), other) },
		"stale": func() (*http.Response, error) {
			return post(t, rc.URL, "msg_b", "{}", time.Now().Add(-time.Hour), secret)
		},
		"unsigned": func() (*http.Response, error) {
			return http.Post(rc.URL, "application/json", bytes.NewReader([]byte("{}")))
		},
	} {
		resp, err := send()
		if err != nil || resp.StatusCode != 400 {
			t.Errorf("%s: %v %v", name, resp, err)
		}
	}
	if n := len(rc.Invalid()); n != 3 || len(rc.Messages()) != 0 {
		t.Errorf("%d invalid, %d messages", n, len(rc.Messages()))
	}
	for _, fn := range fake.cleanups {
		fn()
	}
	if len(fake.errs) != 3 {
		t.Errorf("the test would not fail: %q", fake.errs)
	}
}

func TestFailFirst(t *testing.T) {
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.FailFirst(2, 503))
	var codes []int
	for range 4 {
		resp, err := post(t, rc.URL, "msg_same", "{}", time.Now(), secret)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
	}
	resp, _ := post(t, rc.URL, "msg_other", "{}", time.Now(), secret)
	codes = append(codes, resp.StatusCode)
	if fmt.Sprint(codes) != "[503 503 204 204 503]" {
		t.Errorf("codes %v", codes)
	}
	if n := len(rc.Accepted()); n != 2 {
		t.Errorf("%d accepted", n)
	}
}

func TestDownAndUp(t *testing.T) {
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.Hang())
	hung := make(chan error)
	go func() {
		_, err := post(t, rc.URL, "msg_h", "{}", time.Now(), secret)
		hung <- err
	}()
	for len(rc.Messages()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	rc.Down() // returns although a request hangs
	if err := <-hung; err == nil {
		t.Error("the hanging request got an answer")
	}
	if _, err := post(t, rc.URL, "msg_1", "{}", time.Now(), secret); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("while down: %v", err)
	}
	rc.Up()
	rc.Respond(receiver.Status(200))
	if resp, err := post(t, rc.URL, "msg_1", "{}", time.Now(), secret); err != nil || resp.StatusCode != 200 {
		t.Errorf("after up: %v %v", resp, err)
	}
}

// A request to another path of the receiver's port, as a stray one from a
// process that held the port before, is answered 404 and neither counted
// nor failing the test; one below the endpoint's path is the endpoint's.
func TestIgnoresOtherPaths(t *testing.T) {
	rc := receiver.Start(t, secret)
	base := strings.TrimSuffix(rc.URL, rc.URL[strings.LastIndex(rc.URL, "/"):])
	for _, u := range []string{base, base + "/x", strings.TrimSuffix(base, "/hook") + "/api/calls"} {
		resp, err := http.Post(u, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", u, resp.StatusCode)
		}
	}
	if bad := rc.Invalid(); len(bad) != 0 {
		t.Errorf("stray requests counted as invalid: %q", bad)
	}
	if _, err := post(t, rc.URL+"/t0ken?k=v", "msg_1", `{"a":1}`, time.Now(), secret); err != nil {
		t.Fatal(err)
	}
	if got := rc.Await(1, 5*time.Second); got[0].ID != "msg_1" {
		t.Errorf("below the endpoint's path: %+v", got)
	}
}
