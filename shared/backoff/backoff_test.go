package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayGrowsToTheCapWithJitter(t *testing.T) {
	p := Policy{Base: 10 * time.Millisecond, Max: 70 * time.Millisecond}
	for n, cap := range map[int]time.Duration{0: 10, 1: 10, 2: 20, 3: 40, 4: 70, 9: 70, 1000: 70} {
		cap *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.Delay(n)
			if d <= 0 || d > cap {
				t.Fatalf("Delay(%d) = %v, want in (0, %v]", n, d, cap)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("Delay(%d): %d distinct waits in 200, want jitter", n, len(seen))
		}
	}
	// A cap so large it overflows when doubled is the maximum.
	huge := Policy{Base: time.Hour, Max: time.Hour}
	if d := huge.Delay(64); d <= 0 || d > time.Hour {
		t.Errorf("Delay with an overflowing cap = %v", d)
	}
	if d := (Policy{}).Delay(3); d != 0 {
		t.Errorf("zero policy: Delay = %v, want 0", d)
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := (Policy{Base: time.Hour, Max: time.Hour}).Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Wait outlived its context")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
