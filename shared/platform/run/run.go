// Package run is every function's main: it reads the configuration, sets up
// JSON logging, opens the table, builds the function and hands it to the
// platform chosen at build time (start_lambda.go with -tags lambda,
// start_scf.go with -tags scf, start_local.go otherwise).
//
// The function itself is built by its composition root, the Build that
// functions/<fn>/main.go passes to Main: it builds the clients the function
// needs once per process (the Tencent REST client, for one) and calls the
// function package's New(cfg, table role, Options). The table is opened by
// store/open, which links bbolt only in builds without the lambda and scf
// tags.
package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/open"
)

// Build makes a function from its configuration and table: a function's
// composition root, which builds the clients the function needs once and
// passes them to its New.
type Build func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error)

// Main runs the function named name that build makes, and never returns.
//
// A function whose settings are missing or wrong (an error matching
// config.ErrNotConfigured, from config.Load or from build) still starts:
// it says so once in the log, and answers every request 503 and every
// schedule firing with an error, each naming the variables to set
// (platform.Unavailable), rather than exiting and leaving its runtime to
// restart it on every invocation.
func Main(name string, build Build) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	ctx := context.Background()
	fn, cfg, err := Setup(ctx, name, os.Getenv, build)
	switch {
	case errors.Is(err, config.ErrNotConfigured):
		slog.Error("not configured: answering every request 503 until the settings are fixed",
			"function", fn.Name, "platform", platformName, "err", err.Error())
		fn = platform.Unavailable(fn.Name, err)
	case err != nil:
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	default:
		slog.Info("starting", "function", fn.Name, "platform", platformName, "config", cfg)
	}
	if err := start(ctx, cfg, fn); err != nil {
		slog.Error("stopped", "function", fn.Name, "err", err)
		os.Exit(1)
	}
}

// Setup is Main's start-up, separated for tests and for cmd/callfn.
func Setup(ctx context.Context, name string, getenv func(string) string, build Build) (platform.Function, config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return platform.Function{Name: name}, cfg, err
	}
	st, err := open.Open(ctx, cfg.Store, store.Options{Retention: cfg.Retention(), ForwardTo: cfg.ForwardURLs})
	if err != nil {
		return platform.Function{Name: name}, cfg, err
	}
	fn, err := build(ctx, cfg, st)
	if err != nil {
		st.Close()
		return platform.Function{Name: name}, cfg, fmt.Errorf("%s: %w", name, err)
	}
	return fn, cfg, nil
}
