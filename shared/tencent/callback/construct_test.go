package callback_test

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/testkit"
)

const (
	appID = 1400000001
	token = "cb-token"
)

var now = time.Unix(1740464200, 0)

// signed is q with RequestTime at and its Sign under tok.
func signed(q url.Values, tok string, at time.Time) url.Values {
	rt := strconv.FormatInt(at.Unix(), 10)
	q.Set("RequestTime", rt)
	q.Set("Sign", callback.Sign(tok, rt))
	return q
}

func v4URL(app string) url.Values {
	return url.Values{"SdkAppid": {app}, "CallbackCommand": {callback.CmdAfterStartCall}, "contenttype": {"json"}}
}

func v1URL(app, command string) url.Values {
	return url.Values{"sdkappid": {app}, "command": {command}, "contenttype": {"json"}}
}

func TestConstruct(t *testing.T) {
	v4 := testkit.Fixture(t, "v4_after_start.json")
	v1 := testkit.Fixture(t, "v1_normal_end.json")
	ours := strconv.Itoa(appID)
	opts := callback.Options{AppID: appID, Token: token, Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name    string
		q       url.Values
		body    []byte
		o       callback.Options
		want    error // nil: accepted
		gen     string
		command string
	}{
		{"v4 signed", signed(v4URL(ours), token, now), v4, opts, nil, tencent.V4, callback.CmdAfterStartCall},
		{"v1 signed", signed(v1URL(ours, "callee_call_end"), token, now), v1, opts, nil, tencent.V1, "callee_call_end"},
		{"no token: no Sign needed", v4URL(ours), v4, callback.Options{AppID: appID}, nil, tencent.V4, callback.CmdAfterStartCall},
		{"no token: a Sign is ignored", signed(v4URL(ours), "other", now), v4, callback.Options{AppID: appID}, nil, tencent.V4, callback.CmdAfterStartCall},
		{"no clock: time.Now", signed(v4URL(ours), token, time.Now()), v4, callback.Options{AppID: appID, Token: token}, nil, tencent.V4, callback.CmdAfterStartCall},
		// The app comes first: another app's callback is refused as such,
		// however it is signed and whatever its body.
		{"another app", signed(v4URL("1400000002"), token, now), v4, opts, callback.ErrWrongApp, tencent.V4, callback.CmdAfterStartCall},
		{"another app, unsigned, malformed", v1URL("1400000002", "cancel"), []byte(`{`), opts, callback.ErrWrongApp, tencent.V1, "cancel"},
		{"no app configured", signed(v4URL("0"), token, now), v4, callback.Options{Token: token, Now: opts.Now}, callback.ErrWrongApp, tencent.V4, callback.CmdAfterStartCall},
		// Then the Sign, before the body is read.
		{"unsigned", v4URL(ours), v4, opts, callback.ErrNotSigned, tencent.V4, callback.CmdAfterStartCall},
		{"wrong token", signed(v4URL(ours), "guessed", now), v4, opts, callback.ErrBadSign, tencent.V4, callback.CmdAfterStartCall},
		{"stale", signed(v4URL(ours), token, now.Add(-callback.SignWindow-time.Second)), v4, opts, callback.ErrSignExpired, tencent.V4, callback.CmdAfterStartCall},
		{"unsigned, malformed", v1URL(ours, "cancel"), []byte(`{`), opts, callback.ErrNotSigned, tencent.V1, "cancel"},
		// Then the body.
		{"malformed", signed(v4URL(ours), token, now), []byte(`{`), opts, callback.ErrMalformed, tencent.V4, callback.CmdAfterStartCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb, err := callback.Construct(tc.q, tc.body, tc.o)
			if !errors.Is(err, tc.want) { // errors.Is(err, nil) is err == nil
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			// Generation and command are set whatever the error: the log
			// and the reply need them.
			if cb.Generation != tc.gen || cb.Command != tc.command {
				t.Errorf("generation %q command %q, want %q %q", cb.Generation, cb.Command, tc.gen, tc.command)
			}
			if err != nil {
				if cb.Event.Provider != "" {
					t.Errorf("a refused callback has an event: %+v", cb.Event)
				}
				return
			}
			ev := cb.Event
			if ev.Provider != call.Tencent || ev.Channel != tc.gen || ev.Raw != string(tc.body) || ev.CallID == "" {
				t.Errorf("event %+v", ev)
			}
			if ev.DeliveryID != "" || ev.ReceivedAt != 0 || ev.RequestID != "" {
				t.Errorf("Construct set what the caller sets: %+v", ev)
			}
		})
	}
}

// Identify reads the generation and command of a request whose body could
// not be read, for answering it in its own format.
func TestIdentify(t *testing.T) {
	if cb := callback.Identify(v1URL("1", "cancel"), nil); cb.Generation != tencent.V1 || cb.Command != "cancel" {
		t.Errorf("v1: %+v", cb)
	}
	if cb := callback.Identify(v4URL("1"), nil); cb.Generation != tencent.V4 || cb.Command != callback.CmdAfterStartCall {
		t.Errorf("v4: %+v", cb)
	}
	if cb := callback.Identify(url.Values{}, nil); cb.Generation != tencent.V4 || cb.Command != "" {
		t.Errorf("nothing: %+v", cb)
	}
}
