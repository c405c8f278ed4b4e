package bench

import (
	"fmt"
	"sort"
	"time"
)

// Sample is one measured run of a scenario.
type Sample struct {
	Wall time.Duration
	// Requests is the number of HTTP requests the emulator served during
	// the measured part (retries included).
	Requests  int64
	Retries   int64
	Throttled int64
	// Failed counts failed apply actions; Applied the successful ones.
	Failed, Applied int
	// RSSKB is the peak resident set size of a child process (KiB), 0 when
	// the run was in-process.
	RSSKB int64
	// CPU is user+system CPU time of a child process.
	CPU time.Duration
}

// Samples are the runs of one scenario.
type Samples []Sample

func median[T int64 | time.Duration | int](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func pick[T any](ss Samples, f func(Sample) T) []T {
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

// Wall is the median wall time.
func (ss Samples) Wall() time.Duration {
	return median(pick(ss, func(s Sample) time.Duration { return s.Wall }))
}

// WallRange is the fastest and slowest run.
func (ss Samples) WallRange() (lo, hi time.Duration) {
	w := pick(ss, func(s Sample) time.Duration { return s.Wall })
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	if len(w) == 0 {
		return 0, 0
	}
	return w[0], w[len(w)-1]
}

// Requests is the median request count (counts are deterministic for
// fault-free runs, so this is also every run's count).
func (ss Samples) Requests() int64 {
	return median(pick(ss, func(s Sample) int64 { return s.Requests }))
}

// Throttled is the median number of 429 answers.
func (ss Samples) Throttled() int64 {
	return median(pick(ss, func(s Sample) int64 { return s.Throttled }))
}

// RSSKB is the median peak RSS.
func (ss Samples) RSSKB() int64 { return median(pick(ss, func(s Sample) int64 { return s.RSSKB })) }

// CPU is the median CPU time.
func (ss Samples) CPU() time.Duration {
	return median(pick(ss, func(s Sample) time.Duration { return s.CPU }))
}

// Failed is the total of failed actions over all runs.
func (ss Samples) Failed() int {
	n := 0
	for _, s := range ss {
		n += s.Failed
	}
	return n
}

// Applied is the median number of applied actions.
func (ss Samples) Applied() int { return median(pick(ss, func(s Sample) int { return s.Applied })) }

// fmtDur prints a duration with three significant digits in s or ms.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

func fmtRange(ss Samples) string {
	lo, hi := ss.WallRange()
	if len(ss) < 2 {
		return fmtDur(ss.Wall())
	}
	return fmt.Sprintf("%s (%s–%s)", fmtDur(ss.Wall()), fmtDur(lo), fmtDur(hi))
}
