package call

// The range of times a provider can plausibly mean, in ms since the epoch.
// A callback carries its times as bare integers, and nothing stops one
// from holding -1, 2^63-1 or the sum of a start and a duration of 10^18
// seconds; a time outside this range says nothing about the call.
const (
	MinTime int64 = 946684800000  // 2000-01-01T00:00:00Z
	MaxTime int64 = 4102444800000 // 2100-01-01T00:00:00Z
)

// SaneTime is ms when it lies in [MinTime, MaxTime], and 0 (no time)
// otherwise.
func SaneTime(ms int64) int64 {
	if ms < MinTime || ms > MaxTime {
		return 0
	}
	return ms
}

// AddSeconds is start plus secs seconds when both make a time in [MinTime,
// MaxTime] (secs >= 0), and 0 otherwise: no overflow, no end before its
// start.
func AddSeconds(start, secs int64) int64 {
	if SaneTime(start) == 0 || secs < 0 || secs > (MaxTime-start)/1000 {
		return 0
	}
	return start + secs*1000
}

// DropInsaneTimes sets every time of ev outside [MinTime, MaxTime] to 0,
// which says nothing: an EventTime of 0 is then stamped with the arrival
// time by the webhook, and a fact of 0 leaves the summary's field to other
// events. Raw keeps what the provider sent. The parsers call it on every
// callback, so the table never has to order or expire a time of year
// 292 million.
func (ev *Event) DropInsaneTimes() {
	ev.EventTime = SaneTime(ev.EventTime)
	f := &ev.Facts
	f.StartTime = SaneTime(f.StartTime)
	f.AcceptTime = SaneTime(f.AcceptTime)
	f.EndTime = SaneTime(f.EndTime)
}
