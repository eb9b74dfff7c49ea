package local_test

import (
	"testing"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/testkit/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store { return local.NewMemory(opts) })
}
