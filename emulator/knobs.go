package emulator

import (
	"math"
	"net/http"
	"time"
)

// bucket is a token bucket on the real clock: rate tokens per second, burst of
// one second's worth (at least one).
type bucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

// SetRateLimit limits requests to perSecond on endpoint ("" = all endpoints
// together, or e.g. "jobs/create"); excess requests get 429
// REQUEST_LIMIT_EXCEEDED with an integer Retry-After (§6.2, §6.3; [PY]
// errors/customizer.py: the platform sends integer seconds). perSecond <= 0
// removes the limit.
func (s *Server) SetRateLimit(endpoint string, perSecond float64) {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	if perSecond <= 0 {
		delete(s.limiters, endpoint)
		return
	}
	s.limiters[endpoint] = &bucket{rate: perSecond, tokens: math.Max(1, perSecond), last: time.Now()}
}

func (s *Server) checkRateLimit(endpoint string) *apiError {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	if len(s.limiters) == 0 {
		return nil
	}
	now := time.Now()
	// Check both buckets before taking from either, so that a request refused
	// by one limit does not consume the other's budget.
	var bs []*bucket
	for _, key := range []string{"", endpoint} {
		b := s.limiters[key]
		if b == nil {
			continue
		}
		b.tokens = math.Min(math.Max(1, b.rate), b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
		if b.tokens < 1 {
			wait := (1 - b.tokens) / b.rate
			return &apiError{status: http.StatusTooManyRequests, code: codeRequestLimit,
				msg:        "Too many requests. Please wait a moment and try again. RPC token bucket limit has been exceeded.",
				retryAfter: int(math.Max(1, math.Ceil(wait)))}
		}
		bs = append(bs, b)
	}
	for _, b := range bs {
		b.tokens--
	}
	return nil
}

// SetFailRate makes a fraction p (0..1) of requests fail with a random 500
// INTERNAL_ERROR or 503 TEMPORARILY_UNAVAILABLE before they are performed. The
// sequence is deterministic for a given Options.Seed and request order.
func (s *Server) SetFailRate(p float64) {
	s.failRate.Store(math.Float64bits(math.Max(0, math.Min(1, p))))
}

func (s *Server) randomFailure() *apiError {
	p := math.Float64frombits(s.failRate.Load())
	if p <= 0 {
		return nil
	}
	s.knobMu.Lock()
	fail := s.rng.Float64() < p
	unavailable := s.rng.IntN(2) == 0
	s.knobMu.Unlock()
	if !fail {
		return nil
	}
	if unavailable {
		// 503 text of the gateway (§6.2).
		return &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable,
			msg: "No webapps are available to handle your request. Please try again later."}
	}
	return &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "Internal error. Please try again later."}
}

// InjectFault queues f; the first queued fault matching a request applies to
// it, Count times.
func (s *Server) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.knobMu.Lock()
	s.faults = append(s.faults, &f)
	s.knobMu.Unlock()
}

func (s *Server) takeFault(method, endpoint string) *Fault {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == method) && (f.Endpoint == "" || f.Endpoint == endpoint) {
			f.Count--
			if f.Count <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			c := *f
			return &c
		}
	}
	return nil
}
