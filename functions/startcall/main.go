// Command startcall is the startcall function: POST /calls starts a robot
// call through Tencent (optionally pushing media into it), POST
// /calls/{callId}/end ends one, and a schedule starts the calls in its
// payload. Built with -tags lambda it runs on AWS Lambda, with -tags scf on
// Tencent SCF, and with neither it serves HTTP on CALLFN_ADDR.
package main

import (
	"context"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/run"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
)

func main() {
	run.Main(func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error) {
		return startcall.New(cfg, st)
	})
}
