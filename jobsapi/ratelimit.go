package jobsapi

import (
	"math"
	"sync"
	"time"
)

// limiter is a client-side token bucket whose rate adapts to the
// workspace's answers: it starts at a generous ceiling, halves when the
// workspace answers 429, and climbs back when it stops doing so. Databricks
// limits requests per endpoint (jobs-api.md §6.3: e.g. jobs/create 20/s,
// runs/get 100/s), so the client keeps one limiter per endpoint: throttled
// creates must not slow down reads.
//
// Recovery is quick up to just below the rate that last drew a 429 and slow
// beyond it, so that a steady server limit is approached closely instead of
// oscillating between half and full speed.
//
// All methods take the current time, so the arithmetic is tested without
// sleeping.
type limiter struct {
	mu       sync.Mutex
	ceiling  float64 // never faster than this (requests per second)
	floor    float64 // never slower than this
	maxBurst float64
	rate     float64
	tokens   float64
	last     time.Time // last refill
	lastCut  time.Time
	lastStep time.Time
	badRate  float64 // the rate that last drew a 429 (0: none yet)
}

const (
	// cutCooldown stops one burst of 429s (every in-flight request of a
	// moment) from halving the rate once per request.
	cutCooldown = 250 * time.Millisecond
	// stepEvery is how often the rate may grow while requests succeed.
	stepEvery = 500 * time.Millisecond
	// minRate is the lowest adaptive rate; a floor keeps progress possible.
	minRate = 0.5
)

func newLimiter(ceiling float64, maxBurst int) *limiter {
	if ceiling <= 0 {
		ceiling = defaultRateLimit
	}
	floor := math.Min(minRate, ceiling)
	return &limiter{ceiling: ceiling, floor: floor, maxBurst: math.Max(1, float64(maxBurst)), rate: ceiling}
}

// burst is the bucket size: up to one second of requests, at most maxBurst
// (the client's parallelism, beyond which a burst cannot be used anyway).
func (l *limiter) burst() float64 {
	return math.Max(1, math.Min(l.rate, l.maxBurst))
}

func (l *limiter) refill(now time.Time) {
	if l.last.IsZero() {
		l.tokens = l.burst()
		l.last = now
		return
	}
	if el := now.Sub(l.last).Seconds(); el > 0 {
		l.tokens = math.Min(l.burst(), l.tokens+el*l.rate)
		l.last = now
	}
}

// reserve takes one token and says how long to wait before using it. The
// bucket may go into debt, which queues callers fairly in arrival order.
func (l *limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill(now)
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}

// release gives back a reserved token that was not used (the caller's
// context ended while it waited).
func (l *limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = math.Min(l.burst(), l.tokens+1)
}

// throttled records a 429: the rate halves, at most once per cutCooldown.
func (l *limiter) throttled(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.lastCut.IsZero() && now.Sub(l.lastCut) < cutCooldown {
		return
	}
	l.refill(now)
	l.badRate = l.rate
	l.rate = math.Max(l.floor, l.rate/2)
	l.tokens = math.Min(l.tokens, l.burst())
	l.lastCut, l.lastStep = now, now
}

// succeeded records a non-throttled answer and lets the rate grow: by a
// quarter per step while below 90% of the rate that last drew a 429, then
// by 2% per step (at least half a request per second).
func (l *limiter) succeeded(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate >= l.ceiling || now.Sub(l.lastStep) < stepEvery {
		return
	}
	l.refill(now)
	knee := 0.9 * l.badRate
	switch {
	case l.rate < knee:
		l.rate = math.Min(knee, l.rate*1.25)
	default:
		l.rate += math.Max(0.5, l.rate*0.02)
	}
	l.rate = math.Min(l.ceiling, l.rate)
	l.lastStep = now
}

// current is the rate now in force (for tests and debug output).
func (l *limiter) current() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}
