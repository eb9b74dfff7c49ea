package store

import (
	"context"
	"time"
)

// DefaultCallTimeout bounds a store call whose context has no deadline (a
// local run): a table that does not answer fails the call after this long,
// rather than holding the request for ever.
const DefaultCallTimeout = 10 * time.Second

// CallMargin is how long before the platform's own deadline (Lambda's
// context deadline, SCF's timeout: the request's context carries it) a
// store call is cut off, so that the function still has the time to
// answer — with a retry reply — before the platform kills it. With less
// than 4×CallMargin left, a quarter of what is left is kept.
const CallMargin = time.Second

// CallContext is ctx bounded for one store call (or the few one request
// makes): it ends DefaultCallTimeout from now, or CallMargin before ctx's
// own deadline when that comes first. Every request the AWS SDK sends
// under it, and every retry it would make, stops at that deadline; the
// call then fails with a transient error (context.DeadlineExceeded), which
// the webhook answers with a prompt retry reply. Cancel it when the call
// returns.
func CallContext(ctx context.Context) (context.Context, context.CancelFunc) {
	limit := time.Now().Add(DefaultCallTimeout)
	if d, ok := ctx.Deadline(); ok {
		margin := min(CallMargin, time.Until(d)/4)
		if cut := d.Add(-margin); cut.Before(limit) {
			limit = cut
		}
	}
	return context.WithDeadline(ctx, limit)
}
