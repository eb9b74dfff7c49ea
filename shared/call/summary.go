package call

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Summary is a call as its events describe it. It is a pure fold of the
// events: Apply is commutative, so the summary does not depend on the order
// in which events arrived. Each field is set by the newest event (by event
// time, ties broken by delivery id) that says anything about it; callees
// accumulate.
type Summary struct {
	CallID     string   `json:"callId"`
	Provider   string   `json:"provider"`
	Status     string   `json:"status,omitempty"`
	MediaType  string   `json:"mediaType,omitempty"`
	CallType   string   `json:"callType,omitempty"`
	Caller     string   `json:"caller,omitempty"`
	Callees    []string `json:"callees,omitempty"`
	RoomID     string   `json:"roomId,omitempty"`
	StartTime  int64    `json:"startTime,omitempty"`  // ms
	AcceptTime int64    `json:"acceptTime,omitempty"` // ms
	EndTime    int64    `json:"endTime,omitempty"`    // ms
	Result     string   `json:"result,omitempty"`

	FirstEventTime int64 `json:"firstEventTime"`
	LastEventTime  int64 `json:"lastEventTime"`
	EventCount     int   `json:"eventCount"`
	// Stamps records, per field, the event that set it ("%020d/deliveryId").
	Stamps map[string]string `json:"stamps,omitempty"`
	// Named is everyone any event named a callee; Callees is Named minus
	// the current Caller (a participant list may name the caller too).
	Named []string `json:"named,omitempty"`
	// Recorded is set once Tencent's record of the call (an archived
	// record, CommandRecord) is folded in: its end is then known for sure.
	Recorded bool `json:"recorded,omitempty"`
}

// Apply folds one event into the summary.
func (s *Summary) Apply(ev *Event) {
	if s.CallID == "" {
		s.CallID = ev.CallID
	}
	if s.Provider == "" || s.Provider == CallFn {
		s.Provider = ev.Provider
	}
	if s.Stamps == nil {
		s.Stamps = map[string]string{}
	}
	stamp := stampOf(ev)
	f := ev.Facts
	// newer reports whether stamp beats the field's; equal stamps (events
	// that share a time and a delivery id) are settled by the value, so that
	// the order of application never matters.
	newer := func(name string, valueWins bool) bool {
		old := s.Stamps[name]
		return stamp > old || stamp == old && valueWins
	}
	setStr := func(name string, dst *string, v string) {
		if v != "" && newer(name, v > *dst) {
			*dst, s.Stamps[name] = v, stamp
		}
	}
	setInt := func(name string, dst *int64, v int64) {
		if v != 0 && newer(name, v > *dst) {
			*dst, s.Stamps[name] = v, stamp
		}
	}
	setStr("status", &s.Status, f.Status)
	setStr("mediaType", &s.MediaType, f.MediaType)
	setStr("callType", &s.CallType, f.CallType)
	setStr("caller", &s.Caller, f.Caller)
	setStr("roomId", &s.RoomID, f.RoomID)
	setStr("result", &s.Result, f.Result)
	setInt("startTime", &s.StartTime, f.StartTime)
	setInt("acceptTime", &s.AcceptTime, f.AcceptTime)
	setInt("endTime", &s.EndTime, f.EndTime)
	for _, c := range f.Callees {
		if c != "" && !slices.Contains(s.Named, c) {
			s.Named = append(s.Named, c)
		}
	}
	slices.Sort(s.Named)
	s.DeriveCallees()
	if ev.Provider == Tencent && ev.Command == CommandRecord {
		s.Recorded = true
	}
	if s.EventCount == 0 || ev.EventTime < s.FirstEventTime {
		s.FirstEventTime = ev.EventTime
	}
	if ev.EventTime > s.LastEventTime {
		s.LastEventTime = ev.EventTime
	}
	s.EventCount++
}

// stampOf is ev's stamp, "%020d/deliveryId" of its time (made without fmt
// for the usual, positive times: Apply runs for every event stored).
func stampOf(ev *Event) string {
	if ev.EventTime < 0 {
		return fmt.Sprintf("%020d/%s", ev.EventTime, ev.DeliveryID)
	}
	var digits [20]byte
	t := strconv.AppendInt(digits[:0], ev.EventTime, 10)
	var b strings.Builder // its String is the bytes it wrote: one allocation
	b.Grow(21 + len(ev.DeliveryID))
	for range 20 - len(t) {
		b.WriteByte('0')
	}
	b.Write(t)
	b.WriteByte('/')
	b.WriteString(ev.DeliveryID)
	return b.String()
}

// DeriveCallees sets Callees from Named: everyone named a callee but the
// caller. Stores that keep only Named call it when they read a summary
// back; Apply keeps it so.
func (s *Summary) DeriveCallees() {
	s.Callees = slices.DeleteFunc(slices.Clone(s.Named), func(c string) bool { return c == s.Caller })
	if len(s.Callees) == 0 {
		s.Callees = nil
	}
}

// Users is everyone in the call, caller first.
func (s *Summary) Users() []string {
	return Facts{Caller: s.Caller, Callees: s.Callees}.Users()
}

// SortTime is the time a call is listed under: its start, else its first event.
func (s *Summary) SortTime() int64 {
	if s.StartTime != 0 {
		return s.StartTime
	}
	return s.FirstEventTime
}

// Carrier is the provider that carried the call: Tencent for a call callfn
// started (a robot call is a Tencent call, whose callbacks may not have
// arrived yet), else Provider.
func (s *Summary) Carrier() string {
	if s.Provider == CallFn {
		return Tencent
	}
	return s.Provider
}

// MissedResults are the results that, for a callee, mean a missed call:
// the call reached them, or tried to, and nobody answered it. A rejected
// call was seen and refused, a normally ended or interrupted one was
// answered, so neither is missed.
var MissedResults = []string{ResultNotAnswer, ResultCancel, ResultBusy, ResultOffline}

// MissedBy reports whether user missed the call: user was a callee (not
// the caller) and the call ended with one of MissedResults. Results are
// the call's, not each callee's: in a group call answered by someone else
// the result is normal_end, and the call is not missed by anyone.
func (s *Summary) MissedBy(user string) bool {
	return user != "" && user != s.Caller && slices.Contains(s.Callees, user) && slices.Contains(MissedResults, s.Result)
}
