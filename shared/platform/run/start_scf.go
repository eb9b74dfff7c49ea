//go:build scf

package run

import (
	"context"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/scf"
)

const platformName = "scf"

// start serves the function to SCF's runtime over net/rpc on
// $_LAMBDA_SERVER_PORT at scf-go-lib's own listen address —
// cloudfunction.Start's protocol (see shared/platform/scf/rpc.go).
func start(ctx context.Context, _ config.Config, fn platform.Function) error {
	return scf.Start(ctx, fn)
}
