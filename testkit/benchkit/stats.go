// Package benchkit helps benchmarks tell the truth on a small, shared
// machine: it runs a floor and a subject in alternating rounds (A B A B ...)
// and reports the median of the per-round ratios with their spread, so one
// noisy moment does not decide a figure; and it reads CPU time and memory
// of this process and of child processes (server processes under load), so
// that a cost is counted in CPU time rather than wall time, which
// understates it while the garbage collector or a server's other goroutines
// run on another core.
//
// The CPU and memory readers are Linux's (/proc, getrusage); elsewhere
// they return errors or zero.
package benchkit

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Stats summarizes per-round figures: their median and spread.
type Stats struct {
	N                int     // rounds
	Median, Min, Max float64 // of the rounds
	Q1, Q3           float64 // quartiles (linear interpolation between ranks)
}

// Summarize returns the median, extremes and quartiles of xs, which it
// leaves as it is. With no figures every field is NaN but N.
func Summarize(xs []float64) Stats {
	if len(xs) == 0 {
		nan := math.NaN()
		return Stats{Median: nan, Min: nan, Max: nan, Q1: nan, Q3: nan}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Stats{
		N:      len(s),
		Median: quantile(s, 0.5),
		Min:    s[0],
		Max:    s[len(s)-1],
		Q1:     quantile(s, 0.25),
		Q3:     quantile(s, 0.75),
	}
}

// Median is the middle of xs (the mean of the two middle figures when
// there is an even number of them); NaN for none.
func Median(xs []float64) float64 { return Quantile(xs, 0.5) }

// Quantile is the q-quantile (0 ≤ q ≤ 1) of xs, interpolated linearly
// between the closest ranks (R's type 7, NumPy's default); NaN for none.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return quantile(s, q)
}

// quantile is Quantile of sorted figures.
func quantile(sorted []float64, q float64) float64 {
	q = min(max(q, 0), 1)
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// IQR is the interquartile range, Q3 - Q1.
func (s Stats) IQR() float64 { return s.Q3 - s.Q1 }

// String reads as "0.312 (0.270..0.351 over 7 rounds)".
func (s Stats) String() string {
	return fmt.Sprintf("%.3g (%.3g..%.3g over %d rounds)", s.Median, s.Min, s.Max, s.N)
}

// Report reports s on b as three metrics: name-median, name-min and
// name-max (for name "ratio": ratio-median, ratio-min, ratio-max). The
// figures are per round, not per b.N operation.
func Report(b *testing.B, name string, s Stats) {
	b.ReportMetric(s.Median, name+"-median")
	b.ReportMetric(s.Min, name+"-min")
	b.ReportMetric(s.Max, name+"-max")
}

// Round is one round's figure for the floor and for the subject.
type Round struct{ Floor, Subject float64 }

// Ratio is the subject's figure over the floor's.
func (r Round) Ratio() float64 { return r.Subject / r.Floor }

// Rounds are the rounds of a comparison, in the order they ran.
type Rounds []Round

// Alternate runs n rounds of floor then subject (floor 0, subject 0,
// floor 1, subject 1, ...), each returning its figure for the round (a
// rate, a cost), and returns them. Each subject round is compared with the
// floor round run just before it, so that both saw nearly the same machine.
func Alternate(n int, floor, subject func(round int) float64) Rounds {
	rs := make(Rounds, n)
	for i := range rs {
		rs[i].Floor = floor(i)
		rs[i].Subject = subject(i)
	}
	return rs
}

// Floors are the floor's figures, round by round.
func (rs Rounds) Floors() []float64 { return rs.each(func(r Round) float64 { return r.Floor }) }

// Subjects are the subject's figures, round by round.
func (rs Rounds) Subjects() []float64 { return rs.each(func(r Round) float64 { return r.Subject }) }

// Ratios are each round's subject over floor.
func (rs Rounds) Ratios() []float64 { return rs.each(Round.Ratio) }

func (rs Rounds) each(f func(Round) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// Log writes the rounds on b's log, which `go test -bench` always prints
// (but only its first 10 lines), in three lines whatever their number: the
// floor's figures round by round, the subject's, and the ratios with their
// median and spread. unit names the figures ("req/s").
func (rs Rounds) Log(b testing.TB, unit, floorName, subjectName string) {
	b.Helper()
	b.Logf("%s, %s", Series(floorName, rs.Floors()), unit)
	b.Logf("%s, %s", Series(subjectName, rs.Subjects()), unit)
	b.Logf("%s; median %s", Series("ratio "+subjectName+"/"+floorName, rs.Ratios()), Summarize(rs.Ratios()))
}

// Series formats figures round by round on one line: "name: 0.31 0.29 ...",
// each to 4 significant digits, or as a whole number from 1000 up.
func Series(name string, xs []float64) string {
	var sb strings.Builder
	sb.WriteString(name)
	sb.WriteString(":")
	for _, x := range xs {
		sb.WriteString(" ")
		if math.Abs(x) >= 1000 {
			sb.WriteString(strconv.FormatFloat(x, 'f', 0, 64))
		} else {
			sb.WriteString(strconv.FormatFloat(x, 'g', 4, 64))
		}
	}
	return sb.String()
}
