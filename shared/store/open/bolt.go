//go:build !lambda && !scf

package open

import (
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
)

// openBolt opens the embedded table at path.
func openBolt(_, path string, opts store.Options) (store.Store, error) {
	return bolt.Open(path, opts)
}
