package emulator

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHostileBodies sends request bodies a careless or hostile client might:
// each gets one clear 400 in the API's error shape, and the server keeps
// serving afterwards.
func TestHostileBodies(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"name": "a", "tasks": []any{nb("t")}})
	deep := strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000)
	digits := strings.Repeat("9", 5000)
	cases := []struct {
		name, path, body string
		code, want       string
	}{
		{"100,000-deep JSON", "/api/2.2/jobs/create", deep, codeMalformed, "max depth"},
		{"5,000-digit integer", "/api/2.2/jobs/create", `{"name":"x","max_concurrent_runs":` + digits + `}`, codeMalformed, "out of range"},
		{"5,000-digit job id", "/api/2.2/jobs/delete", `{"job_id":` + digits + `}`, codeMalformed, "out of range"},
		{"5,000-digit double", "/api/2.2/jobs/create", `{"name":"x","tasks":[{"task_key":"t","notebook_task":{"notebook_path":"/p"},"new_cluster":{"azure_attributes":{"spot_bid_max_price":` + digits + `}}}]}`, codeMalformed, "out of range"},
		{"job_id 2^63", "/api/2.2/jobs/delete", `{"job_id": 9223372036854775808}`, codeMalformed, "out of range"},
		{"job_id 2^63 as a float", "/api/2.2/jobs/delete", `{"job_id": 9.223372036854775808e18}`, codeMalformed, "out of range"},
		{"job_id 2^64", "/api/2.2/jobs/delete", `{"job_id": 18446744073709551616}`, codeMalformed, "out of range"},
		{"job_id -2^63-1", "/api/2.2/jobs/delete", `{"job_id": -9223372036854775809}`, codeMalformed, "out of range"},
		{"duplicate key", "/api/2.2/jobs/create", `{"name":"a","name":"b"}`, codeMalformed, `Duplicate field "name"`},
		{"nested duplicate key", "/api/2.2/jobs/reset", `{"job_id":` + itoa(id) + `,"new_settings":{"tasks":[{"task_key":"t","task_key":"u"}]}}`, codeMalformed, `Duplicate field "task_key"`},
		{"truncated", "/api/2.2/jobs/create", `{"name":"a","tasks":[{"task_key"`, codeMalformed, "unexpected end"},
		{"array", "/api/2.2/jobs/create", `[{"name":"a"}]`, codeMalformed, "expected a map"},
		{"string", "/api/2.2/jobs/create", `"name"`, codeMalformed, "expected a map"},
		{"number", "/api/2.2/jobs/create", `12`, codeMalformed, "expected a map"},
		{"two values", "/api/2.2/jobs/create", `{"name":"a"}{"name":"b"}`, codeMalformed, "after the JSON value"},
		{"NUL byte", "/api/2.2/jobs/create", "{\"name\":\"a\x00\"}", codeMalformed, "invalid character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := e.fail("POST", c.path, c.body, http.StatusBadRequest, c.code)
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q does not contain %q", msg, c.want)
			}
			if len(msg) > 300 {
				t.Errorf("message is %d bytes long; a bad body must not be echoed back", len(msg))
			}
		})
	}
	// 2^63 in a query parameter too, and the largest id still reads as a
	// missing job, not as a negative one.
	msg := e.fail("GET", "/api/2.2/jobs/get?job_id=9223372036854775808", nil, http.StatusBadRequest, codeMalformed)
	if !strings.Contains(msg, "out of range") {
		t.Errorf("jobs/get?job_id=2^63: %q", msg)
	}
	msg = e.fail("GET", "/api/2.2/jobs/get?job_id=9223372036854775807", nil, http.StatusBadRequest, codeInvalidParameter)
	if msg != "Job 9223372036854775807 does not exist." {
		t.Errorf("jobs/get?job_id=2^63-1: %q", msg)
	}
	if got := e.settings(id)["name"]; got != "a" {
		t.Errorf("after the hostile bodies the job's name is %v, want a", got)
	}
}

// TestBodyOverLimit: a body over the API's 10 MB is refused with one 400
// whether its length is announced or it comes chunked, without the whole
// body being read, and the server keeps serving.
func TestBodyOverLimit(t *testing.T) {
	e := newEnv(t, Options{})
	big := 50 << 20
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var body io.Reader = &patternReader{n: big}
			req, err := http.NewRequest("POST", e.srv.URL+"/api/2.2/jobs/create", body)
			if err != nil {
				t.Fatal(err)
			}
			if !chunked {
				req.ContentLength = int64(big)
			}
			req.Header.Set("Authorization", "Bearer t")
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				// The server may close the connection while the client
				// still sends; the answer must still have been a 400.
				t.Logf("client: %v", err)
			} else {
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(raw, []byte("maximum size")) {
					t.Errorf("status %d %s, want 400 about the maximum size", resp.StatusCode, raw)
				}
			}
			reqs := e.s.Requests()
			last := reqs[len(reqs)-1]
			if last.Status != http.StatusBadRequest {
				t.Errorf("logged status %d, want 400", last.Status)
			}
			if len(last.Body) > maxBodyBytes+1 {
				t.Errorf("the request log holds %d bytes of the refused body", len(last.Body))
			}
			e.ok("GET", "/api/2.2/jobs/list", nil)
		})
	}
}

// patternReader yields n bytes of a JSON-looking string, never all in memory.
type patternReader struct{ n, off int }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := min(len(b), p.n-p.off)
	for i := range k {
		if p.off+i == 0 {
			b[i] = '{'
		} else {
			b[i] = ' '
		}
	}
	p.off += k
	return k, nil
}

// TestBodyBudget: concurrent request bodies share a fixed memory budget;
// however many arrive at once, the bytes held for unread or being-read
// bodies never exceed it, and every request is still answered.
func TestBodyBudget(t *testing.T) {
	const budget = 5 << 20
	e := newEnv(t, Options{BodyBudget: budget, JobQuota: -1, CreatesPerHour: -1})
	body := []byte(`{"name":"` + strings.Repeat("x", 4000) + `","description":"` + strings.Repeat("d", 2<<20) + `"}`)
	var wg sync.WaitGroup
	statuses := make([]int, 12)
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/2.2/jobs/create", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer t")
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		// The description is over the API's 27,700 characters: a 400
		// from validation, after the body was read whole.
		if s != http.StatusBadRequest {
			t.Errorf("request %d: status %d, want 400", i, s)
		}
	}
	if peak := e.s.bodies.peak.Load(); peak > budget {
		t.Errorf("body bytes held at once peaked at %d, over the budget of %d", peak, budget)
	} else if peak < int64(len(body)) {
		t.Errorf("body bytes peaked at %d, less than one body (%d): the budget is not accounted", peak, len(body))
	}
}

// TestHeaderTimeout: a client that opens a connection and sends its
// headers slowly (or never) is cut off by HTTPServer after the header
// timeout, instead of holding the connection for ever.
func TestHeaderTimeout(t *testing.T) {
	s, err := New(Options{HeaderTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /api/2.2/jobs/list HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// A generous ceiling, 25 times the timeout and half the default.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the connection was still open after 5 s of unfinished headers (header timeout 200 ms)")
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("the connection was closed after %s, before the header timeout", waited)
	}
}
