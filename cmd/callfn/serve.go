package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
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
	st, err := store.Open(ctx, cfg.Store, store.Options{Retention: cfg.Retention()})
	if err != nil {
		return err
	}
	defer st.Close()
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
	h := platform.Handler(webhook.New(cfg, st, nil), start, recs, local)
	fmt.Fprintf(os.Stderr, "callfn: serving on %s (store %s)\n", base, cfg.Store)
	return platform.ServeListener(ctx, ln, h)
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
