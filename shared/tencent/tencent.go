// Package tencent is the vocabulary both directions of callfn's Tencent
// integration share: the two API generations (V4, the IM call engine; V1,
// the CallKit backend), the normalisation of their spellings of call
// results, media and call types into callfn's (shared/call), the
// seconds-or-milliseconds reading of their timestamps, and the call record
// as each generation spells it (a v4 record arrives both inside
// Call.CallbackAfterEndCall and in the records commands' replies).
//
// It holds no network code and imports no Tencent SDK. What comes in is in
// tencent/callback (verify, parse and answer Tencent's callbacks); what goes
// out is in tencent/rest (the REST client, UserSig, regional domains,
// commands, error kinds and the Cloud API media ingest).
package tencent

import (
	"strings"

	"github.com/callfn/callfn/shared/call"
)

// The two generations of Tencent's call APIs and callbacks.
const (
	V4 = "v4" // the IM call engine: REST on the IM domains, CallbackCommand callbacks
	V1 = "v1" // the CallKit backend: REST on the CallKit domains, command callbacks
)

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
