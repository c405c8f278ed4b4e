package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobsync/jobsync/bench"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Fuzz targets the owning packages lack. Their seed corpora run with every
// `go test ./...`; longer runs are documented in RELIABILITY.md.

// FuzzReadPlan feeds arbitrary documents to the saved-plan reader and
// renders what it accepts, as `jobsync show FILE` does: no panic, and an
// accepted plan survives a write/read round trip unchanged.
func FuzzReadPlan(f *testing.F) {
	for _, seed := range seedPlans(f) {
		f.Add(seed)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"format_version":1}`, `{"format_version":2,"actions":[]}`, `{"format_version":"1"}`,
		`{"format_version":1,"actions":[{"op":"teleport","key":"x"}]}`,
		`{"format_version":1,"actions":[{"op":"update","key":"a","needs":["a"],"request":{"job_id":1e400}}]}`,
		`{"format_version":1,"actions":[{"op":"create","key":"a","changes":[{"path":"","kind":"modify","before":{"a":[[[[]]]]},"after":"\u0000"}]}]}`,
		`{"format_version":1,"actions":null,"skipped":[{}],"records":[{"forget":true}],"refresh":{"requests":-1}}`,
		`{"format_version":1,"created_at":"not a time"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := planner.ReadPlan(bytes.NewReader(data))
		if err != nil {
			if p != nil {
				t.Fatalf("ReadPlan returned a plan and an error: %v", err)
			}
			return
		}
		for _, r := range []func(io.Writer, *planner.Plan) error{
			func(w io.Writer, p *planner.Plan) error { return render.Text(w, p, render.Options{}) },
			func(w io.Writer, p *planner.Plan) error { return render.Text(w, p, render.Options{Color: true}) },
			render.Markdown, render.JSON,
		} {
			_ = r(io.Discard, p) // must not panic; an error is a fine answer
		}
		_ = p.Empty()
		_ = p.Counts()
		var once bytes.Buffer
		if err := planner.WritePlan(&once, p); err != nil {
			return // e.g. a number json cannot re-encode; refusing is fine
		}
		again, err := planner.ReadPlan(bytes.NewReader(once.Bytes()))
		if err != nil {
			t.Fatalf("a plan written by WritePlan does not read back: %v\n%s", err, once.Bytes())
		}
		var twice bytes.Buffer
		if err := planner.WritePlan(&twice, again); err != nil {
			t.Fatalf("rewriting a read-back plan: %v", err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("plan round trip is not stable:\n%s\n---\n%s", once.Bytes(), twice.Bytes())
		}
	})
}

// seedPlans are real plan files, kept small (a few KB: the fuzzer
// minimises every new input, which is slow on big ones): a creation with a
// reference between jobs and permissions, and a plan with an update, a
// reset and a delete.
func seedPlans(f *testing.F) [][]byte {
	ctx := context.Background()
	dir := f.TempDir()
	if _, err := (bench.Workload{Jobs: 4, Tasks: 2}).WriteYAML(dir); err != nil {
		f.Fatal(err)
	}
	cfg, err := schema.Load(ctx, []string{dir})
	if err != nil {
		f.Fatal(err)
	}
	for _, j := range cfg.Jobs {
		switch j.Key {
		case "job_00001":
			j.Permissions = []schema.Permission{{GroupName: "data", PermissionLevel: "CAN_MANAGE"}, {UserName: "ann@example.com", PermissionLevel: "IS_OWNER"}}
		case "job_00003":
			tasks := j.Settings["tasks"].([]any)
			tasks[0] = map[string]any{"task_key": "t000", "run_job_task": map[string]any{"job_id": "${jobs.job_00000.id}"}}
		}
	}
	in := planner.Input{Desired: cfg.Jobs, Project: project, Workspace: "https://w", Now: time.Unix(1_700_000_000, 0).UTC()}
	create, err := planner.Build(in)
	if err != nil {
		f.Fatal(err)
	}
	// Pretend the creation happened: live jobs as created, a lockfile.
	lock := state.New("https://w", project)
	ids := map[string]int64{}
	for i, a := range create.Actions {
		ids[a.Key] = int64(9_000_000_000_000_001 + 2*i)
	}
	for _, a := range create.Actions {
		applied, err := planner.ResolveSettings(a.Applied, ids)
		if err != nil {
			f.Fatal(err)
		}
		raw, err := state.EncodeApplied(applied)
		if err != nil {
			f.Fatal(err)
		}
		lock.Jobs[a.Key] = state.Job{JobID: ids[a.Key], Applied: raw, Permissions: a.AppliedPermissions}
		req, err := planner.Resolve(a.Request, ids)
		if err != nil {
			f.Fatal(err)
		}
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(req))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			f.Fatal(err)
		}
		delete(body, "access_control_list")
		in.Live = append(in.Live, planner.Live{JobID: ids[a.Key], CreatorUserName: "ann@example.com", Settings: body})
	}
	in.Lock = lock
	in.Prune = true
	for _, j := range cfg.Jobs {
		switch j.Key {
		case "job_00001":
			j.Settings["max_concurrent_runs"] = json.Number("4")
		case "job_00002":
			j.Settings["parameters"] = []any{map[string]any{"name": "day", "default": "today"}}
		}
	}
	in.Desired = cfg.Jobs[1:]
	change, err := planner.Build(in)
	if err != nil {
		f.Fatal(err)
	}
	if c := change.Counts(); c[planner.OpUpdate] == 0 || c[planner.OpReset] == 0 || c[planner.OpDelete] == 0 {
		f.Fatalf("the change seed plan lacks an update, a reset or a delete: %v", c)
	}
	var out [][]byte
	for _, p := range []*planner.Plan{create, change} {
		var b bytes.Buffer
		if err := planner.WritePlan(&b, p); err != nil {
			f.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	return out
}

// FuzzClientAnswers has a server answer the client's jobs/get and
// jobs/create with arbitrary status, content type and body, as a broken
// gateway might: the client must never panic, must return either a job or
// an error, and never let the token into an error.
func FuzzClientAnswers(f *testing.F) {
	var mu sync.Mutex
	var status int
	var ctype, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, ct, b := status, ctype, body
		mu.Unlock()
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if st == 429 || st == 503 {
			w.Header().Set("Retry-After", strconv.Itoa(len(b)%3))
		}
		w.WriteHeader(st)
		_, _ = io.WriteString(w, b)
	}))
	f.Cleanup(srv.Close)
	const token = "dapi-fuzz-0123456789abcdef"
	c, err := jobsapi.New(jobsapi.Config{Host: srv.URL, Token: token, AuthType: jobsapi.AuthTypePAT},
		jobsapi.Options{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, RetryTimeout: 20 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"job_id":9081234567890123,"settings":{"name":"x","tasks":[{"task_key":"a"}]}}`},
		{200, "application/json", `{"job_id":9081234567890123,"settings":{"name":"x","tasks":[{"task_key":"a"}]},"next_page_token":"p"}`},
		{200, "application/json", `{"job_id":9081234567890123,"settings":{"na`},
		{200, "text/html", `<html><body>Sign in</body></html>`},
		{200, "application/json", ``},
		{200, "application/json", `null`},
		{200, "application/json", `{"job_id":"9081234567890123"}`},
		{200, "application/json", `{"job_id":1e400}`},
		{200, "application/json", `{"job_id":-1,"settings":[]}`},
		{200, "application/json", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`},
		{400, "application/json", `{"error_code":"INVALID_PARAMETER_VALUE","message":"Job 1 does not exist."}`},
		{400, "application/json", `{"error_code":"INVALID_PARAMETER_VALUE","message":"bad header Bearer ` + token + `"}`},
		{401, "application/json", `{"error_code":"UNAUTHENTICATED","message":"Invalid access token."}`},
		{403, "text/plain", `Forbidden`},
		{404, "", ``},
		{429, "application/json", `{"error_code":"REQUEST_LIMIT_EXCEEDED"}`},
		{500, "application/json", `{"error_code":12,"message":{"nested":true}}`},
		{502, "text/html", `<html><h1>502 Bad Gateway</h1></html>`},
		{503, "application/json", `{"error_code":"TEMPORARILY_UNAVAILABLE","message":"` + strings.Repeat("x", 5000) + `"}`},
		{504, "", "upstream request timeout"},
		{302, "text/html", `<a href="/login">moved</a>`},
		{204, "", ``},
	} {
		f.Add(s.status, s.ctype, s.body)
	}
	f.Fuzz(func(t *testing.T, st int, ct, b string) {
		if st < 200 || st > 599 {
			st = 200 + (st%400+400)%400
		}
		if st >= 300 && st < 400 {
			st = 400 // redirects would send the client elsewhere
		}
		if strings.ContainsAny(ct, "\r\n") {
			ct = ""
		}
		mu.Lock()
		status, ctype, body = st, ct, b
		mu.Unlock()
		ctx := context.Background()
		job, err := c.GetJob(ctx, 9081234567890123)
		if err == nil && job == nil {
			t.Fatal("GetJob returned neither a job nor an error")
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Fatalf("the token is in an error: %v", err)
		}
		id, err := c.CreateJob(ctx, json.RawMessage(`{"name":"x"}`))
		if err == nil && id == 0 && !strings.Contains(b, `"job_id"`) {
			t.Fatalf("CreateJob succeeded with no job id in %q", b)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Fatalf("the token is in an error: %v", err)
		}
	})
}
