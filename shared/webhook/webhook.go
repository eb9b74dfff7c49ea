// Package webhook is the webhook function: it receives Tencent and Yunxin
// call callbacks, verifies them over the raw bytes, stores each delivery
// exactly once, and answers in each provider's own protocol.
package webhook

import (
	"net/http"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
)

// Routes.
const (
	RouteTencent        = "POST /webhook/tencent"
	RouteYunxinCallback = "POST /webhook/yunxin/callback"
	RouteYunxinCopy     = "POST /webhook/yunxin/copy"
)

// Handler holds the webhook's configuration and table.
type Handler struct {
	cfg   config.Config
	store store.Store
	now   func() time.Time
}

// New builds the webhook function over st. now is the clock (time.Now when nil).
func New(cfg config.Config, st store.Store, now func() time.Time) platform.Function {
	if now == nil {
		now = time.Now
	}
	h := &Handler{cfg: cfg, store: st, now: now}
	return platform.Function{
		Name: "webhook",
		Routes: []platform.Route{
			{Pattern: RouteTencent, Handler: h.tencent},
			{Pattern: RouteYunxinCallback, Handler: h.yunxinCallback},
			{Pattern: RouteYunxinCopy, Handler: h.yunxinCopy},
		},
	}
}

func (h *Handler) tencent(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not yet", http.StatusNotImplemented)
}

func (h *Handler) yunxinCallback(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not yet", http.StatusNotImplemented)
}

func (h *Handler) yunxinCopy(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not yet", http.StatusNotImplemented)
}
