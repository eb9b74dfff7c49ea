package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/callfn/callfn/shared/jsonx"
	"github.com/callfn/callfn/shared/tencent"
)

// The v4 call engine's commands (spec §1.1).
var (
	V4StartCallByRobot = Cmd{API: tencent.V4, Path: "call_engine_http_srv/start_call_by_robot"}
	V4EndCall          = Cmd{API: tencent.V4, Path: "call_engine_http_srv/end_call"}
	V4GetCallInfo      = Cmd{API: tencent.V4, Path: "call_engine_http_srv/get_call_info", Idempotent: true}
)

// Limits of start_call_by_robot's body, as Tencent documents them.
const (
	MinCallTimeout  = 10000  // ms
	MaxCallTimeout  = 600000 // ms
	MaxUserData     = 1000   // bytes
	MaxUserIDLen    = 32     // bytes, an IM account (UserID)
	MaxStrRoomIDLen = 64     // bytes, a TRTC string room id
	MaxIntRoomID    = 4294967294
)

// Room id types of the call API (CallInfo.RoomIdType).
const (
	RoomIdTypeInt    = 1
	RoomIdTypeString = 2
)

// StartCallRequest is start_call_by_robot's body, spelled as Tencent spells
// it so that Tencent's documentation applies as it is.
type StartCallRequest struct {
	Robot_Account      string
	CalleeList_Account []string
	Timeout            int64            // ms
	UserData           string           `json:",omitempty"`
	CallInfo           CallInfo         // MediaType is required
	OfflinePushInfo    *OfflinePushInfo `json:",omitempty"`
}

// CallInfo is the call's media and room.
type CallInfo struct {
	MediaType  string          // "Video" or "Audio"
	RoomId     json.RawMessage `json:",omitempty"` // a number or a string, per RoomIdType
	RoomIdType *int            `json:",omitempty"` // 1 integer room, 2 string room
}

// OfflinePushInfo is IM's offline push block; AndroidInfo and ApnsInfo pass
// through as they are.
type OfflinePushInfo struct {
	PushFlag    *int            `json:",omitempty"` // 0 push, 1 don't
	Title       string          `json:",omitempty"`
	Desc        string          `json:",omitempty"`
	Ext         string          `json:",omitempty"` // a JSON document, as a string
	AndroidInfo json.RawMessage `json:",omitempty"`
	ApnsInfo    json.RawMessage `json:",omitempty"`
}

// ParamError is a request parameter Tencent would reject; it wraps
// ErrBadRequest.
type ParamError struct {
	Field string // e.g. "CallInfo.RoomId"
	Msg   string
}

func (e *ParamError) Error() string { return e.Field + ": " + e.Msg }
func (e *ParamError) Unwrap() error { return ErrBadRequest }

func paramErr(field, format string, args ...any) error {
	return &ParamError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks r as Tencent does, before anything is sent, and spells
// MediaType as Tencent does ("video" becomes "Video": Tencent's own pages
// use both).
func (r *StartCallRequest) Validate() error {
	if err := checkUserID("Robot_Account", r.Robot_Account); err != nil {
		return err
	}
	if len(r.CalleeList_Account) == 0 {
		return paramErr("CalleeList_Account", "is required: a non-empty list of callee accounts")
	}
	for i, c := range r.CalleeList_Account {
		if err := checkUserID(fmt.Sprintf("CalleeList_Account[%d]", i), c); err != nil {
			return err
		}
	}
	if r.Timeout == 0 {
		return paramErr("Timeout", "is required: how long to ring, %d..%d ms", MinCallTimeout, MaxCallTimeout)
	}
	if r.Timeout < MinCallTimeout || r.Timeout > MaxCallTimeout {
		return paramErr("Timeout", "must be %d..%d ms, got %d", MinCallTimeout, MaxCallTimeout, r.Timeout)
	}
	if n := len(r.UserData); n > MaxUserData {
		return paramErr("UserData", "must be at most %d bytes, got %d", MaxUserData, n)
	}
	switch strings.ToLower(r.CallInfo.MediaType) {
	case "video":
		r.CallInfo.MediaType = "Video"
	case "audio":
		r.CallInfo.MediaType = "Audio"
	case "":
		return paramErr("CallInfo.MediaType", `is required: "Video" or "Audio"`)
	default:
		return paramErr("CallInfo.MediaType", `must be "Video" or "Audio", got %q`, r.CallInfo.MediaType)
	}
	if err := r.CallInfo.checkRoom(); err != nil {
		return err
	}
	if p := r.OfflinePushInfo; p != nil {
		if p.PushFlag != nil && *p.PushFlag != 0 && *p.PushFlag != 1 {
			return paramErr("OfflinePushInfo.PushFlag", "must be 0 (push) or 1 (don't push), got %d", *p.PushFlag)
		}
		if p.Ext != "" && !json.Valid([]byte(p.Ext)) {
			return paramErr("OfflinePushInfo.Ext", "must be a string holding a JSON document, such as %q", `{"key":"value"}`)
		}
		for name, raw := range map[string]json.RawMessage{"AndroidInfo": p.AndroidInfo, "ApnsInfo": p.ApnsInfo} {
			if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] != '{' && !bytes.Equal(t, []byte("null")) {
				return paramErr("OfflinePushInfo."+name, "must be an object")
			}
		}
	}
	return nil
}

func checkUserID(field, id string) error {
	switch {
	case id == "":
		return paramErr(field, "is required: an IM account")
	case len(id) > MaxUserIDLen:
		return paramErr(field, "must be at most %d bytes, got %d", MaxUserIDLen, len(id))
	}
	return nil
}

// checkRoom checks that RoomId fits RoomIdType.
func (ci *CallInfo) checkRoom() error {
	hasRoom := len(bytes.TrimSpace(ci.RoomId)) > 0 && !bytes.Equal(bytes.TrimSpace(ci.RoomId), []byte("null"))
	if ci.RoomIdType == nil {
		if hasRoom {
			return paramErr("CallInfo.RoomIdType", "is required with a RoomId: 1 for an integer room, 2 for a string room")
		}
		return nil
	}
	t := *ci.RoomIdType
	if t != RoomIdTypeInt && t != RoomIdTypeString {
		return paramErr("CallInfo.RoomIdType", "must be 1 (integer room) or 2 (string room), got %d", t)
	}
	if !hasRoom {
		return nil // Tencent picks a room of that type
	}
	_, err := RoomID(ci.RoomId, t)
	return err
}

// RoomID reads a RoomId of the call API's type t as text, checking that it
// fits: an integer room is 1..4294967294 (a JSON number, or digits in a
// string); a string room is 1..64 bytes of letters, digits, spaces and
// !#$%&()+-:;<=.>?@[]^_{}|~, (TRTC's rule).
func RoomID(raw json.RawMessage, t int) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var text string
	isString := raw[0] == '"'
	if isString {
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", paramErr("CallInfo.RoomId", "is not a valid JSON string")
		}
	} else {
		text = string(raw)
	}
	switch t {
	case RoomIdTypeInt:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil || n < 1 || n > MaxIntRoomID {
			return "", paramErr("CallInfo.RoomId", "an integer room (RoomIdType 1) must be 1..%d, got %s", uint64(MaxIntRoomID), raw)
		}
		return strconv.FormatUint(n, 10), nil
	case RoomIdTypeString:
		if !isString {
			return "", paramErr("CallInfo.RoomId", "a string room (RoomIdType 2) must be a JSON string, got %s", raw)
		}
		if text == "" || len(text) > MaxStrRoomIDLen {
			return "", paramErr("CallInfo.RoomId", "a string room must be 1..%d bytes, got %d", MaxStrRoomIDLen, len(text))
		}
		for _, c := range text {
			if !strRoomChar(c) {
				return "", paramErr("CallInfo.RoomId", "a string room may hold only letters, digits, spaces and !#$%%&()+-:;<=.>?@[]^_{}|~, (got %q)", c)
			}
		}
		return text, nil
	}
	return "", paramErr("CallInfo.RoomIdType", "must be 1 or 2, got %d", t)
}

func strRoomChar(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune(" !#$%&()+-:;<=.>?@[]^_{}|~,", c)
}

// CalleeResult is one callee's outcome in start_call_by_robot's reply;
// ResultCode 0 is success (Tencent publishes no table of the others).
type CalleeResult struct {
	Callee_Account jsonx.String
	ResultCode     jsonx.Int
}

// StartCallResponse is start_call_by_robot's Response.
type StartCallResponse struct {
	CallId     jsonx.String
	CallResult []CalleeResult
}

// StartCallByRobot starts a server-initiated call. req must have passed
// Validate.
func (c *Client) StartCallByRobot(ctx context.Context, req *StartCallRequest) (*StartCallResponse, Meta, error) {
	var out StartCallResponse
	rep, err := c.Do(ctx, V4StartCallByRobot, req, &out)
	if err == nil && out.CallId == "" {
		err = c.fail(V4StartCallByRobot, ErrFailed, "Tencent's reply has no CallId", nil)
	}
	return &out, rep, err
}

// EndCall ends a call; ErrCallNotFound when it does not exist or has
// already ended (101004).
func (c *Client) EndCall(ctx context.Context, callID string) (Meta, error) {
	return c.Do(ctx, V4EndCall, map[string]string{"CallId": callID}, nil)
}

// CallInfoResponse is get_call_info's Response.
type CallInfoResponse struct {
	CallInfo struct {
		CallId      jsonx.String
		MediaType   jsonx.String
		ChatGroupId jsonx.String
		RoomId      jsonx.String
		RoomIdType  jsonx.Int
	}
	UserList []struct {
		User_Account jsonx.String
		Status       jsonx.String // "Calling" or "Waiting"
	}
}

// GetCallInfo reads a call in progress.
func (c *Client) GetCallInfo(ctx context.Context, callID string) (*CallInfoResponse, Meta, error) {
	var out CallInfoResponse
	rep, err := c.Do(ctx, V4GetCallInfo, map[string]string{"CallId": callID}, &out)
	return &out, rep, err
}
