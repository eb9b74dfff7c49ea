package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/callfn/callfn/shared/tencent/rest"
)

// restRequest is one authenticated REST request, either generation.
type restRequest struct {
	r    *http.Request
	cmd  string
	body []byte
}

// restHandler answers a command: its data (v4's Response, v1's data), or an
// error code and message (v4's ErrorCode and ErrorInfo, v1's errorCode and
// errorMessage). Adding a command is one such method and one line in New.
type restHandler func(q *restRequest) (data any, code int, info string)

// v4Envelope is the IM REST reply.
type v4Envelope struct {
	ActionStatus string
	ErrorInfo    string
	ErrorCode    int
	RequestId    string
	Response     any `json:",omitempty"`
}

// documentedV4Limit is the v4 call commands' rate limit (200 requests/s).
const documentedV4Limit = 200

// v4Protocol is how the IM REST API answers requests it refuses.
var v4Protocol = restProtocol{
	name: "v4", unreadable: 60002, badMethod: 60002, unknownCommand: 60002,
	rateLimited: 60007, rateLimitedInfo: "REST API call frequency exceeds the limit",
	notJSON: 60003, notJSONInfo: "Fail to Parse json data of body, Please check it",
	limit:    func(string) int { return documentedV4Limit },
	authCode: func(f *authFailure) int { return f.v4 },
	envelope: func(s *Sandbox, resp any, code int, info string) any {
		env := v4Envelope{ActionStatus: "OK", RequestId: s.newRequestID(), Response: resp}
		if code != 0 {
			env = v4Envelope{ActionStatus: "FAIL", ErrorCode: code, ErrorInfo: info, RequestId: env.RequestId}
		}
		return env
	},
}

// restProtocol is what differs between the two REST generations: their
// error codes for a refused request, rate limits and reply envelope.
type restProtocol struct {
	name                                  string
	unreadable, badMethod, unknownCommand int
	rateLimited, notJSON                  int
	rateLimitedInfo, notJSONInfo          string
	limit                                 func(cmd string) int
	authCode                              func(f *authFailure) int
	envelope                              func(s *Sandbox, data any, code int, info string) any
}

// serveREST is one REST request, either generation: the checks Tencent
// makes before a command runs (body, method, UserSig and app, command,
// rate limit, injected faults, JSON), then the command, one of handlers,
// in p's envelope.
func (s *Sandbox) serveREST(w http.ResponseWriter, r *http.Request, cmd string, p restProtocol, handlers map[string]restHandler) {
	h, known := handlers[cmd]
	s.count(cmd)
	body, err := readBody(r)
	answer := func(data any, code int, info string) {
		writeJSON(w, http.StatusOK, p.envelope(s, data, code, info))
	}
	switch {
	case err != nil:
		answer(nil, p.unreadable, "could not read the request body")
		return
	case r.Method != http.MethodPost:
		answer(nil, p.badMethod, "the request method must be POST")
		return
	}
	if f := s.checkREST(r.URL.Query()); f != nil {
		answer(nil, p.authCode(f), f.info)
		return
	}
	if !known {
		answer(nil, p.unknownCommand, "no such command: "+p.name+"/"+cmd)
		return
	}
	if !s.allow(p.name+"/"+cmd, p.limit(cmd)) {
		answer(nil, p.rateLimited, p.rateLimitedInfo)
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
	if len(bytes.TrimSpace(body)) == 0 || !json.Valid(body) {
		answer(nil, p.notJSON, p.notJSONInfo)
		return
	}
	data, code, info := h(&restRequest{r: r, cmd: cmd, body: body})
	if f != nil {
		stall(r, f.Stall)
	}
	answer(data, code, info)
}

// decodeBody reads a JSON body into v, answering 101002 on a type mismatch.
func decodeBody(body []byte, v any) (int, string) {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return 101002, "bad parameter: " + te.Field + " has the wrong type"
		}
		return 101002, "bad parameter: " + err.Error()
	}
	return 0, ""
}

func (s *Sandbox) startCallByRobot(q *restRequest) (any, int, string) {
	var req rest.StartCallRequest
	if code, info := decodeBody(q.body, &req); code != 0 {
		return nil, code, info
	}
	if err := req.Validate(); err != nil {
		return nil, 101002, "bad parameter: " + err.Error()
	}
	p, err := parsePlan(req.UserData)
	if err != nil {
		return nil, 101002, "bad parameter: UserData: " + err.Error()
	}
	ip, _, _ := net.SplitHostPort(q.r.RemoteAddr)
	c := s.newCall(&req, p, ip)
	type result struct {
		Callee_Account string
		ResultCode     int
	}
	out := struct {
		CallId     string
		CallResult []result
	}{CallId: c.rec.CallId}
	for _, callee := range req.CalleeList_Account {
		code := 0
		if p.fail[callee] {
			code = failedCalleeCode
		}
		out.CallResult = append(out.CallResult, result{callee, code})
	}
	return out, 0, ""
}

// callID reads the CallId a body names, which the command requires.
func callID(q *restRequest) (id string, code int, info string) {
	var b struct{ CallId string }
	if code, info := decodeBody(q.body, &b); code != 0 {
		return "", code, info
	}
	if b.CallId == "" {
		return "", 101002, "bad parameter: CallId is required"
	}
	return b.CallId, 0, ""
}

func (s *Sandbox) endCall(q *restRequest) (any, int, string) {
	id, code, info := callID(q)
	if code != 0 {
		return nil, code, info
	}
	if !s.requestEnd(id) {
		return nil, 101004, "call does not exist or has already ended"
	}
	return nil, 0, ""
}

func (s *Sandbox) getCallInfo(q *restRequest) (any, int, string) {
	id, code, info := callID(q)
	if code != 0 {
		return nil, code, info
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[id]
	if c == nil || c.ended {
		return nil, 101004, "call does not exist or has already ended"
	}
	type callInfo struct {
		CallId, MediaType, ChatGroupId, RoomId string
		RoomIdType                             int
	}
	return struct {
		CallInfo callInfo
		UserList []cbUser
	}{callInfo{c.rec.CallId, c.rec.MediaType, "", c.rec.RoomId, c.rec.RoomIdType}, c.userList()}, 0, ""
}

// callbackConfig is the v4 callback configuration (one per SDKAppID).
type callbackConfig struct {
	url string
	// commands are the commands asked for; nil (a URL from Options, as the
	// console sets it) is every command, an empty list none.
	commands []string
}

func (c callbackConfig) wants(command string) bool {
	if c.url == "" {
		return false
	}
	return c.commands == nil || slices.Contains(c.commands, command)
}

// setCallback is call_config/set_callback: Url (http or https, Tencent's
// rule) and CallbackCommandList (mandatory) replace the configuration.
func (s *Sandbox) setCallback(q *restRequest) (any, int, string) {
	var b struct {
		Url                 string
		CallbackCommandList *[]string
	}
	if code, info := decodeBody(q.body, &b); code != 0 {
		return nil, 100002, info
	}
	if b.Url == "" {
		return nil, 100002, "bad parameter: Url is required"
	}
	if err := checkCallbackURL(b.Url); err != nil {
		return nil, 100002, "bad parameter: Url: " + err.Error()
	}
	if b.CallbackCommandList == nil {
		return nil, 100002, "bad parameter: CallbackCommandList is required"
	}
	cmds := append([]string{}, *b.CallbackCommandList...)
	s.mu.Lock()
	s.callback = callbackConfig{url: b.Url, commands: cmds}
	s.mu.Unlock()
	return nil, 0, ""
}

// httpURL reports whether u is an absolute http or https URL, as both
// generations require of a callback address.
func httpURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

func (s *Sandbox) getCallback(q *restRequest) (any, int, string) {
	s.mu.Lock()
	cb := s.callback
	s.mu.Unlock()
	if cb.url == "" {
		return nil, 100301, "callback not configured"
	}
	cmds := cb.commands
	if cmds == nil {
		cmds = []string{cmdAfterStart, cmdAfterEnd, cmdMemberChanged}
	}
	return struct {
		Url                 string
		CallbackCommandList []string
	}{cb.url, cmds}, 0, ""
}

func (s *Sandbox) deleteCallback(q *restRequest) (any, int, string) {
	s.mu.Lock()
	s.callback = callbackConfig{}
	s.mu.Unlock()
	return nil, 0, ""
}
