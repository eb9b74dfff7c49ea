// Package callback is the INBOUND side of callfn's Tencent integration:
// it verifies, parses and answers the call callbacks Tencent sends to the
// webhook. Construct is its one entry point (as stripe-go's
// webhook.ConstructEvent): it checks the callback is for this app and, with
// a callback token configured, carries a valid Sign, then normalizes it into
// a call.Event. Its errors wrap exported sentinels, so the caller picks an
// HTTP status with errors.Is; Reply writes the answer in the callback's own
// generation's format.
//
// Two generations reach the same URL (spec §1.3):
//
//	v4 (IM call engine): query SdkAppid, CallbackCommand, ...; body carries
//	   CallbackCommand (Call.CallbackAfterStartCall, ...AfterEndCall,
//	   ...AfterMemberChanged); EventTime in ms.
//	v1 (CallKit backend): query sdkappid, command (lower case); body UserId,
//	   Role, Event, CallResult, EventTime in seconds.
//
// Sign computes the Sign Tencent puts on a callback URL; the local sandbox
// and tests sign with it. What callfn sends to Tencent is in tencent/rest.
package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
)

// Why Construct refused a callback. Each error it returns wraps exactly one
// of these (the sign errors are in sign.go). Their texts reach the sender in
// the reply.
var (
	ErrWrongApp  = errors.New("tencent: callback SDKAppID is missing or not this app's")
	ErrMalformed = errors.New("tencent: malformed callback")
)

// Options say what a callback must prove.
type Options struct {
	// AppID is this app's SDKAppID (CALLFN_TENCENT_SDKAPPID); 0, not
	// configured, accepts no callback.
	AppID uint64
	// Token is the callback token (CALLFN_TENCENT_CALLBACK_TOKEN); with
	// one, every callback must carry a valid Sign and RequestTime. Empty,
	// the URL's Sign is not checked (Tencent sends none).
	Token string
	// Now is the clock RequestTime is checked against (time.Now when nil).
	Now func() time.Time
}

// Callback is one callback as Construct read it.
type Callback struct {
	// Generation is tencent.V4 or tencent.V1, and Command the URL's command
	// (v4 CallbackCommand, v1 command). Both come from the URL (and, for
	// the generation, the body) alone, so they are set whatever Construct's
	// error: for the log and for Reply.
	Generation string
	Command    string
	// AppID is the SDKAppID the URL names, as sent ("" when none): for the
	// log of a callback refused as another app's (SDKAppIDs are not
	// secret; they ship inside the client app).
	AppID string
	// Event is the callback normalized, set when Construct succeeds. The
	// caller sets DeliveryID, ReceivedAt and RequestID; EventTime is 0 when
	// the callback has none; an unknown command is kept (Event names it).
	Event call.Event
}

// Construct verifies and parses one callback: q is its URL's query, body
// its bytes exactly as received. The checks run in this order, the first
// failure returned: the SDKAppID is o.AppID's (ErrWrongApp); with o.Token,
// Sign and RequestTime are valid now (ErrNotSigned, ErrBadSign,
// ErrSignExpired); the body parses (ErrMalformed).
func Construct(q url.Values, body []byte, o Options) (Callback, error) {
	cb := Identify(q, body)
	if err := verifyAppID(q, o.AppID); err != nil {
		return cb, err
	}
	if o.Token != "" {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		if err := verifyURL(q, o.Token, now()); err != nil {
			return cb, err
		}
	}
	ev, err := parse(cb.Generation, q, body)
	if err != nil {
		return cb, err
	}
	cb.Event = ev
	return cb, nil
}

// Identify is a callback's generation and command without verifying or
// parsing anything: for answering a request whose body could not even be
// read (then body is nil) in its generation's format.
func Identify(q url.Values, body []byte) Callback {
	gen := generation(q, body)
	return Callback{Generation: gen, Command: command(gen, q), AppID: query(q, "SdkAppid")}
}

// query looks a parameter up by name in any case: v4 sends SdkAppid, v1 sdkappid.
func query(q url.Values, name string) string {
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0]
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// generation tells a callback's generation from its URL: v1 carries
// "command", v4 "CallbackCommand". With neither in the URL, a body that has
// CallbackCommand is v4.
func generation(q url.Values, body []byte) string {
	if _, ok := q["command"]; ok {
		return tencent.V1
	}
	if query(q, "CallbackCommand") != "" || bytes.Contains(body, []byte(`"CallbackCommand"`)) {
		return tencent.V4
	}
	if query(q, "command") != "" {
		return tencent.V1
	}
	return tencent.V4
}

// command is the callback's command: v4's CallbackCommand, v1's command.
func command(gen string, q url.Values) string {
	if gen == tencent.V1 {
		return query(q, "command")
	}
	return query(q, "CallbackCommand")
}

// verifyAppID checks the URL's SDKAppID against ours; appID 0 (not
// configured) accepts nothing.
func verifyAppID(q url.Values, appID uint64) error {
	got, err := strconv.ParseUint(query(q, "SdkAppid"), 10, 64)
	if err != nil || appID == 0 || got != appID {
		return ErrWrongApp
	}
	return nil
}

// verifyURL checks the URL's Sign and RequestTime against token.
func verifyURL(q url.Values, token string, now time.Time) error {
	return verifySign(token, query(q, "RequestTime"), query(q, "Sign"), now)
}

// Reply is a callback answer in generation gen's own format: v4
// {"ActionStatus","ErrorInfo","ErrorCode"}, v1 {"ErrorCode","ErrorMessage"}.
// A nil err is success; its answers are made once (a caller must not
// modify them).
func Reply(gen string, err error) []byte {
	var v any
	switch {
	case err == nil && gen == tencent.V1:
		return replyV1OK
	case err == nil:
		return replyV4OK
	case gen == tencent.V1:
		v = struct {
			ErrorCode    int
			ErrorMessage string
		}{1, err.Error()}
	default:
		v = struct {
			ActionStatus string
			ErrorInfo    string
			ErrorCode    int
		}{"FAIL", err.Error(), 1}
	}
	b, _ := json.Marshal(v)
	return b
}

// The success answers, made once.
var (
	replyV1OK = []byte(`{"ErrorCode":0,"ErrorMessage":"Success"}`)
	replyV4OK = []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
)
