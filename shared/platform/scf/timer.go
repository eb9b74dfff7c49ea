package scf

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callfn/callfn/shared/platform"
)

// timerEvent is scf-go-lib's events.TimerEvent with Message kept raw: the
// trigger's "input parameter" arrives as a string, but older SCF documents
// it as "a string or JSON data structure".
type timerEvent struct {
	Type        string
	TriggerName string
	Time        string
	Message     json.RawMessage
}

// runTimer runs a timer trigger: the tick is named after the trigger, and its
// payload is the trigger's message when that is JSON, else the message as a
// JSON string (and empty when the message is).
func runTimer(ctx context.Context, fn platform.Function, event json.RawMessage, invocationID string) (any, error) {
	e, err := platform.DecodeEvent[timerEvent](event, "timer event")
	if err != nil {
		return nil, err
	}
	t := platform.Tick{Name: e.TriggerName, Payload: timerPayload(e.Message)}
	if e.Time != "" {
		if t.Time, err = time.Parse(time.RFC3339, e.Time); err != nil {
			return nil, fmt.Errorf("%w: timer %q: Time: %v", platform.ErrUnknownEvent, e.TriggerName, err)
		}
	}
	return platform.RunSchedule(platform.WithRequestID(ctx, invocationID), fn, t)
}

func timerPayload(msg json.RawMessage) json.RawMessage {
	var s string
	if len(msg) == 0 || string(msg) == "null" {
		return nil
	}
	if json.Unmarshal(msg, &s) != nil {
		return msg // not a string: JSON already
	}
	if s == "" {
		return nil
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return msg // the JSON string itself
}
