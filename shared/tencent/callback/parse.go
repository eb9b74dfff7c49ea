package callback

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/jsonx"
	"github.com/callfn/callfn/shared/tencent"
)

// parse normalizes a callback of generation gen into an Event (see
// Callback.Event). Bodies are decoded by jsonx.DecodeFast.
func parse(gen string, q url.Values, body []byte) (call.Event, error) {
	ev := call.Event{Provider: call.Tencent, Channel: gen, Raw: string(body)}
	var err error
	if gen == tencent.V1 {
		err = parseV1(&ev, query(q, "command"), body)
	} else {
		err = parseV4(&ev, query(q, "CallbackCommand"), body)
	}
	if err != nil {
		return ev, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	ev.DropInsaneTimes() // already read through millis; a guarantee for what comes later
	return ev, nil
}

// millis reads a callback's time as ms (see tencent.Millis), and as 0, no
// time, when it is outside [call.MinTime, call.MaxTime]: the raw body keeps
// what was sent.
func millis(v jsonx.Int) int64 { return call.SaneTime(tencent.Millis(int64(v))) }

// v4 callback commands.
const (
	CmdAfterStartCall     = "Call.CallbackAfterStartCall"
	CmdAfterEndCall       = "Call.CallbackAfterEndCall"
	CmdAfterMemberChanged = "Call.CallbackAfterMemberChanged"
)

type v4User struct {
	User_Account jsonx.String
	Status       jsonx.String
	ActionType   jsonx.String
}

type v4Info struct {
	CallId        jsonx.String
	CallMediaType jsonx.String // the sample's spelling
	MediaType     jsonx.String // the field table's
	ChatGroupId   jsonx.String
	RoomId        jsonx.String
	RoomIdType    jsonx.Int
}

type v4Callback struct {
	CallbackCommand jsonx.String
	CallInfo        *v4Info
	CallRecord      *tencent.V4Record
	CallId          jsonx.String
	UserList        []v4User
	ChangedUserList []v4User
	EventTime       jsonx.Int
}

func parseV4(ev *call.Event, urlCommand string, body []byte) error {
	b := new(v4Callback)
	if err := jsonx.DecodeFast(body, b); err != nil {
		return err
	}
	ev.Command = string(b.CallbackCommand)
	if ev.Command == "" {
		ev.Command = urlCommand
	}
	ev.EventTime = millis(b.EventTime)
	ev.CallID = string(b.CallId)
	f := &ev.Facts
	if ci := b.CallInfo; ci != nil {
		if ev.CallID == "" {
			ev.CallID = string(ci.CallId)
		}
		f.MediaType = tencent.Media(string(ci.CallMediaType))
		if f.MediaType == "" {
			f.MediaType = tencent.Media(string(ci.MediaType))
		}
		f.RoomID = string(ci.RoomId)
		if ci.ChatGroupId != "" {
			f.CallType = call.TypeGroup
		}
	}
	if r := b.CallRecord; r != nil {
		if ev.CallID == "" {
			ev.CallID = string(r.CallId)
		}
		*f = r.Facts()
	}
	for _, u := range b.UserList {
		switch acct := string(u.User_Account); {
		case acct == "":
		case strings.EqualFold(string(u.Status), "Calling") && ev.Command == CmdAfterStartCall && f.Caller == "":
			f.Caller = acct
		case acct != f.Caller:
			f.Callees = append(f.Callees, acct)
		}
	}
	switch ev.Command {
	case CmdAfterStartCall:
		ev.Event = "call_started"
		f.Status = call.StatusRinging
		f.StartTime = ev.EventTime
		if f.CallType == "" {
			f.CallType = call.TypeSingle
			if len(b.UserList) > 2 {
				f.CallType = call.TypeGroup
			}
		}
	case CmdAfterEndCall:
		ev.Event = "call_ended"
		f.Status = call.StatusEnded
	case CmdAfterMemberChanged:
		ev.Event = "member_changed"
		var actions []string
		for _, u := range b.ChangedUserList {
			act := string(u.ActionType)
			actions = append(actions, string(u.User_Account)+":"+act)
			if a := strings.ToLower(strings.ReplaceAll(act, " ", "")); a == "answer" || a == "accept" {
				f.Status = call.StatusOngoing
				f.AcceptTime = ev.EventTime
			}
		}
		if len(actions) > 0 {
			f.Detail = map[string]string{"actions": strings.Join(actions, ",")}
		}
	default:
		ev.Event = eventName(ev.Command)
	}
	return nil
}

// eventName names an unknown command's event after the command itself.
func eventName(command string) string {
	name := strings.ToLower(strings.TrimPrefix(command, "Call."))
	if name == "" {
		return "unknown"
	}
	return name
}

type v1Callback struct {
	UserId      jsonx.String
	RoomId      jsonx.String
	TotalNum    jsonx.Int
	MediaType   jsonx.String
	CallType    jsonx.String
	CallId      jsonx.String
	Role        jsonx.String
	Event       jsonx.String
	CallResult  jsonx.String
	EventTime   jsonx.Int
	StartCallTs jsonx.Int
	AcceptTs    jsonx.Int
	EndTs       jsonx.Int
}

// v1Commands maps each v1 command to its normalized event, the status it
// puts the call in, and the result it implies ("" when none).
var v1Commands = map[string]struct{ event, status, result string }{
	// status commands: the call ended with this result
	"cancel":     {"call_ended", call.StatusEnded, call.ResultCancel},
	"reject":     {"call_ended", call.StatusEnded, call.ResultReject},
	"not_answer": {"call_ended", call.StatusEnded, call.ResultNotAnswer},
	"normal_end": {"call_ended", call.StatusEnded, call.ResultNormalEnd},
	"call_busy":  {"call_ended", call.StatusEnded, call.ResultBusy},
	"interrupt":  {"call_ended", call.StatusEnded, call.ResultInterrupt},
	// caller-side events
	"caller_start_call":       {"call_started", call.StatusRinging, ""},
	"caller_call_accepted":    {"call_accepted", call.StatusOngoing, ""},
	"caller_call_missed":      {"call_ended", call.StatusEnded, call.ResultNotAnswer},
	"caller_call_rejected":    {"call_ended", call.StatusEnded, call.ResultReject},
	"caller_call_busy":        {"call_ended", call.StatusEnded, call.ResultBusy},
	"caller_cancel_call":      {"call_ended", call.StatusEnded, call.ResultCancel},
	"caller_call_failed":      {"call_failed", call.StatusEnded, ""},
	"caller_call_end":         {"call_ended", call.StatusEnded, ""},
	"caller_call_interrupted": {"call_ended", call.StatusEnded, call.ResultInterrupt},
	// callee-side events
	"callee_receive_call":     {"call_received", call.StatusRinging, ""},
	"callee_accept_call":      {"call_accepted", call.StatusOngoing, ""},
	"callee_not_answer_call":  {"call_ended", call.StatusEnded, call.ResultNotAnswer},
	"callee_reject_call":      {"call_ended", call.StatusEnded, call.ResultReject},
	"callee_ignore_call":      {"call_ignored", "", ""},
	"callee_call_canceled":    {"call_ended", call.StatusEnded, call.ResultCancel},
	"callee_call_end":         {"call_ended", call.StatusEnded, ""},
	"callee_call_interrupted": {"call_ended", call.StatusEnded, call.ResultInterrupt},
	// midway
	"invite_user":        {"member_changed", "", ""},
	"join_in_group_call": {"member_changed", "", ""},
	// in Tencent's own example, in no list
	v1CallEnd: {"call_ended", call.StatusEnded, ""},
}

// v1CallEnd is the command of Tencent's own v1 example that no command list
// holds: the webhook reads it, but no callback configuration can ask for it.
const v1CallEnd = "call_end"

// v4Commands are the v4 commands, in the order of Tencent's list.
var v4Commands = []string{CmdAfterStartCall, CmdAfterEndCall, CmdAfterMemberChanged}

// Commands are the callback commands of generation gen (tencent.V4, else
// tencent.V1) that Construct reads, spelled as a callback configuration
// names them (v4 CallbackCommandList, v1 actions): every command the
// webhook handles, so configuring them all loses nothing callfn can use.
// v1's are sorted. The slice is the caller's.
func Commands(gen string) []string {
	if gen != tencent.V1 {
		return slices.Clone(v4Commands)
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(v1Commands)) {
		if k != v1CallEnd {
			out = append(out, k)
		}
	}
	return out
}

func parseV1(ev *call.Event, command string, body []byte) error {
	var b v1Callback
	if err := jsonx.DecodeFast(body, &b); err != nil {
		return err
	}
	ev.Command = command
	ev.CallID = string(b.CallId)
	ev.EventTime = millis(b.EventTime)
	f := &ev.Facts
	f.MediaType = tencent.Media(string(b.MediaType))
	f.CallType = tencent.CallType(string(b.CallType))
	f.RoomID = string(b.RoomId)
	if strings.EqualFold(string(b.Role), "caller") {
		f.Caller = string(b.UserId)
	} else if b.UserId != "" {
		f.Callees = []string{string(b.UserId)}
	}
	f.StartTime = millis(b.StartCallTs)
	f.AcceptTime = millis(b.AcceptTs)
	f.EndTime = millis(b.EndTs)
	m, known := v1Commands[strings.ToLower(command)]
	if !known {
		ev.Event = eventName(command)
		if ev.Event == "unknown" && b.Event != "" {
			ev.Event = strings.ToLower(string(b.Event))
		}
		return nil
	}
	ev.Event, f.Status, f.Result = m.event, m.status, m.result
	if r := tencent.Result(string(b.CallResult)); r != "" && f.Status == call.StatusEnded {
		f.Result = r
	}
	switch f.Status {
	case call.StatusRinging:
		if f.StartTime == 0 {
			f.StartTime = ev.EventTime
		}
	case call.StatusOngoing:
		if f.AcceptTime == 0 {
			f.AcceptTime = ev.EventTime
		}
	case call.StatusEnded:
		if f.EndTime == 0 {
			f.EndTime = ev.EventTime
		}
	}
	return nil
}
