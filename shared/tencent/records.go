package tencent

import (
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

// Facts normalizes the record: the same facts as the V4Record of the same
// fields (Media, CallType and Result read either generation's spelling).
func (r *V1Record) Facts() call.Facts {
	v4 := V4Record{CallId: r.CallID, Caller_Account: r.Caller, MediaType: r.MediaType, CallType: r.CallType,
		StartTime: r.StartCallTs, AcceptTime: r.AcceptTs, EndTime: r.EndTs, CallResult: r.CallResult,
		CalleeList_Account: r.Callees, RoomId: r.RoomID}
	return v4.Facts()
}
