// Command startcall is the startcall function: POST /calls starts a robot
// call through Tencent (optionally pushing media into it), POST
// /calls/{callId}/end ends one, and a schedule starts the calls in its
// payload. Built with -tags lambda it runs on AWS Lambda, with -tags scf on
// Tencent SCF, and with neither it serves HTTP on CALLFN_ADDR.
//
// This is its composition root: it builds the Tencent REST client and the
// media ingester once, for the life of the process, and passes them in.
// Without the Tencent app the function answers 503 naming the variables.
package main

import (
	"context"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/run"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent/rest"
)

func main() {
	run.Main(startcall.Name, func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error) {
		tc, err := rest.FromConfig(cfg, rest.Options{}) // config.ErrNotConfigured without the app: 503
		if err != nil {
			return platform.Function{}, err
		}
		ingest, err := rest.IngesterFromConfig(cfg, tc, rest.IngestOptions{}) // nil without Cloud API credentials
		if err != nil {
			return platform.Function{}, err
		}
		return startcall.New(cfg, st, startcall.Options{Client: tc, Ingester: ingest})
	})
}
