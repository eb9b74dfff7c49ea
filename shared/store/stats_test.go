package store

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
)

func TestBucketOf(t *testing.T) {
	for ms, want := range map[int64]int64{
		0: 0, 1: 0, StatsBucketMs - 1: 0, StatsBucketMs: StatsBucketMs,
		1714600000123: 1714599900000, -1: -StatsBucketMs, -StatsBucketMs: -StatsBucketMs,
	} {
		if got := BucketOf(ms); got != want {
			t.Errorf("BucketOf(%d) = %d, want %d", ms, got, want)
		}
	}
	// Every zone's midnight is a bucket boundary (today's rules).
	for _, name := range []string{"Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Adelaide", "America/St_Johns", "Europe/Paris"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Skip("no tzdata:", err)
		}
		for d := range 400 {
			m := time.Date(2025, 1, 1+d, 0, 0, 0, 0, loc).UnixMilli()
			if BucketOf(m) != m {
				t.Fatalf("%s: midnight %s is not a bucket boundary", name, time.UnixMilli(m).In(loc))
			}
		}
	}
}

func TestContributionOf(t *testing.T) {
	if _, ok := ContributionOf(nil); ok {
		t.Error("nil summary contributes")
	}
	if _, ok := ContributionOf(&call.Summary{}); ok {
		t.Error("a summary with no call contributes")
	}
	cases := []struct {
		s    call.Summary
		want Contribution
	}{
		{call.Summary{CallID: "a", Provider: call.CallFn, Status: call.StatusRinging, FirstEventTime: 1000},
			Contribution{Bucket: 0, Provider: call.Tencent, InProgress: true}},
		{call.Summary{CallID: "b", Provider: call.Yunxin, Status: call.StatusOngoing, StartTime: StatsBucketMs + 5, AcceptTime: 9},
			Contribution{Bucket: StatsBucketMs, Provider: call.Yunxin, InProgress: true}},
		{call.Summary{CallID: "c", Provider: call.Tencent, Status: call.StatusEnded, Result: call.ResultNormalEnd,
			StartTime: 1000, AcceptTime: 3000, EndTime: 63500},
			Contribution{Bucket: 0, Provider: call.Tencent, Result: call.ResultNormalEnd, TalkMs: 60500}},
		{call.Summary{CallID: "d", Provider: call.Tencent, Status: call.StatusEnded, Result: call.ResultReject, StartTime: 1000, EndTime: 5000},
			Contribution{Bucket: 0, Provider: call.Tencent, Result: call.ResultReject}},
	}
	for _, c := range cases {
		if got, ok := ContributionOf(&c.s); !ok || got != c.want {
			t.Errorf("%s: %+v, want %+v", c.s.CallID, got, c.want)
		}
	}
}

func TestStatsDelta(t *testing.T) {
	ringing := &call.Summary{CallID: "c", Provider: call.Tencent, Status: call.StatusRinging, StartTime: 1000}
	ended := &call.Summary{CallID: "c", Provider: call.Tencent, Status: call.StatusEnded, Result: call.ResultNotAnswer, StartTime: 1000, EndTime: 30000}
	moved := &call.Summary{CallID: "c", Provider: call.Tencent, Status: call.StatusEnded, Result: call.ResultNotAnswer, StartTime: StatsBucketMs, EndTime: 30000}
	callees := *ringing
	callees.Callees = []string{"bob"}

	if d := StatsDelta(nil, nil); d != nil {
		t.Errorf("nothing to nothing: %+v", d)
	}
	if d := StatsDelta(ringing, &callees); d != nil {
		t.Errorf("an unchanged contribution moves the rollups: %+v", d)
	}
	want := []BucketCounts{{Start: 0, Counts: Counts{Calls: 1, ByProvider: map[string]int64{call.Tencent: 1}, InProgress: 1}}}
	if d := StatsDelta(nil, ringing); !reflect.DeepEqual(d, want) {
		t.Errorf("new call: %+v", d)
	}
	want = []BucketCounts{{Start: 0, Counts: Counts{ByResult: map[string]int64{call.ResultNotAnswer: 1}, InProgress: -1}}}
	if d := StatsDelta(ringing, ended); !reflect.DeepEqual(d, want) {
		t.Errorf("ringing to ended: %+v", d)
	}
	want = []BucketCounts{
		{Start: 0, Counts: Counts{Calls: -1, ByResult: map[string]int64{call.ResultNotAnswer: -1}, ByProvider: map[string]int64{call.Tencent: -1}}},
		{Start: StatsBucketMs, Counts: Counts{Calls: 1, ByResult: map[string]int64{call.ResultNotAnswer: 1}, ByProvider: map[string]int64{call.Tencent: 1}}},
	}
	if d := StatsDelta(ended, moved); !reflect.DeepEqual(d, want) {
		t.Errorf("to another bucket: %+v", d)
	}
}

// Rollups kept by delta, fold after fold, equal the final summary's
// contribution whatever the order the events came in and however often
// each was delivered (a redelivery is not folded again: the table stores
// it once).
func TestStatsDeltaAddsUp(t *testing.T) {
	statuses := []string{"", call.StatusRinging, call.StatusOngoing, call.StatusEnded}
	results := []string{"", call.ResultNormalEnd, call.ResultCancel, call.ResultNotAnswer}
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 8))
		var evs []call.Event
		for i := range 1 + r.IntN(6) {
			evs = append(evs, call.Event{
				Provider: []string{call.Tencent, call.CallFn, call.Yunxin}[r.IntN(3)], CallID: "c",
				DeliveryID: fmt.Sprint(i), EventTime: int64(r.IntN(4)) * StatsBucketMs / 2,
				Facts: call.Facts{
					Status: statuses[r.IntN(4)], Result: results[r.IntN(4)],
					StartTime: []int64{0, 1000, StatsBucketMs + 1}[r.IntN(3)], AcceptTime: []int64{0, 2000}[r.IntN(2)],
					EndTime: []int64{0, 5000, 9000}[r.IntN(3)],
				},
			})
		}
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		rollups := map[int64]*Counts{}
		var s *call.Summary
		for i := range evs {
			next := call.Summary{}
			if s != nil {
				next = *s
				next.Stamps = maps.Clone(s.Stamps)
			}
			next.Apply(&evs[i])
			for _, d := range StatsDelta(s, &next) {
				if rollups[d.Start] == nil {
					rollups[d.Start] = &Counts{}
				}
				rollups[d.Start].Add(d.Counts)
			}
			s = &next
		}
		c, _ := ContributionOf(s)
		want := map[int64]Counts{c.Bucket: c.Counts(1)}
		got := map[int64]Counts{}
		for b, n := range rollups {
			if !n.IsZero() {
				got[b] = *n
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: rollups %+v, want %+v (events %+v)", seed, got, want, evs)
		}
	}
}

func TestBoundsAndRanges(t *testing.T) {
	q := int64(StatsBucketMs)
	for _, bad := range [][]int64{nil, {0}, {0, 1}, {q, q}, {2 * q, q}} {
		if CheckBounds(bad) == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
	if err := CheckBounds([]int64{-q, 0, 96 * q}); err != nil {
		t.Error(err)
	}
	one := func(n int64) Counts { return Counts{Calls: n} }
	buckets := []BucketCounts{{Start: -q, Counts: one(1)}, {Start: 0, Counts: one(2)}, {Start: q, Counts: one(4)}, {Start: 5 * q, Counts: one(8)}, {Start: 9 * q, Counts: one(16)}}
	got := SumRanges(buckets, []int64{0, 2 * q, 5 * q, 6 * q, 9 * q})
	want := []Counts{one(6), {}, one(8), {}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SumRanges: %+v, want %+v", got, want)
	}
}
