package sandbox

import (
	"encoding/json"
	"strings"
)

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

// v1Protocol is how the CallKit backend answers requests it refuses.
var v1Protocol = restProtocol{
	name: "v1", unreadable: 70009, badMethod: 70001, unknownCommand: 70001,
	rateLimited: 70005, rateLimitedInfo: "rate limited", notJSON: 70009, notJSONInfo: "the request body is not JSON",
	limit:    documentedV1Limit,
	authCode: func(f *authFailure) int { return f.v1 },
	envelope: func(s *Sandbox, data any, code int, msg string) any {
		env := v1Envelope{ErrorCode: code, ErrorMessage: msg, RequestID: newUUID(), Data: data}
		if code == 0 {
			env.ErrorMessage = "success"
		} else {
			env.Data = nil
		}
		return env
	},
}

// v1CallbackConfig is the v1 callback configuration. The sandbox keeps it
// but plays only v4 calls, so it sends no v1 callbacks.
type v1CallbackConfig struct {
	Address string   `json:"address"`
	Actions []string `json:"actions"`
}

// v1NotConfigured is the code callback/update answers when there is no
// configuration to update ("没有配置信息").
const v1NotConfigured = 999

// v1SetCallback is callback/set: address (http or https) and actions, both
// mandatory, replace the configuration ("the last result prevails"); the
// reply's data is the address.
func (s *Sandbox) v1SetCallback(q *restRequest) (any, int, string) {
	return s.v1StoreCallback(q, false)
}

// v1UpdateCallback is callback/update: as set, but only over an existing
// configuration (999 otherwise).
func (s *Sandbox) v1UpdateCallback(q *restRequest) (any, int, string) {
	return s.v1StoreCallback(q, true)
}

func (s *Sandbox) v1StoreCallback(q *restRequest, update bool) (any, int, string) {
	var b struct {
		Address string    `json:"address"`
		Actions *[]string `json:"actions"`
	}
	if err := json.Unmarshal(q.body, &b); err != nil {
		return nil, 70001, "invalid parameters: " + err.Error()
	}
	switch {
	case b.Address == "":
		return nil, 70001, "invalid parameters: address is required"
	case !httpURL(b.Address):
		return nil, 70001, "Callback address must start with http or https"
	case b.Actions == nil:
		return nil, 70001, "invalid parameters: actions is required"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if update && s.v1callback == nil {
		return nil, v1NotConfigured, "no callback configuration"
	}
	s.v1callback = &v1CallbackConfig{Address: b.Address, Actions: append([]string{}, *b.Actions...)}
	return b.Address, 0, ""
}

// v1GetCallback is callback/get. With nothing configured it answers an
// empty address and no actions (Tencent documents no error for that case).
func (s *Sandbox) v1GetCallback(q *restRequest) (any, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v1callback == nil {
		return v1CallbackConfig{Actions: []string{}}, 0, ""
	}
	return *s.v1callback, 0, ""
}

// v1DeleteCallback is callback/delete; its data is "".
func (s *Sandbox) v1DeleteCallback(q *restRequest) (any, int, string) {
	s.mu.Lock()
	s.v1callback = nil
	s.mu.Unlock()
	return "", 0, ""
}
