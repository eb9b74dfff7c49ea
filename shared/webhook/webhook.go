// Package webhook is the webhook function: it receives Tencent and Yunxin
// call callbacks, verifies them over the raw bytes before any parse, stores
// each delivery exactly once, and answers in each provider's own protocol —
// acknowledging only once the event is durable, and otherwise answering so
// that the provider retries.
//
// New builds it over the one thing it does with the table,
// store.EventWriter; it sends nothing anywhere, so it links neither
// tencent/rest nor the Tencent Cloud SDK.
package webhook

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/yunxin"
)

// Routes.
const (
	RouteTencent        = "POST /webhook/tencent"
	RouteYunxinCallback = "POST /webhook/yunxin/callback"
	RouteYunxinCopy     = "POST /webhook/yunxin/copy"
)

// MaxBody is the largest callback body accepted; callbacks are a few KiB.
const MaxBody = 1 << 20

// Name is the function's name.
const Name = "webhook"

// Options are what New takes besides the configuration and the table.
type Options struct {
	Now    func() time.Time // the clock (time.Now)
	Logger *slog.Logger     // slog.Default() at the time of each line
}

// service holds the webhook's configuration and table.
type service struct {
	cfg              config.Config
	store            store.EventWriter
	now              func() time.Time
	log              *slog.Logger     // nil: slog.Default()
	tencentCallbacks callback.Options // what a Tencent callback must prove
}

// New builds the webhook function over st, to which it only writes
// events.
func New(cfg config.Config, st store.EventWriter, opts Options) (platform.Function, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &service{cfg: cfg, store: st, now: opts.Now, log: opts.Logger,
		tencentCallbacks: callback.Options{AppID: cfg.TencentAppID, Token: cfg.CallbackToken, Now: opts.Now}}
	return platform.Function{
		Name: Name,
		Routes: []platform.Route{
			{Pattern: RouteTencent, Handler: h.tencent},
			{Pattern: RouteYunxinCallback, Handler: h.yunxin(yunxin.ChannelCallback)},
			{Pattern: RouteYunxinCopy, Handler: h.yunxin(yunxin.ChannelCopy)},
		},
	}, nil
}

// readBody reads at most MaxBody bytes; the status is non-zero on failure.
func readBody(r *http.Request) ([]byte, int, error) {
	body, err := api.ReadBody(r, MaxBody)
	switch {
	case errors.Is(err, api.ErrTooLarge):
		return nil, http.StatusRequestEntityTooLarge, errors.New("body larger than 1 MiB")
	case err != nil:
		return nil, http.StatusBadRequest, errors.New("body could not be read")
	}
	return body, 0, nil
}

func (h *service) tencent(w http.ResponseWriter, r *http.Request) {
	var log reqLog
	h.newLog(&log, r, slog.String("provider", call.Tencent))
	q := r.URL.Query()
	body, status, err := readBody(r)
	var cb callback.Callback
	if err == nil {
		cb, err = callback.Construct(q, body, h.tencentCallbacks)
		status = refusal(err)
	} else {
		cb = callback.Identify(q, body)
	}
	log.add(slog.String("generation", cb.Generation), slog.String("command", cb.Command))
	reply := func(status int, err error) {
		w.Header()["Content-Type"] = jsonType
		w.WriteHeader(status)
		w.Write(callback.Reply(cb.Generation, err))
	}
	if errors.Is(err, callback.ErrWrongApp) {
		// Who is calling: a misconfigured app, or someone probing.
		log.add(slog.String("sdkAppId", cb.AppID))
	}
	if err != nil {
		log.Warn("callback refused", "status", status, "err", err)
		reply(status, err)
		return
	}
	if status, err := h.persist(r, &cb.Event, body, &log); err != nil {
		reply(status, err)
		return
	}
	reply(http.StatusOK, nil)
}

// jsonType is the Content-Type of a JSON reply, as http.Header holds it
// (set without canonicalizing its name again for every reply).
var jsonType = []string{"application/json"}

// refusal is the status a callback Construct refused is answered with: 403
// when it is not for this app, 401 when its Sign fails, 400 when its body
// does not parse.
func refusal(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, callback.ErrWrongApp):
		return http.StatusForbidden
	case errors.Is(err, callback.ErrNotSigned), errors.Is(err, callback.ErrBadSign), errors.Is(err, callback.ErrSignExpired):
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

func (h *service) yunxin(channel string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var log reqLog
		h.newLog(&log, r, slog.String("provider", call.Yunxin), slog.String("channel", channel))
		fail := func(status int, err error) {
			log.Warn("callback refused", "status", status, "err", err)
			api.Error(w, status, err.Error())
		}
		body, status, err := readBody(r)
		if err != nil {
			fail(status, err)
			return
		}
		if h.cfg.YunxinAppKey == "" || h.cfg.YunxinSecret == "" {
			fail(http.StatusForbidden, errors.New("yunxin is not configured (CALLFN_YUNXIN_APPKEY, CALLFN_YUNXIN_APPSECRET)"))
			return
		}
		if err := yunxin.Verify(r.Header, body, h.cfg.YunxinAppKey, h.cfg.YunxinSecret, h.now()); err != nil {
			fail(http.StatusUnauthorized, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if yunxin.IsProbe(body) {
			log.Info("address probe answered")
			w.Write([]byte(`{}`))
			return
		}
		ev, err := yunxin.Parse(channel, body)
		if err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		log.add(slog.String("command", ev.Command))
		if status, err := h.persist(r, &ev, body, &log); err != nil {
			fail(status, err)
			return
		}
		if channel == yunxin.ChannelCallback {
			w.Write(yunxin.AllowReply)
			return
		}
		w.Write([]byte(`{}`))
	}
}

// persist completes ev (delivery id, times, request id) and stores it once,
// within a deadline under the platform's (store.CallContext), so that a
// table that does not answer gets the provider a prompt retry reply. When
// it is not stored, the status and error are the reply (storeFailure).
func (h *service) persist(r *http.Request, ev *call.Event, body []byte, log *reqLog) (int, error) {
	now := h.now().UnixMilli()
	ev.DeliveryID = call.DeliveryID(ev.Provider, ev.Command, body)
	ev.ReceivedAt = now
	ev.RequestID = platform.RequestID(r.Context())
	if ev.EventTime == 0 {
		ev.EventTime = now
	}
	log.add(slog.String("callId", ev.CallID), slog.String("event", ev.Event), slog.String("deliveryId", ev.DeliveryID))
	ctx, cancel := store.CallContext(r.Context())
	defer cancel()
	stored, err := h.store.PutEvent(ctx, ev)
	if err != nil {
		status, reply := storeFailure(err)
		if errors.Is(err, store.ErrUnstorable) {
			log.Error("the table can never hold this callback; refused for good", "status", status, "err", err)
		} else {
			log.Error("store failed; asking the provider to retry", "err", err)
		}
		return status, reply
	}
	if stored {
		log.Info("callback stored")
	} else {
		log.Info("duplicate delivery acknowledged")
	}
	return http.StatusOK, nil
}

// reqLog gathers one request's log attributes and writes them with each
// line, in one call (cheaper than a chain of slog.With on the hot path).
// A request's attributes fit in attrs, so that a reqLog made in the
// handler's frame stays there: no allocation for it.
type reqLog struct {
	r      *http.Request
	logger *slog.Logger
	n      int
	attrs  [10]slog.Attr
	more   []slog.Attr // never, unless a request gathers more than attrs holds
}

// newLog sets l up for r with attrs (and the request id).
func (h *service) newLog(l *reqLog, r *http.Request, attrs ...slog.Attr) {
	l.r, l.logger = r, h.log
	if l.logger == nil {
		l.logger = slog.Default()
	}
	l.add(slog.String("requestId", platform.RequestID(r.Context())))
	l.add(attrs...)
}

func (l *reqLog) add(attrs ...slog.Attr) {
	for _, a := range attrs {
		if l.n < len(l.attrs) {
			l.attrs[l.n] = a
			l.n++
		} else {
			l.more = append(l.more, a)
		}
	}
}

func (l *reqLog) log(level slog.Level, msg string, args ...any) {
	ctx := l.r.Context()
	if !l.logger.Enabled(ctx, level) {
		return
	}
	attrs := l.attrs[:l.n]
	if len(l.more) > 0 {
		attrs = append(attrs[:l.n:l.n], l.more...)
	}
	if len(args) == 0 {
		// The common case (a callback stored): no logger made for one line.
		l.logger.LogAttrs(ctx, level, msg, attrs...)
		return
	}
	l.logger.With(args...).LogAttrs(ctx, level, msg, attrs...)
}

func (l *reqLog) Info(msg string, args ...any)  { l.log(slog.LevelInfo, msg, args...) }
func (l *reqLog) Warn(msg string, args ...any)  { l.log(slog.LevelWarn, msg, args...) }
func (l *reqLog) Error(msg string, args ...any) { l.log(slog.LevelError, msg, args...) }
