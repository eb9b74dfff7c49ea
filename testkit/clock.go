package testkit

import (
	"sync"
	"time"
)

// Clock is a clock a test sets by hand; its Now is safe for concurrent use.
// A running clock follows real time from where it was set (for code that
// also waits, such as a rate limiter).
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	running bool
	since   time.Time
}

// NewClock is a stopped clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return c.t.Add(time.Since(c.since))
	}
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.since = t, time.Now()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		c.t = c.t.Add(time.Since(c.since))
		c.since = time.Now()
	}
	c.t = c.t.Add(d)
}

// Run makes the clock follow real time from its current reading.
func (c *Clock) Run() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		c.running, c.since = true, time.Now()
	}
}
