package jobsapi

import (
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLimiterBucket(t *testing.T) {
	l := newLimiter(10, 4) // 10/s, burst 4
	for i := 0; i < 4; i++ {
		if d := l.reserve(t0); d != 0 {
			t.Fatalf("request %d of the burst waits %s", i, d)
		}
	}
	// The bucket is empty: the next ones queue 100 ms apart.
	for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond} {
		if d := l.reserve(t0); d != want {
			t.Errorf("queued request %d waits %s, want %s", i, d, want)
		}
	}
	// A cancelled wait gives its token back.
	l.release()
	if d := l.reserve(t0); d != 300*time.Millisecond {
		t.Errorf("after release: %s, want 300ms", d)
	}
	// One second later the debt (3 tokens) is paid and 7 more accrued,
	// capped at the burst.
	if d := l.reserve(t0.Add(time.Second)); d != 0 {
		t.Errorf("after a second: waits %s", d)
	}
}

func TestLimiterAdapts(t *testing.T) {
	l := newLimiter(1000, 16)
	now := t0
	l.throttled(now)
	if r := l.current(); r != 500 {
		t.Fatalf("after one 429: %v, want 500", r)
	}
	// A burst of 429s from requests already in flight halves only once.
	for i := 0; i < 20; i++ {
		l.throttled(now.Add(time.Duration(i) * time.Millisecond))
	}
	if r := l.current(); r != 500 {
		t.Fatalf("a burst of 429s cut to %v, want 500", r)
	}
	// Each cooldown allows one more halving, down to the floor.
	for i := 0; i < 30; i++ {
		now = now.Add(cutCooldown)
		l.throttled(now)
	}
	if r := l.current(); r != minRate {
		t.Fatalf("rate after many 429s = %v, want the floor %v", r, minRate)
	}
	// Successes within a step do not raise it.
	l.succeeded(now.Add(stepEvery / 2))
	if r := l.current(); r != minRate {
		t.Fatalf("raised too early: %v", r)
	}
}

func TestLimiterRecovery(t *testing.T) {
	// A server limit of 20/s: the client overshoots to 21, is cut to
	// 10.5, climbs back quickly to 90% of 21 and then slowly.
	l := newLimiter(1000, 16)
	l.rate = 21
	now := t0
	l.throttled(now)
	if r := l.current(); r != 10.5 {
		t.Fatalf("cut to %v", r)
	}
	var steps []float64
	for i := 0; i < 8; i++ {
		now = now.Add(stepEvery)
		l.succeeded(now)
		steps = append(steps, l.current())
	}
	knee := 0.9 * 21
	fast := 0
	for _, r := range steps {
		if r <= knee+1e-9 {
			fast++
		}
	}
	if steps[0] <= 10.5 {
		t.Fatalf("recovery %v", steps)
	}
	if fast > 4 {
		t.Errorf("needed %d steps to get back near the limit: %v", fast, steps)
	}
	// Above the knee growth is slow: 2% (at least 0.5/s) per step.
	for i := 1; i < len(steps); i++ {
		if steps[i-1] >= knee && steps[i]-steps[i-1] > 0.6 {
			t.Errorf("step %d grew %v -> %v above the knee", i, steps[i-1], steps[i])
		}
	}
	// It never exceeds the ceiling.
	c := newLimiter(5, 16)
	c.rate = 4.9
	c.badRate = 100
	c.succeeded(t0.Add(time.Hour))
	if r := c.current(); r != 5 {
		t.Errorf("ceiling exceeded: %v", r)
	}
}

func TestBackoff(t *testing.T) {
	c := &Client{minBackoff: 500 * time.Millisecond, maxBackoff: 10 * time.Second}
	c.jitter = func() float64 { return 0 }
	lows := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, want := range lows {
		if got := c.backoff(i + 1); got != want {
			t.Errorf("attempt %d: low end %s, want %s", i+1, got, want)
		}
	}
	c.jitter = func() float64 { return 0.999999 }
	for i := 1; i < 40; i++ {
		if got := c.backoff(i); got > c.maxBackoff {
			t.Errorf("attempt %d: %s beyond the cap", i, got)
		}
	}
	if got := c.backoff(1); got < 499*time.Millisecond {
		t.Errorf("high end of the first backoff: %s", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"":                              0,
		"1":                             time.Second,
		" 7 ":                           7 * time.Second,
		"0":                             0,
		"-3":                            0,
		"1.5":                           0,
		"Wed, 21 Oct 2015 07:28:00 GMT": 0,
		"99999":                         0,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := parseRetryAfter(h); got != want {
			t.Errorf("Retry-After %q: %s, want %s", v, got, want)
		}
	}
}

func TestUserAgent(t *testing.T) {
	ua := buildUserAgent("jobsync/1.2.3", "oauth-m2m")
	if !strings.HasPrefix(ua, "jobsync/1.2.3 go/") || !strings.HasSuffix(ua, " os/"+runtime.GOOS+" auth/oauth-m2m") {
		t.Errorf("User-Agent %q", ua)
	}
	ok := regexp.MustCompile(`^[A-Za-z0-9._-]+/[A-Za-z0-9._+-]+( [A-Za-z0-9._-]+/[A-Za-z0-9._+-]+)*$`)
	if !ok.MatchString(ua) {
		t.Errorf("User-Agent %q is not key/value pairs", ua)
	}
	if d := buildUserAgent("", "pat"); !strings.HasPrefix(d, "jobsync/") || !ok.MatchString(d) {
		t.Errorf("default User-Agent %q", d)
	}
}

func TestParseINI(t *testing.T) {
	got, err := parseINI([]byte("\ufefftoken = before-any-section\n[a]\nHost = h ; c\nx: y\n  k = 'quoted # not a comment'\nk2 = v#not-comment\n[a]\nz = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"DEFAULT": {"token": "before-any-section"},
		"a":       {"host": "h", "x": "y", "k": "quoted # not a comment", "k2": "v#not-comment", "z": "1"},
	}
	for s, kv := range want {
		for k, v := range kv {
			if got[s][k] != v {
				t.Errorf("[%s] %s = %q, want %q", s, k, got[s][k], v)
			}
		}
	}
	if _, err := parseINI([]byte("[broken\nk=v")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("broken header: %v", err)
	}
	if _, err := parseINI([]byte("[a]\njust-a-token-line-dapi123")); err == nil || strings.Contains(err.Error(), "dapi123") {
		t.Errorf("bad line: error %v must exist and not echo the line", err)
	}
}

func TestBodyChecks(t *testing.T) {
	for body, want := range map[string]bool{
		`{"job_id":1,"idempotency_token":"abc"}`: true,
		`{"job_id":1,"idempotency_token":""}`:    false,
		`{"job_id":1}`:                           false,
		`{"idempotency_token":5}`:                false,
		`not json`:                               false,
	} {
		if got := hasIdempotencyToken([]byte(body)); got != want {
			t.Errorf("hasIdempotencyToken(%s) = %v", body, got)
		}
	}
	for body, ok := range map[string]bool{`{}`: true, " \n{\"a\":1}": true, `[]`: false, `"x"`: false, `{`: false, ``: false} {
		if err := checkObject([]byte(body)); (err == nil) != ok {
			t.Errorf("checkObject(%q) = %v", body, err)
		}
	}
}

func TestExpiresIn(t *testing.T) {
	for _, c := range []struct {
		v    any
		want time.Duration
	}{
		{"3600", time.Hour}, {"60", time.Minute}, {nil, time.Hour}, {"x", time.Hour}, {"-1", time.Hour},
	} {
		if got := expiresIn(c.v); got != c.want {
			t.Errorf("expiresIn(%v) = %s", c.v, got)
		}
	}
}

func TestTransportSizedToParallelism(t *testing.T) {
	c, err := New(Config{Host: "https://x.example.com", Token: "t"}, Options{Parallelism: 40})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", c.hc.Transport)
	}
	if tr.MaxIdleConnsPerHost != 40 || tr.MaxConnsPerHost != 40 || tr.MaxIdleConns < 40 || cap(c.sem) != 40 {
		t.Errorf("idle %d, max %d, total idle %d, semaphore %d", tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost, tr.MaxIdleConns, cap(c.sem))
	}
	d, err := New(Config{Host: "https://x.example.com", Token: "t"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cap(d.sem) != defaultParallelism || d.hc.Transport.(*http.Transport).MaxIdleConnsPerHost != defaultParallelism {
		t.Errorf("default parallelism %d", cap(d.sem))
	}
	// Caller-supplied clients are used with their transport and timeout,
	// under jobsync's redirect policy (on a copy: the caller's client is
	// left as it was).
	own := &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}
	e, _ := New(Config{Host: "https://x.example.com", Token: "t"}, Options{HTTPClient: own})
	if e.hc.Transport != own.Transport || e.hc.Timeout != time.Minute {
		t.Error("Options.HTTPClient ignored")
	}
	if e.hc.CheckRedirect == nil || own.CheckRedirect != nil {
		t.Error("the redirect policy is not set on a copy of Options.HTTPClient")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Host: "http://dbc.example.com", Token: "t"}, "refusing plain http://"},
		{Config{Host: "https://x.example.com"}, "no credentials"},
		{Config{Host: "https://x.example.com", Token: "t", ClientID: "i"}, "more than one auth method configured"},
		{Config{Host: "https://x.example.com", AuthType: "pat"}, "needs a token"},
		{Config{Host: "https://x.example.com", AuthType: "oauth-m2m", ClientID: "i"}, "client secret"},
		{Config{Host: "https://x.example.com", AuthType: "basic", Token: "t"}, "not supported"},
	} {
		if _, err := New(tc.cfg, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}
