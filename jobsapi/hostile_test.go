package jobsapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
)

// recorder is a server that records what reaches it: the Authorization
// header and the body of every request. It stands for "another host" that
// a redirect points at.
type recorder struct {
	mu   sync.Mutex
	seen []string // "METHOD PATH auth=<header> body=<body>"
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%s %s auth=%q body=%q", req.Method, req.URL.Path, req.Header.Get("Authorization"), body))
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"job_id": 1, "jobs": [], "has_more": false}`)
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// redirector answers every request with a redirect to target, keeping the
// path and query.
func redirector(status int, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.RequestURI(), status)
	})
}

// TestRedirectsAreRefused: the Jobs API never redirects, so the client
// follows no redirect at all: not to another port of the same host (Go's
// default rule keeps Authorization there), not from https to http, not to
// another host. The token and the body never reach the target, nothing of
// its answer is taken as the workspace's, and the error says what happened.
func TestRedirectsAreRefused(t *testing.T) {
	const token = "dapi-redirect-secret-0123456789"
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, kind := range []string{"same host, other port", "https to http", "other host"} {
			t.Run(fmt.Sprintf("%d %s", status, kind), func(t *testing.T) {
				target := &recorder{}
				b := httptest.NewServer(target)
				defer b.Close()
				to := b.URL
				if kind == "other host" {
					to = strings.Replace(b.URL, "127.0.0.1", "localhost", 1)
				}
				var a *httptest.Server
				o := Options{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, RetryTimeout: time.Second}
				if kind == "https to http" {
					a = httptest.NewTLSServer(redirector(status, to))
					o.HTTPClient = a.Client() // trusts a's certificate
				} else {
					a = httptest.NewServer(redirector(status, to))
				}
				defer a.Close()
				c, err := New(Config{Host: a.URL, Token: token}, o)
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.CreateJob(context.Background(), []byte(`{"name":"secret-bearing body"}`))
				if err == nil {
					t.Fatal("create through a redirect succeeded")
				}
				msg := err.Error()
				for _, want := range []string{"redirect", b.URL[strings.LastIndex(b.URL, ":")+1:], "never redirects"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not mention %q", msg, want)
					}
				}
				if strings.Contains(msg, token) {
					t.Errorf("error shows the token: %s", msg)
				}
				if errors.Is(err, ErrMaybeCommitted) {
					t.Errorf("a redirect is a definite refusal, not an ambiguous write: %v", err)
				}
				if got := target.requests(); len(got) != 0 {
					t.Errorf("the redirect target was reached: %v", got)
				}
				// Reads refuse too, with no retries.
				if _, err := c.GetJob(context.Background(), 5); err == nil || !strings.Contains(err.Error(), "redirect") {
					t.Errorf("get through a redirect: %v", err)
				}
				if got := target.requests(); len(got) != 0 {
					t.Errorf("the redirect target was reached: %v", got)
				}
			})
		}
	}
}

// TestEncodedSecretsRedacted: a server that echoes the credentials it got,
// in the forms it got them (the Basic header of the token request is the
// base64 of "id:secret", URL-escaped first), never makes them appear in an
// error or in the debug log.
func TestEncodedSecretsRedacted(t *testing.T) {
	const id, secret = "sp-client-id", "m2m-s3cr3t/+=&% x"
	basic := func(u, p string) string { return base64.StdEncoding.EncodeToString([]byte(u + ":" + p)) }
	forms := []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		basic(id, secret),
		basic(url.QueryEscape(id), url.QueryEscape(secret)),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
		strings.ReplaceAll(secret, "/", `\/`),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"refused %s; header was %q; forms: %s"}`,
			r.URL.Path, r.Header.Get("Authorization"), strings.ReplaceAll(strings.Join(forms, " | "), `\`, `\\`))
	}))
	defer srv.Close()
	var debug strings.Builder
	c, err := New(Config{Host: srv.URL, ClientID: id, ClientSecret: secret}, Options{Debug: &debug, RetryTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetJob(context.Background(), 1)
	if err == nil {
		t.Fatal("no error")
	}
	for _, out := range []string{err.Error(), debug.String()} {
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("output shows the secret as %q: %s", f, out)
			}
		}
	}
	if !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("error %q: want the echoed credentials replaced by <redacted>", err)
	}
}

// TestEncodedTokenRedacted: the same for a personal access token echoed by
// the API itself, URL-encoded and in base64.
func TestEncodedTokenRedacted(t *testing.T) {
	const token = "dapi0123456789abcdef0123456789abcdef"
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	emu.InjectFault(emulator.Fault{Status: 400, ErrorCode: "INVALID_PARAMETER_VALUE", Count: 1,
		Message: "bad token " + url.QueryEscape(token) + " / " + base64.StdEncoding.EncodeToString([]byte(token)) + " / Bearer " + token})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := New(Config{Host: srv.URL, Token: token}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetJob(context.Background(), 1)
	if err == nil || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte(token))) {
		t.Errorf("error shows the token: %v", err)
	}
}

// TestRetryNotice: while a call keeps failing, the Retrying hook hears of it
// once the wait ahead ends past RetryNoticeAfter (not before), then at most
// every RetryNoticeEvery, with why and for how long.
func TestRetryNotice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><title>502 Bad Gateway</title></html>")
	}))
	defer srv.Close()
	var mu sync.Mutex
	var notices []RetryNotice
	c, err := New(Config{Host: srv.URL, Token: "dapi-x"}, Options{
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, RetryTimeout: 900 * time.Millisecond,
		RetryNoticeAfter: 200 * time.Millisecond, RetryNoticeEvery: 300 * time.Millisecond,
		Retrying: func(n RetryNotice) {
			mu.Lock()
			notices = append(notices, n)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetJob(context.Background(), 1)
	var re *RetryError
	if !errors.As(err, &re) {
		t.Fatalf("want a RetryError, got %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) < 1 || len(notices) > 3 {
		t.Fatalf("%d notices in 0.9 s (first after 0.2 s, then every 0.3 s): %+v", len(notices), notices)
	}
	n := notices[0]
	if n.Elapsed+n.Wait < 200*time.Millisecond || n.Method != "GET" || n.Path != "/api/2.2/jobs/get" || n.Attempts < 2 ||
		!strings.Contains(n.Reason, "502") || n.Budget != 900*time.Millisecond {
		t.Errorf("first notice %+v", n)
	}
	if s := n.String(); !strings.Contains(s, "GET /api/2.2/jobs/get") || !strings.Contains(s, "502 Bad Gateway") || !strings.Contains(s, "retrying") {
		t.Errorf("notice text %q", s)
	}
}

// TestConfigFilePermissions: a ~/.databrickscfg that others can read or
// write, holding a secret, gets a warning; a private one, or one without
// secrets, does not.
func TestConfigFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	for _, c := range []struct {
		mode    os.FileMode
		body    string
		warning string
	}{
		{0o666, "[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = dapi123\n", "readable and writable by other users (mode 0666)"},
		{0o644, "[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = dapi123\n", "readable by other users (mode 0644)"},
		{0o620, "[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = dapi123\n", "writable by other users (mode 0620)"},
		{0o600, "[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = dapi123\n", ""},
		{0o644, "[DEFAULT]\nhost = https://x.cloud.databricks.com\n[other]\nclient_secret = s\n", "readable by other users (mode 0644)"},
		{0o644, "[DEFAULT]\nhost = https://x.cloud.databricks.com\n", ""},
	} {
		home := t.TempDir()
		path := filepath.Join(home, ".databrickscfg")
		if err := os.WriteFile(path, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"HOME": home, "DATABRICKS_TOKEN": ""}
		if !strings.Contains(c.body, "token") {
			env["DATABRICKS_TOKEN"] = "dapi-env"
			env["DATABRICKS_CONFIG_PROFILE"] = "DEFAULT"
		}
		cfg, err := ResolveConfig(func(k string) string { return env[k] }, ConfigFlags{})
		if err != nil {
			t.Fatalf("mode %o: %v", c.mode, err)
		}
		got := strings.Join(cfg.Warnings, "\n")
		switch {
		case c.warning == "" && got != "":
			t.Errorf("mode %o: unexpected warning %q", c.mode, got)
		case c.warning != "" && (!strings.Contains(got, c.warning) || !strings.Contains(got, "chmod 600 ~/.databrickscfg")):
			t.Errorf("mode %o: warning %q, want %q and the fix", c.mode, got, c.warning)
		}
		if strings.Contains(got, "dapi123") {
			t.Errorf("the warning shows the token: %q", got)
		}
	}
}

// TestConfigFileNotRegular: a ~/.databrickscfg that is a named pipe or a
// device is refused with a message instead of hanging or being read
// forever.
func TestConfigFileNotRegular(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("devices as Unix has them")
	}
	env := map[string]string{"DATABRICKS_CONFIG_FILE": "/dev/zero", "DATABRICKS_CONFIG_PROFILE": "DEFAULT"}
	done := make(chan error, 1)
	go func() {
		_, err := ResolveConfig(func(k string) string { return env[k] }, ConfigFlags{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("got %v, want the device refused", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading /dev/zero as the config file did not stop")
	}
}
