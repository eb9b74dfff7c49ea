// Package startcall is the startcall function: it starts server-initiated
// ("robot") calls through Tencent's v4 start_call_by_robot, optionally has
// the robot push a media stream into the call (TRTC StartStreamIngest), ends
// calls (end_call), and does the same on a schedule. Every call it starts is
// recorded in the table, so the call's callbacks join it there.
//
// New builds it over the Table role (store.EventWriter and store.Claimer)
// with the Tencent REST client and ingester its composition root built
// (Options).
package startcall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/api/upstream"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// Routes.
const (
	RouteStart = "POST /calls"
	RouteEnd   = "POST /calls/{callId}/end"
)

// Commands and events of the events startcall records.
const (
	CommandStart = "start_call"
	CommandEnd   = "end_call"
	EventStarted = "call_started"
	EventEnded   = "call_ended"
)

const (
	maxBody = 64 << 10
	// opTimeout bounds the work after a call has started (media, ending,
	// recording), which goes on even if the caller hangs up.
	opTimeout = 30 * time.Second
	// claimFor is how long a schedule firing's claim is kept: longer than
	// any platform retries a firing.
	claimFor = 48 * time.Hour
)

// Name is the function's name.
const Name = "startcall"

// Options are what New takes besides the configuration and the table: the
// dependencies a composition root (functions/startcall, cmd/callfn serve)
// builds once per process and shares, so that UserSigs and connections are
// reused across invocations.
type Options struct {
	// Client sends Tencent's REST commands (rest.FromConfig); required.
	Client *rest.Client
	// Ingester pushes media into calls (rest.IngesterFromConfig). Nil
	// without Tencent Cloud API credentials: a request with StreamIngest
	// is then refused, naming them.
	Ingester *rest.Ingester
	Now      func() time.Time // the clock (time.Now)
	Logger   *slog.Logger     // slog.Default()
}

// service is the function's state.
type service struct {
	client *rest.Client
	ingest *rest.Ingester // nil without Tencent Cloud credentials
	store  Table
	now    func() time.Time
	log    *slog.Logger
}

// Table is what startcall uses of the table: it stores the events of the
// calls it starts and claims each scheduled start, so that one run acts.
type Table interface {
	store.EventWriter
	store.Claimer
}

// New builds the startcall function over st, sending Tencent's commands
// with opts.Client.
func New(cfg config.Config, st Table, opts Options) (platform.Function, error) {
	fn := platform.Function{Name: Name}
	if opts.Client == nil {
		return fn, errors.New("startcall: no Tencent client (Options.Client, from rest.FromConfig)")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &service{client: opts.Client, ingest: opts.Ingester, store: st, now: opts.Now, log: opts.Logger.With("function", Name)}
	fn.Routes = []platform.Route{
		{Pattern: RouteStart, Handler: api.RequireBearer(cfg.APIToken, s.start)},
		{Pattern: RouteEnd, Handler: api.RequireBearer(cfg.APIToken, s.end)},
	}
	fn.Schedule = s.schedule
	return fn, nil
}

// Outcome is what starting one call came to. Its JSON is POST /calls's
// reply: Tencent's CallId and CallResult, and callfn's account of the rest.
type Outcome struct {
	CallId        string              `json:",omitempty"`
	CallResult    []rest.CalleeResult `json:",omitempty"`
	RequestId     string              `json:",omitempty"` // Tencent's, of start_call_by_robot
	FailedCallees []string            `json:",omitempty"` // callees whose ResultCode is not 0
	StreamIngest  *IngestOutcome      `json:",omitempty"`
	RecordError   string              `json:",omitempty"` // the call started but is not in the table
	Error         string              `json:"error,omitempty"`
	ErrorCode     int                 `json:",omitempty"` // Tencent's, when start_call_by_robot failed

	status int
}

// IngestOutcome is what became of the media push.
type IngestOutcome struct {
	TaskId    string `json:",omitempty"`
	RequestId string `json:",omitempty"`
	Error     string `json:",omitempty"`
	// CallEnded says, after a failed push, whether the call was ended
	// rather than left ringing with no media.
	CallEnded *bool `json:",omitempty"`
}

// start serves POST /calls.
func (h *service) start(w http.ResponseWriter, r *http.Request) {
	body, err := api.ReadBody(r, maxBody)
	if errors.Is(err, api.ErrTooLarge) {
		api.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBody))
		return
	} else if err != nil {
		api.Error(w, http.StatusBadRequest, "could not read the body: "+err.Error())
		return
	}
	req, err := ParseRequest(body)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	// Once start_call_by_robot is on its way the call may exist: finish
	// (record it, push media or end it) even if the caller hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
	defer cancel()
	out := h.startCall(ctx, req, body, "http")
	if out.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	api.JSON(w, out.status, out)
}

func writeBadRequest(w http.ResponseWriter, err error) {
	var be *api.BodyError
	var pe *rest.ParamError
	switch {
	case errors.As(err, &be):
		api.Error(w, http.StatusBadRequest, be.Msg, be.Fields()...)
	case errors.As(err, &pe):
		api.Error(w, http.StatusBadRequest, pe.Error(), "field", pe.Field)
	default:
		api.Error(w, http.StatusBadRequest, err.Error())
	}
}

// startCall starts one call, pushes its media, records it; startedBy is
// "http" or "schedule:NAME".
func (h *service) startCall(ctx context.Context, req *Request, raw []byte, startedBy string) *Outcome {
	if req.StreamIngest != nil && h.ingest == nil {
		return &Outcome{status: http.StatusServiceUnavailable,
			Error: "StreamIngest needs Tencent Cloud API credentials, and TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set; nothing was started"}
	}
	resp, meta, err := h.client.StartCallByRobot(ctx, &req.StartCallRequest)
	if err != nil {
		h.log.Warn("start_call_by_robot failed", "startedBy", startedBy, "err", err)
		return &Outcome{status: upstream.Status(err), RequestId: meta.RequestID, Error: "the call was not started: " + err.Error(),
			ErrorCode: tencentCode(err)}
	}
	out := &Outcome{CallId: string(resp.CallId), CallResult: resp.CallResult, RequestId: meta.RequestID, status: http.StatusOK}
	var reached []string
	for _, cr := range resp.CallResult {
		if cr.ResultCode != 0 {
			out.FailedCallees = append(out.FailedCallees, string(cr.Callee_Account))
		} else {
			reached = append(reached, string(cr.Callee_Account))
		}
	}
	detail := map[string]string{"startedBy": startedBy, "requestId": meta.RequestID}
	if len(out.FailedCallees) > 0 {
		detail["failedCallees"] = strings.Join(out.FailedCallees, ",")
	}
	if len(reached) == 0 {
		out.status = http.StatusBadGateway
		out.Error = fmt.Sprintf("Tencent started call %s but could ring none of its callees (see CallResult)", out.CallId)
	} else if req.StreamIngest != nil {
		out.StreamIngest = h.pushMedia(ctx, req, out, detail)
	}
	if err := h.recordStart(ctx, req, raw, out.CallId, reached, detail); err != nil {
		h.log.Error("the call started but could not be recorded", "callId", out.CallId, "err", err)
		out.RecordError = "the call started but could not be recorded: " + err.Error()
	}
	h.log.Info("call started", "callId", out.CallId, "startedBy", startedBy, "callees", len(resp.CallResult),
		"failedCallees", len(out.FailedCallees), "status", out.status)
	return out
}

// pushMedia has the robot push the request's stream into the started call;
// when that fails the call is ended rather than left ringing with no media.
func (h *service) pushMedia(ctx context.Context, req *Request, out *Outcome, detail map[string]string) *IngestOutcome {
	res, err := h.ingest.Start(ctx, req.Robot_Account, req.RoomID(), *req.CallInfo.RoomIdType, req.StreamIngest)
	if err == nil {
		detail["ingestTaskId"] = res.TaskId
		return &IngestOutcome{TaskId: res.TaskId, RequestId: res.RequestId}
	}
	h.log.Warn("StartStreamIngest failed; ending the call", "callId", out.CallId, "err", err)
	out.status = upstream.Status(err)
	ended := true
	ing := &IngestOutcome{Error: err.Error(), CallEnded: &ended}
	detail["ingestError"] = err.Error()
	msg := fmt.Sprintf("call %s started, but pushing media into it failed (%v)", out.CallId, err)
	if _, endErr := h.client.EndCall(ctx, out.CallId); endErr != nil && !errors.Is(endErr, rest.ErrCallNotFound) {
		ended = false
		detail["endError"] = endErr.Error()
		out.Error = msg + fmt.Sprintf("; ending the call failed too (%v), so it may still be ringing", endErr)
		return ing
	}
	detail["endedBy"] = "callfn, after the media push failed"
	out.Error = msg + "; the call was ended"
	return ing
}

func (h *service) recordStart(ctx context.Context, req *Request, raw []byte, callID string, reached []string, detail map[string]string) error {
	now := h.now().UnixMilli()
	callType := call.TypeSingle
	if len(req.CalleeList_Account) > 1 {
		callType = call.TypeGroup
	}
	ev := &call.Event{
		Provider: call.CallFn, Command: CommandStart, Event: EventStarted, CallID: callID,
		EventTime: now, ReceivedAt: now, RequestID: platform.RequestID(ctx),
		DeliveryID: call.DeliveryID(call.CallFn, CommandStart, []byte(callID)),
		Facts: call.Facts{Status: call.StatusRinging, MediaType: tencent.Media(req.CallInfo.MediaType), CallType: callType,
			Caller: req.Robot_Account, Callees: reached, RoomID: req.RoomID(), StartTime: now, Detail: detail},
		Raw: string(raw),
	}
	ctx, cancel := store.CallContext(ctx)
	defer cancel()
	_, err := h.store.PutEvent(ctx, ev)
	return err
}

// end serves POST /calls/{callId}/end.
func (h *service) end(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("callId")
	if id == "" || len(id) > 128 || strings.IndexFunc(id, func(c rune) bool { return !unicode.IsPrint(c) || c == ' ' }) >= 0 {
		api.Error(w, http.StatusBadRequest, "the call id must be 1..128 printable characters without spaces")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
	defer cancel()
	meta, err := h.client.EndCall(ctx, id)
	if err != nil {
		status := upstream.Status(err)
		msg := "the call was not ended: " + err.Error()
		if errors.Is(err, rest.ErrCallNotFound) {
			msg = fmt.Sprintf("call %s does not exist or has already ended", id)
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		fields := []any{"CallId", id, "RequestId", meta.RequestID}
		if code := tencentCode(err); code != 0 {
			fields = append(fields, "ErrorCode", code)
		}
		api.Error(w, status, msg, fields...)
		return
	}
	reply := map[string]any{"CallId": id, "Ended": true, "RequestId": meta.RequestID}
	if err := h.recordEnd(ctx, id, "http", meta.RequestID); err != nil {
		h.log.Error("the call ended but the end could not be recorded", "callId", id, "err", err)
		reply["RecordError"] = "the call ended but this could not be recorded: " + err.Error()
	}
	h.log.Info("call ended", "callId", id)
	api.JSON(w, http.StatusOK, reply)
}

// tencentCode is Tencent's numeric error code in err, or 0.
func tencentCode(err error) int {
	var te *rest.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func (h *service) recordEnd(ctx context.Context, callID, endedBy, requestID string) error {
	now := h.now().UnixMilli()
	ev := &call.Event{
		Provider: call.CallFn, Command: CommandEnd, Event: EventEnded, CallID: callID,
		EventTime: now, ReceivedAt: now, RequestID: platform.RequestID(ctx),
		DeliveryID: call.DeliveryID(call.CallFn, CommandEnd, []byte(callID)),
		Facts:      call.Facts{Status: call.StatusEnded, EndTime: now, Detail: map[string]string{"endedBy": endedBy, "requestId": requestID}},
		Raw:        fmt.Sprintf(`{"CallId":%q}`, callID),
	}
	ctx, cancel := store.CallContext(ctx)
	defer cancel()
	_, err := h.store.PutEvent(ctx, ev)
	return err
}
