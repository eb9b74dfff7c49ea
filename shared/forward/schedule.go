package forward

import (
	"math/rand/v2"
	"time"
)

// schedule is the delay before each attempt, counted from the attempt
// before it (the first from the moment the delivery is owed): Svix's
// published retry schedule, eight attempts over about 27.6 hours.
var schedule = [...]time.Duration{
	0,
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// MaxAttempts is how many attempts a delivery gets before it is marked
// Failed (and left for a replay).
const MaxAttempts = len(schedule)

// Jitter is how much a delay may be stretched: each retry waits its
// nominal delay times a random factor in [1, 1+Jitter). Jitter only ever
// adds, so no retry comes earlier than the schedule says and the attempts
// always span at least Span.
const Jitter = 0.2

// Span is the nominal time from the first attempt to the last.
var Span = func() time.Duration {
	var total time.Duration
	for _, d := range schedule {
		total += d
	}
	return total
}()

// Schedule returns the nominal delay before each attempt: element i is
// the wait between attempt i and attempt i+1 (element 0, before the first
// attempt, is 0).
func Schedule() []time.Duration { return append([]time.Duration(nil), schedule[:]...) }

// NextAttempt is when attempt number attempts+1 is due, given that
// attempts attempts have been made (0: none yet) and the last of them was
// made at last (for attempts == 0, the time the delivery was owed). ok is
// false once MaxAttempts attempts have been made: the delivery has failed.
// r supplies the jitter; nil uses math/rand/v2's global source. A
// *rand.Rand is not safe for concurrent use; the caller serialises.
func NextAttempt(attempts int, last time.Time, r *rand.Rand) (next time.Time, ok bool) {
	if attempts >= MaxAttempts {
		return time.Time{}, false
	}
	d := schedule[max(attempts, 0)]
	f := rand.Float64
	if r != nil {
		f = r.Float64
	}
	return last.Add(d + time.Duration(float64(d)*Jitter*f())), true
}
