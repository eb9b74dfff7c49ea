package scf

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/testkit"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

func TestTimers(t *testing.T) {
	tests := []struct {
		name  string
		event json.RawMessage
		want  platform.Tick
	}{
		{
			name:  "timer-event.json",
			event: testkit.Fixture(t, "timer-event.json"),
			want: platform.Tick{Name: "EveryDay", Time: time.Date(2019, 2, 21, 11, 49, 0, 0, time.UTC),
				Payload: json.RawMessage(`"user define msg body"`)},
		},
		{
			name:  "timer-event-scf-go-lib.json",
			event: testkit.Fixture(t, "timer-event-scf-go-lib.json"),
			want:  platform.Tick{Name: "oneminute", Time: time.Date(2019, 8, 17, 5, 26, 0, 0, time.UTC)},
		},
		{
			name:  "JSON message",
			event: json.RawMessage(`{"Type":"Timer","TriggerName":"archive","Time":"2024-05-01T03:00:00Z","Message":"{\"olderThanDays\":6}"}`),
			want: platform.Tick{Name: "archive", Time: time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC),
				Payload: json.RawMessage(`{"olderThanDays":6}`)},
		},
		{
			name:  "message that is a JSON number",
			event: json.RawMessage(`{"Type":"Timer","TriggerName":"n","Time":"2024-05-01T03:00:00Z","Message":"42"}`),
			want:  platform.Tick{Name: "n", Time: time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC), Payload: json.RawMessage(`42`)},
		},
		{
			name:  "message sent as a JSON object, as older SCF documents it",
			event: json.RawMessage(`{"Type":"Timer","TriggerName":"o","Time":"2024-05-01T03:00:00Z","Message":{"k":"v"}}`),
			want:  platform.Tick{Name: "o", Time: time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC), Payload: json.RawMessage(`{"k":"v"}`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got platform.Tick
			var id string
			h := Handler(platform.Function{Name: "records", Schedule: func(ctx context.Context, tick platform.Tick) (any, error) {
				got, id = tick, platform.RequestID(ctx)
				return "archived", nil
			}})
			ctx := functioncontext.NewContext(context.Background(), &functioncontext.FunctionContext{RequestID: "scf-req"})
			out, err := h(ctx, tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if out != "archived" {
				t.Errorf("result %v", out)
			}
			if got.Name != tt.want.Name || !got.Time.Equal(tt.want.Time) || string(got.Payload) != string(tt.want.Payload) {
				t.Errorf("tick:\n got %+v (payload %s)\nwant %+v (payload %s)", got, got.Payload, tt.want, tt.want.Payload)
			}
			if id != "scf-req" {
				t.Errorf("request id %q, want SCF's invocation id", id)
			}
		})
	}
}

func TestTimerFailures(t *testing.T) {
	if _, err := Handler(platform.Function{Name: "webhook"})(context.Background(), testkit.Fixture(t, "timer-event.json")); !errors.Is(err, platform.ErrNoSchedule) {
		t.Errorf("timer at a function without a schedule: %v, want ErrNoSchedule", err)
	}
	panics := Handler(platform.Function{Name: "p", Schedule: func(context.Context, platform.Tick) (any, error) { panic("kaput") }})
	if _, err := panics(context.Background(), testkit.Fixture(t, "timer-event.json")); err == nil || !strings.Contains(err.Error(), "kaput") {
		t.Errorf("panicking schedule: %v", err)
	}
	ok := Handler(platform.Function{Name: "ok", Schedule: func(context.Context, platform.Tick) (any, error) { return nil, nil }})
	if _, err := ok(context.Background(), json.RawMessage(`{"Type":"Timer","TriggerName":"t","Time":"21 Feb 2019"}`)); !errors.Is(err, platform.ErrUnknownEvent) {
		t.Errorf("bad Time: %v, want ErrUnknownEvent", err)
	}
}
