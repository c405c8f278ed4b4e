package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInjectFault(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"name": "x"})
	e.s.InjectFault(Fault{Endpoint: "jobs/get", Status: 429, RetryAfter: 7, Count: 2})
	for range 2 {
		status, out, h := e.do("GET", "/api/2.2/jobs/get?job_id="+itoa(id), nil)
		if status != 429 || out["error_code"] != "REQUEST_LIMIT_EXCEEDED" || h.Get("Retry-After") != "7" {
			t.Errorf("fault: %d %v %v", status, out, h)
		}
	}
	e.get(id) // the fault is used up
	// Method filter, custom code and message.
	e.s.InjectFault(Fault{Method: "POST", Endpoint: "jobs/update", Status: 500, ErrorCode: "INTERNAL_ERROR", Message: "boom"})
	e.get(id)
	if msg := e.fail("POST", "/api/2.2/jobs/update", map[string]any{"job_id": id}, 500, "INTERNAL_ERROR"); msg != "boom" {
		t.Errorf("message %q", msg)
	}
	// An HTML body, as gateways send.
	e.s.InjectFault(Fault{Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"})
	resp := e.raw("GET", "/api/2.2/jobs/list", "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "Bad Gateway") {
		t.Errorf("HTML fault: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// Default code for a status.
	e.s.InjectFault(Fault{Endpoint: "jobs/list", Status: 503})
	e.fail("GET", "/api/2.2/jobs/list", nil, 503, "TEMPORARILY_UNAVAILABLE")
}

func (e *testEnv) raw(method, path, body string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer x")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func TestDroppedConnections(t *testing.T) {
	e := newEnv(t, Options{})
	post := func(path, body string) error {
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer x")
		// A fresh transport: no retry on a reused keep-alive connection.
		resp, err := (&http.Transport{}).RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	e.s.InjectFault(Fault{Endpoint: "jobs/create", DropBeforeCommit: true})
	if err := post("/api/2.2/jobs/create", `{"name": "lost"}`); err == nil {
		t.Error("DropBeforeCommit answered")
	}
	if n := len(e.s.JobIDs()); n != 0 {
		t.Errorf("DropBeforeCommit created %d jobs", n)
	}
	e.s.InjectFault(Fault{Endpoint: "jobs/create", DropAfterCommit: true})
	if err := post("/api/2.2/jobs/create", `{"name": "committed"}`); err == nil {
		t.Error("DropAfterCommit answered")
	}
	ids := e.s.JobIDs()
	if len(ids) != 1 || e.settings(ids[0])["name"] != "committed" {
		t.Errorf("DropAfterCommit: jobs %v", ids)
	}
	reqs := e.s.Requests()
	if reqs[0].Status != 0 || reqs[1].Status != 0 || reqs[0].Path != "/api/2.2/jobs/create" || string(reqs[1].Body) != `{"name": "committed"}` {
		t.Errorf("request log %+v", reqs[:2])
	}
	// Without a hijackable connection (a recorder), the handler aborts the
	// response the net/http way.
	func() {
		defer func() {
			if r := recover(); r != http.ErrAbortHandler {
				t.Errorf("recover() = %v", r)
			}
		}()
		e.s.InjectFault(Fault{DropBeforeCommit: true})
		req := httptest.NewRequest("GET", "/api/2.2/jobs/list", nil)
		req.Header.Set("Authorization", "Bearer x")
		e.s.ServeHTTP(httptest.NewRecorder(), req)
	}()
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{})
	e.s.SetRateLimit("jobs/create", 2)
	var limited int
	for range 5 {
		status, out, h := e.do("POST", "/api/2.2/jobs/create", `{}`)
		if status == 429 {
			limited++
			if out["error_code"] != "REQUEST_LIMIT_EXCEEDED" || h.Get("Retry-After") != "1" {
				t.Errorf("429: %v %v", out, h)
			}
		}
	}
	if limited != 3 || len(e.s.JobIDs()) != 2 {
		t.Errorf("%d limited, %d created; want a burst of 2", limited, len(e.s.JobIDs()))
	}
	e.ok("GET", "/api/2.2/jobs/list", nil) // other endpoints are not limited
	e.s.SetRateLimit("jobs/create", 0)
	e.ok("POST", "/api/2.2/jobs/create", `{}`)
	e.s.SetRateLimit("", 1)
	e.ok("GET", "/api/2.2/jobs/list", nil)
	e.fail("GET", "/api/2.2/jobs/list", nil, 429, "REQUEST_LIMIT_EXCEEDED")
}

func TestFailRateDeterministic(t *testing.T) {
	pattern := func() string {
		e := newEnv(t, Options{Seed: 42})
		e.s.SetFailRate(0.5)
		var b strings.Builder
		for range 40 {
			status, _, _ := e.do("GET", "/api/2.2/jobs/list", nil)
			b.WriteString(itoa(int64(status)) + " ")
		}
		return b.String()
	}
	a, b := pattern(), pattern()
	if a != b {
		t.Errorf("not deterministic:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "200") || !(strings.Contains(a, "500") && strings.Contains(a, "503")) {
		t.Errorf("pattern %s", a)
	}
}

func TestLatencyAndRequestLog(t *testing.T) {
	e := newEnv(t, Options{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/2.2/jobs/list", nil)
	req.Header.Set("Authorization", "Bearer x")
	done := make(chan error)
	go func() {
		resp, err := e.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	cancel() // the server stops waiting when the client goes away
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	e.s.SetLatency(0)
	e.s.ResetRequests()
	e.ok("GET", "/api/2.2/jobs/list?limit=5", nil)
	e.fail("GET", "/api/2.2/jobs/get?job_id=1", nil, 400, "INVALID_PARAMETER_VALUE")
	reqs := e.s.Requests()
	if e.s.RequestCount() != 2 || len(reqs) != 2 || reqs[0].Query != "limit=5" || reqs[0].Status != 200 || reqs[1].Status != 400 {
		t.Errorf("log %+v", reqs)
	}
	small := newEnv(t, Options{RequestLogLimit: 3})
	for range 5 {
		small.ok("GET", "/api/2.2/jobs/list", nil)
	}
	if len(small.s.Requests()) != 3 || small.s.RequestCount() != 5 {
		t.Errorf("bounded log: %d entries, count %d", len(small.s.Requests()), small.s.RequestCount())
	}
}

func TestOIDC(t *testing.T) {
	e := newEnv(t, Options{})
	status, out, _ := e.do("GET", "/oidc/.well-known/oauth-authorization-server", nil)
	if status != 200 || !strings.HasSuffix(out["token_endpoint"].(string), "/oidc/v1/token") {
		t.Errorf("discovery %d %v", status, out)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oidc/v1/token", strings.NewReader("grant_type=client_credentials&scope=all-apis"))
	req.SetBasicAuth("id", "secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"access_token"`) || !strings.Contains(string(body), `"expires_in":3600`) {
		t.Errorf("token %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("POST", e.srv.URL+"/oidc/v1/token", strings.NewReader("grant_type=client_credentials"))
	resp, err = e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no client credentials: %d", resp.StatusCode)
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "emulator.json")
	clock := newClock()
	s1, err := New(Options{DataFile: path, Now: clock.Now, SaveDelay: time.Hour, Directory: directoryOf(t, "user:v@x")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s1)
	e := &testEnv{t: t, s: s1, srv: srv, clock: clock}
	id := e.create(parse(t, `{"name": "kept", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p"}}], "access_control_list": [{"user_name": "v@x", "permission_level": "CAN_VIEW"}]}`))
	run := e.runNow(map[string]any{"job_id": id, "idempotency_token": "t"})
	if _, err := os.Stat(path); err == nil {
		t.Error("saved before Save with a long SaveDelay")
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	s2, err := New(Options{DataFile: path, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e2 := &testEnv{t: t, s: s2, srv: httptest.NewServer(s2), clock: clock}
	defer e2.srv.Close()
	if st := e2.settings(id); st["name"] != "kept" {
		t.Errorf("settings after restart: %v", st)
	}
	if n := len(e2.ok("GET", permPath(id), nil)["access_control_list"].([]any)); n != 3 {
		t.Errorf("permissions after restart: %d entries", n)
	}
	clock.Advance(time.Minute)
	if got := states(t, e2.run(run)); got != "TERMINATED/SUCCESS a=TERMINATED/SUCCESS" {
		t.Errorf("run after restart: %s", got)
	}
	if again := e2.runNow(map[string]any{"job_id": id, "idempotency_token": "t"}); again != run {
		t.Error("idempotency token lost")
	}
	if next := e2.create(map[string]any{}); next != id+jobIDStep {
		t.Errorf("id counter lost: %d", next)
	}
	// Background save after a write.
	s2.persist.timerMu.Lock()
	pending := s2.persist.timer != nil
	s2.persist.timerMu.Unlock()
	if !pending {
		t.Error("no background save scheduled after a write")
	}
	if err := s2.Save(); err != nil {
		t.Fatal(err)
	}
	// A read-only session does not rewrite the file.
	s3, err := New(Options{DataFile: path, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s3, "GET", "/api/2.2/jobs/list", "")
	info, _ := os.Stat(path)
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); !os.SameFile(info, after) {
		t.Error("a read-only session rewrote the state file")
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files: %v", entries)
	}
	// A corrupt or future file is an error that says what to do.
	if err := os.WriteFile(path, []byte(`{"version": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{DataFile: path}); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("future version: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"version": 1, "next_job_id": 1, "next_run_id": 1, "jobs": [{"job_id": 1}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{DataFile: path}); err == nil {
		t.Error("truncated state accepted")
	}
	if err := os.WriteFile(path, []byte(`{"version": 1, "next_job_id": 1, "next_run_id": 1, "jobs": [{"job_id": 1, "settings": {"tasks": {}}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{DataFile: path}); err == nil || !strings.Contains(err.Error(), "Expected array for field tasks") {
		t.Errorf("mistyped state: %v", err)
	}
}

func TestBackgroundSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	e := newEnv(t, Options{DataFile: path, SaveDelay: time.Millisecond})
	e.create(map[string]any{"name": "x"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background save never happened")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.s.Save(); err != nil {
		t.Fatal(err)
	}
}

// logCheckingWriter is the connection's writer as a test sees it: at the
// first byte of the answer it reads the request log, which must already
// hold the request with its status.
type logCheckingWriter struct {
	*httptest.ResponseRecorder
	s       *Server
	checked bool
	logged  []Request
}

func (w *logCheckingWriter) Write(b []byte) (int, error) {
	if !w.checked {
		w.checked = true
		w.logged = w.s.Requests()
	}
	return w.ResponseRecorder.Write(b)
}

// TestRequestLoggedBeforeAnswer: the request log holds a request before any
// byte of its answer is written, so a client that has the answer always
// finds its request in the log (a large answer used to reach the client
// before the request was logged).
func TestRequestLoggedBeforeAnswer(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []any
	for i := range 150 {
		tasks = append(tasks, nb("t"+itoa(int64(1000+i))))
	}
	body, _ := json.Marshal(map[string]any{"name": "big", "tasks": tasks})
	for _, c := range []struct {
		method, target string
		body           []byte
		status         int
	}{
		{"POST", "/api/2.2/jobs/create", body, 200},
		{"GET", "/api/2.2/jobs/list?expand_tasks=true", nil, 200},
		{"GET", "/api/2.2/jobs/get?job_id=1", nil, 400},
		{"POST", "/api/2.2/jobs/create", bytes.Repeat([]byte("x"), maxBodyBytes+1), 400},
		{"GET", "/no/such/endpoint", nil, 404},
	} {
		s.ResetRequests()
		req := httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer x")
		w := &logCheckingWriter{ResponseRecorder: httptest.NewRecorder(), s: s}
		s.ServeHTTP(w, req)
		if w.Code != c.status || !w.checked {
			t.Fatalf("%s %s: status %d, answer written %v", c.method, c.target, w.Code, w.checked)
		}
		if len(w.logged) != 1 || w.logged[0].Path != req.URL.Path || w.logged[0].Status != c.status {
			t.Errorf("%s %s: the log at the answer's first byte: %+v", c.method, c.target, w.logged)
		}
		if n := s.RequestCount(); n != 1 {
			t.Errorf("%s %s: logged %d times", c.method, c.target, n)
		}
	}
}

// The request log says who sent each request and when it was served.
func TestRequestLogWhoAndWhen(t *testing.T) {
	e := newEnv(t, Options{Directory: Directory{Users: []User{{UserName: "ci@example.com"}}, Tokens: map[string]string{"tok-ci": "ci@example.com"}}})
	before := time.Now()
	e.s.SetLatency(20 * time.Millisecond)
	req := httptest.NewRequest("GET", "/api/2.2/jobs/list", nil)
	req.Header.Set("Authorization", "Bearer tok-ci")
	e.s.ServeHTTP(httptest.NewRecorder(), req)
	log := e.s.Requests()
	r := log[len(log)-1]
	if r.Principal != "ci@example.com" || r.Start.Before(before) || r.End.Sub(r.Start) < 20*time.Millisecond {
		t.Errorf("logged %+v", r)
	}
}

// TestOnRequest: the hook sees every request with its status, before the
// client has the answer.
func TestOnRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	e := newEnv(t, Options{OnRequest: func(r Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Path+" "+itoa(int64(r.Status)))
		mu.Unlock()
	}})
	e.ok("GET", "/api/2.2/jobs/list", nil)
	e.fail("GET", "/api/2.2/jobs/get?job_id=1", nil, 400, "INVALID_PARAMETER_VALUE")
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, "; "); got != "GET /api/2.2/jobs/list 200; GET /api/2.2/jobs/get 400" {
		t.Errorf("seen %s", got)
	}
}

// Request.About tells the requests that name a job: by the body's job_id
// or a whole path segment, never a part of one.
func TestRequestAbout(t *testing.T) {
	for _, tc := range []struct {
		r    Request
		want bool
	}{
		{Request{Path: "/api/2.2/jobs/update", Body: []byte(`{"job_id": 123, "new_settings": {}}`)}, true},
		{Request{Path: "/api/2.2/jobs/update", Body: []byte(`{"job_id": 1234}`)}, false},
		{Request{Path: "/api/2.0/permissions/jobs/123"}, true},
		{Request{Path: "/api/2.0/permissions/jobs/1234"}, false},
		{Request{Path: "/api/2.2/jobs/create", Body: []byte(`{"name": "123"}`)}, false},
		{Request{Path: "/api/2.2/jobs/reset", Body: nil}, false},
	} {
		if got := tc.r.About(123); got != tc.want {
			t.Errorf("%s %s: About(123) = %v", tc.r.Path, tc.r.Body, got)
		}
	}
}
