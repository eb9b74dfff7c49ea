package yunxin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/jsonx"
)

// Channels: each has its own route (the two reuse eventType numbers).
const (
	ChannelCallback = "callback" // third-party callback: decides (eventType 20, 21)
	ChannelCopy     = "copy"     // copy (抄送): after the fact (eventType 5, 6)
)

// ErrMalformed wraps every parse failure of a body.
var ErrMalformed = errors.New("yunxin: malformed body")

// AllowReply is the third-party callback channel's answer that lets the
// call go ahead.
var AllowReply = []byte(`{"errCode":0}`)

// IsProbe reports whether body is the `{}` Yunxin sends, signed, when an
// address is configured.
func IsProbe(body []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(body, &m) == nil && len(m) == 0 && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
}

// body holds every field either channel sends; any may be missing, and
// numbers and arrays may arrive as strings.
type body struct {
	EventType jsonx.Int `json:"eventType"`
	// callback channel, eventType 20 and 21
	CallType         jsonx.Int                `json:"callType"`
	FromAccount      jsonx.String             `json:"fromAccount"`
	FromClientType   jsonx.String             `json:"fromClientType"`
	ToAccountList    jsonx.List[jsonx.String] `json:"toAccountList"`
	Timestamp        jsonx.Int                `json:"timestamp"`
	ChannelName      jsonx.String             `json:"channelName"`
	ForceKeepCalling jsonx.Bool               `json:"forceKeepCalling"`
	// copy channel, eventType 5
	ChannelID  jsonx.String       `json:"channelId"`
	CreateTime jsonx.Int          `json:"createtime"`
	Duration   jsonx.Int          `json:"duration"`
	Live       jsonx.String       `json:"live"`
	Members    jsonx.List[member] `json:"members"`
	Status     jsonx.String       `json:"status"`
	Type       jsonx.String       `json:"type"`
	Ext        jsonx.String       `json:"ext"`
	Running    jsonx.Bool         `json:"running"`
	// copy channel, eventType 6
	FileInfo jsonx.List[file] `json:"fileinfo"`
}

type member struct {
	Accid    jsonx.String `json:"accid"`
	Caller   jsonx.Bool   `json:"caller"`
	Duration jsonx.Int    `json:"duration"`
}

type file struct {
	ChannelID jsonx.String `json:"channelid"`
	Filename  jsonx.String `json:"filename"`
	URL       jsonx.String `json:"url"`
	User      jsonx.String `json:"user"`
	Type      jsonx.String `json:"type"`
}

// Parse normalizes a body received on channel into an Event. The caller
// sets DeliveryID, ReceivedAt and RequestID; EventTime is 0 when the body
// has none. Unknown eventTypes are kept as "eventtype_N".
func Parse(channel string, raw []byte) (call.Event, error) {
	ev := call.Event{Provider: call.Yunxin, Channel: channel, Raw: string(raw)}
	var b body
	if err := jsonx.Decode(raw, &b); err != nil {
		return ev, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	ev.Command = strconv.FormatInt(int64(b.EventType), 10)
	f := &ev.Facts
	switch {
	case channel == ChannelCallback && b.EventType == 20:
		ev.Event = "call_started"
		ev.EventTime = int64(b.Timestamp)
		f.Status = call.StatusRinging
		f.Caller = string(b.FromAccount)
		for _, a := range b.ToAccountList {
			f.Callees = append(f.Callees, string(a))
		}
		f.MediaType = map[jsonx.Int]string{1: call.MediaAudio, 2: call.MediaVideo}[b.CallType]
		f.CallType = call.TypeSingle
		if len(f.Callees) > 1 {
			f.CallType = call.TypeGroup
		}
		f.StartTime = ev.EventTime
	case channel == ChannelCallback && b.EventType == 21:
		ev.Event = "room_created"
		ev.EventTime = int64(b.Timestamp)
		f.Caller = string(b.FromAccount)
		f.CallType = call.TypeGroup
		f.RoomID = string(b.ChannelName)
	case channel == ChannelCopy && b.EventType == 5:
		ev.CallID = string(b.ChannelID)
		ev.Event = "call_ended"
		f.Status = call.StatusEnded
		if b.Running {
			ev.Event, f.Status = "call_progress", call.StatusOngoing
		}
		f.StartTime = int64(b.CreateTime)
		f.MediaType = map[string]string{"AUDIO": call.MediaAudio, "VEDIO": call.MediaVideo, "VIDEO": call.MediaVideo}[strings.ToUpper(string(b.Type))]
		for _, m := range b.Members {
			if m.Caller {
				f.Caller = string(m.Accid)
			} else if m.Accid != "" {
				f.Callees = append(f.Callees, string(m.Accid))
			}
		}
		f.CallType = call.TypeSingle
		if len(b.Members) > 2 {
			f.CallType = call.TypeGroup
		}
		// The end is the start plus the duration, when both make a time
		// (a duration of 10^18 s would overflow); else the copy has no time
		// of its own, and the caller stamps its arrival.
		ev.EventTime = call.AddSeconds(f.StartTime, int64(b.Duration))
		if f.Status == call.StatusEnded {
			f.EndTime = ev.EventTime
			f.Result = result(string(b.Status))
		}
		if b.Status != "" {
			f.Detail = map[string]string{"status": string(b.Status)}
		}
	case channel == ChannelCopy && b.EventType == 6:
		ev.Event = "recording"
		var urls []string
		for _, fi := range b.FileInfo {
			if ev.CallID == "" {
				ev.CallID = string(fi.ChannelID)
			}
			urls = append(urls, string(fi.URL))
		}
		f.Detail = map[string]string{"files": strconv.Itoa(len(b.FileInfo)), "urls": strings.Join(urls, " ")}
	default:
		ev.Event = "eventtype_" + ev.Command
	}
	// A time outside [call.MinTime, call.MaxTime] is no time; Raw keeps it.
	ev.DropInsaneTimes()
	return ev, nil
}

// result maps a duration copy's status to a call result.
func result(status string) string {
	switch strings.ToUpper(status) {
	case "SUCCESS":
		return call.ResultNormalEnd
	case "TIMEOUT":
		return call.ResultNotAnswer
	case "":
		return ""
	}
	return strings.ToLower(status)
}
