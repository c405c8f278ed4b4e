package jobsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testClientID     = "sp-app-id"
	testClientSecret = "m2m-s3cr3t/+=&%"
)

// tokenServer is a minimal OAuth client-credentials endpoint: it checks the
// request exactly as the Databricks token endpoint expects it and hands out
// numbered tokens.
type tokenServer struct {
	t        *testing.T
	calls    atomic.Int64
	status   atomic.Int64 // when non-zero, answer this status instead
	body     atomic.Value // string answered with status
	expires  string       // expires_in as JSON ("3600" or "\"3600\"")
	released chan struct{}
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oidc/v1/token" {
		http.NotFound(w, r)
		return
	}
	n := s.calls.Add(1)
	if s.released != nil {
		<-s.released
	}
	if st := s.status.Load(); st != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(st))
		b, _ := s.body.Load().(string)
		fmt.Fprint(w, b)
		return
	}
	id, secret, ok := r.BasicAuth()
	uid, _ := url.QueryUnescape(id)
	usecret, _ := url.QueryUnescape(secret)
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "all-apis" ||
		!ok || uid != testClientID || usecret != testClientSecret {
		s.t.Errorf("bad token request: %s %s form=%v basic=%v %q", r.Method, r.Header.Get("Content-Type"), r.PostForm, ok, uid)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"oauth-tok-%d","token_type":"Bearer","expires_in":%s,"scope":"all-apis"}`, n, s.expires)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newM2MClient(t *testing.T, ts *tokenServer, debug *strings.Builder) (*Client, *m2mAuth, *fakeClock) {
	t.Helper()
	srv := httptest.NewServer(ts)
	t.Cleanup(srv.Close)
	o := Options{}
	if debug != nil {
		o.Debug = &lockedWriter{b: debug}
	}
	c, err := New(Config{Host: srv.URL, ClientID: testClientID, ClientSecret: testClientSecret}, o)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: t0}
	c.now = clk.now
	return c, c.auth.(*m2mAuth), clk
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestM2MTokenCachedAndShared(t *testing.T) {
	for _, expires := range []string{`3600`, `"3600"`} {
		t.Run("expires_in="+expires, func(t *testing.T) {
			ts := &tokenServer{t: t, expires: expires, released: make(chan struct{})}
			c, a, clk := newM2MClient(t, ts, nil)
			if c.AuthType() != AuthTypeOAuthM2M {
				t.Fatalf("auth type %q", c.AuthType())
			}
			ctx := context.Background()
			// 50 requests at once: one token request, all share its token.
			var wg sync.WaitGroup
			got := make([]string, 50)
			errs := make([]error, 50)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i], errs[i] = a.get(ctx)
				}()
			}
			for ts.calls.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			close(ts.released)
			wg.Wait()
			for i := range got {
				if errs[i] != nil || got[i] != "oauth-tok-1" {
					t.Fatalf("request %d: %q, %v", i, got[i], errs[i])
				}
			}
			if n := ts.calls.Load(); n != 1 {
				t.Fatalf("%d token requests for 50 concurrent callers, want 1", n)
			}
			// Still valid until 40 s before expiry...
			clk.advance(time.Hour - 41*time.Second)
			if tok, _ := a.get(ctx); tok != "oauth-tok-1" || ts.calls.Load() != 1 {
				t.Fatalf("refreshed too early: %q after %d calls", tok, ts.calls.Load())
			}
			// ...then refreshed.
			clk.advance(2 * time.Second)
			if tok, err := a.get(ctx); tok != "oauth-tok-2" || err != nil {
				t.Fatalf("not refreshed near expiry: %q, %v", tok, err)
			}
			// A refused token is dropped and fetched again.
			if !a.invalidate() {
				t.Fatal("invalidate found no token")
			}
			if tok, _ := a.get(ctx); tok != "oauth-tok-3" {
				t.Fatalf("after invalidate: %q", tok)
			}
			if st := c.Stats(); st.TokenRequests != 3 || st.Requests != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestM2MShortLivedToken(t *testing.T) {
	ts := &tokenServer{t: t, expires: `60`}
	_, a, clk := newM2MClient(t, ts, nil)
	ctx := context.Background()
	if tok, _ := a.get(ctx); tok != "oauth-tok-1" {
		t.Fatal(tok)
	}
	// A 60 s token is used for 30 s (half its life), not refetched at once.
	clk.advance(29 * time.Second)
	if tok, _ := a.get(ctx); tok != "oauth-tok-1" {
		t.Fatalf("short-lived token not cached: %q", tok)
	}
	clk.advance(2 * time.Second)
	if tok, _ := a.get(ctx); tok != "oauth-tok-2" {
		t.Fatalf("short-lived token not refreshed: %q", tok)
	}
}

func TestM2MErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("refused credentials", func(t *testing.T) {
		var log strings.Builder
		ts := &tokenServer{t: t, expires: `3600`}
		ts.status.Store(401)
		// A server that echoes what it got must not make us print it.
		ts.body.Store(`{"error":"invalid_client","error_description":"Client authentication failed for secret ` + testClientSecret + `"}`)
		_, a, _ := newM2MClient(t, ts, &log)
		_, err := a.get(ctx)
		var te *tokenError
		if !errors.As(err, &te) || te.transient {
			t.Fatalf("want a permanent token error, got %#v", err)
		}
		msg := err.Error()
		for _, want := range []string{"/oidc/v1/token", "invalid_client (HTTP 401)", "Client authentication failed", "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
		if strings.Contains(msg+log.String(), testClientSecret) {
			t.Errorf("secret leaked: %q\n%s", msg, log.String())
		}
	})
	t.Run("gateway trouble is transient", func(t *testing.T) {
		ts := &tokenServer{t: t, expires: `3600`}
		ts.status.Store(503)
		ts.body.Store(`<html><title>503</title></html>`)
		_, a, _ := newM2MClient(t, ts, nil)
		_, err := a.get(ctx)
		var te *tokenError
		if !errors.As(err, &te) || !te.transient {
			t.Fatalf("want a transient token error, got %v", err)
		}
	})
	t.Run("no access token", func(t *testing.T) {
		ts := &tokenServer{t: t, expires: `3600`}
		ts.status.Store(200)
		ts.body.Store(`{"token_type":"Bearer"}`)
		_, a, _ := newM2MClient(t, ts, nil)
		if _, err := a.get(ctx); err == nil || !strings.Contains(err.Error(), "without an access_token") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("waiting for another refresh honours the context", func(t *testing.T) {
		ts := &tokenServer{t: t, expires: `3600`}
		_, a, _ := newM2MClient(t, ts, nil)
		a.lock <- struct{}{} // someone else is refreshing
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := a.get(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if ts.calls.Load() != 0 {
			t.Fatal("fetched while another refresh held the lock")
		}
	})
}
