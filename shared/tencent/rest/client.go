package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/backoff"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/jsonx"
	"github.com/callfn/callfn/shared/tencent"
)

// The REST client for Tencent's call APIs (spec §1): v4 commands on the
// region's IM REST domain, v1 commands on the CallKit domain. Each request
// is an HTTPS POST of a JSON body to
//
//	https://DOMAIN/v4/SERVICE/COMMAND?sdkappid=&identifier=&usersig=&random=&contenttype=json
//
// signed with the administrator's cached UserSig and a fresh uint32 random.
// A command is one Cmd value plus, for convenience, a small typed method
// (calls.go); adding one is a few lines.

// Cmd is one Tencent REST command.
type Cmd struct {
	API  string // tencent.V4 or tencent.V1
	Path string // v4 "SERVICE/COMMAND", v1 "KIND/COMMAND"
	// Idempotent commands (reads) may be sent again even when Tencent may
	// have acted on the first attempt: after an internal error, a 5xx or a
	// timeout. Others are sent again only where Tencent did not act.
	Idempotent bool
}

func (c Cmd) String() string { return c.Path }

// Retry bounds how a request is sent again. Only failures where Tencent did
// not act are retried for a non-idempotent command (a rate-limit code, a
// connection that failed before the request was written), so a retry never
// rings a callee twice.
type Retry struct {
	Attempts int           // at most this many sends in all (default 4)
	Base     time.Duration // first backoff (default 100 ms), doubling, with full jitter
	Max      time.Duration // longest single backoff (default 1 s)
	Budget   time.Duration // total time backoffs may add to one request (default 3 s)
}

// DefaultRetry is used for zero Retry fields.
var DefaultRetry = Retry{Attempts: 4, Base: 100 * time.Millisecond, Max: time.Second, Budget: 3 * time.Second}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetry.Attempts
	}
	if r.Base <= 0 {
		r.Base = DefaultRetry.Base
	}
	if r.Max <= 0 {
		r.Max = DefaultRetry.Max
	}
	if r.Budget <= 0 {
		r.Budget = DefaultRetry.Budget
	}
	return r
}

// DefaultTimeout is the HTTP client's timeout: longer than the 3 s after
// which Tencent's backend gives up, so its own answer arrives first.
const DefaultTimeout = 10 * time.Second

// NewHTTPClient returns the client every Tencent request should share: it
// outlives invocations, keeps connections alive and pooled, and times out
// after DefaultTimeout.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 64
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t, Timeout: DefaultTimeout}
}

// Options configure a Client.
type Options struct {
	SDKAppID uint64
	Key      string // the app's UserSig key; unused when Signer is set
	Admin    string // administrator account (default "administrator")
	Region   string // CALLFN_TENCENT_REGION (default "china")
	// Endpoint replaces the regional domains (v4 and v1): a proxy or the
	// local sandbox, as a base URL such as http://127.0.0.1:8081/tencent.
	Endpoint   string
	HTTPClient *http.Client // default NewHTTPClient()
	Retry      Retry
	Signer     *Signer          // default a new Signer over SDKAppID and Key
	Now        func() time.Time // the clock (time.Now)
}

// Client sends Tencent REST commands. It is safe for concurrent use and
// meant to be made once per process.
type Client struct {
	admin  string
	signer *Signer
	v4     []string // base URLs: the region's domain, then its backup
	v1     []string
	where  string
	region string
	http   *http.Client
	retry  Retry
	now    func() time.Time
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	if o.Admin == "" {
		o.Admin = "administrator"
	}
	if o.Region == "" {
		o.Region = "china"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	signer := o.Signer
	if signer == nil {
		var err error
		if signer, err = NewSigner(o.SDKAppID, o.Key, SignerOptions{Now: o.Now}); err != nil {
			return nil, err
		}
	}
	c := &Client{admin: o.Admin, signer: signer, region: o.Region, http: o.HTTPClient, retry: o.Retry.withDefaults(), now: o.Now}
	if c.http == nil {
		c.http = NewHTTPClient()
	}
	if o.Endpoint != "" {
		base, err := baseURL(o.Endpoint)
		if err != nil {
			return nil, err
		}
		c.v4, c.v1 = []string{base}, []string{base}
		c.where = "endpoint " + base
	} else {
		primary, backup, err := IMDomain(o.Region)
		if err != nil {
			return nil, err
		}
		c.v4 = []string{"https://" + primary, "https://" + backup}
		c.v1 = []string{"https://" + CallKitDomain(o.Region)}
		c.where = fmt.Sprintf("region %s (%s)", o.Region, primary)
	}
	return c, nil
}

// FromConfig returns the Client the configuration describes: the app
// (CALLFN_TENCENT_SDKAPPID and CALLFN_TENCENT_SECRET_KEY, both required),
// its administrator (CALLFN_TENCENT_ADMIN), region (CALLFN_TENCENT_REGION)
// and endpoint (CALLFN_TENCENT_ENDPOINT). Without the app it returns a
// *config.MissingError naming what is missing: it matches
// config.ErrNotConfigured, which shared/platform/run answers with 503.
//
// cfg's values replace those fields of o; o brings what the configuration
// does not say (HTTPClient, Retry, Now). A composition root calls it once
// and shares the Client.
func FromConfig(cfg config.Config, o Options) (*Client, error) {
	if err := cfg.Require("CALLFN_TENCENT_SDKAPPID", "CALLFN_TENCENT_SECRET_KEY"); err != nil {
		return nil, err
	}
	o.SDKAppID, o.Key, o.Admin = cfg.TencentAppID, cfg.TencentKey, cfg.TencentAdmin
	o.Region, o.Endpoint = cfg.TencentRegion, cfg.TencentEndpoint
	return New(o)
}

// baseURL checks an endpoint and strips its trailing slash.
func baseURL(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("tencent: endpoint %q is not an http(s) base URL", endpoint)
	}
	return u.String(), nil
}

// Signer is the client's UserSig maker (shared with the Ingester).
func (c *Client) Signer() *Signer { return c.signer }

// Where names the region and domain, or the endpoint, requests go to.
func (c *Client) Where() string { return c.where }

// HTTPClient is the client's connection pool.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Meta describes a request that got an answer.
type Meta struct {
	RequestID string // Tencent's request id
	Attempts  int    // sends it took
}

// Do sends body (nil sends {}) to cmd and decodes the reply's payload (v4
// Response, v1 data) into out, unless out is nil.
func (c *Client) Do(ctx context.Context, cmd Cmd, body, out any) (Meta, error) {
	payload := []byte("{}")
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return Meta{}, c.fail(cmd, ErrFailed, "encoding the request", err)
		}
	}
	return c.DoRaw(ctx, cmd, payload, out)
}

// DoRaw is Do with a body already encoded.
func (c *Client) DoRaw(ctx context.Context, cmd Cmd, payload []byte, out any) (Meta, error) {
	bases := c.v4
	if cmd.API == tencent.V1 {
		bases = c.v1
	}
	var (
		rep       Meta
		slept     time.Duration // backoff spent so far, within Retry.Budget
		refreshed bool
		base      int
	)
	// again waits out a backoff and reports whether another send fits the
	// attempts and the budget.
	again := func() bool {
		if rep.Attempts >= c.retry.Attempts || ctx.Err() != nil {
			return false
		}
		d := c.backoff(rep.Attempts)
		if slept+d > c.retry.Budget {
			return false
		}
		slept += d
		return backoff.Sleep(ctx, d) == nil
	}
	for {
		rep.Attempts++
		sig, err := c.signer.UserSig(c.admin)
		if err != nil {
			return rep, c.fail(cmd, ErrFailed, "", err)
		}
		reqURL := c.url(bases[base], cmd, sig)
		env, err := c.send(ctx, cmd, reqURL, payload, sig)
		if err != nil {
			var te *Error
			if errors.As(err, &te) && te.beforeSend {
				// Tencent never saw it: safe to send again, on the backup
				// domain when there is one.
				base = (base + 1) % len(bases)
				if again() {
					continue
				}
			} else if cmd.Idempotent && errors.Is(err, ErrUnavailable) && again() {
				continue
			}
			return rep, err
		}
		rep.RequestID = env.requestID
		if env.code == 0 && env.ok {
			if out != nil && len(env.payload) > 0 && !bytes.Equal(env.payload, []byte("null")) {
				if err := json.Unmarshal(env.payload, out); err != nil {
					return rep, c.fail(cmd, ErrFailed, "Tencent's reply has an unexpected shape", err)
				}
			}
			return rep, nil
		}
		ci := lookupCode(cmd.API, env.code)
		if env.code == 0 {
			ci = codeInfo{ErrFailed, "Tencent answered FAIL without an error code", false}
		}
		e := &Error{Kind: ci.kind, API: cmd.API, Command: cmd.Path, Code: env.code,
			Info: redact(env.info, sig), RequestID: env.requestID, Where: c.where, Detail: ci.detail}
		if ci.kind == ErrWrongRegion {
			e.Detail = fmt.Sprintf("%s: SDKAppID %d is not known in %s; check CALLFN_TENCENT_REGION", ci.detail, c.signer.AppID(), c.where)
		}
		switch {
		case ci.kind == ErrSigExpired && !refreshed:
			// A fresh UserSig fixes an expired one (unless the clock is
			// wrong); Tencent did not act, so send again at once.
			refreshed = true
			c.signer.Forget(c.admin)
			if rep.Attempts < c.retry.Attempts {
				continue
			}
		case ci.retry || (cmd.Idempotent && ci.kind == ErrUnavailable):
			if again() {
				continue
			}
		}
		return rep, e
	}
}

// backoff is the wait before send number n+1: full jitter over an
// exponentially growing cap (shared/backoff).
func (c *Client) backoff(n int) time.Duration {
	return backoff.Policy{Base: c.retry.Base, Max: c.retry.Max}.Delay(n)
}

// url builds a request URL; only this holds the UserSig.
func (c *Client) url(base string, cmd Cmd, sig string) string {
	var b strings.Builder
	b.Grow(len(base) + len(cmd.Path) + len(sig) + 96)
	b.WriteString(base)
	b.WriteString("/")
	b.WriteString(cmd.API)
	b.WriteString("/")
	b.WriteString(cmd.Path)
	b.WriteString("?sdkappid=")
	b.WriteString(strconv.FormatUint(c.signer.AppID(), 10))
	b.WriteString("&identifier=")
	b.WriteString(url.QueryEscape(c.admin))
	b.WriteString("&usersig=")
	b.WriteString(url.QueryEscape(sig))
	b.WriteString("&random=")
	b.WriteString(strconv.FormatUint(uint64(rand.Uint32()), 10))
	b.WriteString("&contenttype=json")
	return b.String()
}

// envelope is a reply of either generation, read into one shape.
type envelope struct {
	ok        bool
	code      int
	info      string
	requestID string
	payload   json.RawMessage
}

type v4Envelope struct {
	ActionStatus string
	ErrorInfo    string
	ErrorCode    jsonx.Int
	RequestId    string
	Response     json.RawMessage
}

type v1Envelope struct {
	ErrorCode    jsonx.Int       `json:"errorCode"`
	ErrorMessage string          `json:"errorMessage"`
	RequestID    string          `json:"requestId"`
	Data         json.RawMessage `json:"data"`
}

// maxReply bounds a reply body (a page of records is the largest).
const maxReply = 8 << 20

// send makes one HTTP round trip and reads the envelope.
func (c *Client) send(ctx context.Context, cmd Cmd, reqURL string, payload []byte, sig string) (envelope, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, reqURL, bytes.NewReader(payload))
	if err != nil {
		return envelope{}, c.fail(cmd, ErrFailed, "building the request", redactErr(err, sig))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		inner := err
		var ue *url.Error // its text holds the URL, and so the UserSig
		if errors.As(err, &ue) {
			inner = ue.Err
		}
		before := beforeSend(inner)
		detail := "no reply from " + c.where + ": Tencent may have acted on the request"
		if before {
			detail = "could not connect to " + c.where
		}
		e := &Error{Kind: ErrUnavailable, API: cmd.API, Command: cmd.Path, Where: c.where, Detail: detail,
			cause: redactErr(inner, sig), beforeSend: before}
		return envelope{}, e
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return envelope{}, &Error{Kind: ErrUnavailable, API: cmd.API, Command: cmd.Path, Where: c.where,
			Detail: "reading Tencent's reply", cause: redactErr(err, sig)}
	}
	if len(body) > maxReply {
		return envelope{}, c.fail(cmd, ErrFailed, "Tencent's reply is too large", nil)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return envelope{}, &Error{Kind: ErrRateLimited, API: cmd.API, Command: cmd.Path, Where: c.where, Detail: "HTTP 429"}
	case resp.StatusCode >= 500:
		return envelope{}, &Error{Kind: ErrUnavailable, API: cmd.API, Command: cmd.Path, Where: c.where, Detail: "HTTP " + resp.Status}
	case resp.StatusCode != http.StatusOK:
		return envelope{}, c.fail(cmd, ErrFailed, "HTTP "+resp.Status+" from "+c.where, nil)
	}
	var env envelope
	if cmd.API == tencent.V1 {
		var e v1Envelope
		if err := json.Unmarshal(body, &e); err != nil {
			return env, c.fail(cmd, ErrFailed, "Tencent's reply is not the v1 envelope", err)
		}
		env = envelope{ok: true, code: int(e.ErrorCode), info: e.ErrorMessage, requestID: e.RequestID, payload: e.Data}
	} else {
		var e v4Envelope
		if err := json.Unmarshal(body, &e); err != nil {
			return env, c.fail(cmd, ErrFailed, "Tencent's reply is not the v4 envelope", err)
		}
		env = envelope{ok: strings.EqualFold(e.ActionStatus, "OK"), code: int(e.ErrorCode), info: e.ErrorInfo,
			requestID: e.RequestId, payload: e.Response}
		if env.payload == nil {
			env.payload = body
		}
	}
	return env, nil
}

func (c *Client) fail(cmd Cmd, kind error, detail string, cause error) *Error {
	return &Error{Kind: kind, API: cmd.API, Command: cmd.Path, Where: c.where, Detail: detail, cause: cause}
}

// beforeSend reports whether a transport error happened before any byte of
// the request could reach Tencent: the connection was never made.
func beforeSend(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// redact removes secret from s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, secret, "[redacted]")
	if q := url.QueryEscape(secret); q != secret {
		s = strings.ReplaceAll(s, q, "[redacted]")
	}
	return s
}

// redactErr keeps err for errors.Is but drops secret from its text.
func redactErr(err error, secret string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := redact(msg, secret); r != msg {
		return &redactedError{err: err, msg: r}
	}
	return err
}

type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
