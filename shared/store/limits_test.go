package store_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
)

func TestErrTooLargeIsUnstorable(t *testing.T) {
	if !errors.Is(store.ErrTooLarge, store.ErrUnstorable) {
		t.Error("ErrTooLarge is not ErrUnstorable")
	}
	if errors.Is(context.DeadlineExceeded, store.ErrUnstorable) || errors.Is(store.ErrUnstorable, store.ErrTooLarge) {
		t.Error("classification too wide")
	}
}

func TestKeyID(t *testing.T) {
	short := strings.Repeat("a", store.MaxKeyBytes)
	if store.KeyID(short) != short || store.KeyID("") != "" || store.KeyID("a\x00x") != "a\x00x" {
		t.Error("an id that fits a key is changed")
	}
	long := short + "b"
	k := store.KeyID(long)
	if len(k) > 100 || !strings.HasPrefix(k, "#sha256:") || k != store.KeyID(strings.Clone(long)) {
		t.Errorf("KeyID of %d bytes = %q", len(long), k)
	}
	if store.KeyID(short+"c") == k {
		t.Error("two long ids share a key")
	}
	s := call.Summary{CallID: long, StartTime: 1000}
	if lk := store.ListKey(&s); lk != "0000000001000#"+k {
		t.Errorf("ListKey of a long id = %q", lk)
	}
}

func TestPackRaw(t *testing.T) {
	for _, raw := range []string{"", `{"a":1}`, strings.Repeat(`{"CallId":"x"},`, 70000), "\x00\xff not utf-8"} {
		got, err := store.UnpackRaw(store.PackRaw(raw))
		if err != nil || got != raw {
			t.Errorf("round trip of %d bytes: %d bytes, %v", len(raw), len(got), err)
		}
	}
	if _, err := store.UnpackRaw([]byte("not gzip")); err == nil {
		t.Error("garbage unpacked")
	}
}

func TestCheckEvent(t *testing.T) {
	ev := func(raw string) *call.Event {
		return &call.Event{Provider: call.Tencent, CallID: "c", DeliveryID: "d", Raw: raw}
	}
	// A small body is not compressed.
	if packed, err := store.CheckEvent(ev(`{"a":1}`)); err != nil || packed != nil {
		t.Errorf("small: %v %v", packed, err)
	}
	// 1 MiB of JSON compresses to fit.
	big := `[` + strings.Repeat(`{"User_Account":"144115212830834855","Status":"Waiting"},`, 1<<20/56) + `{}]`
	packed, err := store.CheckEvent(ev(big))
	if err != nil || packed == nil || len(packed) >= store.MaxEventBytes {
		t.Fatalf("1 MiB of JSON: %d bytes packed, %v", len(packed), err)
	}
	// 1 MiB that does not compress does not fit, anywhere.
	noise := make([]byte, 500<<10)
	rand.Read(noise)
	if _, err := store.CheckEvent(ev(base64.StdEncoding.EncodeToString(noise))); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("667 KB of base64 noise: %v, want ErrTooLarge", err)
	}
	// Facts count too: they are not compressed.
	e := ev(`{}`)
	e.Facts.Detail = map[string]string{"x": strings.Repeat("y", store.MaxEventBytes)}
	if _, err := store.CheckEvent(e); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("huge facts: %v", err)
	}
	// Too many users.
	e = ev(`{}`)
	for i := range store.MaxUsers {
		e.Facts.Callees = append(e.Facts.Callees, fmt.Sprint("u", i))
	}
	if _, err := store.CheckEvent(e); err != nil {
		t.Errorf("MaxUsers-1 callees and no caller: %v", err)
	}
	e.Facts.Caller = "caller"
	if _, err := store.CheckEvent(e); !errors.Is(err, store.ErrUnstorable) || errors.Is(err, store.ErrTooLarge) {
		t.Errorf("MaxUsers+1 users: %v, want ErrUnstorable", err)
	}
}

func TestCheckSummary(t *testing.T) {
	s := call.Summary{CallID: "c"}
	if err := store.CheckSummary(&s); err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		s.Apply(&call.Event{CallID: "c", DeliveryID: fmt.Sprint(i), EventTime: int64(i),
			Facts: call.Facts{Callees: []string{fmt.Sprintf("%01000d", i)}}})
	}
	if err := store.CheckSummary(&s); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("400 callees of 1000 bytes: %v", err)
	}
}

func TestCallContext(t *testing.T) {
	// No deadline: the default bound.
	ctx, cancel := store.CallContext(context.Background())
	defer cancel()
	d, ok := ctx.Deadline()
	if left := time.Until(d); !ok || left > store.DefaultCallTimeout || left < store.DefaultCallTimeout-time.Second {
		t.Errorf("no platform deadline: %v left, want about %v", left, store.DefaultCallTimeout)
	}
	// A platform deadline sooner than the default: the margin before it.
	parent, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer pcancel()
	ctx, cancel = store.CallContext(parent)
	defer cancel()
	pd, _ := parent.Deadline()
	d, _ = ctx.Deadline()
	if got := pd.Sub(d); got != store.CallMargin {
		t.Errorf("5 s left: cut %v before the platform, want %v", got, store.CallMargin)
	}
	// Little time left: a quarter of it is kept.
	parent2, pcancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer pcancel2()
	ctx, cancel = store.CallContext(parent2)
	defer cancel()
	pd, _ = parent2.Deadline()
	d, _ = ctx.Deadline()
	if got := pd.Sub(d); got < 400*time.Millisecond || got > 500*time.Millisecond {
		t.Errorf("2 s left: cut %v before the platform, want about 500ms", got)
	}
	// A platform deadline later than the default: the default.
	parent3, pcancel3 := context.WithTimeout(context.Background(), time.Hour)
	defer pcancel3()
	ctx, cancel = store.CallContext(parent3)
	defer cancel()
	if d, _ := ctx.Deadline(); time.Until(d) > store.DefaultCallTimeout {
		t.Errorf("an hour left: %v, want at most %v", time.Until(d), store.DefaultCallTimeout)
	}
}
