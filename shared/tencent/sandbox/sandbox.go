// Package sandbox is a local stand-in for the Tencent endpoints callfn
// calls, following their documented contracts: the v4 call engine and
// callback configuration on the IM REST URL shape, the v1 CallKit URL shape,
// and TRTC's StartStreamIngest as a Tencent Cloud API 3.0 action. Every REST
// request's UserSig is checked with tls-sig-api-v2's VerifyUserSig, every
// Cloud API request's TC3-HMAC-SHA256 signature is checked, and answers use
// the documented envelopes and error codes.
//
// For each call it starts, the sandbox plays the call and delivers the
// callbacks Tencent would send (Call.CallbackAfterStartCall, then
// Call.CallbackAfterMemberChanged as callees answer, reject or hang up, then
// Call.CallbackAfterEndCall) to the callback URL, signed as Tencent signs
// them when a callback token is set.
//
// # Choosing the outcome
//
// A request chooses how its call goes with a directive in UserData, which
// Tencent passes to callees untouched, so a real call ignores it. The
// directive is key=value pairs in brackets after the word sandbox, such as
// "[sandbox outcome=Reject ring=2s talk=45s fail=bob,carol]". The keys:
//
//   - outcome: NormalEnd (the default: every callee answers, talks, hangs
//     up), Reject, NotAnswer (rings until Timeout), Cancel (the caller gives
//     up while ringing), CallBusy, Interrupt (answered, then the callee drops)
//     or Offline; either generation's spelling (not_answer, NotAnswer).
//   - ring: how long callees ring before answering or rejecting (5s).
//   - talk: how long an answered call lasts (30s).
//   - fail: callees start_call_by_robot reports as failed (ResultCode 1);
//     they are not rung. A call that reaches nobody ends at once, Offline.
//
// Durations are simulated: event times in the callbacks follow them, and
// Options.Scale sets how much real time they take (Instant: none).
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callfn/callfn/shared/backoff"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/loopback"
)

// Defaults: the app the sandbox plays when none is configured. None of these
// is a secret; they only let a newcomer run callfn with no cloud account.
const (
	DefaultSDKAppID       = 1400000000
	DefaultKey            = "callfn-sandbox-usersig-key"
	DefaultAdmin          = "administrator"
	DefaultCloudSecretID  = "AKIDcallfnsandbox"
	DefaultCloudSecretKey = "callfn-sandbox-cloud-key"
)

// Instant is a Scale that plays calls with no real waiting.
const Instant = -1

// Options configure a Sandbox; zero values take the defaults.
type Options struct {
	SDKAppID uint64 // the one app the sandbox knows (DefaultSDKAppID)
	Key      string // its UserSig key (DefaultKey)
	Admin    string // its administrator account (DefaultAdmin)
	// CallbackURL receives the calls' callbacks, as the console's callback
	// URL would (set_callback replaces it); "" sends none.
	CallbackURL   string
	CallbackToken string // when set, callbacks carry RequestTime and Sign
	// CloudSecretID and CloudSecretKey are the Tencent Cloud API
	// credentials StartStreamIngest must be signed with (the defaults).
	CloudSecretID, CloudSecretKey string
	Clock                         func() time.Time // event times and UserSig checks (time.Now)
	// Scale is real seconds per simulated second of a call: 1 (the default)
	// plays in real time, 0.01 a hundred times faster, Instant not waiting.
	Scale float64
	// RateLimit is requests per second per command: 0 applies Tencent's
	// documented limits (200/s for v4 and v1 records, 10/s for v1 callback
	// commands, 20/s for StartStreamIngest), a negative value none.
	RateLimit int
	// AnyHost answers requests whatever their Host, for tests that route
	// Tencent's own domains to the sandbox; otherwise it answers loopback
	// Hosts only (loopback.go).
	AnyHost    bool
	HTTPClient *http.Client // for callbacks (2 s timeout, as Tencent's)
	Logger     *slog.Logger // (slog.Default())
}

// Sandbox is an http.Handler answering as Tencent does. Close it to stop
// playing calls.
type Sandbox struct {
	o    Options
	log  *slog.Logger
	hc   *http.Client
	v4   map[string]restHandler
	v1   map[string]restHandler
	ctx  context.Context
	stop context.CancelFunc
	seq  atomic.Int64

	mu         sync.Mutex
	calls      map[string]*playedCall
	order      []string // call ids, oldest first
	callback   callbackConfig
	v1callback *v1CallbackConfig
	faults     []*Fault
	requests   map[string]int
	ingests    []IngestTask
	deliveries []Delivery
	windows    map[string]*window
	sigs       map[string]bool // distinct UserSigs that passed verification
	playing    int             // calls being played
	idle       chan struct{}   // closed while no call is being played
}

// maxCalls bounds the calls kept for records queries.
const maxCalls = 10000

// New returns a sandbox playing Tencent for o.SDKAppID.
func New(o Options) *Sandbox {
	if o.SDKAppID == 0 {
		o.SDKAppID = DefaultSDKAppID
	}
	if o.Key == "" {
		o.Key = DefaultKey
	}
	if o.Admin == "" {
		o.Admin = DefaultAdmin
	}
	if o.CloudSecretID == "" && o.CloudSecretKey == "" {
		o.CloudSecretID, o.CloudSecretKey = DefaultCloudSecretID, DefaultCloudSecretKey
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	s := &Sandbox{o: o, log: o.Logger, hc: o.HTTPClient,
		calls: map[string]*playedCall{}, requests: map[string]int{}, windows: map[string]*window{}, sigs: map[string]bool{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: 2 * time.Second}
	}
	s.log = s.log.With("component", "tencent-sandbox")
	if o.CallbackURL != "" {
		s.callback = callbackConfig{url: o.CallbackURL}
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.idle = make(chan struct{})
	close(s.idle)
	s.v4 = map[string]restHandler{
		"call_engine_http_srv/start_call_by_robot": s.startCallByRobot,
		"call_engine_http_srv/end_call":            s.endCall,
		"call_engine_http_srv/get_call_info":       s.getCallInfo,
		"call_config/set_callback":                 s.setCallback,
		"call_config/get_callback":                 s.getCallback,
		"call_config/delete_callback":              s.deleteCallback,
	}
	s.v1 = map[string]restHandler{
		"callback/set":    s.v1SetCallback,
		"callback/update": s.v1UpdateCallback,
		"callback/get":    s.v1GetCallback,
		"callback/delete": s.v1DeleteCallback,
	}
	s.addRecordCommands()
	return s
}

// ForConfig is the sandbox `make run` starts when no Tencent credentials are
// configured: it plays cfg's SDKAppID (else DefaultSDKAppID) and
// administrator, signs callbacks to callbackURL with cfg's callback token,
// and plays calls in real time.
func ForConfig(cfg config.Config, callbackURL string) *Sandbox {
	return New(Options{SDKAppID: cfg.TencentAppID, Admin: cfg.TencentAdmin,
		CallbackURL: callbackURL, CallbackToken: cfg.CallbackToken})
}

// Wanted reports whether cfg has no Tencent credentials, so `make run`
// should play Tencent with a sandbox.
func Wanted(cfg config.Config) bool {
	return cfg.TencentKey == "" && cfg.TencentEndpoint == ""
}

// Config returns cfg as callfn's functions must see it to use this sandbox
// served at baseURL: its SDKAppID, key, administrator and endpoint, and its
// Cloud API credentials (the startcall function also needs baseURL as its
// ingest endpoint).
func (s *Sandbox) Config(cfg config.Config, baseURL string) config.Config {
	cfg.TencentAppID = s.o.SDKAppID
	cfg.TencentKey = s.o.Key
	cfg.TencentAdmin = s.o.Admin
	cfg.TencentEndpoint = strings.TrimRight(baseURL, "/")
	cfg.CloudSecretID, cfg.CloudSecretKey = s.o.CloudSecretID, s.o.CloudSecretKey
	return cfg
}

// SDKAppID is the app the sandbox plays.
func (s *Sandbox) SDKAppID() uint64 { return s.o.SDKAppID }

// Close stops playing calls (callbacks not yet due are dropped) and waits
// for deliveries under way.
func (s *Sandbox) Close() error {
	s.stop()
	return s.Wait(context.Background())
}

// Wait blocks until every call started so far has played to its end and
// its callbacks were delivered, or ctx is done.
func (s *Sandbox) Wait(ctx context.Context) error {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServeHTTP routes /v4/SERVICE/COMMAND, /v1/KIND/COMMAND and Cloud API
// requests (POST / with X-TC-Action), addressed to a loopback Host.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.o.AnyHost && !loopback.Host(r.Host) { // see loopback.go
		http.Error(w, "the Tencent sandbox answers only requests to localhost, 127.0.0.1 or [::1]", http.StatusForbidden)
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/v4/"):
		s.serveREST(w, r, strings.TrimPrefix(path, "/v4/"), v4Protocol, s.v4)
	case strings.HasPrefix(path, "/v1/"):
		s.serveREST(w, r, strings.TrimPrefix(path, "/v1/"), v1Protocol, s.v1)
	case (path == "/" || path == "") && r.Header.Get("X-TC-Action") != "":
		s.serveCloud(w, r)
	default:
		http.Error(w, "no such Tencent endpoint in the sandbox: "+path, http.StatusNotFound)
	}
}

// Fault makes the sandbox misbehave for a test: for the next Times requests
// (default 1) to Command it answers with an error code instead of acting, or
// answers an HTTP status with no envelope, or acts and then holds its answer
// (so the caller times out after Tencent acted).
type Fault struct {
	// Command is a v4 "SERVICE/COMMAND" or just "COMMAND", a v1
	// "KIND/COMMAND", or a Cloud API action ("StartStreamIngest").
	Command    string
	Times      int
	Code       int    // a v4/v1 ErrorCode to answer without acting
	Info       string // its ErrorInfo
	CloudCode  string // a Cloud API error code to answer without acting
	HTTPStatus int    // an HTTP status to answer, with no envelope, without acting
	Stall      time.Duration
}

// Inject adds a fault.
func (s *Sandbox) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults drops every fault not yet used up.
func (s *Sandbox) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (s *Sandbox) takeFault(command string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Command == command || strings.HasSuffix(command, "/"+f.Command) {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			c := *f
			return &c
		}
	}
	return nil
}

// UserSigs counts the distinct UserSigs that have passed verification: how
// many a client made, as Tencent sees it.
func (s *Sandbox) UserSigs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sigs)
}

// Requests counts the requests that reached command (any answer).
func (s *Sandbox) Requests(command string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.requests {
		if k == command || strings.HasSuffix(k, "/"+command) {
			n += v
		}
	}
	return n
}

func (s *Sandbox) count(command string) {
	s.mu.Lock()
	s.requests[command]++
	s.mu.Unlock()
}

// window counts one command's requests in the current second.
type window struct {
	second int64
	n      int
}

// allow applies the per-command rate limit, by the sandbox's clock.
func (s *Sandbox) allow(command string, documented int) bool {
	limit := documented
	switch {
	case s.o.RateLimit < 0:
		return true
	case s.o.RateLimit > 0:
		limit = s.o.RateLimit
	}
	now := s.o.Clock().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.windows[command]
	if w == nil {
		w = &window{}
		s.windows[command] = w
	}
	if w.second != now {
		w.second, w.n = now, 0
	}
	w.n++
	return w.n <= limit
}

// stall holds an answer for d (scaled by nothing: it is a network fault),
// or until the caller gives up.
func stall(r *http.Request, d time.Duration) {
	if d > 0 {
		backoff.Sleep(r.Context(), d)
	}
}

// maxBody bounds a request body.
const maxBody = 1 << 20

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, maxBody))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// newRequestID spells a v4 request id as Tencent's samples do.
func (s *Sandbox) newRequestID() string {
	return fmt.Sprintf("Id-%s-O-Seq-%d", randHex(16), s.seq.Add(1))
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID is a random (version 4) UUID, as Tencent's CallIds are.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
