// Command webhook is the webhook function: Tencent and Yunxin call callbacks
// in, one stored event per delivery out. Built with -tags lambda it runs on
// AWS Lambda, with -tags scf on Tencent SCF, and with neither it serves HTTP
// on CALLFN_ADDR.
package main

import (
	"context"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/run"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/webhook"
)

func main() {
	run.Main(func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error) {
		return webhook.New(cfg, st, nil), nil
	})
}
