package bolt_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/testkit/storetest"
)

func TestBolt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "callfn.db"), opts)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func TestLockedByAnotherOpener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callfn.db")
	st, err := bolt.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = bolt.OpenWait(path, store.Options{}, 100*time.Millisecond)
	if !errors.Is(err, bolt.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("a second opener: %v, want ErrLocked naming %s", err, path)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("waited %v for the lock, want about 100ms", waited)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := bolt.OpenWait(path, store.Options{}, time.Second)
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	again.Close()
}
