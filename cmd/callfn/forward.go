package main

// `callfn serve`'s forwarding: what the forward function does on AWS and
// SCF, done in process. A forward.Loop drains every endpoint at once after
// each event is stored (so a reachable endpoint has it within a moment of
// the callback's acknowledgment, which never waits for it), and every
// second for the retries; on stop it lets attempts in flight finish for a
// few seconds, then cuts them short and gives their leases back. Also the
// loopback routes `callfn deliveries` and `callfn replay` use while serve
// holds the embedded table.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
)

// Loopback routes of `callfn serve` for the forwarding commands.
const (
	deliveriesRoute = "/_callfn/deliveries"
	replayRoute     = "/_callfn/replay"
)

// leaseReleaser is a table one process holds alone (the embedded file):
// leases found at start-up belong to a process that is gone.
type leaseReleaser interface {
	ReleaseLeases(ctx context.Context) (int, error)
}

// startForwarding starts delivering what st owes, in process, when the
// configuration names endpoints. It returns the table the functions should
// use, which wakes the loop whenever an event is stored or a delivery
// replayed, and stop, which returns once the loop has stopped: call it
// before closing st.
func startForwarding(ctx context.Context, cfg config.Config, st store.Store) (store.Store, func(), error) {
	if !cfg.Forwarding() {
		return st, func() {}, nil
	}
	d, err := forward.New(cfg, st, st, forward.Options{})
	if err != nil {
		return nil, nil, err
	}
	if lr, ok := st.(leaseReleaser); ok && !strings.HasPrefix(cfg.Store, "dynamodb:") {
		n, err := lr.ReleaseLeases(ctx)
		if err != nil {
			return nil, nil, err
		}
		if n > 0 {
			slog.Info("forward: deliveries leased by a process that is gone are due again", "deliveries", n)
		}
	}
	loop := forward.NewLoop(d, 0, 0)
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop.Run(lctx)
	}()
	var origins []string
	for _, ep := range d.Endpoints() {
		origins = append(origins, forward.Display(ep))
	}
	fmt.Fprintf(os.Stderr, "callfn: forwarding every stored event to %s\n", strings.Join(origins, ", "))
	stop := func() {
		cancel()
		<-done
	}
	return wakingStore{Store: st, wake: loop.Wake}, stop, nil
}

// wakingStore wakes the forwarding loop after each event stored (its
// deliveries are owed in the same write) and each delivery replayed.
type wakingStore struct {
	store.Store
	wake func()
}

func (w wakingStore) PutEvent(ctx context.Context, ev *call.Event) (bool, error) {
	stored, err := w.Store.PutEvent(ctx, ev)
	if stored {
		w.wake()
	}
	return stored, err
}

func (w wakingStore) Record(ctx context.Context, d forward.Delivery) error {
	err := w.Store.Record(ctx, d)
	if err == nil && d.State == forward.Pending {
		w.wake()
	}
	return err
}

// forwardRoutes are the loopback routes of the forwarding commands.
func forwardRoutes(cfg config.Config, st store.Store) []platform.Route {
	return []platform.Route{
		{Pattern: "GET " + deliveriesRoute, Handler: loopbackOnly(deliveriesHandler(st))},
		{Pattern: "POST " + replayRoute, Handler: loopbackOnly(replayHandler(cfg, st))},
	}
}

// deliveriesHandler lists deliveries as JSON lines (?call=ID, ?failed=1).
func deliveriesHandler(st store.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		q := r.URL.Query()
		if err := writeDeliveries(r.Context(), st, q.Get("call"), q.Get("failed") == "1", jsonLines(w)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

// replayHandler replays as `callfn replay` asks (a records.ReplayRequest),
// answering JSON lines: progress as it goes ({"progress": ...}), then
// {"report": ...} or {"error": ...}.
func replayHandler(cfg config.Config, st store.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := api.ReadBody(r, 1<<14)
		var req records.ReplayRequest
		if err == nil {
			err = api.Decode(body, &req)
		}
		if err != nil {
			api.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		svc, err := records.NewService(cfg, st, records.Options{})
		if err != nil {
			api.Error(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		flush := func() {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		rep, err := svc.Replay(r.Context(), req, func(p records.ReplayProgress) {
			enc.Encode(map[string]any{"progress": p})
			flush()
		})
		if err != nil {
			enc.Encode(map[string]any{"error": err.Error(), "report": rep})
			return
		}
		enc.Encode(map[string]any{"report": rep})
	}
}
