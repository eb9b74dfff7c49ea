//go:build lambda || scf

package open

import (
	"fmt"

	"github.com/callfn/callfn/shared/store"
)

// openBolt refuses: the embedded table is not built into cloud binaries.
func openBolt(spec, _ string, _ store.Options) (store.Store, error) {
	return nil, fmt.Errorf("store: %q: the embedded table (bolt:) is not built into cloud functions; use dynamodb:TABLE", spec)
}
