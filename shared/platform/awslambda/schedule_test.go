package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/testkit"
)

// ticker is a function with a Schedule that records its tick and request id.
func ticker(got *platform.Tick, id *string) platform.Function {
	return platform.Function{
		Name: "ticker",
		Schedule: func(ctx context.Context, t platform.Tick) (any, error) {
			*got, *id = t, platform.RequestID(ctx)
			return map[string]string{"ran": t.Name}, nil
		},
	}
}

func TestSchedules(t *testing.T) {
	tests := []struct {
		name  string
		event json.RawMessage
		want  platform.Tick
		id    string // request id without a Lambda context
	}{
		{
			name:  "scheduler-input.json",
			event: testkit.Fixture(t, "scheduler-input.json"),
			want: platform.Tick{Name: "archive-records", Time: time.Date(2022, 3, 22, 18, 59, 43, 0, time.UTC),
				Payload: json.RawMessage(`{"olderThanDays": 6}`)},
		},
		{
			name:  "scheduler input without time or payload",
			event: json.RawMessage(`{"schedule":"sweep"}`),
			want:  platform.Tick{Name: "sweep"},
		},
		{
			name:  "scheduler input with null payload",
			event: json.RawMessage(`{"schedule":"sweep","payload":null}`),
			want:  platform.Tick{Name: "sweep"},
		},
		{
			name:  "cloudwatch-scheduled-event.json",
			event: testkit.Fixture(t, "cloudwatch-scheduled-event.json"),
			want: platform.Tick{Name: "SampleRule", Time: time.Date(2016, 12, 30, 18, 44, 49, 0, time.UTC),
				Payload: json.RawMessage(`{}`)},
			id: "890abcde-f123-4567-890a-bcdef1234567",
		},
		{
			name: "scheduled event from a rule on a custom bus",
			event: json.RawMessage(`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events",
				"time":"2024-01-02T03:04:05Z","resources":["arn:aws:events:us-east-1:123456789012:rule/my-bus/nightly"],"detail":{}}`),
			want: platform.Tick{Name: "nightly", Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Payload: json.RawMessage(`{}`)},
			id:   "x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got platform.Tick
			var id string
			h := Handler(ticker(&got, &id))
			out, err := h(context.Background(), tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := out.(map[string]string); m["ran"] != tt.want.Name {
				t.Errorf("result %v", out)
			}
			if got.Name != tt.want.Name || !got.Time.Equal(tt.want.Time) || string(got.Payload) != string(tt.want.Payload) {
				t.Errorf("tick:\n got %+v (payload %s)\nwant %+v (payload %s)", got, got.Payload, tt.want, tt.want.Payload)
			}
			if id != tt.id {
				t.Errorf("request id %q, want %q", id, tt.id)
			}
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "inv"})
			h(ctx, tt.event)
			if id != "inv" {
				t.Errorf("request id under Lambda %q, want its AwsRequestID", id)
			}
		})
	}
}

func TestScheduleFailures(t *testing.T) {
	noSchedule := Handler(platform.Function{Name: "webhook"})
	for _, f := range []string{"scheduler-input.json", "cloudwatch-scheduled-event.json"} {
		if _, err := noSchedule(context.Background(), testkit.Fixture(t, f)); !errors.Is(err, platform.ErrNoSchedule) {
			t.Errorf("%s at a function without a schedule: %v, want ErrNoSchedule", f, err)
		}
	}

	panics := Handler(platform.Function{Name: "p", Schedule: func(context.Context, platform.Tick) (any, error) {
		panic("kaput")
	}})
	if _, err := panics(context.Background(), testkit.Fixture(t, "scheduler-input.json")); err == nil || !strings.Contains(err.Error(), "kaput") {
		t.Errorf("panicking schedule: %v", err)
	}

	failing := Handler(platform.Function{Name: "f", Schedule: func(context.Context, platform.Tick) (any, error) {
		return nil, errors.New("tencent unreachable")
	}})
	if _, err := failing(context.Background(), testkit.Fixture(t, "scheduler-input.json")); err == nil || err.Error() != "tencent unreachable" {
		t.Errorf("failing schedule: %v", err)
	}

	var tick platform.Tick
	var id string
	h := Handler(ticker(&tick, &id))
	for _, ev := range []string{
		`{"schedule":"x","time":"yesterday"}`,
		`{"schedule":""}`,
		`{"schedule":42}`,
		`{"version":"0","detail-type":"Scheduled Event","source":"aws.events","resources":[]}`,
	} {
		if _, err := h(context.Background(), json.RawMessage(ev)); !errors.Is(err, platform.ErrUnknownEvent) {
			t.Errorf("%s: %v, want ErrUnknownEvent", ev, err)
		}
	}
}

func TestUnknownEvents(t *testing.T) {
	var got seen
	h := Handler(echo(&got, nil))
	for _, ev := range []string{
		``, `null`, `[]`, `"hello"`, `42`, `{}`, `{"foo":"bar"}`, `garbage`,
		`{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`,
		`{"version":"2.0","routeKey":"$default"}`, // v2 without a method
		`{"version":"0","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2"}`,
		`{"httpMethod":["GET"]}`,
	} {
		out, err := h(context.Background(), json.RawMessage(ev))
		if !errors.Is(err, platform.ErrUnknownEvent) || out != nil {
			t.Errorf("%q: (%v, %v), want ErrUnknownEvent", ev, out, err)
		}
	}
}
