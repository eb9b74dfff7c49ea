// Command records is the records function: GET /records/{callId} and
// GET /records answered from Tencent's records APIs and the table, and, on
// a schedule, the archive of Tencent's records into the table. Built with
// -tags lambda it runs on AWS Lambda, with -tags scf on Tencent SCF, and
// with neither it serves HTTP on CALLFN_ADDR.
//
// This is its composition root: it builds the Tencent REST client once, for
// the life of the process, and passes it in. Without the Tencent app there
// is no client, and the table answers alone.
package main

import (
	"context"
	"errors"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/run"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/tencent/rest"
)

func main() {
	run.Main(records.Name, func(ctx context.Context, cfg config.Config, st store.Store) (platform.Function, error) {
		tc, err := rest.FromConfig(cfg, rest.Options{})
		if err != nil && !errors.Is(err, config.ErrNotConfigured) {
			return platform.Function{}, err
		}
		return records.New(cfg, st, records.Options{Client: tc})
	})
}
