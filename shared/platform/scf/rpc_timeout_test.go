package scf

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
)

// Without a deadline, the function's timeout bounds the invocation's
// context, so that store calls stop before SCF ends it.
func TestRPCInvokeTimeLimitIsTheDeadline(t *testing.T) {
	c := serve(t, func(ctx context.Context, event json.RawMessage) (any, error) {
		d, ok := ctx.Deadline()
		return map[string]any{"left": time.Until(d).Milliseconds(), "ok": ok}, nil
	})
	var resp messages.InvokeResponse
	if err := c.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte(`{}`), TimeLimitInMs: 10000}, &resp); err != nil || resp.Error != nil {
		t.Fatal(err, resp.Error)
	}
	var r struct {
		Left int64
		OK   bool
	}
	json.Unmarshal(resp.Payload, &r)
	if !r.OK || r.Left > 10000 || r.Left < 5000 {
		t.Errorf("TimeLimitInMs 10000 and no deadline: deadline set %v, %d ms left", r.OK, r.Left)
	}
}
