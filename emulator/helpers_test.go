package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is the emulated clock of the tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEnv is an emulator behind a loopback HTTP server.
type testEnv struct {
	t     *testing.T
	s     *Server
	srv   *httptest.Server
	clock *fakeClock
}

func newEnv(t *testing.T, o Options) *testEnv {
	t.Helper()
	clock := newClock()
	if o.Now == nil {
		o.Now = clock.Now
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &testEnv{t: t, s: s, srv: srv, clock: clock}
}

// do sends a request; body is a string (sent as is) or a value (JSON).
func (e *testEnv) do(method, path string, body any) (int, map[string]any, http.Header) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

// ok sends a request that must succeed.
func (e *testEnv) ok(method, path string, body any) map[string]any {
	e.t.Helper()
	status, out, _ := e.do(method, path, body)
	if status != http.StatusOK {
		e.t.Fatalf("%s %s: status %d, want 200: %v", method, path, status, out)
	}
	return out
}

// fail sends a request that must fail with status and error code; it
// returns the message.
func (e *testEnv) fail(method, path string, body any, status int, code string) string {
	e.t.Helper()
	got, out, _ := e.do(method, path, body)
	if got != status || out["error_code"] != code {
		e.t.Fatalf("%s %s: got %d %v, want %d %s", method, path, got, out, status, code)
	}
	msg, _ := out["message"].(string)
	return msg
}

// create creates a job and returns its id.
func (e *testEnv) create(settings any) int64 {
	e.t.Helper()
	out := e.ok("POST", "/api/2.2/jobs/create", settings)
	return asInt(e.t, out["job_id"])
}

func (e *testEnv) get(id int64) map[string]any {
	e.t.Helper()
	return e.ok("GET", "/api/2.2/jobs/get?job_id="+itoa(id), nil)
}

func (e *testEnv) settings(id int64) map[string]any {
	e.t.Helper()
	return e.get(id)["settings"].(map[string]any)
}

func asInt(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func itoa(i int64) string { return json.Number(num(i)).String() }

// jsonOf renders v as canonical JSON for comparisons.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parse decodes a JSON literal of a test with json.Number numbers.
func parse(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, s)
	}
	return m
}

func taskKeys(t *testing.T, settings map[string]any) []string {
	t.Helper()
	var out []string
	for _, task := range settings["tasks"].([]any) {
		out = append(out, task.(map[string]any)["task_key"].(string))
	}
	return out
}

func nb(key string, deps ...string) map[string]any {
	t := map[string]any{"task_key": key, "notebook_task": map[string]any{"notebook_path": "/Workspace/" + key}}
	if len(deps) > 0 {
		var d []any
		for _, k := range deps {
			d = append(d, map[string]any{"task_key": k})
		}
		t["depends_on"] = d
	}
	return t
}

func newTestServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}
