package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/webhook"
)

// serve runs every function in one process on CALLFN_ADDR, as the deployed
// functions would answer, plus GET /healthz and a loopback-only events feed
// for `callfn events` (the embedded table is locked while serve runs).
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
	fns, err := functions(ctx, cfg, st)
	if err != nil {
		return err
	}
	local := platform.Function{Name: "local", Routes: []platform.Route{
		{Pattern: "GET " + eventsRoute, Handler: loopbackOnly(eventsHandler(st))},
	}}
	h := platform.Handler(append(fns, local)...)
	return platform.Serve(ctx, cfg.Addr, h, func(a net.Addr) {
		fmt.Fprintf(os.Stderr, "callfn: serving on http://%s (store %s)\n", a, cfg.Store)
	})
}

// functions builds every function over one table.
func functions(ctx context.Context, cfg config.Config, st store.Store) ([]platform.Function, error) {
	return []platform.Function{webhook.New(cfg, st, nil)}, nil
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
