package jobsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobsync/jobsync/jobsapi"
)

// syncBuffer collects debug output written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hostileServer echoes the credentials it receives into every kind of error
// answer (JSON, HTML, plain text, OAuth), so that any path by which the
// client might copy a server message into an error or a log line is
// exercised with the secret in it.
func hostileServer(t *testing.T, accessToken, secret string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/oidc/v1/token", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "bad client secret "+secret, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, accessToken)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch {
		case strings.HasSuffix(r.URL.Path, "/jobs/get"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad header " + auth + " and " + secret})
		case strings.HasSuffix(r.URL.Path, "/jobs/list"):
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><title>%s</title><body>%s</body></html>", auth, secret)
		case strings.HasSuffix(r.URL.Path, "/jobs/delete"):
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "PERMISSION_DENIED: token %s is not valid", auth)
		case strings.HasSuffix(r.URL.Path, "/jobs/create"):
			// Drop the connection after reading the request.
			io.Copy(io.Discard, r.Body)
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("no hijacker")
				return
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
		case strings.HasSuffix(r.URL.Path, "/jobs/reset"):
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error": "Internal error with %s`, auth) // truncated JSON
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error_code":"UNAUTHENTICATED","message":"Invalid access token %s"}`, auth)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestSecretsNeverLeak(t *testing.T) {
	const (
		pat          = "dapi0123456789abcdef-PAT"
		clientSecret = "m2m-SECRET-0123456789"
		accessToken  = "eyJ-ACCESS-TOKEN-0123456789"
	)
	ctx := context.Background()
	// The hostile server echoes the M2M secret in both runs; with a PAT the
	// client never learns it, so only the credentials it holds are checked.
	for _, cfg := range []jobsapi.Config{
		{Host: "", Token: pat},
		{Host: "", ClientID: "sp-id", ClientSecret: clientSecret},
	} {
		t.Run("auth="+map[bool]string{true: "pat", false: "m2m"}[cfg.Token != ""], func(t *testing.T) {
			srv := hostileServer(t, accessToken, clientSecret)
			cfg.Host = srv.URL
			debug := &syncBuffer{}
			c, err := jobsapi.New(cfg, jobsapi.Options{Debug: debug, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, RetryTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var produced []string
			add := func(err error) {
				if err == nil {
					t.Error("expected an error from the hostile server")
					return
				}
				produced = append(produced, err.Error(), fmt.Sprintf("%v|%+v|%#v", err, err, err))
			}
			_, err = c.GetJob(ctx, 1)
			add(err)
			_, err = c.ListJobs(ctx, jobsapi.ListJobsOptions{})
			add(err)
			add(c.DeleteJob(ctx, 1))
			_, err = c.CreateJob(ctx, json.RawMessage(`{"name":"x"}`))
			add(err)
			add(c.ResetJob(ctx, json.RawMessage(`{"job_id":1,"new_settings":{}}`)))
			_, err = c.GetPermissions(ctx, 1)
			add(err)
			produced = append(produced, c.String(), fmt.Sprintf("%v %+v", c, c.Stats()), cfg.String(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), debug.String())
			all := strings.Join(produced, "\n")
			secrets := []string{pat}
			if cfg.Token == "" {
				secrets = []string{clientSecret, accessToken}
			}
			for _, s := range secrets {
				if strings.Contains(all, s) {
					t.Errorf("secret %q leaked into:\n%s", s, all)
				}
			}
			if !strings.Contains(all, "<redacted>") {
				t.Errorf("the hostile server's echoes were not seen, the test proves nothing:\n%s", all)
			}
			if lines := strings.Count(debug.String(), "\n"); lines < 6 {
				t.Errorf("debug log has %d lines:\n%s", lines, debug.String())
			}
		})
	}
}
