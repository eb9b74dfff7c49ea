package forward_test

import (
	"context"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/testkit/receiver"
)

// A woken Loop delivers at once to a good endpoint while another hangs;
// stopped, it cuts the hanging attempts short after its grace, uncounted,
// and gives their leases back.
func TestLoop(t *testing.T) {
	good := receiver.Start(t, secret)
	bad := receiver.Start(t, secret)
	bad.Respond(receiver.Hang())
	f := setup(t, 0, forward.Options{PerEndpoint: 2}, bad.URL, good.URL)
	loop := forward.NewLoop(f.d, time.Hour, 200*time.Millisecond)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { loop.Run(ctx); close(done) }()

	evs := testEvents(3)
	f.evs.mu.Lock()
	for i := range evs {
		f.evs.events[evs[i].DeliveryID] = evs[i]
	}
	f.evs.mu.Unlock()
	for i := range evs {
		if err := f.d.Owe(context.Background(), &evs[i], time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	loop.Wake()
	good.Await(3, 5*time.Second)
	checkArrived(t, good, good.URL, evs)
	// The hanging endpoint has two attempts in flight.
	deadline := time.Now().Add(5 * time.Second)
	for len(bad.Messages()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(bad.Messages()); n != 2 {
		t.Fatalf("%d attempts in flight to the hanging endpoint, want 2", n)
	}

	stopped := time.Now()
	stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not stop")
	}
	if took := time.Since(stopped); took < 200*time.Millisecond {
		t.Errorf("stopped after %s, before its grace", took)
	}
	for _, ev := range evs {
		row := f.ob.row(ev.DeliveryID, bad.URL)
		if row.State != forward.Pending || row.Attempts != 0 || row.LastError != "" || row.NextAt.After(time.Now()) {
			t.Errorf("hanging endpoint's row after the stop: %+v", row)
		}
	}
}
