package forwarder_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/forwarder"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/scf"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/testkit/receiver"
	"github.com/callfn/callfn/testkit/storetest"
)

var (
	secret        = receiver.Secret
	forwardConfig = receiver.Config
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// On SCF a timer fires the function every minute: through the SCF adapter,
// it delivers what is owed, signed, and answers what it did.
func TestSCFTimer(t *testing.T) {
	rc := receiver.Start(t, secret)
	cfg := forwardConfig(t, rc.URL)
	st := local.NewMemory(store.Options{ForwardTo: cfg.ForwardURLs})
	defer st.Close()
	evs := []*call.Event{
		storetest.Event("c1", "call_started", storetest.T0, call.Facts{Caller: "alice"}),
		storetest.Event("c2", "call_started", storetest.T0, call.Facts{Caller: "bob"}),
	}
	storetest.Put(t, st, evs...)
	fn, err := forwarder.New(cfg, st, forwarder.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	timer := json.RawMessage(`{"Type":"Timer","TriggerName":"drain","Time":"2025-03-03T01:01:00Z","Message":""}`)
	out, err := scf.Handler(fn)(context.Background(), timer)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(forwarder.Stats); got != (forwarder.Stats{Attempts: 2, Delivered: 2}) {
		t.Fatalf("stats %+v", got)
	}
	for _, e := range evs {
		found := false
		for _, m := range rc.Accepted() {
			found = found || m.ID == forward.MessageID(e.DeliveryID, cfg.ForwardURLs[0])
		}
		if !found {
			t.Errorf("event of %s not delivered", e.CallID)
		}
	}
	// Nothing left: the next firing attempts nothing.
	if out, err := scf.Handler(fn)(context.Background(), timer); err != nil || out.(forwarder.Stats) != (forwarder.Stats{}) {
		t.Errorf("second firing: %+v %v", out, err)
	}
}

// A drain stops its margin before the invocation's deadline: the attempt
// it cuts short is not counted, its lease is given back, and the run is no
// failure (the next one delivers).
func TestDrainStopsBeforeTheDeadline(t *testing.T) {
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.Hang())
	cfg := forwardConfig(t, rc.URL)
	st := local.NewMemory(store.Options{ForwardTo: cfg.ForwardURLs})
	defer st.Close()
	storetest.Put(t, st, storetest.Event("c1", "call_started", storetest.T0, call.Facts{}))
	fn, err := forwarder.New(cfg, st, forwarder.Options{Logger: quiet(), Margin: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	out, err := platform.RunSchedule(ctx, fn, platform.Tick{Name: "drain"})
	if err != nil || out.(forwarder.Stats) != (forwarder.Stats{}) {
		t.Fatalf("out %+v, err %v", out, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("returned after %s: past the margin", took)
	}
	rows := storetest.Rows(t, st, "")
	if len(rows) != 1 || rows[0].State != forward.Pending || rows[0].Attempts != 0 || rows[0].NextAt.After(time.Now()) {
		t.Errorf("rows %+v", rows)
	}
	rc.Respond(receiver.Status(204))
	if out, err := platform.RunSchedule(context.Background(), fn, platform.Tick{Name: "drain"}); err != nil || out.(forwarder.Stats).Delivered != 1 {
		t.Errorf("the next run: %+v %v", out, err)
	}
}

// Changes drain the endpoints the batch's rows are owed to, and only
// those; anything else in the batch is ignored.
func TestChanges(t *testing.T) {
	a, b := receiver.Start(t, secret), receiver.Start(t, secret)
	b.Respond(receiver.Hang())
	cfg := forwardConfig(t, a.URL, b.URL)
	st := local.NewMemory(store.Options{ForwardTo: cfg.ForwardURLs})
	defer st.Close()
	e := storetest.Event("c1", "call_started", storetest.T0, call.Facts{})
	storetest.Put(t, st, e)
	fn, err := forwarder.New(cfg, st, forwarder.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	row := func(ep string) platform.Change {
		return platform.Change{ID: "1", Op: "INSERT", New: map[string]string{
			store.DynamoSK: store.DynamoOutboxSK + e.DeliveryID + "#" + ep, "state": "pending", "endpoint": ep, store.DynamoFresh: "1",
		}}
	}
	other := platform.Change{ID: "2", Op: "INSERT", New: map[string]string{store.DynamoSK: "EVENT#x", "endpoint": cfg.ForwardURLs[1]}}
	if err := platform.RunChanges(context.Background(), fn, []platform.Change{other}); err != nil {
		t.Fatal(err)
	}
	if len(a.Messages())+len(b.Messages()) != 0 {
		t.Fatal("a batch of no row drained")
	}
	start := time.Now()
	if err := platform.RunChanges(context.Background(), fn, []platform.Change{row(cfg.ForwardURLs[0]), other}); err != nil {
		t.Fatal(err)
	}
	// A's row delivered; B, which hangs, not waited on.
	if len(a.Accepted()) != 1 || len(b.Messages()) != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("a %d, b %d, took %s", len(a.Accepted()), len(b.Messages()), time.Since(start))
	}
	// Forwarding off: the function runs and does nothing.
	off, err := forwarder.New(config.Config{}, st, forwarder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := platform.RunSchedule(context.Background(), off, platform.Tick{}); err != nil || out.(forwarder.Stats) != (forwarder.Stats{}) {
		t.Errorf("off: %+v %v", out, err)
	}
	if err := platform.RunChanges(context.Background(), off, []platform.Change{row(cfg.ForwardURLs[1])}); err != nil {
		t.Errorf("off: %v", err)
	}
}
