package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// v4 callback commands.
const (
	cmdAfterStart    = callback.CmdAfterStartCall
	cmdMemberChanged = callback.CmdAfterMemberChanged
	cmdAfterEnd      = callback.CmdAfterEndCall
)

// failedCalleeCode is the ResultCode given to a callee the plan fails.
// Tencent publishes no table of ResultCodes; any non-zero value is failure.
const failedCalleeCode = 1

// Outcomes, spelled as v4 records spell CallResult.
var outcomes = []string{"NormalEnd", "Reject", "NotAnswer", "Cancel", "CallBusy", "Interrupt", "Offline"}

// plan is how a call goes, from UserData's [sandbox ...] directive.
type plan struct {
	outcome    string
	ring, talk time.Duration
	fail       map[string]bool
}

// parsePlan reads the [sandbox key=value ...] directive, if any.
func parsePlan(userData string) (plan, error) {
	p := plan{outcome: "NormalEnd", ring: 5 * time.Second, talk: 30 * time.Second, fail: map[string]bool{}}
	i := strings.Index(userData, "[sandbox")
	if i < 0 {
		return p, nil
	}
	rest := userData[i+len("[sandbox"):]
	j := strings.IndexByte(rest, ']')
	if j < 0 {
		return p, fmt.Errorf("the [sandbox ...] directive has no closing ]")
	}
	for _, kv := range strings.Fields(rest[:j]) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, fmt.Errorf("sandbox directive %q: want key=value", kv)
		}
		switch k {
		case "outcome":
			o := tencent.V4Result(tencent.Result(v))
			if o == "" {
				return p, fmt.Errorf("sandbox directive: unknown outcome %q (want one of %s)", v, strings.Join(outcomes, ", "))
			}
			p.outcome = o
		case "ring", "talk":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return p, fmt.Errorf("sandbox directive %s=%q: want a duration such as 5s", k, v)
			}
			if k == "ring" {
				p.ring = d
			} else {
				p.talk = d
			}
		case "fail":
			for _, u := range strings.Split(v, ",") {
				if u != "" {
					p.fail[u] = true
				}
			}
		default:
			return p, fmt.Errorf("sandbox directive: unknown key %q (want outcome, ring, talk or fail)", k)
		}
	}
	return p, nil
}

// Record is a call as the sandbox played it, spelled as v4 records are
// (times in seconds; EndTime 0 while the call goes on). It is what records
// queries answer with.
type Record struct {
	CallId             string
	Caller_Account     string
	MediaType          string
	CallType           string
	StartTime          int64
	AcceptTime         int64
	EndTime            int64
	CallResult         string
	CalleeList_Account []string
	RoomId             string
	RoomIdType         int
}

// playedCall is one call's state.
type playedCall struct {
	rec       Record
	requested []string // every callee asked for
	reached   []string // callees rung (ResultCode 0)
	plan      plan
	timeout   time.Duration
	clientIP  string
	userData  string
	realStart time.Time
	startMs   int64           // virtual time of the start, ms
	vnow      int64           // virtual time of the last step, ms
	state     map[string]bool // who is in the call: true answered (Calling), false ringing (Waiting)
	order     []string        // state's keys in order
	startSent bool            // Call.CallbackAfterStartCall has gone out
	ended     bool            // ended, or its end was requested
	endByAPI  chan struct{}   // closed by end_call
}

// Calls are the calls the sandbox played, oldest first.
func (s *Sandbox) Calls() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, 0, len(s.order))
	for _, id := range s.order {
		r := s.calls[id].rec
		r.CalleeList_Account = slices.Clone(r.CalleeList_Account)
		out = append(out, r)
	}
	return out
}

// Call is one played call, by id.
func (s *Sandbox) Call(callID string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return Record{}, false
	}
	return c.rec, true
}

// Rang counts the calls that rang user.
func (s *Sandbox) Rang(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if slices.Contains(c.reached, user) {
			n++
		}
	}
	return n
}

func (s *Sandbox) newCall(req *rest.StartCallRequest, p plan, clientIP string) *playedCall {
	now := s.o.Clock()
	c := &playedCall{
		requested: slices.Clone(req.CalleeList_Account),
		plan:      p,
		timeout:   time.Duration(req.Timeout) * time.Millisecond,
		clientIP:  clientIP,
		userData:  req.UserData,
		realStart: time.Now(),
		startMs:   now.UnixMilli(),
		state:     map[string]bool{},
		endByAPI:  make(chan struct{}),
	}
	c.vnow = c.startMs
	for _, u := range req.CalleeList_Account {
		if !p.fail[u] && !slices.Contains(c.reached, u) {
			c.reached = append(c.reached, u)
		}
	}
	callType := "SingleCall"
	if len(req.CalleeList_Account) > 1 {
		callType = "MultiCall"
	}
	c.rec = Record{CallId: newUUID(), Caller_Account: req.Robot_Account, MediaType: req.CallInfo.MediaType,
		CallType: callType, StartTime: now.Unix(), CalleeList_Account: slices.Clone(c.reached)}
	c.rec.RoomIdType = rest.RoomIdTypeInt
	if t := req.CallInfo.RoomIdType; t != nil {
		c.rec.RoomIdType = *t
	}
	c.rec.RoomId, _ = rest.RoomID(req.CallInfo.RoomId, c.rec.RoomIdType)
	if c.rec.RoomId == "" { // Tencent picks a room
		if c.rec.RoomIdType == rest.RoomIdTypeString {
			c.rec.RoomId = "callroom_" + randHex(6)
		} else {
			c.rec.RoomId = strconv.FormatUint(1+rand.Uint64N(rest.MaxIntRoomID), 10)
		}
	}
	c.join(req.Robot_Account, true)
	for _, u := range c.reached {
		c.join(u, false)
	}
	s.mu.Lock()
	s.calls[c.rec.CallId] = c
	s.order = append(s.order, c.rec.CallId)
	if len(s.order) > maxCalls {
		delete(s.calls, s.order[0])
		s.order = s.order[1:]
	}
	if s.playing == 0 {
		s.idle = make(chan struct{})
	}
	s.playing++
	s.mu.Unlock()
	go s.play(c)
	return c
}

func (c *playedCall) join(u string, answered bool) {
	if _, ok := c.state[u]; !ok {
		c.order = append(c.order, u)
	}
	c.state[u] = answered
}

func (c *playedCall) leave(u string) {
	delete(c.state, u)
	c.order = slices.DeleteFunc(c.order, func(x string) bool { return x == u })
}

// requestEnd ends a call on end_call's behalf; false when it does not
// exist or has ended.
func (s *Sandbox) requestEnd(callID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	if c == nil || c.ended {
		return false
	}
	c.ended = true
	close(c.endByAPI)
	return true
}

// step is one moment of a call's timeline.
type step struct {
	at     time.Duration // simulated, from the start
	users  []string
	action string // a member change's ActionType; "" for the start, "end" for a bare end
}

// timeline is how the plan plays out. Each member change that leaves one
// participant or none ends the call.
func (c *playedCall) timeline() []step {
	p := c.plan
	steps := []step{{at: 200 * time.Millisecond}}
	if len(c.reached) == 0 {
		return append(steps, step{at: 300 * time.Millisecond, action: "end"})
	}
	switch p.outcome {
	case "NormalEnd":
		for i, u := range c.reached {
			steps = append(steps, step{at: p.ring + time.Duration(i)*500*time.Millisecond, users: []string{u}, action: "Answer"})
		}
		for i := range c.reached {
			u := c.reached[len(c.reached)-1-i]
			steps = append(steps, step{at: p.ring + p.talk + time.Duration(i)*time.Second, users: []string{u}, action: "Hangup"})
		}
	case "Reject":
		for i, u := range c.reached {
			steps = append(steps, step{at: p.ring + time.Duration(i)*300*time.Millisecond, users: []string{u}, action: "Reject"})
		}
	case "NotAnswer":
		steps = append(steps, step{at: c.timeout, users: c.reached, action: "NotAnswer"})
	case "Offline":
		steps = append(steps, step{at: c.timeout, users: c.reached, action: "Offline"})
	case "Cancel":
		steps = append(steps, step{at: p.ring / 2, users: c.reached, action: "Cancel_Invite"})
	case "CallBusy":
		steps = append(steps, step{at: time.Second, action: "end"})
	case "Interrupt":
		steps = append(steps, step{at: p.ring, users: c.reached, action: "Answer"},
			step{at: p.ring + p.talk/2, users: c.reached, action: "Offline"})
	}
	return steps
}

// play walks a call's timeline, delivering its callbacks in order.
func (s *Sandbox) play(c *playedCall) {
	defer func() {
		s.mu.Lock()
		if s.playing--; s.playing == 0 {
			close(s.idle)
		}
		s.mu.Unlock()
	}()
	for _, st := range c.timeline() {
		if !s.waitFor(c, st.at) {
			return
		}
		if done := s.apply(c, st); done {
			return
		}
	}
}

// waitFor waits until the step's real time; on end_call it plays the end
// and reports false.
func (s *Sandbox) waitFor(c *playedCall, at time.Duration) bool {
	if s.o.Scale > 0 {
		due := c.realStart.Add(time.Duration(float64(at) * s.o.Scale))
		t := time.NewTimer(time.Until(due))
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.endByAPI:
			s.endByAPI(c)
			return false
		case <-s.ctx.Done():
			return false
		}
	}
	select {
	case <-c.endByAPI:
		s.endByAPI(c)
		return false
	case <-s.ctx.Done():
		return false
	default:
		return true
	}
}

// virtualAt is the event time (ms) of a step.
func (c *playedCall) virtualAt(at time.Duration) int64 {
	return max(c.startMs+at.Milliseconds(), c.vnow)
}

// apply plays one step; true when the call has ended.
func (s *Sandbox) apply(c *playedCall, st step) bool {
	s.mu.Lock()
	if c.ended && st.action != "" {
		s.mu.Unlock()
		s.endByAPI(c)
		return true
	}
	c.vnow = c.virtualAt(st.at)
	var sends []outCallback
	switch st.action {
	case "":
		sends = append(sends, c.startCallback())
	case "end":
		result := c.plan.outcome
		if len(c.reached) == 0 {
			result = "Offline"
		}
		sends = append(sends, s.finish(c, result))
	default:
		var changed []cbChanged
		for _, u := range st.users {
			if _, in := c.state[u]; !in {
				continue
			}
			changed = append(changed, cbChanged{u, st.action})
			if st.action == "Answer" {
				c.state[u] = true
				if c.rec.AcceptTime == 0 {
					c.rec.AcceptTime = c.vnow / 1000
				}
			} else {
				c.leave(u)
			}
		}
		sends = append(sends, outCallback{cmdMemberChanged, cbMemberChanged{CallbackCommand: cmdMemberChanged,
			CallId: c.rec.CallId, UserList: c.userList(), ChangedUserList: changed, EventTime: c.vnow}})
		if len(c.state) <= 1 {
			sends = append(sends, s.finish(c, c.plan.outcome))
		}
	}
	ended := c.rec.EndTime != 0
	callID := c.rec.CallId
	ip := c.clientIP
	s.mu.Unlock()
	for _, cb := range sends {
		s.deliver(callID, ip, cb)
	}
	return ended
}

// endByAPI plays the end of a call that end_call ended: the robot hangs up
// (or cancels the invitations nobody answered).
func (s *Sandbox) endByAPI(c *playedCall) {
	s.mu.Lock()
	if c.rec.EndTime != 0 {
		s.mu.Unlock()
		return
	}
	vt := c.vnow + 1
	if s.o.Scale > 0 {
		vt = max(vt, c.startMs+int64(float64(time.Since(c.realStart).Milliseconds())/s.o.Scale))
	}
	c.vnow = vt
	result := "Cancel"
	action := "Cancel_Invite"
	users := []string{}
	for _, u := range c.order {
		if u != c.rec.Caller_Account && !c.state[u] {
			users = append(users, u)
		}
	}
	if c.rec.AcceptTime != 0 {
		result, action, users = "NormalEnd", "Hangup", []string{c.rec.Caller_Account}
	}
	var sends []outCallback
	if !c.startSent { // ended before Tencent's start callback went out
		sends = append(sends, c.startCallback())
	}
	var changed []cbChanged
	for _, u := range users {
		changed = append(changed, cbChanged{u, action})
		c.leave(u)
	}
	sends = append(sends, outCallback{cmdMemberChanged, cbMemberChanged{CallbackCommand: cmdMemberChanged,
		CallId: c.rec.CallId, UserList: c.userList(), ChangedUserList: changed, EventTime: vt}})
	sends = append(sends, s.finish(c, result))
	callID, ip := c.rec.CallId, c.clientIP
	s.mu.Unlock()
	for _, cb := range sends {
		s.deliver(callID, ip, cb)
	}
}

// startCallback is Call.CallbackAfterStartCall; the caller holds s.mu.
func (c *playedCall) startCallback() outCallback {
	c.startSent = true
	return outCallback{cmdAfterStart, cbAfterStart{CallbackCommand: cmdAfterStart,
		CallInfo: cbCallInfo{CallId: c.rec.CallId, CallMediaType: c.rec.MediaType, RoomId: c.rec.RoomId, RoomIdType: c.rec.RoomIdType},
		UserList: c.userList(), EventTime: min(c.vnow, c.startMs+200)}}
}

// finish ends c with result; the caller holds s.mu.
func (s *Sandbox) finish(c *playedCall, result string) outCallback {
	c.ended = true
	c.rec.CallResult = result
	c.rec.EndTime = max(c.vnow/1000, c.rec.StartTime)
	rec := c.rec
	rec.CalleeList_Account = slices.Clone(rec.CalleeList_Account)
	return outCallback{cmdAfterEnd, cbAfterEnd{CallbackCommand: cmdAfterEnd, CallRecord: rec, EventTime: c.vnow}}
}

// userList is who is in the call now; the caller holds s.mu.
func (c *playedCall) userList() []cbUser {
	out := []cbUser{}
	for _, u := range c.order {
		st := "Waiting"
		if c.state[u] {
			st = "Calling"
		}
		out = append(out, cbUser{User_Account: u, Status: st})
	}
	return out
}

// Callback bodies, as Tencent documents them (spec §1.3).

type cbUser struct {
	User_Account string
	Status       string
}

type cbChanged struct {
	User_Account string
	ActionType   string
}

type cbCallInfo struct {
	CallId        string
	CallMediaType string
	ChatGroupId   string
	RoomId        string
	RoomIdType    int
}

type cbAfterStart struct {
	CallbackCommand string
	CallInfo        cbCallInfo
	UserList        []cbUser
	EventTime       int64
}

type cbMemberChanged struct {
	CallbackCommand string
	CallId          string
	UserList        []cbUser
	ChangedUserList []cbChanged
	EventTime       int64
}

type cbAfterEnd struct {
	CallbackCommand string
	CallRecord      Record
	EventTime       int64
}

// outCallback is one callback to send: its command and body.
type outCallback struct {
	command string
	body    any
}

// Delivery is one callback the sandbox sent.
type Delivery struct {
	CallID  string
	Command string
	Query   url.Values // what the callback URL carried (SdkAppid, CallbackCommand, Sign...)
	Body    []byte
	Status  int    // the HTTP status the webhook answered, 0 on a network error
	OK      bool   // answered 200 with ErrorCode 0
	Err     string // why not
}

// Deliveries are the callbacks sent so far, in order.
func (s *Sandbox) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

const maxDeliveries = 10000

// deliver posts one callback as Tencent does: query SdkAppid,
// CallbackCommand, contenttype, ClientIP, OptPlatform, plus RequestTime and
// Sign with a token; a 2 s timeout and no retry.
func (s *Sandbox) deliver(callID, clientIP string, cb outCallback) {
	s.mu.Lock()
	conf := s.callback
	s.mu.Unlock()
	if !conf.wants(cb.command) {
		return
	}
	body, err := json.Marshal(cb.body)
	if err != nil {
		return
	}
	q := url.Values{}
	q.Set("SdkAppid", strconv.FormatUint(s.o.SDKAppID, 10))
	q.Set("CallbackCommand", cb.command)
	q.Set("contenttype", "json")
	q.Set("ClientIP", clientIP)
	q.Set("OptPlatform", "RESTAPI")
	if s.o.CallbackToken != "" {
		rt := strconv.FormatInt(s.o.Clock().Unix(), 10)
		q.Set("RequestTime", rt)
		q.Set("Sign", callback.Sign(s.o.CallbackToken, rt))
	}
	sep := "?"
	if strings.Contains(conf.url, "?") {
		sep = "&"
	}
	d := Delivery{CallID: callID, Command: cb.command, Query: q, Body: body}
	err = checkCallbackURL(conf.url)
	var req *http.Request
	if err == nil {
		req, err = http.NewRequestWithContext(context.Background(), http.MethodPost, conf.url+sep+q.Encode(), bytes.NewReader(body))
	}
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		var resp *http.Response
		if resp, err = s.hc.Do(req); err == nil {
			reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			d.Status = resp.StatusCode
			var ack struct {
				ActionStatus string
				ErrorCode    *int
			}
			switch {
			case resp.StatusCode != http.StatusOK:
				d.Err = "HTTP " + resp.Status
			case json.Unmarshal(reply, &ack) != nil || ack.ErrorCode == nil || *ack.ErrorCode != 0:
				d.Err = fmt.Sprintf("the reply is not an acknowledgement: %.200s", reply)
			default:
				d.OK = true
			}
		}
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL carries the Sign
		}
		d.Err = err.Error()
	}
	if d.OK {
		s.log.Debug("callback delivered", "command", cb.command, "callId", callID)
	} else {
		s.log.Warn("callback not acknowledged", "command", cb.command, "callId", callID, "status", d.Status, "err", d.Err)
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	if len(s.deliveries) > maxDeliveries {
		s.deliveries = s.deliveries[len(s.deliveries)-maxDeliveries:]
	}
	s.mu.Unlock()
}
