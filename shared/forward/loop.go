package forward

import (
	"context"
	"sync"
	"time"
)

// Defaults of a Loop.
const (
	// DefaultInterval is how often a Loop looks for retries that have come
	// due: the schedule's shortest wait is 5 s.
	DefaultInterval = time.Second
	// DefaultGrace is how long a stopping Loop lets attempts in flight
	// finish before it cuts them short and gives their leases back.
	DefaultGrace = 5 * time.Second
)

// Loop drives a Dispatcher in process, as `callfn serve` does: every
// endpoint is drained by a goroutine of its own, at once when Wake is
// called (right after an event is stored) and every interval (for the
// retries that come due), so that one endpoint's slow answers delay no
// other, and whoever calls Wake never waits. Its first drain, at Run,
// delivers what an earlier process left owed.
type Loop struct {
	d        *Dispatcher
	interval time.Duration
	grace    time.Duration
	wakes    []chan struct{}
}

// NewLoop drives d, looking for due retries every interval
// (DefaultInterval when 0); when Run's context ends, attempts in flight
// get grace (DefaultGrace when 0) to finish.
func NewLoop(d *Dispatcher, interval, grace time.Duration) *Loop {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if grace <= 0 {
		grace = DefaultGrace
	}
	l := &Loop{d: d, interval: interval, grace: grace}
	for range d.endpoints {
		l.wakes = append(l.wakes, make(chan struct{}, 1))
	}
	return l
}

// Wake asks every endpoint's drain to run now (or once more, when it is
// running). It never blocks.
func (l *Loop) Wake() {
	for _, w := range l.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Run drains until ctx ends. Then it leases nothing more, lets the
// attempts in flight finish within the grace period, cuts short those that
// do not (uncounted, their leases given back), and returns once every
// endpoint's drain has stopped. Failures are logged (Options.Logger).
func (l *Loop) Run(ctx context.Context) {
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
		case <-hard.Done():
			return
		}
		t := time.NewTimer(l.grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-hard.Done():
		}
	}()
	var wg sync.WaitGroup
	for i, ep := range l.d.endpoints {
		wg.Go(func() { l.runEndpoint(ctx, hard, ep, l.wakes[i]) })
	}
	wg.Wait()
}

func (l *Loop) runEndpoint(ctx, hard context.Context, ep string, wake <-chan struct{}) {
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		if _, err := l.d.drain(hard, ctx.Done(), time.Now(), []string{ep}); err != nil && ctx.Err() == nil {
			l.d.opts.Logger.Warn("forward: drain failed", "endpoint", origin(ep), "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
	}
}
