package call

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/callfn/callfn/testkit"
)

func fold(evs []Event, roundTrip bool) Summary {
	var s Summary
	for i := range evs {
		s.Apply(&evs[i])
		if roundTrip { // as the store keeps it between deliveries
			b, err := json.Marshal(s)
			if err != nil {
				panic(err)
			}
			s = Summary{}
			if err := json.Unmarshal(b, &s); err != nil {
				panic(err)
			}
		}
	}
	return s
}

var (
	users    = []string{"", "alice", "bob", "carol", "144115212830834855"}
	statuses = []string{"", StatusRinging, StatusOngoing, StatusEnded}
	results  = []string{"", ResultNormalEnd, ResultCancel, ResultNotAnswer}
	medias   = []string{"", MediaAudio, MediaVideo}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// randomEvents makes n events of one call with few distinct times, so that
// ties are common; with distinctIDs false, delivery ids repeat too.
func randomEvents(r *rand.Rand, n int, distinctIDs bool) []Event {
	evs := make([]Event, n)
	for i := range evs {
		id := fmt.Sprintf("d%02d", r.IntN(3))
		if distinctIDs {
			id = fmt.Sprintf("d%02d", i)
		}
		f := Facts{
			Status: pick(r, statuses), MediaType: pick(r, medias), Caller: pick(r, users),
			Result: pick(r, results), RoomID: pick(r, []string{"", "r1", "r2"}),
			CallType:  pick(r, []string{"", TypeSingle, TypeGroup}),
			StartTime: int64(pick(r, []int{0, 1000, 2000})), AcceptTime: int64(pick(r, []int{0, 1500, 2500})),
			EndTime: int64(pick(r, []int{0, 3000, 4000})),
		}
		for range r.IntN(4) {
			f.Callees = append(f.Callees, pick(r, users))
		}
		evs[i] = Event{
			Provider: pick(r, []string{Tencent, CallFn}), CallID: "c1", DeliveryID: id,
			EventTime: int64(pick(r, []int{0, 1, 2, 3})) * 1000, Facts: f,
		}
	}
	return evs
}

// Summary.Apply is a commutative fold: any order of the same events gives
// the same summary (spec: events arrive out of order).
func TestApplyCommutative(t *testing.T) {
	for _, distinct := range []bool{true, false} {
		for seed := range uint64(1000) {
			r := rand.New(rand.NewPCG(seed, 7))
			evs := randomEvents(r, 2+r.IntN(5), distinct)
			want := testkit.JSON(t, fold(slices.Clone(evs), false))
			for range 6 {
				perm := slices.Clone(evs)
				r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
				for _, rt := range []bool{false, true} {
					if got := testkit.JSON(t, fold(slices.Clone(perm), rt)); got != want {
						t.Fatalf("distinct ids %v, seed %d, round trip %v: order changes the summary\nevents %+v\norder  %+v\n got  %s\nwant %s",
							distinct, seed, rt, evs, perm, got, want)
					}
				}
			}
		}
	}
}

func TestApplyNewestWins(t *testing.T) {
	start := Event{Provider: Tencent, CallID: "c", DeliveryID: "a", EventTime: 1000, Facts: Facts{
		Status: StatusRinging, Caller: "alice", Callees: []string{"bob"}, StartTime: 1000, MediaType: MediaAudio,
	}}
	accept := Event{Provider: Tencent, CallID: "c", DeliveryID: "b", EventTime: 2000, Facts: Facts{
		Status: StatusOngoing, AcceptTime: 2000, Callees: []string{"alice", "bob", "carol"},
	}}
	end := Event{Provider: Tencent, CallID: "c", DeliveryID: "c", EventTime: 9000, Facts: Facts{
		Status: StatusEnded, Caller: "alice", Callees: []string{"alice", "bob"}, StartTime: 900, AcceptTime: 1900, EndTime: 8000, Result: ResultNormalEnd,
	}}
	for _, order := range [][]Event{{start, accept, end}, {end, accept, start}, {accept, end, start}} {
		s := fold(order, false)
		if s.Status != StatusEnded || s.Result != ResultNormalEnd || s.Caller != "alice" || s.MediaType != MediaAudio {
			t.Errorf("summary %+v", s)
		}
		// The record's times, from the newest event that names them.
		if s.StartTime != 900 || s.AcceptTime != 1900 || s.EndTime != 8000 {
			t.Errorf("times %d %d %d", s.StartTime, s.AcceptTime, s.EndTime)
		}
		// Callees accumulate; the caller is not one.
		if !slices.Equal(s.Callees, []string{"bob", "carol"}) {
			t.Errorf("callees %q", s.Callees)
		}
		if s.FirstEventTime != 1000 || s.LastEventTime != 9000 || s.EventCount != 3 || s.CallID != "c" || s.Provider != Tencent {
			t.Errorf("bookkeeping %+v", s)
		}
		if s.SortTime() != 900 || !slices.Equal(s.Users(), []string{"alice", "bob", "carol"}) {
			t.Errorf("sortTime %d users %q", s.SortTime(), s.Users())
		}
	}
}

// A later event that says nothing about a field leaves it alone; a tie in
// event time is broken by delivery id.
func TestApplyEmptyAndTies(t *testing.T) {
	a := Event{CallID: "c", DeliveryID: "a", EventTime: 5, Facts: Facts{Status: StatusEnded, Result: ResultCancel}}
	b := Event{CallID: "c", DeliveryID: "b", EventTime: 5, Facts: Facts{Status: StatusOngoing}}
	later := Event{CallID: "c", DeliveryID: "0", EventTime: 6}
	for _, order := range [][]Event{{a, b, later}, {later, b, a}} {
		s := fold(order, false)
		if s.Status != StatusOngoing || s.Result != ResultCancel {
			t.Errorf("status %q result %q", s.Status, s.Result)
		}
	}
	var s Summary
	if s.SortTime() != 0 || s.Users() != nil {
		t.Error("empty summary")
	}
}

func TestApplyProvider(t *testing.T) {
	robot := Event{Provider: CallFn, CallID: "c", DeliveryID: "r", EventTime: 1}
	cb := Event{Provider: Tencent, CallID: "c", DeliveryID: "t", EventTime: 2}
	for _, order := range [][]Event{{robot, cb}, {cb, robot}} {
		if s := fold(order, false); s.Provider != Tencent {
			t.Errorf("provider %q", s.Provider)
		}
	}
	if s := fold([]Event{robot}, false); s.Provider != CallFn {
		t.Errorf("robot only: %q", s.Provider)
	}
}

func TestSortTime(t *testing.T) {
	s := fold([]Event{{CallID: "c", DeliveryID: "x", EventTime: 7000}, {CallID: "c", DeliveryID: "y", EventTime: 3000}}, false)
	if s.SortTime() != 3000 || s.FirstEventTime != 3000 || s.LastEventTime != 7000 {
		t.Errorf("%+v", s)
	}
}

// Tencent's record marks the summary Recorded, in whatever order it comes.
func TestApplyRecorded(t *testing.T) {
	cb := Event{Provider: Tencent, Command: "Call.CallbackAfterStartCall", CallID: "c", DeliveryID: "a", EventTime: 1}
	rec := Event{Provider: Tencent, Command: CommandRecord, CallID: "c", DeliveryID: "b", EventTime: 0}
	yx := Event{Provider: Yunxin, Command: CommandRecord, CallID: "y", DeliveryID: "c", EventTime: 2}
	for _, order := range [][]Event{{cb, rec}, {rec, cb}} {
		if s := fold(order, true); !s.Recorded {
			t.Errorf("%+v: not recorded", s)
		}
	}
	if s := fold([]Event{cb}, false); s.Recorded {
		t.Error("a callback alone is not a record")
	}
	if s := fold([]Event{yx}, false); s.Recorded {
		t.Error("only Tencent keeps records")
	}
}

func TestCarrier(t *testing.T) {
	for provider, want := range map[string]string{CallFn: Tencent, Tencent: Tencent, Yunxin: Yunxin, "": ""} {
		if got := (&Summary{Provider: provider}).Carrier(); got != want {
			t.Errorf("%q: %q, want %q", provider, got, want)
		}
	}
}

func TestMissedBy(t *testing.T) {
	s := Summary{Caller: "alice", Callees: []string{"bob", "carol"}}
	for _, r := range Results {
		s.Result = r
		missed := slices.Contains([]string{ResultNotAnswer, ResultCancel, ResultBusy, ResultOffline}, r)
		if s.MissedBy("bob") != missed || s.MissedBy("carol") != missed {
			t.Errorf("%s: callees missed %v, want %v", r, s.MissedBy("bob"), missed)
		}
		if s.MissedBy("alice") || s.MissedBy("dave") || s.MissedBy("") {
			t.Errorf("%s: missed by the caller or a stranger", r)
		}
	}
	s.Result = ""
	if s.MissedBy("bob") {
		t.Error("a call going on is not missed")
	}
}

func TestStampOf(t *testing.T) {
	for _, ms := range []int64{0, 7, 1740464138806, -3, 1<<63 - 1} {
		ev := &Event{EventTime: ms, DeliveryID: "d1"}
		if got, want := stampOf(ev), fmt.Sprintf("%020d/%s", ms, "d1"); got != want {
			t.Errorf("stampOf(%d) = %q, want %q", ms, got, want)
		}
	}
}
