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
// 127.0.0.1:$_LAMBDA_SERVER_PORT — scf-go-lib's cloudfunction.Start protocol,
// on loopback rather than the lib's 0.0.0.0 (see shared/platform/scf/rpc.go).
func start(ctx context.Context, _ config.Config, fn platform.Function) error {
	return scf.Start(ctx, fn)
}
