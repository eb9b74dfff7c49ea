package forward_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/forward"
)

// Svix's published schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 10 h.
func TestScheduleIsSvixs(t *testing.T) {
	want := []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if got := forward.Schedule(); !slices.Equal(got, want) {
		t.Fatalf("Schedule() = %v", got)
	}
	if forward.MaxAttempts != len(want) {
		t.Errorf("MaxAttempts = %d", forward.MaxAttempts)
	}
	if forward.Span < 24*time.Hour || forward.Span != 27*time.Hour+35*time.Minute+5*time.Second {
		t.Errorf("Span = %s", forward.Span)
	}
	// Schedule returns a copy.
	s := forward.Schedule()
	s[1] = 0
	if forward.Schedule()[1] != 5*time.Second {
		t.Error("Schedule() shares its array")
	}
}

// Each delay is its anchor stretched by a factor in [1, 1+Jitter); the
// delays grow (never shrink) along the schedule whatever the jitter, and
// every run of attempts spans at least 24 hours.
func TestNextAttemptBounds(t *testing.T) {
	anchors := forward.Schedule()
	t0 := time.Date(2025, 2, 25, 6, 15, 28, 0, time.UTC)
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 10))
		last, prev := t0, time.Duration(0)
		for attempts := 0; attempts < forward.MaxAttempts; attempts++ {
			next, ok := forward.NextAttempt(attempts, last, r)
			if !ok {
				t.Fatalf("seed %d: no attempt %d", seed, attempts+1)
			}
			d, a := next.Sub(last), anchors[attempts]
			if d < a || (a > 0 && float64(d) >= float64(a)*(1+forward.Jitter)) || (a == 0 && d != 0) {
				t.Fatalf("seed %d, after %d attempts: delay %s outside [%s, %s)", seed, attempts, d, a, time.Duration(float64(a)*(1+forward.Jitter)))
			}
			// Growing: between distinct anchors, even the most stretched
			// delay is shorter than the next anchor.
			if attempts > 0 && anchors[attempts] > anchors[attempts-1] && d <= prev {
				t.Fatalf("seed %d: delay %d (%s) not longer than the one before (%s)", seed, attempts, d, prev)
			}
			last, prev = next, d
		}
		if total := last.Sub(t0); total < 24*time.Hour || total < forward.Span || float64(total) >= float64(forward.Span)*(1+forward.Jitter) {
			t.Fatalf("seed %d: the attempts span %s", seed, total)
		}
		if _, ok := forward.NextAttempt(forward.MaxAttempts, last, r); ok {
			t.Fatalf("seed %d: an attempt after the last", seed)
		}
	}
	for i := 1; i < len(anchors); i++ {
		if anchors[i] < anchors[i-1] || float64(anchors[i-1])*(1+forward.Jitter) > float64(anchors[i]) && anchors[i] != anchors[i-1] {
			t.Errorf("anchor %d (%s) after %s: the schedule does not grow", i, anchors[i], anchors[i-1])
		}
	}
}

// The jitter spreads retries over its whole range and depends only on the
// random source.
func TestNextAttemptJitter(t *testing.T) {
	t0 := time.Unix(1740464128, 0)
	lo, hi := 1.0, 0.0
	for seed := range uint64(2000) {
		next, _ := forward.NextAttempt(3, t0, rand.New(rand.NewPCG(seed, 1)))
		f := (float64(next.Sub(t0))/float64(30*time.Minute) - 1) / forward.Jitter
		lo, hi = min(lo, f), max(hi, f)
	}
	if lo > 0.01 || hi < 0.99 || lo < 0 || hi >= 1 {
		t.Errorf("jitter spans [%.3f, %.3f] of its range", lo, hi)
	}
	a, _ := forward.NextAttempt(5, t0, rand.New(rand.NewPCG(7, 7)))
	b, _ := forward.NextAttempt(5, t0, rand.New(rand.NewPCG(7, 7)))
	if !a.Equal(b) {
		t.Errorf("same source, %s and %s", a, b)
	}
	// nil: the global source, within the same bounds.
	for range 100 {
		next, ok := forward.NextAttempt(1, t0, nil)
		if d := next.Sub(t0); !ok || d < 5*time.Second || d >= 6*time.Second {
			t.Fatalf("global source: %s %v", d, ok)
		}
	}
	// Before any attempt: due at once; out of range: done.
	if next, ok := forward.NextAttempt(0, t0, nil); !ok || !next.Equal(t0) {
		t.Errorf("first attempt at %s, %v", next, ok)
	}
	if _, ok := forward.NextAttempt(forward.MaxAttempts+3, t0, nil); ok {
		t.Error("attempts past the last")
	}
}
