// Package records is the records function: it answers call-record queries
// by asking Tencent's records APIs (v4 call_record_http_srv, or v1 records
// when CALLFN_TENCENT_API_VERSION=v1) and merging what the table knows, and
// falls back to the table when Tencent is unreachable, slow, rate limiting,
// no longer has the record (Tencent keeps 7 days), or is not configured. On
// a schedule it archives Tencent's records into the table (archive.go), so
// that they outlive Tencent's 7 days.
//
// # Routes
//
// Both need Authorization: Bearer $CALLFN_API_TOKEN (shared/api).
//
//	GET /records/{callId}   one call: Tencent's record merged with the table's
//	                        summary, and the call's event timeline
//	GET /records            records by filter (filter.go), one page at a time
//
// # The record
//
// Both generations' records, and the table's summaries, are answered in one
// shape (Record):
//
//	{
//	  "callId":     "2ae7d549-c441-4a9b-87c0-61810fe19582",
//	  "provider":   "tencent",            // who carried the call: tencent or yunxin (the table may hold both)
//	  "caller":     "alice",
//	  "callees":    ["bob"],              // never the caller; [] when none is known
//	  "mediaType":  "video",              // audio | video
//	  "callType":   "single",             // single | group
//	  "result":     "normal_end",         // cancel | reject | not_answer | normal_end | call_busy | interrupt | offline; "" while the call goes on
//	  "status":     "ended",              // ringing | in_progress | ended
//	  "startTime":  1688705638000,        // ms since the epoch; 0 when unknown
//	  "acceptTime": 1688705641000,        // ms; 0 when never accepted
//	  "endTime":    1688705668000,        // ms; 0 while the call goes on
//	  "roomId":     "123456",
//	  "source":     "tencent+table",      // tencent | table | tencent+table: who answered
//	  "tencentApi": "v4",                 // the generation that answered, when Tencent did
//	  "tencentError": "...",              // why Tencent did not answer, when the table did instead
//	  "events":     [ ... ]               // GET /records/{callId} only: the stored events, oldest first
//	}
//
// Tencent's v4 names (NotAnswer, MultiCall, Video, seconds) and v1 names
// (not_answer, group, video, seconds) are both normalized to these. Each
// event in "events" is a stored delivery (provider, channel, command,
// event, callId, eventTime ms, deliveryId, receivedAt, facts, raw), an
// archived Tencent record among them (command "record").
//
// # Where answers come from
//
// GET /records/{callId} reads the table once. When the table already holds
// Tencent's record of the call (archived, or stored by an earlier request)
// it answers from the table alone ("source": "table") and asks Tencent
// nothing: a record does not change once the call has ended. Otherwise it
// asks Tencent, stores the record it gets (as the archive would), and
// answers the record folded into the table's summary ("tencent+table", or
// "tencent" when the table knew nothing of the call). When Tencent fails or
// does not know the call, the table answers with "tencentError"; when
// neither has the call the answer is 404; when Tencent failed and the
// table has nothing, Tencent's failure is the answer: 429 with Retry-After
// for a rate limit, 504 when unreachable or slow, 502 otherwise
// (tencent.HTTPStatus).
package records

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/dashboard"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent"
)

// Routes.
const (
	RouteRecord  = "GET /records/{callId}"
	RouteRecords = "GET /records"
)

// Sources of an answer.
const (
	SourceTencent = "tencent"
	SourceTable   = "table"
	SourceBoth    = "tencent+table"
)

// Record is one call's record as the records routes answer it (see the
// package documentation for the shape).
type Record struct {
	CallID       string   `json:"callId"`
	Provider     string   `json:"provider"`
	Caller       string   `json:"caller"`
	Callees      []string `json:"callees"`
	MediaType    string   `json:"mediaType"`
	CallType     string   `json:"callType"`
	Result       string   `json:"result"`
	Status       string   `json:"status"`
	StartTime    int64    `json:"startTime"`
	AcceptTime   int64    `json:"acceptTime"`
	EndTime      int64    `json:"endTime"`
	RoomID       string   `json:"roomId"`
	Source       string   `json:"source"`
	TencentAPI   string   `json:"tencentApi,omitempty"`
	TencentError string   `json:"tencentError,omitempty"`
}

// CallRecord is GET /records/{callId}'s answer: the record and the call's
// stored events, oldest first.
type CallRecord struct {
	Record
	Events []call.Event `json:"events"`
}

// fromSummary is a table summary as a Record.
func fromSummary(s *call.Summary, source string) Record {
	callees := s.Callees
	if callees == nil {
		callees = []string{}
	}
	return Record{CallID: s.CallID, Provider: s.Provider, Caller: s.Caller, Callees: callees,
		MediaType: s.MediaType, CallType: s.CallType, Result: s.Result, Status: s.Status,
		StartTime: s.StartTime, AcceptTime: s.AcceptTime, EndTime: s.EndTime, RoomID: s.RoomID, Source: source}
}

// fromTencent is a Tencent record as a Record, through the same fold the
// table uses.
func fromTencent(r *tencent.Record) Record {
	ev := r.Event()
	var s call.Summary
	s.Apply(&ev)
	rec := fromSummary(&s, SourceTencent)
	rec.TencentAPI = r.API
	return rec
}

// Defaults.
const (
	// DefaultTencentTimeout bounds one answer's wait for Tencent, whose
	// backend gives up after 3 s; past it the table answers.
	DefaultTencentTimeout = 5 * time.Second
	// DefaultRetryAfter is the Retry-After of a rate-limited answer:
	// Tencent limits requests per second.
	DefaultRetryAfter = 1
)

// Options adjust the records function; zero values take the defaults.
type Options struct {
	// Client asks Tencent. Nil: one is made from the configuration; when
	// the configuration names no Tencent app (CALLFN_TENCENT_SDKAPPID and
	// CALLFN_TENCENT_SECRET_KEY), records are answered from the table
	// alone and the archive refuses to run.
	Client *tencent.Client
	// API is the records generation asked, tencent.V4 or tencent.V1
	// (default cfg.TencentAPI).
	API            string
	TencentTimeout time.Duration    // DefaultTencentTimeout
	Now            func() time.Time // the clock (time.Now)
}

// Service answers records queries and archives records. It is safe for
// concurrent use.
type Service struct {
	cfg     config.Config
	store   store.Store
	tc      *tencent.Client // nil when Tencent is not configured
	tcErr   error           // why tc is nil
	api     string
	timeout time.Duration
	now     func() time.Time
	token   string
}

// New builds the records function over st.
func New(cfg config.Config, st store.Store, opts Options) (platform.Function, error) {
	s, err := NewService(cfg, st, opts)
	if err != nil {
		return platform.Function{Name: "records"}, err
	}
	return s.Function(), nil
}

// NewService builds the records service over st (the function, and
// `callfn archive`, use it).
func NewService(cfg config.Config, st store.Store, opts Options) (*Service, error) {
	s := &Service{cfg: cfg, store: st, tc: opts.Client, api: opts.API, timeout: opts.TencentTimeout, now: opts.Now, token: cfg.APIToken}
	if s.api == "" {
		s.api = cfg.TencentAPI
	}
	if s.api == "" {
		s.api = tencent.V4
	}
	if s.api != tencent.V4 && s.api != tencent.V1 {
		return nil, errors.New("records: the Tencent API version must be v4 or v1, not " + s.api)
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTencentTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tc == nil {
		if cfg.TencentAppID == 0 || cfg.TencentKey == "" {
			s.tcErr = errors.New("Tencent is not configured (CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY): the table answers alone")
		} else {
			tc, err := tencent.New(tencent.Options{SDKAppID: cfg.TencentAppID, Key: cfg.TencentKey, Admin: cfg.TencentAdmin,
				Region: cfg.TencentRegion, Endpoint: cfg.TencentEndpoint, Now: s.now})
			if err != nil {
				return nil, err
			}
			s.tc = tc
		}
	}
	return s, nil
}

// Function is the records function: its two routes and its schedule (the
// archive).
func (s *Service) Function() platform.Function {
	return platform.Function{
		Name: "records",
		Routes: append([]platform.Route{
			{Pattern: RouteRecord, Handler: api.RequireBearer(s.token, s.getRecord)},
			{Pattern: RouteRecords, Handler: api.RequireBearer(s.token, s.listRecords)},
		}, dashboard.Routes()...), // and the page that reads them (shared/dashboard)
		Schedule: s.scheduled,
	}
}

// API is the records generation the service asks.
func (s *Service) API() string { return s.api }

// tencentFailed answers Tencent's failure when the table had nothing to
// serve instead.
func tencentFailed(w http.ResponseWriter, err error) {
	status := tencent.HTTPStatus(err)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(DefaultRetryAfter))
	}
	api.Error(w, status, err.Error())
}

// askTencent bounds one request to Tencent by the service's timeout.
func (s *Service) askTencent(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}
