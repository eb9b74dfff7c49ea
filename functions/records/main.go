// Command records is the records function: GET /records/{callId} and
// GET /records answered from Tencent's records APIs and the table, and, on
// a schedule, the archive of Tencent's records into the table. Built with
// -tags lambda it runs on AWS Lambda, with -tags scf on Tencent SCF, and
// with neither it serves HTTP on CALLFN_ADDR.
package main

import (
	"context"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/run"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
)

func main() {
	run.Main(func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error) {
		return records.New(cfg, st, records.Options{})
	})
}
