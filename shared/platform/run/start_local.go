//go:build !lambda && !scf

package run

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
)

const platformName = "local"

// start serves the function over plain HTTP on CALLFN_ADDR until SIGINT or
// SIGTERM.
func start(ctx context.Context, cfg config.Config, fn platform.Function) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return platform.Serve(ctx, cfg.Addr, platform.Handler(fn), nil)
}
