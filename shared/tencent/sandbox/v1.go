package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// v1Request is one authenticated v1 (CallKit backend) request.
type v1Request struct {
	r    *http.Request
	cmd  string
	body []byte
}

// v1Handler answers a v1 command: its data, or an errorCode and
// errorMessage. Adding a command is one such method and one line in New.
type v1Handler func(q *v1Request) (data any, code int, msg string)

// v1Envelope is the CallKit backend's reply.
type v1Envelope struct {
	ErrorCode    int    `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	RequestID    string `json:"requestId"`
	Data         any    `json:"data,omitempty"`
}

// Documented v1 rate limits: records commands 200/s, callback commands 10/s.
func documentedV1Limit(cmd string) int {
	if strings.HasPrefix(cmd, "callback/") {
		return 10
	}
	return 200
}

func (s *Sandbox) serveV1(w http.ResponseWriter, r *http.Request, cmd string) {
	s.count(cmd)
	body, err := readBody(r)
	answer := func(data any, code int, msg string) {
		env := v1Envelope{ErrorCode: code, ErrorMessage: msg, RequestID: newUUID(), Data: data}
		if code == 0 {
			env.ErrorMessage = "success"
		} else {
			env.Data = nil
		}
		writeJSON(w, http.StatusOK, env)
	}
	switch {
	case err != nil:
		answer(nil, 70009, "could not read the request body")
		return
	case r.Method != http.MethodPost:
		answer(nil, 70001, "the request method must be POST")
		return
	}
	if f := s.checkREST(r.URL.Query()); f != nil {
		answer(nil, f.v1, f.info)
		return
	}
	h, ok := s.v1[cmd]
	if !ok {
		answer(nil, 70001, "no such command: v1/"+cmd)
		return
	}
	if !s.allow("v1/"+cmd, documentedV1Limit(cmd)) {
		answer(nil, 70005, "rate limited")
		return
	}
	f := s.takeFault(cmd)
	switch {
	case f != nil && f.HTTPStatus != 0:
		http.Error(w, http.StatusText(f.HTTPStatus), f.HTTPStatus)
		return
	case f != nil && f.Code != 0:
		answer(nil, f.Code, f.Info)
		return
	}
	if !json.Valid(body) {
		answer(nil, 70009, "the request body is not JSON")
		return
	}
	data, code, msg := h(&v1Request{r: r, cmd: cmd, body: body})
	if f != nil {
		stall(r, f.Stall)
	}
	answer(data, code, msg)
}

// v1CallbackConfig is the v1 callback configuration. The sandbox keeps it
// but plays only v4 calls, so it sends no v1 callbacks.
type v1CallbackConfig struct {
	Address string   `json:"address"`
	Actions []string `json:"actions"`
}

func (s *Sandbox) v1SetCallback(q *v1Request) (any, int, string) {
	var b v1CallbackConfig
	if err := json.Unmarshal(q.body, &b); err != nil || b.Address == "" {
		return nil, 70001, "invalid parameters: address is required"
	}
	s.mu.Lock()
	s.v1callback = &b
	s.mu.Unlock()
	return nil, 0, ""
}

func (s *Sandbox) v1GetCallback(q *v1Request) (any, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v1callback == nil {
		return v1CallbackConfig{Actions: []string{}}, 0, ""
	}
	return *s.v1callback, 0, ""
}

func (s *Sandbox) v1DeleteCallback(q *v1Request) (any, int, string) {
	s.mu.Lock()
	s.v1callback = nil
	s.mu.Unlock()
	return nil, 0, ""
}
