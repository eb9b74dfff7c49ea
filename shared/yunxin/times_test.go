package yunxin

import (
	"bytes"
	"testing"

	"github.com/callfn/callfn/testkit"
)

// A duration that would overflow the end (10^18 s), a negative one, and
// times outside any sane range, in the real samples' shapes: the end is
// unknown (0; the webhook dates the copy by its arrival), the start is kept
// when it is sane, and the raw body keeps what was sent.
func TestInsaneTimesDropped(t *testing.T) {
	const start = 1573459861008
	copyArray := testkit.Fixture(t, "copy_5_members_array.json") // "duration":7, numbers as numbers
	copyString := testkit.Fixture(t, "copy_5_members_string.json")
	if !bytes.Contains(copyString, []byte(`"duration":"42"`)) {
		t.Fatalf("fixture changed: %s", copyString)
	}
	for _, d := range []string{"1000000000000000000", "1e18", "9223372036854775807", "-1", `"1000000000000000000"`, `"-42"`} {
		for name, body := range map[string][]byte{
			"array":  bytes.Replace(copyArray, []byte(`"duration":7`), []byte(`"duration":`+d), 1),
			"string": bytes.Replace(copyString, []byte(`"duration":"42"`), []byte(`"duration":`+d), 1),
		} {
			ev := mustParse(t, ChannelCopy, body)
			if ev.EventTime != 0 || ev.Facts.EndTime != 0 || ev.Facts.StartTime != start {
				t.Errorf("%s, duration %s: eventTime %d, facts %+v; want 0, endTime 0, startTime %d", name, d, ev.EventTime, ev.Facts, start)
			}
		}
	}
	for _, ct := range []string{"-1", "9223372036854775807", `"9223372036854775807"`} {
		body := bytes.Replace(copyArray, []byte(`"createtime":1573459861008`), []byte(`"createtime":`+ct), 1)
		ev := mustParse(t, ChannelCopy, body)
		if ev.EventTime != 0 || ev.Facts.StartTime != 0 || ev.Facts.EndTime != 0 {
			t.Errorf("createtime %s: eventTime %d, facts %+v", ct, ev.EventTime, ev.Facts)
		}
	}
	cb := testkit.Fixture(t, "callback_20.json")
	for _, ts := range []string{`"-1"`, `"9223372036854775807"`, "-1"} {
		body := bytes.Replace(cb, []byte(`"timestamp":"1573459861008"`), []byte(`"timestamp":`+ts), 1)
		ev := mustParse(t, ChannelCallback, body)
		if ev.EventTime != 0 || ev.Facts.StartTime != 0 || ev.Facts.Caller != "rss02" {
			t.Errorf("timestamp %s: eventTime %d, facts %+v", ts, ev.EventTime, ev.Facts)
		}
	}
}
