// Package records is the records function: the call history the table
// holds (every call of every provider, any age, calls still ringing or
// talking included), per user too, with daily statistics; and, for one
// call or on request, Tencent's own records (v4 call_record_http_srv, or
// v1 records when CALLFN_TENCENT_API_VERSION=v1) merged with what the
// table knows. On a schedule it archives Tencent's records into the table
// (archive.go), so that they outlive Tencent's 7 days and close calls whose
// end callback was lost.
//
// # Routes
//
// All but /me/calls need Authorization: Bearer $CALLFN_API_TOKEN
// (shared/api).
//
//	GET /records                the table's calls by filter, newest first, by
//	                            cursor (history.go); with source=tencent, the
//	                            plain proxy of Tencent's filter API (list.go)
//	GET /records/{callId}       one call: Tencent's record merged with the
//	                            table's summary, and the call's event timeline
//	GET /users/{userId}/calls   one user's calls (users.go)
//	GET /me/calls               the same for the user whose UserSig it is:
//	                            Authorization: UserSig <sig>, X-User-Id: <id>
//	GET /stats                  calls per day in a time zone (stats.go)
//	POST /replay                stored events delivered again to the
//	                            forwarding endpoints (replay.go)
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
//	  "source":     "tencent+table",      // tencent | table | tencent+table: what the record knows (below)
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
// The lists (GET /records, /users/{userId}/calls, /me/calls) read the
// table alone and ask Tencent nothing: a record's "source" is "table", or
// "tencent+table" once Tencent's record of the call is in the table
// (archived, or fetched by GET /records/{callId}).
//
// GET /records/{callId} reads the table once. When the table already holds
// Tencent's record of the call (archived, or stored by an earlier request)
// it answers from the table alone ("source": "tencent+table", and no
// "tencentApi", since Tencent was not asked) and asks Tencent nothing: a
// record does not change once the call has ended. Otherwise it
// asks Tencent, stores the record it gets (as the archive would), and
// answers the record folded into the table's summary ("tencent+table", or
// "tencent" when the table knew nothing of the call). When Tencent fails or
// does not know the call, the table answers with "tencentError"; when
// neither has the call the answer is 404; when Tencent failed and the
// table has nothing, Tencent's failure is the answer: 429 with Retry-After
// for a rate limit, 504 when unreachable or slow, 502 otherwise
// (upstream.Status).
//
// # Building it
//
// New builds the function over the Table role (reading calls, writing
// events, the archive's cursor) with the Tencent REST client its
// composition root built (Options.Client; nil without a Tencent app);
// NewService is the same for `callfn archive`.
package records

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/api/upstream"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/dashboard"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// Routes.
const (
	RouteRecord    = "GET /records/{callId}"
	RouteRecords   = "GET /records"
	RouteUserCalls = "GET /users/{userId}/calls"
	RouteMyCalls   = "GET /me/calls"
	RouteStats     = "GET /stats"
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
	return Record{CallID: s.CallID, Provider: s.Carrier(), Caller: s.Caller, Callees: callees,
		MediaType: s.MediaType, CallType: s.CallType, Result: s.Result, Status: s.Status,
		StartTime: s.StartTime, AcceptTime: s.AcceptTime, EndTime: s.EndTime, RoomID: s.RoomID, Source: source}
}

// fromTencent is a Tencent record as a Record, through the same fold the
// table uses.
func fromTencent(r *rest.Record) Record {
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

// Name is the function's name.
const Name = "records"

// Options are what New takes besides the configuration and the table;
// zero values take the defaults.
type Options struct {
	// Client asks Tencent (rest.FromConfig, built once by the composition
	// root). Nil where the configuration names no Tencent app
	// (CALLFN_TENCENT_SDKAPPID and CALLFN_TENCENT_SECRET_KEY): records are
	// then answered from the table alone and the archive refuses to run.
	Client *rest.Client
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
	store   Table
	tc      *rest.Client // nil when Tencent is not configured
	tcErr   error        // why tc is nil
	api     string
	timeout time.Duration
	now     func() time.Time
	token   string
	fwd     *replayer // forwarding (replay.go); nil when it is off
}

// Table is what the records function uses of the table: it reads calls,
// stores the events of the records it fetches, and keeps the archive's
// cursor.
type Table interface {
	store.CallReader
	store.EventWriter
	store.MetaStore
}

// New builds the records function over st.
func New(cfg config.Config, st Table, opts Options) (platform.Function, error) {
	s, err := NewService(cfg, st, opts)
	if err != nil {
		return platform.Function{Name: Name}, err
	}
	return s.Function(), nil
}

// NewService builds the records service over st (the function, and
// `callfn archive`, use it).
func NewService(cfg config.Config, st Table, opts Options) (*Service, error) {
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
	var err error
	if s.fwd, err = newReplayer(cfg, st); err != nil {
		return nil, err
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tc == nil {
		//lint:ignore ST1005 "Tencent" is a proper noun, and the reply's tencentError says this
		s.tcErr = errors.New("Tencent is not configured (CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY): the table answers alone")
	}
	return s, nil
}

// Function is the records function: its routes (replay.go's too) and its
// schedule (the archive).
func (s *Service) Function() platform.Function {
	return platform.Function{
		Name: Name,
		Routes: append([]platform.Route{
			{Pattern: RouteRecord, Handler: api.RequireBearer(s.token, s.getRecord)},
			{Pattern: RouteRecords, Handler: api.RequireBearer(s.token, s.listRecords)},
			{Pattern: RouteUserCalls, Handler: api.RequireBearer(s.token, s.userCalls)},
			{Pattern: RouteMyCalls, Handler: s.myCalls}, // the user's own UserSig
			{Pattern: RouteStats, Handler: api.RequireBearer(s.token, s.stats)},
			{Pattern: RouteReplay, Handler: api.RequireBearer(s.token, s.replay)},
		}, dashboard.Routes()...), // and the page that reads them (shared/dashboard)
		Schedule: s.scheduled,
	}
}

// API is the records generation the service asks.
func (s *Service) API() string { return s.api }

// tencentFailed answers Tencent's failure when the table had nothing to
// serve instead.
func tencentFailed(w http.ResponseWriter, err error) {
	status := upstream.Status(err)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(DefaultRetryAfter))
	}
	api.Error(w, status, err.Error())
}

// askTencent bounds one request to Tencent by the service's timeout.
func (s *Service) askTencent(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}
