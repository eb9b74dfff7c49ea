package call

import (
	"math"
	"testing"
)

func TestSaneTime(t *testing.T) {
	for in, want := range map[int64]int64{
		0: 0, -1: 0, 1: 0, 1000: 0, math.MinInt64: 0, math.MaxInt64: 0,
		MinTime - 1: 0, MinTime: MinTime, 1740464128807: 1740464128807, MaxTime: MaxTime, MaxTime + 1: 0,
	} {
		if got := SaneTime(in); got != want {
			t.Errorf("SaneTime(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestAddSeconds(t *testing.T) {
	const start = 1573459861008 // Yunxin's sample createtime
	for _, c := range []struct{ start, secs, want int64 }{
		{start, 42, start + 42000},
		{start, 0, start},
		{start, -1, 0},   // an end before its start
		{start, 1e18, 0}, // would overflow int64 ms
		{start, math.MaxInt64, 0},
		{start, (MaxTime - start) / 1000, start + (MaxTime-start)/1000*1000},
		{start, (MaxTime-start)/1000 + 1, 0},
		{0, 42, 0},  // no start, no end
		{-1, 42, 0}, // an insane start
		{math.MaxInt64, 1, 0},
	} {
		if got := AddSeconds(c.start, c.secs); got != c.want {
			t.Errorf("AddSeconds(%d, %d) = %d, want %d", c.start, c.secs, got, c.want)
		}
	}
}

func TestDropInsaneTimes(t *testing.T) {
	ev := Event{EventTime: -1, Raw: `{"EventTime":-1}`, Facts: Facts{
		StartTime: math.MaxInt64, AcceptTime: 1740464131000, EndTime: 1e18,
	}}
	ev.DropInsaneTimes()
	if ev.EventTime != 0 || ev.Facts.StartTime != 0 || ev.Facts.EndTime != 0 {
		t.Errorf("insane times kept: %+v", ev)
	}
	if ev.Facts.AcceptTime != 1740464131000 || ev.Raw != `{"EventTime":-1}` {
		t.Errorf("a sane time or the raw body changed: %+v", ev)
	}
}
