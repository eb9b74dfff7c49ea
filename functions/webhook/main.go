// Command webhook is the webhook function: Tencent and Yunxin call callbacks
// in, one stored event per delivery out. Built with -tags lambda it runs on
// AWS Lambda, with -tags scf on Tencent SCF, and with neither it serves HTTP
// on CALLFN_ADDR.
//
// This is its composition root: it needs no client of its own, only the
// table (opened by shared/platform/run) to write events to.
package main

import (
	"context"
	"log/slog"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/run"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/webhook"
)

func main() {
	run.Main(webhook.Name, func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error) {
		if cfg.CallbackToken == "" {
			slog.Warn("CALLFN_TENCENT_CALLBACK_TOKEN is not set: Tencent callbacks are taken on their SDKAppID alone, " +
				"which ships inside the client app, so anyone can store forged call events; " +
				"set a callback token in Tencent's console and the same value here")
		}
		return webhook.New(cfg, st, webhook.Options{})
	})
}
