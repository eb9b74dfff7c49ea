package forward_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/testkit/receiver"
)

// t0 is the drains' time; signatures use the wall clock, which the
// receiver's Verify checks.
var t0 = time.Date(2025, 2, 25, 6, 15, 28, 0, time.UTC)

type fixture struct {
	ob   *memOutbox
	evs  *memEvents
	d    *forward.Dispatcher
	list []call.Event
}

// setup owes n events to each endpoint at t0.
func setup(t *testing.T, n int, opts forward.Options, endpoints ...string) *fixture {
	t.Helper()
	f := &fixture{ob: newOutbox(), list: testEvents(n)}
	f.evs = newEvents(f.list...)
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(1, 2))
	}
	d, err := forward.New(forwardConfig(t, endpoints...), f.ob, f.evs, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	for i := range f.list {
		if err := d.Owe(context.Background(), &f.list[i], t0); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func drain(t *testing.T, d *forward.Dispatcher, now time.Time) forward.Stats {
	t.Helper()
	st, err := d.Drain(context.Background(), now)
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	return st
}

// checkArrived fails unless rc accepted each event exactly once, under its
// webhook-id for endpoint, with the event and the call's summary.
func checkArrived(t *testing.T, rc *receiver.Receiver, endpoint string, evs []call.Event) {
	t.Helper()
	acc := rc.Accepted()
	byID := map[string]receiver.Message{}
	for _, m := range acc {
		if _, dup := byID[m.ID]; dup {
			t.Errorf("%s accepted twice", m.ID)
		}
		byID[m.ID] = m
	}
	for _, ev := range evs {
		m, ok := byID[forward.MessageID(ev.DeliveryID, endpoint)]
		if !ok {
			t.Errorf("event %s never accepted at %s", ev.DeliveryID, endpoint)
			continue
		}
		msg := sent(t, m)
		if msg.Type != forward.Type || msg.Data.Event == nil || msg.Data.Event.DeliveryID != ev.DeliveryID || msg.Data.Event.Raw != ev.Raw ||
			msg.Data.Summary == nil || msg.Data.Summary.CallID != ev.CallID || msg.Data.Summary.EventCount != len(evs) {
			t.Errorf("message %s: %+v", m.ID, msg)
		}
	}
	if len(acc) != len(evs) {
		t.Errorf("%d accepted, want %d", len(acc), len(evs))
	}
}

func TestDrainDelivers(t *testing.T) {
	a, b := receiver.Start(t, secret), receiver.Start(t, secret)
	f := setup(t, 5, forward.Options{}, a.URL, b.URL)
	if st := drain(t, f.d, t0); st != (forward.Stats{Attempts: 10, Delivered: 10}) {
		t.Errorf("stats %+v", st)
	}
	checkArrived(t, a, a.URL, f.list)
	checkArrived(t, b, b.URL, f.list)
	for _, d := range f.ob.all() {
		if d.State != forward.Delivered || d.Attempts != 1 || d.LastStatus != 204 || d.LastError != "" || !d.NextAt.IsZero() ||
			d.LastAt.Before(t0) || !d.OwedAt.Equal(t0) {
			t.Errorf("row %+v", d)
		}
	}
	// Nothing is due any more.
	if st := drain(t, f.d, t0.Add(48*time.Hour)); st != (forward.Stats{}) {
		t.Errorf("second drain %+v", st)
	}
	if len(a.Messages()) != 5 || len(b.Messages()) != 5 {
		t.Errorf("redelivered: %d, %d", len(a.Messages()), len(b.Messages()))
	}
}

// The first attempts fail; each retry waits its turn in the schedule and
// carries the same webhook-id.
func TestDrainRetriesThenDelivers(t *testing.T) {
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.FailFirst(2, 503))
	f := setup(t, 3, forward.Options{}, rc.URL)
	ev := f.list[0]

	if st := drain(t, f.d, t0); st != (forward.Stats{Attempts: 3, Retrying: 3}) {
		t.Errorf("first drain %+v", st)
	}
	row := f.ob.row(ev.DeliveryID, rc.URL)
	if row.State != forward.Pending || row.Attempts != 1 || row.LastStatus != 503 || row.LastError != "HTTP 503" {
		t.Errorf("after the first attempt: %+v", row)
	}
	within(t, "first retry", row.NextAt.Sub(t0), 5*time.Second, 7*time.Second)
	// Not due yet: nothing happens.
	if st := drain(t, f.d, t0.Add(4*time.Second)); st != (forward.Stats{}) {
		t.Errorf("early drain %+v", st)
	}
	now := t0.Add(7 * time.Second)
	if st := drain(t, f.d, now); st != (forward.Stats{Attempts: 3, Retrying: 3}) {
		t.Errorf("second drain %+v", st)
	}
	row = f.ob.row(ev.DeliveryID, rc.URL)
	within(t, "second retry", row.NextAt.Sub(now), 5*time.Minute, 6*time.Minute+time.Second)
	if st := drain(t, f.d, now.Add(7*time.Minute)); st != (forward.Stats{Attempts: 3, Delivered: 3}) {
		t.Errorf("third drain %+v", st)
	}
	checkArrived(t, rc, rc.URL, f.list)
	want := forward.MessageID(ev.DeliveryID, rc.URL)
	var ids []string
	for _, m := range rc.Messages() {
		if m.ID == want {
			ids = append(ids, m.ID)
			if m.Attempt != len(ids) {
				t.Errorf("attempt %d numbered %d", len(ids), m.Attempt)
			}
		}
	}
	if len(ids) != 3 {
		t.Errorf("%d requests for %s, want 3 under one id", len(ids), want)
	}
	if row := f.ob.row(ev.DeliveryID, rc.URL); row.State != forward.Delivered || row.Attempts != 3 {
		t.Errorf("final row %+v", row)
	}
}

// An endpoint that always fails gets MaxAttempts attempts over at least
// 24 hours; the delivery is then Failed, and a replay sends it again
// under the same webhook-id.
func TestDrainGivesUpThenReplays(t *testing.T) {
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.Status(500))
	f := setup(t, 1, forward.Options{}, rc.URL)
	ev := f.list[0]
	now, first := t0, time.Time{}
	for i := 1; ; i++ {
		st := drain(t, f.d, now)
		row := f.ob.row(ev.DeliveryID, rc.URL)
		if i == 1 {
			first = row.LastAt
		}
		if row.Attempts != i || row.LastError != "HTTP 500" {
			t.Fatalf("drain %d: %+v", i, row)
		}
		if row.State == forward.Failed {
			if i != forward.MaxAttempts || st != (forward.Stats{Attempts: 1, Failed: 1}) || !row.NextAt.IsZero() {
				t.Fatalf("failed after %d attempts: %+v, %+v", i, row, st)
			}
			if span := row.LastAt.Sub(first); span < 24*time.Hour {
				t.Errorf("attempts span %s", span)
			}
			break
		}
		if i >= forward.MaxAttempts || row.State != forward.Pending || !row.NextAt.After(now) {
			t.Fatalf("drain %d: %+v", i, row)
		}
		now = row.NextAt
	}
	// Failed stays failed.
	if st := drain(t, f.d, now.Add(100*time.Hour)); st != (forward.Stats{}) {
		t.Errorf("drain after failure %+v", st)
	}
	if n := len(rc.Messages()); n != forward.MaxAttempts {
		t.Errorf("%d requests", n)
	}

	rc.Respond(receiver.Status(200))
	later := now.Add(200 * time.Hour)
	if err := f.d.Replay(context.Background(), &ev, "", later); err != nil {
		t.Fatal(err)
	}
	row := f.ob.row(ev.DeliveryID, rc.URL)
	if row.State != forward.Pending || row.Attempts != 0 || !row.NextAt.Equal(later) {
		t.Errorf("replayed row %+v", row)
	}
	if st := drain(t, f.d, later); st != (forward.Stats{Attempts: 1, Delivered: 1}) {
		t.Errorf("replay drain %+v", st)
	}
	msgs := rc.Messages()
	for _, m := range msgs {
		if m.ID != forward.MessageID(ev.DeliveryID, rc.URL) {
			t.Errorf("id %s", m.ID)
		}
	}
	if last := msgs[len(msgs)-1]; last.Status != 200 || last.Attempt != forward.MaxAttempts+1 {
		t.Errorf("replayed message %+v", last)
	}
}

// Replaying a delivered event sends it again, same id; to one endpoint
// only when asked; never to an endpoint that is not configured.
func TestReplay(t *testing.T) {
	a, b := receiver.Start(t, secret), receiver.Start(t, secret)
	f := setup(t, 2, forward.Options{}, a.URL, b.URL)
	drain(t, f.d, t0)
	ev := f.list[1]
	if err := f.d.Replay(context.Background(), &ev, strings.ToUpper(b.URL[:4])+b.URL[4:], t0.Add(time.Hour)); err != nil {
		t.Fatalf("replay to b, spelled otherwise: %v", err)
	}
	if st := drain(t, f.d, t0.Add(time.Hour)); st != (forward.Stats{Attempts: 1, Delivered: 1}) {
		t.Errorf("stats %+v", st)
	}
	if len(a.Messages()) != 2 || len(b.Messages()) != 3 {
		t.Errorf("a got %d, b got %d", len(a.Messages()), len(b.Messages()))
	}
	if m := b.Messages()[2]; m.ID != forward.MessageID(ev.DeliveryID, b.URL) || m.Attempt != 2 {
		t.Errorf("replay %+v", m)
	}
	for _, ep := range []string{"https://other.example/", "not a url"} {
		if err := f.d.Replay(context.Background(), &ev, ep, t0); !errors.Is(err, forward.ErrUnknownEndpoint) {
			t.Errorf("replay to %s: %v", ep, err)
		}
	}
}

// A hanging endpoint delays no other: the healthy one has everything while
// the hanging one's attempts are still waiting for their timeout.
func TestDrainHangingEndpointDelaysNoOther(t *testing.T) {
	slow, fast := receiver.Start(t, secret), receiver.Start(t, secret)
	slow.Respond(receiver.Hang())
	const timeout = 1500 * time.Millisecond
	f := setup(t, 8, forward.Options{Timeout: timeout, PerEndpoint: 2, Batch: 4, Lease: time.Minute}, slow.URL, fast.URL)
	start := time.Now()
	done := make(chan forward.Stats)
	go func() { done <- drain(t, f.d, t0) }()
	fast.Await(8, timeout/2)
	if took := time.Since(start); took >= timeout/2 {
		t.Errorf("the healthy endpoint waited %s", took)
	}
	st := <-done
	if st != (forward.Stats{Attempts: 16, Delivered: 8, Retrying: 8}) {
		t.Errorf("stats %+v", st)
	}
	// 8 hanging attempts, 2 at a time: four rounds of the timeout.
	if took := time.Since(start); took < 4*timeout || took > 4*timeout+3*time.Second {
		t.Errorf("drain took %s", took)
	}
	checkArrived(t, fast, fast.URL, f.list)
	for _, ev := range f.list {
		row := f.ob.row(ev.DeliveryID, slow.URL)
		if row.State != forward.Pending || row.Attempts != 1 || row.LastError != "no answer within 1.5s" || row.LastStatus != 0 {
			t.Errorf("hanging endpoint's row %+v", row)
		}
	}
}

// An endpoint that goes away (connection refused) and comes back on the
// same address gets everything, under the same ids.
func TestDrainEndpointGoesAwayAndComesBack(t *testing.T) {
	rc := receiver.Start(t, secret)
	f := setup(t, 3, forward.Options{}, rc.URL)
	rc.Down()
	if st := drain(t, f.d, t0); st != (forward.Stats{Attempts: 3, Retrying: 3}) {
		t.Errorf("stats while down %+v", st)
	}
	for _, d := range f.ob.all() {
		if d.LastError != "connection refused" || d.State != forward.Pending {
			t.Errorf("row %+v", d)
		}
	}
	rc.Up()
	if st := drain(t, f.d, t0.Add(10*time.Second)); st != (forward.Stats{Attempts: 3, Delivered: 3}) {
		t.Errorf("stats when back %+v", st)
	}
	checkArrived(t, rc, rc.URL, f.list)
}

// A drainer that crashes after leasing loses nothing: its deliveries are
// due again when the lease ends, for whichever process drains next.
func TestDrainAfterCrash(t *testing.T) {
	rc := receiver.Start(t, secret)
	f := setup(t, 4, forward.Options{Lease: 2 * time.Minute}, rc.URL)
	// The crashed drainer leased two and died.
	leased, err := f.ob.Lease(context.Background(), rc.URL, t0, t0.Add(2*time.Minute), 2)
	if err != nil || len(leased) != 2 {
		t.Fatalf("lease: %v %v", leased, err)
	}
	// A new process, over the same (durable) outbox.
	d, err := forward.New(forwardConfig(t, rc.URL), f.ob, f.evs, forward.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if st := drain(t, d, t0.Add(time.Minute)); st != (forward.Stats{Attempts: 2, Delivered: 2}) {
		t.Errorf("during the lease %+v", st)
	}
	if st := drain(t, d, t0.Add(2*time.Minute)); st != (forward.Stats{Attempts: 2, Delivered: 2}) {
		t.Errorf("after the lease %+v", st)
	}
	checkArrived(t, rc, rc.URL, f.list)
}

// Drainers side by side (overlapping timer runs, several instances) take
// each delivery once.
func TestConcurrentDrainers(t *testing.T) {
	rc := receiver.Start(t, secret)
	f := setup(t, 40, forward.Options{Batch: 3}, rc.URL)
	var wg sync.WaitGroup
	for range 4 {
		d, err := forward.New(forwardConfig(t, rc.URL), f.ob, f.evs, forward.Options{Logger: quiet(), Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { drain(t, d, t0) })
	}
	wg.Wait()
	checkArrived(t, rc, rc.URL, f.list)
	if n := len(rc.Messages()); n != 40 {
		t.Errorf("%d requests for 40 events", n)
	}
}

// A drain stopped mid-attempt does not count the attempt, gives back what
// it leased, and reports why it stopped.
func TestDrainCanceled(t *testing.T) {
	rc := receiver.Start(t, secret)
	rc.Respond(receiver.Hang())
	f := setup(t, 6, forward.Options{PerEndpoint: 2}, rc.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	st, err := f.d.Drain(ctx, t0)
	if !errors.Is(err, context.DeadlineExceeded) || st != (forward.Stats{}) {
		t.Errorf("stats %+v, error %v", st, err)
	}
	for _, d := range f.ob.all() {
		if d.State != forward.Pending || d.Attempts != 0 || !d.NextAt.Equal(t0) || d.LastError != "" {
			t.Errorf("row %+v", d)
		}
	}
	rc.Respond(receiver.Status(204))
	drain(t, f.d, t0)
	checkArrived(t, rc, rc.URL, f.list)
}

// An event the table no longer holds fails without an attempt; one the
// table cannot read now waits, uncounted.
func TestDrainEventUnreadable(t *testing.T) {
	rc := receiver.Start(t, secret)
	f := setup(t, 2, forward.Options{}, rc.URL)
	gone := f.list[0]
	delete(f.evs.events, gone.DeliveryID)
	f.evs.readErr = nil
	if st := drain(t, f.d, t0); st != (forward.Stats{Attempts: 1, Delivered: 1, Failed: 1}) {
		t.Errorf("stats %+v", st)
	}
	if row := f.ob.row(gone.DeliveryID, rc.URL); row.State != forward.Failed || row.Attempts != 0 || row.LastError != "event no longer stored" {
		t.Errorf("gone: %+v", row)
	}

	f2 := setup(t, 1, forward.Options{}, rc.URL)
	f2.evs.readErr = errTable
	if st := drain(t, f2.d, t0); st != (forward.Stats{}) {
		t.Errorf("stats %+v", st)
	}
	row := f2.ob.row(f2.list[0].DeliveryID, rc.URL)
	if row.State != forward.Pending || row.Attempts != 0 {
		t.Errorf("unreadable: %+v", row)
	}
	within(t, "wait after a read error", row.NextAt.Sub(t0), 30*time.Second, 40*time.Second)
	f2.evs.readErr = nil
	drain(t, f2.d, row.NextAt)
	if len(rc.Accepted()) != 2 {
		t.Errorf("%d accepted", len(rc.Accepted()))
	}
}

// An outcome that cannot be recorded is reported; the delivery stays
// leased and is sent again, same id, once the lease ends.
func TestDrainRecordFails(t *testing.T) {
	rc := receiver.Start(t, secret)
	f := setup(t, 1, forward.Options{Lease: time.Minute, Batch: 4}, rc.URL)
	f.ob.recordErr = errTable
	st, err := f.d.Drain(context.Background(), t0)
	if !errors.Is(err, errTable) || st.Delivered != 1 {
		t.Errorf("stats %+v, error %v", st, err)
	}
	f.ob.recordErr = nil
	if st := drain(t, f.d, t0.Add(30*time.Second)); st != (forward.Stats{}) {
		t.Errorf("during the lease %+v", st)
	}
	drain(t, f.d, t0.Add(time.Minute))
	if msgs := rc.Messages(); len(msgs) != 2 || msgs[0].ID != msgs[1].ID || msgs[1].Attempt != 2 {
		t.Errorf("messages %+v", msgs)
	}
}

// Owing an event again (a provider's redelivery) changes nothing.
func TestOweIdempotent(t *testing.T) {
	if d := (forward.Delivery{DeliveryID: "d1", Endpoint: "https://a.example/h"}); d.ID() != forward.MessageID("d1", "https://a.example/h") {
		t.Errorf("Delivery.ID %s", d.ID())
	}
	rc := receiver.Start(t, secret)
	f := setup(t, 2, forward.Options{}, rc.URL)
	drain(t, f.d, t0)
	before := f.ob.all()
	for i := range f.list {
		if err := f.d.Owe(context.Background(), &f.list[i], t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if after := f.ob.all(); !slices.Equal(before, after) {
		t.Errorf("rows changed:\n%+v\n%+v", before, after)
	}
	if st := drain(t, f.d, t0.Add(2*time.Hour)); st != (forward.Stats{}) {
		t.Errorf("stats %+v", st)
	}
}

// Unset, forwarding does nothing and needs nothing.
func TestForwardingOff(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	d, err := forward.New(cfg, nil, nil, forward.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvents(1)[0]
	if d.Enabled() || d.Endpoints() != nil || d.Owe(context.Background(), &ev, t0) != nil {
		t.Error("forwarding on")
	}
	if st, err := d.Drain(context.Background(), t0); err != nil || st != (forward.Stats{}) {
		t.Errorf("drain: %+v %v", st, err)
	}
	if forward.Owed(&ev, nil, t0) != nil {
		t.Error("owed to no endpoint")
	}
}

func TestNewRefuses(t *testing.T) {
	good := forwardConfig(t, "https://a.example/h")
	ob, evs := newOutbox(), newEvents()
	for name, tc := range map[string]struct {
		cfg  config.Config
		ob   forward.Outbox
		evs  forward.Events
		opts forward.Options
		want string
	}{
		"no secret":   {config.Config{ForwardURLs: good.ForwardURLs}, ob, evs, forward.Options{}, "CALLFN_FORWARD_SECRET"},
		"bad secret":  {config.Config{ForwardURLs: good.ForwardURLs, ForwardSecret: "whsec_" + secretKey[:8]}, ob, evs, forward.Options{}, "CALLFN_FORWARD_SECRET"},
		"plain http":  {config.Config{ForwardURLs: []string{"http://a.example/"}, ForwardSecret: secret}, ob, evs, forward.Options{}, "loopback"},
		"no outbox":   {good, nil, evs, forward.Options{}, "outbox"},
		"no events":   {good, ob, nil, forward.Options{}, "outbox"},
		"short lease": {good, ob, evs, forward.Options{Lease: time.Minute, Batch: 32, PerEndpoint: 4}, "does not cover a batch"},
	} {
		_, err := forward.New(tc.cfg, tc.ob, tc.evs, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secretKey[:8]) {
			t.Errorf("%s: error repeats the secret: %v", name, err)
		}
	}
	// Endpoints built by hand are canonicalised and deduplicated.
	d, err := forward.New(config.Config{ForwardURLs: []string{"HTTPS://A.example:443", "https://a.example/"}, ForwardSecret: secret}, ob, evs, forward.Options{})
	if err != nil || !slices.Equal(d.Endpoints(), []string{"https://a.example/"}) {
		t.Errorf("endpoints %q, %v", d.Endpoints(), err)
	}
}
