// Package open opens callfn's table from a CALLFN_STORE spec: "memory:",
// "bolt:PATH" or "dynamodb:TABLE". The embedded table (bolt:) is built only
// into local binaries: with -tags lambda or scf it is left out, so a cloud
// function does not link bbolt, and a bolt: spec is refused there.
package open

import (
	"context"
	"fmt"
	"strings"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/shared/store/local"
)

// Open opens the store named by spec: "memory:", "bolt:PATH" or
// "dynamodb:TABLE" (the AWS SDK finds the endpoint, region and credentials
// in its usual places, AWS_ENDPOINT_URL_DYNAMODB included).
func Open(ctx context.Context, spec string, opts store.Options) (store.Store, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "memory":
		return local.NewMemory(opts), nil
	case "bolt":
		if arg == "" {
			return nil, fmt.Errorf("store: %q: bolt needs a file path, as bolt:PATH", spec)
		}
		return openBolt(spec, arg, opts)
	case "dynamodb":
		if arg == "" {
			return nil, fmt.Errorf("store: %q: dynamodb needs a table name, as dynamodb:TABLE", spec)
		}
		return dynamo.Open(ctx, arg, opts)
	}
	return nil, fmt.Errorf("store: unknown store %q: want memory:, bolt:PATH or dynamodb:TABLE", spec)
}
