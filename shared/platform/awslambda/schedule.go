package awslambda

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/callfn/callfn/shared/platform"
)

// SchedulerInput is the Input callfn's EventBridge Scheduler schedules send
// (Scheduler passes a target's Input verbatim and puts its context
// attributes into it):
//
//	{"schedule": "archive", "time": "<aws.scheduler.scheduled-time>", "payload": {...}}
type SchedulerInput struct {
	Schedule string          `json:"schedule"`
	Time     string          `json:"time"` // RFC 3339, e.g. 2022-03-22T18:59:43Z; may be empty
	Payload  json.RawMessage `json:"payload,omitempty"`
}

func runSchedulerInput(ctx context.Context, fn platform.Function, event json.RawMessage, invocationID string) (any, error) {
	in, err := platform.DecodeEvent[SchedulerInput](event, "scheduler input")
	if err != nil {
		return nil, err
	}
	if in.Schedule == "" {
		return nil, fmt.Errorf("%w: scheduler input names no schedule", platform.ErrUnknownEvent)
	}
	t := platform.Tick{Name: in.Schedule, Payload: in.Payload}
	if in.Time != "" {
		if t.Time, err = time.Parse(time.RFC3339, in.Time); err != nil {
			return nil, fmt.Errorf("%w: scheduler input %q: time: %v", platform.ErrUnknownEvent, in.Schedule, err)
		}
	}
	if string(t.Payload) == "null" {
		t.Payload = nil
	}
	return platform.RunSchedule(platform.WithRequestID(ctx, invocationID), fn, t)
}

// runScheduledEvent runs a classic EventBridge rule's Scheduled Event: the
// tick is named after the rule, the last segment of resources[0]
// (arn:aws:events:REGION:ACCOUNT:rule/[BUS/]NAME).
func runScheduledEvent(ctx context.Context, fn platform.Function, event json.RawMessage, invocationID string) (any, error) {
	e, err := platform.DecodeEvent[events.CloudWatchEvent](event, "scheduled event")
	if err != nil {
		return nil, err
	}
	if len(e.Resources) == 0 {
		return nil, fmt.Errorf("%w: scheduled event %s names no rule", platform.ErrUnknownEvent, e.ID)
	}
	t := platform.Tick{Name: ruleName(e.Resources[0]), Time: e.Time, Payload: e.Detail}
	if string(t.Payload) == "null" {
		t.Payload = nil
	}
	return platform.RunSchedule(platform.WithRequestID(ctx, cmp.Or(invocationID, e.ID)), fn, t)
}

func ruleName(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}
