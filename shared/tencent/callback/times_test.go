package callback

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/testkit"
)

// Times outside any sane range, in the real samples' shapes, are dropped
// (0: no time, so the webhook dates the event by its arrival) and the raw
// body keeps them; the sane times beside them stay.
func TestInsaneTimesDropped(t *testing.T) {
	start := testkit.Fixture(t, "v4_after_start.json")
	end := testkit.Fixture(t, "v4_after_end.json")
	v1 := testkit.Fixture(t, "v1_normal_end.json")
	for _, insane := range []string{"-1", "9223372036854775807", `"-1"`, "1e18", "0.5"} {
		body := bytes.Replace(start, []byte(`"EventTime":1740464128807`), []byte(`"EventTime":`+insane), 1)
		ev := mustParse(t, V4, v4Query(CmdAfterStartCall), body)
		if ev.EventTime != 0 || ev.Facts.StartTime != 0 {
			t.Errorf("v4 start, EventTime %s: eventTime %d, startTime %d, want 0, 0", insane, ev.EventTime, ev.Facts.StartTime)
		}

		body = bytes.Replace(end, []byte(`"StartTime":1740464128`), []byte(`"StartTime":`+insane), 1)
		body = bytes.Replace(body, []byte(`"EventTime":1740464190512`), []byte(`"EventTime":`+insane), 1)
		ev = mustParse(t, V4, v4Query(CmdAfterEndCall), body)
		if ev.EventTime != 0 || ev.Facts.StartTime != 0 || ev.Facts.AcceptTime != 1740464131000 || ev.Facts.EndTime != 1740464190000 {
			t.Errorf("v4 end, StartTime and EventTime %s: %d %+v", insane, ev.EventTime, ev.Facts)
		}

		body = bytes.Replace(v1, []byte(`"EventTime":"1704695600"`), []byte(`"EventTime":`+insane), 1)
		body = bytes.Replace(body, []byte(`"EndTs":"1704695600"`), []byte(`"EndTs":`+insane), 1)
		ev = mustParse(t, V1, v1Query("callee_call_end"), body)
		if ev.EventTime != 0 || ev.Facts.EndTime != 0 || ev.Facts.StartTime != 1704695500000 {
			t.Errorf("v1 end, EventTime and EndTs %s: %d %+v", insane, ev.EventTime, ev.Facts)
		}
	}
	// At the edges of the range.
	for ms, want := range map[int64]int64{call.MinTime: call.MinTime, call.MinTime - 1: 0, call.MaxTime: call.MaxTime, call.MaxTime + 1: 0} {
		body := bytes.Replace(start, []byte(`1740464128807`), []byte(itoa(ms)), 1)
		if ev := mustParse(t, V4, v4Query(CmdAfterStartCall), body); ev.EventTime != want {
			t.Errorf("EventTime %d: %d, want %d", ms, ev.EventTime, want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
