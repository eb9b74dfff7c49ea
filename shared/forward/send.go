package forward

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// DefaultTimeout bounds one attempt: connecting, sending, and the answer's
// status and (cut off) body.
const DefaultTimeout = 15 * time.Second

// ReadLimit is how much of an answer's body is read (and discarded, so the
// connection can be reused); the rest is cut off by closing it.
const ReadLimit = 16 << 10

// maxErrorLen bounds Result.Err.
const maxErrorLen = 200

// userAgent names callfn to receivers.
const userAgent = "callfn-forward/1"

// Result is the outcome of one attempt.
type Result struct {
	// Status is the answer's HTTP status; 0 when there was no answer.
	Status int
	// Err is "" when the endpoint answered 2xx; otherwise a short reason
	// ("HTTP 500", "no answer within 15s", "connection refused", ...;
	// "canceled" when the caller's context ended first). It
	// never holds the secret, a signature, or the endpoint's path or query.
	Err string
}

// OK reports whether the endpoint accepted the message (answered 2xx).
func (r Result) OK() bool { return r.Err == "" }

// NewClient is an http.Client for deliveries: its own transport (so
// deliveries share connections only with each other) and no redirects
// followed (a 3xx is a failed attempt). Build one and share it.
func NewClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: t, CheckRedirect: noRedirects}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Sender makes single attempts: it signs a message per Standard Webhooks
// with the standard-webhooks library and POSTs it. It is safe for
// concurrent use.
type Sender struct {
	wh      *standardwebhooks.Webhook
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

// NewSender signs with secret ("whsec_" + base64, checked as
// config.CheckForwardSecret does). Of opts it uses Client, Timeout and Now.
// Its error never holds the secret.
func NewSender(secret string, opts Options) (*Sender, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, errors.New("forward: the secret is not a Standard Webhooks secret")
	}
	opts = opts.withDefaults()
	return &Sender{wh: wh, client: opts.Client, timeout: opts.Timeout, now: opts.Now}, nil
}

// Send makes one attempt at delivering body to endpoint as message id (a
// webhook-id, MessageID). It signs with the current time (Options.Now),
// waits at most the timeout for the whole exchange, follows no redirect,
// reads at most ReadLimit bytes of the answer and discards them.
func (s *Sender) Send(ctx context.Context, endpoint, id string, body []byte) Result {
	ts := s.now()
	sig, err := s.wh.Sign(id, ts, body)
	if err != nil {
		return Result{Err: "signing failed"}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{Err: "endpoint is not a valid URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return Result{Err: "canceled"} // the caller stopped waiting
		}
		return Result{Err: s.reason(err)}
	}
	// The answer is read up to the limit and discarded; closing the body
	// cuts off the rest. A 2xx counts even if the read fails: the status
	// is the receiver's word.
	io.Copy(io.Discard, io.LimitReader(resp.Body, ReadLimit))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c <= 299:
		return Result{Status: c}
	case c >= 300 && c <= 399:
		return Result{Status: c, Err: fmt.Sprintf("HTTP %d: redirects are not followed", c)}
	default:
		return Result{Status: c, Err: fmt.Sprintf("HTTP %d", c)}
	}
}

// reason is a short description of a failed exchange, without the URL
// (url.Error repeats it, query included).
func (s *Sender) reason(err error) string {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within " + s.timeout.String()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "DNS: no such host"
		}
		return "DNS: lookup failed"
	case errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &host):
		return "TLS: certificate not accepted"
	case errors.As(err, &recErr):
		return "TLS: the endpoint does not speak TLS"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed without an answer"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return truncate(err.Error(), maxErrorLen)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
