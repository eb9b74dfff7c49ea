//go:build linux

package bolt_test

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/testkit/storetest"
)

// TestFullDisk: the embedded file cannot grow, as on a full disk (the
// process's file-size limit, RLIMIT_FSIZE, stands in for it: a write past
// it fails, with EFBIG rather than ENOSPC, and no root or mount is needed).
// PutEvent then fails with an error the webhook answers with a retry reply
// (not ErrTooLarge or ErrUnstorable, which would tell the provider to give
// up), reads go on, and once the file may grow again the same open table
// stores again, with no restart; after it is closed and opened again, every
// event it acknowledged is there.
//
// The limit is the whole process's: this test is not parallel, and the
// package's parallel subtests (storetest.Run's) end before it starts.
func TestFullDisk(t *testing.T) {
	ctx := context.Background()
	signal.Ignore(syscall.SIGXFSZ) // fail the write, do not stop the process
	t.Cleanup(func() { signal.Reset(syscall.SIGXFSZ) })
	var unlimited unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &unlimited); err != nil {
		t.Fatal(err)
	}
	lift := func() {
		if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unlimited); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(lift)

	path := filepath.Join(t.TempDir(), "callfn.db")
	st, err := bolt.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := storetest.HistoryEvents(20000, storetest.T0, 1000)
	var acked []*call.Event
	put := func(ev *call.Event) error {
		stored, err := st.PutEvent(ctx, ev)
		if err == nil && stored {
			acked = append(acked, ev)
		}
		return err
	}
	next := 0
	for ; next < 100; next++ {
		if err := put(evs[next]); err != nil {
			t.Fatal(err)
		}
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	full := unix.Rlimit{Cur: uint64(fi.Size()), Max: unlimited.Max}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &full); err != nil {
		t.Fatal(err)
	}
	var refused []*call.Event
	for ; next < len(evs) && len(refused) < 20; next++ {
		err := put(evs[next])
		if err == nil {
			continue
		}
		refused = append(refused, evs[next])
		if errors.Is(err, store.ErrTooLarge) || errors.Is(err, store.ErrUnstorable) {
			t.Fatalf("a full disk: %v, which the webhook answers as final; want a transient error", err)
		}
	}
	if len(refused) == 0 {
		t.Fatalf("%d events stored in a file of %d bytes without growing it: the test did not fill the disk", next, fi.Size())
	}
	t.Logf("file held at %d bytes: %d events acknowledged, %d refused", fi.Size(), len(acked), len(refused))
	if sum, _, err := st.GetCall(ctx, acked[0].CallID); err != nil || sum.EventCount == 0 {
		t.Fatalf("a read while the disk is full: %v, %+v", err, sum)
	}

	// The provider sends the refused callbacks again (a refused write was
	// rolled back: each is new to the table), and new ones come.
	lift()
	before := len(acked)
	for _, ev := range append(refused, evs[next:next+100]...) {
		if err := put(ev); err != nil {
			t.Fatalf("after space came back, without a restart: %v", err)
		}
	}
	if got, want := len(acked)-before, len(refused)+100; got != want {
		t.Fatalf("after space came back: %d stored, want %d (the refused ones and 100 new)", got, want)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = bolt.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, ev := range acked {
		_, got, err := st.GetCall(ctx, ev.CallID)
		if err != nil {
			t.Fatalf("acknowledged %s/%s: %v", ev.CallID, ev.DeliveryID, err)
		}
		found := false
		for _, g := range got {
			found = found || g.DeliveryID == ev.DeliveryID
		}
		if !found {
			t.Fatalf("acknowledged %s/%s, not in the file after reopening", ev.CallID, ev.DeliveryID)
		}
	}
}
