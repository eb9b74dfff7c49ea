package forward_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/testkit/receiver"
)

func newSender(t *testing.T, opts forward.Options) *forward.Sender {
	t.Helper()
	s, err := forward.NewSender(secret, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func message(t *testing.T) (id string, body []byte) {
	t.Helper()
	ev := testEvents(1)[0]
	body, err := forward.NewMessage(&ev, nil).Body()
	if err != nil {
		t.Fatal(err)
	}
	return forward.MessageID(ev.DeliveryID, "x"), body
}

func TestSendSigned(t *testing.T) {
	rc := receiver.Start(t, secret)
	id, body := message(t)
	res := newSender(t, forward.Options{}).Send(context.Background(), rc.URL, id, body)
	if !res.OK() || res.Status != http.StatusNoContent || res.Err != "" {
		t.Fatalf("result %+v", res)
	}
	got := rc.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0]
	if m.ID != id || string(m.Body) != string(body) || m.Header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(m.Header.Get("webhook-signature"), "v1,") || time.Since(m.Timestamp) > time.Minute {
		t.Errorf("message %+v", m)
	}
	if h := m.Header.Get("User-Agent"); !strings.HasPrefix(h, "callfn-forward/") {
		t.Errorf("User-Agent %q", h)
	}
}

func TestSendFailures(t *testing.T) {
	id, body := message(t)
	for name, tc := range map[string]struct {
		respond receiver.Responder
		status  int
		err     string
	}{
		"500":  {receiver.Status(500), 500, "HTTP 500"},
		"429":  {receiver.Status(429), 429, "HTTP 429"},
		"400":  {receiver.Status(400), 400, "HTTP 400"},
		"304":  {receiver.Status(304), 304, "HTTP 304: redirects are not followed"},
		"hang": {receiver.Hang(), 0, "no answer within 300ms"},
	} {
		t.Run(name, func(t *testing.T) {
			rc := receiver.Start(t, secret)
			rc.Respond(tc.respond)
			start := time.Now()
			res := newSender(t, forward.Options{Timeout: 300 * time.Millisecond}).Send(context.Background(), rc.URL, id, body)
			if res.OK() || res.Status != tc.status || res.Err != tc.err {
				t.Errorf("result %+v, want status %d, error %q", res, tc.status, tc.err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %s", took)
			}
			if len(rc.Messages()) != 1 {
				t.Errorf("%d requests", len(rc.Messages()))
			}
		})
	}
}

// The default timeout is 15 s (the option only shortens it, for tests); a
// caller's context that ends first reads as canceled, not as the
// endpoint's timeout.
func TestSendCallerContext(t *testing.T) {
	if forward.DefaultTimeout != 15*time.Second {
		t.Errorf("DefaultTimeout = %s", forward.DefaultTimeout)
	}
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.Hang())
	id, body := message(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := newSender(t, forward.Options{}).Send(ctx, rc.URL, id, body)
	if res.OK() || res.Err != "canceled" || time.Since(start) > 5*time.Second {
		t.Errorf("result %+v after %s", res, time.Since(start))
	}
}

func TestSendRefused(t *testing.T) {
	rc := receiver.Start(t, secret)
	rc.Down()
	id, body := message(t)
	res := newSender(t, forward.Options{}).Send(context.Background(), rc.URL, id, body)
	if res.OK() || res.Status != 0 || res.Err != "connection refused" {
		t.Errorf("result %+v", res)
	}
}

func TestSendRedirectNotFollowed(t *testing.T) {
	target := receiver.Start(t, secret)
	id, body := message(t)
	for _, code := range []int{301, 302, 303, 307, 308} {
		rc := receiver.Start(t, secret)
		rc.Respond(receiver.Redirect(code, target.URL))
		// Neither with the Sender's own client nor with a caller's client
		// that would follow redirects.
		for _, client := range []*http.Client{nil, {}} {
			res := newSender(t, forward.Options{Client: client}).Send(context.Background(), rc.URL, id, body)
			if res.OK() || res.Status != code || !strings.Contains(res.Err, "redirects are not followed") {
				t.Errorf("%d: result %+v", code, res)
			}
		}
	}
	if n := len(target.Messages()); n != 0 {
		t.Errorf("the redirect's target got %d requests", n)
	}
}

// A huge answer is cut off after ReadLimit bytes: the attempt ends at once
// and the receiver stops writing.
func TestSendHugeAnswerCutOff(t *testing.T) {
	id, body := message(t)
	for _, code := range []int{200, 500} {
		rc := receiver.Start(t, secret)
		var written atomic.Int64
		stopped := make(chan struct{})
		rc.Respond(receiver.Huge(code, &written, stopped))
		start := time.Now()
		res := newSender(t, forward.Options{Timeout: 10 * time.Second}).Send(context.Background(), rc.URL, id, body)
		if res.Status != code || res.OK() != (code == 200) {
			t.Errorf("%d: result %+v", code, res)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%d: the attempt took %s", code, took)
		}
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d: the receiver is still writing (%d bytes)", code, written.Load())
		}
		// What went out fits in the socket buffers, not more.
		if n := written.Load(); n > 64<<20 {
			t.Errorf("%d: %d bytes written before the cut", code, n)
		}
	}
}

// No error text carries the secret, a signature, or the endpoint's path
// and query (which may hold a token).
func TestSendErrorsHideSecrets(t *testing.T) {
	id, body := message(t)
	rc := receiver.Start(t, secret)
	down := receiver.Start(t, secret)
	down.Down()
	const token = "/t0ken?key=qu3ry"
	var errs []string
	for _, tc := range []struct {
		url     string
		respond receiver.Responder
	}{
		{rc.URL + token, receiver.Status(500)},
		{rc.URL + token, receiver.Hang()},
		{rc.URL + token, receiver.Redirect(302, "https://elsewhere.example/t0ken")},
		{down.URL + token, nil},
		{"http://no-such-host.invalid" + token, nil},
		{"https://" + strings.TrimPrefix(rc.URL, "http://") + token, nil}, // TLS to a plain server
	} {
		if tc.respond != nil {
			rc.Respond(tc.respond)
		}
		res := newSender(t, forward.Options{Timeout: 500 * time.Millisecond}).Send(context.Background(), tc.url, id, body)
		if res.OK() {
			t.Errorf("%s: delivered", tc.url)
		}
		errs = append(errs, res.Err)
	}
	for _, e := range errs {
		if e == "" || len(e) > 210 || strings.Contains(e, secretKey) || strings.Contains(e, "t0ken") || strings.Contains(e, "qu3ry") || strings.Contains(e, "v1,") {
			t.Errorf("error text %q", e)
		}
	}
	t.Logf("errors: %q", errs)
}

func TestNewSenderBadSecret(t *testing.T) {
	for _, s := range []string{"", "whsec_", "nope" + secretKey, "whsec_" + secretKey[:10] + "!", "whsec_c2hvcnQ="} {
		_, err := forward.NewSender(s, forward.Options{})
		if err == nil {
			t.Errorf("%q accepted", s)
			continue
		}
		if len(s) > 8 && strings.Contains(err.Error(), s[6:]) {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
}
