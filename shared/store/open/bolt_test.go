//go:build !lambda && !scf

package open_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/open"
	"github.com/callfn/callfn/testkit/storetest"
)

// TestBoltSpec is the local build's: bolt:PATH opens the embedded file.
func TestBoltSpec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callfn.db")
	st, err := open.Open(ctx, "bolt:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, st, storetest.Event("c1", "start", storetest.T0, call.Facts{}))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
