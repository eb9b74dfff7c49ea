// Command forward is the forward function: it delivers every stored call
// event to the endpoints of CALLFN_FORWARD_URL, signed as Standard Webhooks
// messages, at least once. Built with -tags lambda it runs on AWS Lambda,
// fired by the table's DynamoDB stream and a schedule; with -tags scf on
// Tencent SCF, fired by a timer; with neither it serves only GET /healthz
// on CALLFN_ADDR (locally, `callfn serve` forwards in process).
//
// This is its composition root: the forwarder builds its own HTTP client
// for the customer's endpoints (forward.NewClient), which it shares with
// no other function.
package main

import (
	"context"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forwarder"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/run"
	"github.com/callfn/callfn/shared/store"
)

func main() {
	run.Main(forwarder.Name, func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error) {
		return forwarder.New(cfg, st, forwarder.Options{})
	})
}
