// Package run is every function's main: it reads the configuration, sets up
// JSON logging, opens the table, builds the function and hands it to the
// platform chosen at build time (start_lambda.go with -tags lambda,
// start_scf.go with -tags scf, start_local.go otherwise).
package run

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/open"
)

// Build makes a function from its configuration and table.
type Build func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error)

// Main runs the function that build makes, and never returns.
func Main(build Build) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	ctx := context.Background()
	fn, cfg, err := Setup(ctx, os.Getenv, build)
	if err != nil {
		slog.Error("start-up failed", "err", err)
		os.Exit(1)
	}
	slog.Info("starting", "function", fn.Name, "platform", platformName, "config", cfg)
	if err := start(ctx, cfg, fn); err != nil {
		slog.Error("stopped", "function", fn.Name, "err", err)
		os.Exit(1)
	}
}

// Setup is Main's start-up, separated for tests and for cmd/callfn.
func Setup(ctx context.Context, getenv func(string) string, build Build) (platform.Function, config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return platform.Function{}, cfg, err
	}
	st, err := open.Open(ctx, cfg.Store, store.Options{Retention: cfg.Retention(), ForwardTo: cfg.ForwardURLs})
	if err != nil {
		return platform.Function{}, cfg, err
	}
	fn, err := build(ctx, cfg, st)
	if err != nil {
		st.Close()
		return platform.Function{}, cfg, fmt.Errorf("%s: %w", fn.Name, err)
	}
	return fn, cfg, nil
}
