package jobsapi

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
)

// TestRetryAfterHonoured checks the waits the client chooses, recorded
// instead of slept, against the emulator's 429/503 answers.
func TestRetryAfterHonoured(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(emu)
	defer hs.Close()
	c, err := New(Config{Host: hs.URL, Token: "t"}, Options{MinBackoff: time.Second, MaxBackoff: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var slept []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return ctx.Err()
	}
	c.jitter = func() float64 { return 0 }

	emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 429, RetryAfter: 7})
	emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 503, RetryAfter: 2})
	emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 503})
	emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 429})
	if _, err := c.ListJobs(context.Background(), ListJobsOptions{}); err != nil {
		t.Fatal(err)
	}
	// Retry-After 7 and 2 as sent; then the exponential backoff of
	// attempts 3 and 4 (1s·2^(n-1), half of it fixed with zero jitter).
	want := []time.Duration{7 * time.Second, 2 * time.Second, 2 * time.Second, 4 * time.Second}
	if !slices.Equal(slept, want) {
		t.Errorf("waits %v, want %v", slept, want)
	}
	if st := c.Stats(); st.Retries != 4 || st.Throttled != 2 || st.Requests != 5 {
		t.Errorf("stats %+v", st)
	}
	// The 429s cut the endpoint's rate; other endpoints keep theirs.
	if r := c.limiterFor("jobs/list").current(); r >= defaultRateLimit {
		t.Errorf("jobs/list rate still %v after 429s", r)
	}
	if r := c.limiterFor("jobs/get").current(); r != defaultRateLimit {
		t.Errorf("jobs/get rate %v changed by another endpoint's 429", r)
	}
}

// TestPATUnauthorizedNotRetried: a refused personal access token is final.
func TestPATUnauthorizedNotRetried(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(emu)
	defer hs.Close()
	c, err := New(Config{Host: hs.URL, Token: "t"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 401, Count: 5})
	_, err = c.ListJobs(context.Background(), ListJobsOptions{})
	if !IsAuth(err) {
		t.Fatalf("got %v", err)
	}
	if n := emu.RequestCount(); n != 1 {
		t.Errorf("%d requests", n)
	}
}
