package tencent

import (
	"strings"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/jsonx"
)

// V4Record is a call record as the v4 API spells it: in
// Call.CallbackAfterEndCall's CallRecord and in call_record_http_srv replies.
// Times are in seconds.
type V4Record struct {
	CallId             jsonx.String
	Caller_Account     jsonx.String
	MediaType          jsonx.String
	CallType           jsonx.String
	StartTime          jsonx.Int
	AcceptTime         jsonx.Int
	EndTime            jsonx.Int
	CallResult         jsonx.String
	CalleeList_Account []jsonx.String
	RoomId             jsonx.String
	RoomIdType         jsonx.Int
}

// Facts normalizes the record.
func (r *V4Record) Facts() call.Facts {
	f := call.Facts{
		Status:     call.StatusEnded,
		MediaType:  Media(string(r.MediaType)),
		CallType:   CallType(string(r.CallType)),
		Caller:     string(r.Caller_Account),
		RoomID:     string(r.RoomId),
		StartTime:  Millis(int64(r.StartTime)),
		AcceptTime: Millis(int64(r.AcceptTime)),
		EndTime:    Millis(int64(r.EndTime)),
		Result:     Result(string(r.CallResult)),
	}
	for _, c := range r.CalleeList_Account {
		if string(c) != f.Caller {
			f.Callees = append(f.Callees, string(c))
		}
	}
	return f
}

// V1Record is a call record as the v1 (CallKit) API spells it, in
// records/get_record_by_callId and get_records_by_filter replies. Times are
// in seconds.
type V1Record struct {
	CallID          jsonx.String   `json:"callId"`
	SDKAppID        jsonx.String   `json:"sdkAppId"`
	MediaType       jsonx.String   `json:"mediaType"`
	RoomID          jsonx.String   `json:"roomId"`
	StartCallTs     jsonx.Int      `json:"startCallTs"`
	AcceptTs        jsonx.Int      `json:"acceptTs"`
	EndTs           jsonx.Int      `json:"endTs"`
	Caller          jsonx.String   `json:"caller"`
	TotalUserNumber jsonx.Int      `json:"totalUserNumber"`
	CallType        jsonx.String   `json:"callType"`
	CallResult      jsonx.String   `json:"callResult"`
	Callees         []jsonx.String `json:"callees"`
}

// Facts normalizes the record.
func (r *V1Record) Facts() call.Facts {
	f := call.Facts{
		Status:     call.StatusEnded,
		MediaType:  Media(string(r.MediaType)),
		CallType:   CallType(string(r.CallType)),
		Caller:     string(r.Caller),
		RoomID:     string(r.RoomID),
		StartTime:  Millis(int64(r.StartCallTs)),
		AcceptTime: Millis(int64(r.AcceptTs)),
		EndTime:    Millis(int64(r.EndTs)),
		Result:     Result(string(r.CallResult)),
	}
	for _, c := range r.Callees {
		if string(c) != f.Caller {
			f.Callees = append(f.Callees, string(c))
		}
	}
	return f
}

// Result normalizes a call result from either generation ("NotAnswer",
// "not_answer", "Normal_end"...) to call.Result*; an unknown result is kept,
// lower-cased.
func Result(s string) string {
	k := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", ""))
	switch k {
	case "":
		return ""
	case "cancel":
		return call.ResultCancel
	case "reject":
		return call.ResultReject
	case "notanswer":
		return call.ResultNotAnswer
	case "normalend":
		return call.ResultNormalEnd
	case "callbusy", "busy":
		return call.ResultBusy
	case "interrupt":
		return call.ResultInterrupt
	case "offline":
		return call.ResultOffline
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// V4Result and V1Result spell a normalized result as each generation's
// filters expect it ("" when the generation has no such result).
func V4Result(result string) string {
	return map[string]string{
		call.ResultCancel: "Cancel", call.ResultReject: "Reject", call.ResultNotAnswer: "NotAnswer",
		call.ResultNormalEnd: "NormalEnd", call.ResultBusy: "CallBusy", call.ResultInterrupt: "Interrupt",
		call.ResultOffline: "Offline",
	}[result]
}

func V1Result(result string) string {
	if V4Result(result) == "" {
		return ""
	}
	return result // v1 spells results as callfn does
}

// Media normalizes "Video"/"video"/"Audio"/"audio" to call.Media*; other
// values are kept, lower-cased.
func Media(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CallType normalizes "SingleCall"/"single" and "MultiCall"/"group".
func CallType(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return ""
	case "singlecall", "single":
		return call.TypeSingle
	case "multicall", "group", "groupcall", "multi":
		return call.TypeGroup
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// Millis reads a provider timestamp as milliseconds: Tencent sends seconds
// in records and v1 callbacks and milliseconds in v4 EventTime, and samples
// disagree with the tables, so a value below 10^11 is taken as seconds.
func Millis(v int64) int64 {
	if v > 0 && v < 1e11 {
		return v * 1000
	}
	return v
}
