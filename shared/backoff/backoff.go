// Package backoff is callfn's one way to wait between retries: an
// exponentially growing wait, capped, with full jitter (a uniformly random
// wait up to that cap, so that callers who failed together do not retry
// together). The Tencent REST client, the Cloud API ingest (through the
// SDK's retry hook) and the DynamoDB table use it. (Forwarding's retries
// are not a backoff but Svix's published schedule: shared/forward.)
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is exponential backoff with full jitter: the wait after failed
// attempt n (from 1) is uniform in (0, min(Max, Base·2ⁿ⁻¹)].
type Policy struct {
	Base time.Duration // the cap of the first wait
	Max  time.Duration // the largest cap
}

// Delay is the wait before attempt n+1, after attempt n failed.
func (p Policy) Delay(n int) time.Duration {
	d := p.Base << min(max(n-1, 0), 20)
	if d <= 0 || d > p.Max {
		d = p.Max
	}
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// Sleep waits d, or until ctx is done, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait sleeps the policy's Delay(n), or until ctx is done.
func (p Policy) Wait(ctx context.Context, n int) error { return Sleep(ctx, p.Delay(n)) }
