package startcall

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// Request is POST /calls's body: start_call_by_robot's own body, spelled as
// Tencent spells it, plus an optional StreamIngest (StartStreamIngest's
// parameters) to push media into the call once it has started.
type Request struct {
	rest.StartCallRequest
	StreamIngest *rest.StreamIngest `json:",omitempty"`
}

// ParseRequest reads and checks a request body as Tencent would, before
// anything is sent. Its errors are *api.BodyError (not JSON, a field of the
// wrong type or unknown) or *rest.ParamError (a value Tencent rejects).
func ParseRequest(body []byte) (*Request, error) {
	var req Request
	if err := api.Decode(body, &req); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

// Validate checks the call and, if any, the media to push into it.
func (r *Request) Validate() error {
	if err := r.StartCallRequest.Validate(); err != nil {
		return err
	}
	if r.StreamIngest == nil {
		return nil
	}
	if err := r.StreamIngest.Validate(); err != nil {
		return err
	}
	// The media goes into the call's room, which start_call_by_robot's reply
	// does not name: the request must.
	if r.CallInfo.RoomIdType == nil || len(bytes.TrimSpace(r.CallInfo.RoomId)) == 0 || bytes.Equal(bytes.TrimSpace(r.CallInfo.RoomId), []byte("null")) {
		return &rest.ParamError{Field: "CallInfo.RoomId", Msg: "is required with StreamIngest, with its RoomIdType: the media is pushed into that room"}
	}
	return nil
}

// RoomID is the call's room id as text ("" when Tencent picks it).
func (r *Request) RoomID() string {
	if r.CallInfo.RoomIdType == nil {
		return ""
	}
	id, _ := rest.RoomID(r.CallInfo.RoomId, *r.CallInfo.RoomIdType)
	return id
}

// parsePayload reads a schedule's payload: one request or a list of them.
// It returns each request with its own raw bytes.
func parsePayload(payload []byte) ([]*Request, [][]byte, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return nil, nil, fmt.Errorf("the schedule's payload is empty: it must be a call request (the body of POST /calls) or a list of them")
	}
	var raws []json.RawMessage
	if payload[0] == '[' {
		if err := api.Decode(payload, &raws); err != nil {
			return nil, nil, fmt.Errorf("the schedule's payload: %w", err)
		}
		if len(raws) == 0 {
			return nil, nil, fmt.Errorf("the schedule's payload is an empty list")
		}
	} else {
		raws = []json.RawMessage{payload}
	}
	reqs := make([]*Request, len(raws))
	bodies := make([][]byte, len(raws))
	for i, raw := range raws {
		req, err := ParseRequest(raw)
		if err != nil {
			if len(raws) > 1 {
				return nil, nil, fmt.Errorf("the schedule's payload, request %d: %w", i, err)
			}
			return nil, nil, fmt.Errorf("the schedule's payload: %w", err)
		}
		reqs[i], bodies[i] = req, raw
	}
	return reqs, bodies, nil
}
