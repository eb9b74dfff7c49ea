package startcall

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
)

// ScheduleResult is what one schedule firing did.
type ScheduleResult struct {
	Schedule string     `json:"schedule"`
	Time     time.Time  `json:"time"`
	Claimed  bool       `json:"claimed"`         // false: another firing for this time already ran
	Calls    []*Outcome `json:"calls,omitempty"` // one per request, in order
}

// ClaimKey is the table key that claims one firing of a schedule: the same
// schedule fired twice for the same time claims the same key.
func ClaimKey(schedule string, at time.Time) string {
	return fmt.Sprintf("startcall#schedule#%s#%s", schedule, at.UTC().Format(time.RFC3339Nano))
}

// schedule handles a scheduled trigger (EventBridge Scheduler on AWS, a
// timer on SCF) whose payload is one call request or a list of them. The
// whole payload is checked first; then the firing is claimed in the table
// with a conditional write, and only the claimant starts calls, so a
// schedule fired twice for the same time never rings twice. A retried
// firing finds the claim and starts nothing: a call is started at most once.
func (h *service) schedule(ctx context.Context, t platform.Tick) (any, error) {
	name := t.Name
	if name == "" {
		name = "default"
	}
	at := t.Time
	if at.IsZero() {
		// No scheduled time from the platform: firings in the same minute
		// count as one.
		at = h.now().UTC().Truncate(time.Minute)
	}
	res := &ScheduleResult{Schedule: name, Time: at}
	reqs, raws, err := parsePayload(t.Payload)
	if err != nil {
		return res, fmt.Errorf("startcall: schedule %s: %w", name, err)
	}
	sctx, cancel := store.CallContext(ctx)
	claimed, err := h.store.Claim(sctx, ClaimKey(name, at), laterOf(at, h.now()).Add(claimFor))
	cancel()
	if err != nil {
		return res, fmt.Errorf("startcall: schedule %s: claiming the firing at %s: %w", name, at.Format(time.RFC3339), err)
	}
	if !claimed {
		h.log.Info("schedule firing already claimed; starting nothing", "schedule", name, "time", at)
		return res, nil
	}
	res.Claimed = true
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for i, req := range reqs {
		opCtx, cancel := context.WithTimeout(ctx, opTimeout)
		out := h.startCall(opCtx, req, raws[i], "schedule:"+name)
		cancel()
		res.Calls = append(res.Calls, out)
		if out.Error != "" {
			errs = append(errs, fmt.Errorf("request %d: %s", i, out.Error))
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("startcall: schedule %s: %w", name, errors.Join(errs...))
	}
	return res, nil
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
