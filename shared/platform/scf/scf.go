// Package scf runs a callfn function on Tencent SCF (an event function on the
// Go runtime). Its Handler takes the events the function can be triggered
// by, recognised by shape:
//
//   - API Gateway trigger events (scf-go-lib events.APIGatewayRequest, plus
//     the isBase64Encoded flag real events carry), answered with an
//     events.APIGatewayResponse;
//   - timer trigger events (events.TimerEvent), run as a platform.Tick.
//
// Start serves Handler to SCF's runtime over net/rpc, the protocol of
// scf-go-lib's cloudfunction package (see rpc.go).
package scf

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/callfn/callfn/shared/platform"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

// Handler is fn as an SCF event handler. Events it does not recognise, and
// timers fired at a function without a Schedule, are errors: SCF records
// them as the invocation's error, and the process goes on serving.
func Handler(fn platform.Function) func(ctx context.Context, event json.RawMessage) (any, error) {
	h := fn.Handler()
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		var invocationID string
		if fc, ok := functioncontext.FromContext(ctx); ok {
			invocationID = fc.RequestID
		}
		switch shape(event) {
		case shapeAPIGateway:
			return platform.ServeEvent(ctx, h, event, invocationID, "API Gateway event", httpEvent, response)
		case shapeTimer:
			return runTimer(ctx, fn, event, invocationID)
		}
		return nil, fmt.Errorf("%w: %s: not an API Gateway or timer trigger event: %.120q",
			platform.ErrUnknownEvent, fn.Name, event)
	}
}

type eventShape int

const (
	shapeUnknown eventShape = iota
	shapeAPIGateway
	shapeTimer
)

func shape(event json.RawMessage) eventShape {
	var p struct {
		Type           string          `json:"Type"`
		HTTPMethod     string          `json:"httpMethod"`
		RequestContext json.RawMessage `json:"requestContext"`
	}
	if err := json.Unmarshal(event, &p); err != nil {
		return shapeUnknown
	}
	switch {
	case p.HTTPMethod != "" && len(p.RequestContext) > 0:
		return shapeAPIGateway
	case p.Type == "Timer":
		return shapeTimer
	}
	return shapeUnknown
}
