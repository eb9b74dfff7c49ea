package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/open"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/shared/webhook"
)

// sandboxPrefix is where `callfn serve` mounts the Tencent sandbox.
const sandboxPrefix = "/sandbox/tencent"

// serve runs every function in one process on CALLFN_ADDR, as the deployed
// functions would answer, plus GET /healthz and a loopback-only events feed
// for `callfn events` (the embedded table is locked while serve runs).
// Without Tencent credentials it also plays Tencent: a local sandbox that
// answers the REST APIs and delivers signed callbacks to the webhook.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	st, err := open.Open(ctx, cfg.Store, store.Options{Retention: cfg.Retention(), ForwardTo: cfg.ForwardURLs})
	if err != nil {
		return err
	}
	defer st.Close()
	st, stopForwarding, err := startForwarding(ctx, cfg, st) // forward.go
	if err != nil {
		return err
	}
	defer stopForwarding() // before st.Close: attempts in flight end, leases go back
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()

	local := platform.Function{Name: "local", Routes: []platform.Route{
		{Pattern: "GET " + eventsRoute, Handler: loopbackOnly(eventsHandler(st))},
	}}
	var startOpts []startcall.Option
	if sandbox.Wanted(cfg) {
		sb := sandbox.ForConfig(cfg, base+"/webhook/tencent")
		defer sb.Close()
		cfg = sb.Config(cfg, base+sandboxPrefix)
		startOpts = append(startOpts, startcall.WithIngestEndpoint(base+sandboxPrefix))
		local.Routes = append(local.Routes, platform.Route{
			Pattern: sandboxPrefix + "/", Handler: http.StripPrefix(sandboxPrefix, sb).ServeHTTP,
		})
		slog.Info("no Tencent credentials: the local sandbox plays Tencent", "sdkAppId", cfg.TencentAppID, "endpoint", cfg.TencentEndpoint)
	}
	start, err := startcall.New(cfg, st, startOpts...)
	if err != nil {
		return err
	}
	recs, err := records.New(cfg, st, records.Options{})
	if err != nil {
		return err
	}
	fns := []platform.Function{webhook.New(cfg, st, nil), start, recs}
	local.Routes = append(local.Routes, platform.Route{
		Pattern: "POST " + scheduleRoute, Handler: loopbackOnly(scheduleHandler(fns)),
	})
	local.Routes = append(local.Routes, forwardRoutes(cfg, st)...) // forward.go
	h := platform.Handler(append(fns, local)...)
	fmt.Fprintf(os.Stderr, "callfn: serving on %s (store %s)\n", base, cfg.Store)
	return platform.ServeListener(ctx, ln, h)
}

// scheduleRoute fires a function's schedule by hand: locally nothing else
// does. The body is the schedule's payload; ?name= and ?time= (RFC 3339)
// name the firing (default "local", now). Firing twice with the same name
// and time is the same firing, as on AWS and SCF.
const scheduleRoute = "/_callfn/schedule/{function}"

// scheduleTimeout is the deadline a local firing runs under, as a deployed
// function's would (the records archive stops before it).
const scheduleTimeout = 5 * time.Minute

func scheduleHandler(fns []platform.Function) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("function")
		i := slices.IndexFunc(fns, func(f platform.Function) bool { return f.Name == name })
		if i < 0 || fns[i].Schedule == nil {
			api.Error(w, http.StatusNotFound, fmt.Sprintf("no function %q with a schedule", name))
			return
		}
		t := platform.Tick{Name: r.URL.Query().Get("name"), Time: time.Now().UTC()}
		if t.Name == "" {
			t.Name = "local"
		}
		if v := r.URL.Query().Get("time"); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				api.Error(w, http.StatusBadRequest, "time: want RFC 3339, e.g. 2026-01-02T09:00:00Z")
				return
			}
			t.Time = at
		}
		payload, err := api.ReadBody(r, 1<<20)
		if err != nil {
			api.Error(w, http.StatusBadRequest, "could not read the payload: "+err.Error())
			return
		}
		if len(bytes.TrimSpace(payload)) > 0 {
			if !json.Valid(payload) {
				api.Error(w, http.StatusBadRequest, "the payload is not JSON")
				return
			}
			t.Payload = payload
		}
		ctx, cancel := context.WithTimeout(r.Context(), scheduleTimeout)
		defer cancel()
		out, err := platform.RunSchedule(ctx, fns[i], t)
		if err != nil {
			api.Error(w, http.StatusInternalServerError, err.Error())
			return
		}
		api.JSON(w, http.StatusOK, out)
	}
}

// loopbackOnly refuses requests that do not come from this machine.
func loopbackOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "loopback only", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}
