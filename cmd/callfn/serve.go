package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/open"
	"github.com/callfn/callfn/shared/tencent/rest"
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
	fs := newFlags("serve")
	if err := parseFlags(fs, args); err != nil {
		if _, flagName, ok := strings.Cut(err.Error(), "flag provided but not defined: "); ok {
			// serve --port 9000, --addr, --listen...: the address is a setting.
			return fmt.Errorf("no flag %s: serve takes no flags; it listens on CALLFN_ADDR (now %s), e.g. CALLFN_ADDR=127.0.0.1:9000 callfn serve",
				strings.Fields(flagName)[0], cmp.Or(os.Getenv("CALLFN_ADDR"), "127.0.0.1:8080"))
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments (%q); its settings come from the environment (callfn help serve)", fs.Args())
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
	if table, ok := strings.CutPrefix(cfg.Store, "dynamodb:"); ok {
		// Opening a DynamoDB table asks nothing: ask now, so that /healthz
		// says ok only over a table that is there.
		if err := checkDynamoTable(ctx, table); err != nil {
			return err
		}
	}
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
	// The sandbox answers and calls back loopback only: on a server
	// listening on every address, it is reached on 127.0.0.1.
	loopBase := base
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		loopBase = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}

	local := platform.Function{Name: "local", Routes: []platform.Route{
		{Pattern: "GET " + eventsRoute, Handler: loopbackOnly(eventsHandler(st))},
	}}
	var ingestOpts rest.IngestOptions
	var sb *sandbox.Sandbox
	if sandbox.Wanted(cfg) {
		sb = sandbox.ForConfig(cfg, loopBase+"/webhook/tencent")
		defer sb.Close()
		cfg = sb.Config(cfg, loopBase+sandboxPrefix)
		ingestOpts.Endpoint = loopBase + sandboxPrefix // the sandbox also answers the Cloud API
		local.Routes = append(local.Routes, platform.Route{
			Pattern: sandboxPrefix + "/", Handler: http.StripPrefix(sandboxPrefix, sb).ServeHTTP,
		})
		slog.Info("no Tencent credentials: the local sandbox plays Tencent", "sdkAppId", cfg.TencentAppID, "endpoint", cfg.TencentEndpoint)
		// The sandbox's app and UserSig key are no secret (sandbox.DefaultKey):
		// printed so that other tools can sign requests to it.
		fmt.Fprintf(os.Stderr, "callfn: no Tencent credentials, so a local sandbox plays Tencent at %s\n"+
			"callfn: its app, for callfn archive and other tools that ask Tencent:\n"+
			"  export CALLFN_TENCENT_SDKAPPID=%d CALLFN_TENCENT_SECRET_KEY=%s CALLFN_TENCENT_ENDPOINT=%s\n",
			cfg.TencentEndpoint, cfg.TencentAppID, cfg.TencentKey, cfg.TencentEndpoint)
	}
	fns, err := functions(cfg, st, ingestOpts)
	if err != nil {
		return err
	}
	local.Routes = append(local.Routes, platform.Route{
		Pattern: "POST " + scheduleRoute, Handler: loopbackOnly(scheduleHandler(fns)),
	})
	local.Routes = append(local.Routes, forwardRoutes(cfg, st)...) // forward.go
	h := platform.Handler(append(fns, local)...)
	fmt.Fprintf(os.Stderr, "callfn: serving on %s (store %s)\n", base, cfg.Store)

	// On SIGINT or SIGTERM: first end the sandbox's calls in flight, while
	// the webhook still takes their last callbacks (else the table would
	// hold them in progress for ever), then stop serving.
	srvCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	go func() {
		select {
		case <-ctx.Done():
		case <-srvCtx.Done():
			return
		}
		fmt.Fprintln(os.Stderr, "callfn: stopping")
		if sb != nil {
			wctx, cancel := context.WithTimeout(context.Background(), stopGrace)
			n, err := sb.EndCalls(wctx)
			cancel()
			switch {
			case err != nil:
				fmt.Fprintf(os.Stderr, "callfn: the sandbox ended %d calls in progress; their last callbacks did not all go out in %s\n", n, stopGrace)
			case n > 0:
				fmt.Fprintf(os.Stderr, "callfn: the sandbox ended %d calls in progress\n", n)
			}
		}
		stopServing()
	}()
	err = platform.ServeListener(srvCtx, ln, h)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "callfn: stopped")
	return nil
}

// functions builds the functions serve answers HTTP for over st, as each
// one's composition root (functions/<fn>/main.go) does, but with ONE
// Tencent client that startcall and records share. (The forward function's
// work runs in process: forward.go.)
func functions(cfg config.Config, st store.Store, ingestOpts rest.IngestOptions) ([]platform.Function, error) {
	tc, err := rest.FromConfig(cfg, rest.Options{})
	if err != nil {
		return nil, err
	}
	ingest, err := rest.IngesterFromConfig(cfg, tc, ingestOpts)
	if err != nil {
		return nil, err
	}
	hook, err := webhook.New(cfg, st, webhook.Options{})
	if err != nil {
		return nil, err
	}
	start, err := startcall.New(cfg, st, startcall.Options{Client: tc, Ingester: ingest})
	if err != nil {
		return nil, err
	}
	recs, err := records.New(cfg, st, records.Options{Client: tc})
	if err != nil {
		return nil, err
	}
	return []platform.Function{hook, start, recs}, nil
}

// stopGrace bounds how long a stopping serve waits for the sandbox's last
// callbacks.
const stopGrace = 10 * time.Second

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

// loopbackOnly guards the local-only routes: platform.LocalOnly refuses
// what does not come from this machine's own tools (another machine, a
// Host that is not loopback, a foreign Origin, a body that is not JSON).
func loopbackOnly(h http.HandlerFunc) http.HandlerFunc {
	return platform.LocalOnly(h).ServeHTTP
}
