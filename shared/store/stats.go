package store

import (
	"fmt"

	"github.com/callfn/callfn/shared/call"
)

// StatsBucketMs is the width of a rollup bucket: 15 minutes, in ms. Every
// time zone's offset from UTC is a whole number of quarter hours, so a day
// in any zone is a whole number of buckets, and the rollups answer any
// zone's days exactly.
const StatsBucketMs = 15 * 60 * 1000

// Counts are rollups: what a set of calls adds up to.
type Counts struct {
	Calls      int64            `json:"calls"`
	ByResult   map[string]int64 `json:"byResult,omitempty"`   // calls with a result, by result
	ByProvider map[string]int64 `json:"byProvider,omitempty"` // by carrier (Summary.Carrier)
	InProgress int64            `json:"inProgress"`           // ringing or in progress
	TalkMs     int64            `json:"talkMs"`               // accept to end, summed
}

// BucketCounts are the rollups of one bucket.
type BucketCounts struct {
	Start int64 `json:"start"` // ms, a multiple of StatsBucketMs
	Counts
}

// Add adds d to c; map entries that come to 0 are dropped.
func (c *Counts) Add(d Counts) {
	c.Calls += d.Calls
	c.InProgress += d.InProgress
	c.TalkMs += d.TalkMs
	c.ByResult = addTo(c.ByResult, d.ByResult)
	c.ByProvider = addTo(c.ByProvider, d.ByProvider)
}

func addTo(m, d map[string]int64) map[string]int64 {
	for k, v := range d {
		if m == nil {
			m = map[string]int64{}
		}
		if m[k] += v; m[k] == 0 {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// IsZero reports whether c counts nothing.
func (c Counts) IsZero() bool {
	return c.Calls == 0 && c.InProgress == 0 && c.TalkMs == 0 && len(c.ByResult) == 0 && len(c.ByProvider) == 0
}

// Contribution is what one call adds to the rollups.
type Contribution struct {
	Bucket     int64  // the bucket of its SortTime (BucketOf)
	Result     string // "" while unknown
	Provider   string // Summary.Carrier
	InProgress bool   // ringing or in progress
	TalkMs     int64  // EndTime - AcceptTime, when both are known
}

// BucketOf is the start of the bucket holding ms.
func BucketOf(ms int64) int64 {
	b := ms / StatsBucketMs * StatsBucketMs
	if b > ms {
		b -= StatsBucketMs // toward -inf for times before 1970
	}
	return b
}

// ContributionOf is what s adds to the rollups; false for no call (nil,
// or a summary with no call id).
func ContributionOf(s *call.Summary) (Contribution, bool) {
	if s == nil || s.CallID == "" {
		return Contribution{}, false
	}
	c := Contribution{
		Bucket:     BucketOf(s.SortTime()),
		Result:     s.Result,
		Provider:   s.Carrier(),
		InProgress: s.Status == call.StatusRinging || s.Status == call.StatusOngoing,
	}
	if s.AcceptTime > 0 && s.EndTime > s.AcceptTime {
		c.TalkMs = s.EndTime - s.AcceptTime
	}
	return c, true
}

// Counts is the contribution as counts, times sign (1 to add it, -1 to
// take it out).
func (c Contribution) Counts(sign int64) Counts {
	n := Counts{Calls: sign, TalkMs: sign * c.TalkMs}
	if c.InProgress {
		n.InProgress = sign
	}
	if c.Result != "" {
		n.ByResult = map[string]int64{c.Result: sign}
	}
	if c.Provider != "" {
		n.ByProvider = map[string]int64{c.Provider: sign}
	}
	return n
}

// StatsDelta is what replacing a call's summary old by new (either nil:
// none) changes in the rollups: the old contribution taken out of its
// bucket, the new one added to its own; one bucket when both are the same
// bucket, none when the contribution did not change. Backends apply it in
// the same atomic write as the new summary.
func StatsDelta(old, new *call.Summary) []BucketCounts {
	oc, hadOld := ContributionOf(old)
	nc, hasNew := ContributionOf(new)
	switch {
	case hadOld && hasNew && oc == nc:
		return nil
	case hadOld && hasNew && oc.Bucket == nc.Bucket:
		d := oc.Counts(-1)
		d.Add(nc.Counts(1))
		if d.IsZero() {
			return nil
		}
		return []BucketCounts{{Start: nc.Bucket, Counts: d}}
	}
	var out []BucketCounts
	if hadOld {
		out = append(out, BucketCounts{Start: oc.Bucket, Counts: oc.Counts(-1)})
	}
	if hasNew {
		out = append(out, BucketCounts{Start: nc.Bucket, Counts: nc.Counts(1)})
	}
	return out
}

// CheckBounds reports bounds Stats cannot take: fewer than two, not
// increasing, or not multiples of StatsBucketMs.
func CheckBounds(bounds []int64) error {
	if len(bounds) < 2 {
		return fmt.Errorf("store: stats need at least two bounds, got %d", len(bounds))
	}
	for i, b := range bounds {
		if b%StatsBucketMs != 0 {
			return fmt.Errorf("store: stats bound %d is not a multiple of %d ms", b, StatsBucketMs)
		}
		if i > 0 && b <= bounds[i-1] {
			return fmt.Errorf("store: stats bounds are not increasing: %d after %d", b, bounds[i-1])
		}
	}
	return nil
}

// SumRanges adds buckets (in time order) up into the ranges bounds makes:
// what a backend that reads buckets answers Stats with.
func SumRanges(buckets []BucketCounts, bounds []int64) []Counts {
	out := make([]Counts, len(bounds)-1)
	r := 0
	for _, b := range buckets {
		for r < len(out) && b.Start >= bounds[r+1] {
			r++
		}
		if r == len(out) {
			break
		}
		if b.Start >= bounds[r] {
			out[r].Add(b.Counts)
		}
	}
	return out
}
