package jobsapi_test

// Conformance: the real client against the emulator over loopback HTTP, for
// every endpoint, the 2.2 pagination, the error paths, retries under
// injected faults, and cancellation. No part of the client is replaced.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
)

const testToken = "dapi-conformance-token-0123456789"

// seen records every request as it arrives, before the emulator answers it,
// with the headers (Authorization, User-Agent, Content-Type) that the
// emulator's own log does not keep; arrived signals a request that is still
// being served.
type seen struct {
	mu      sync.Mutex
	reqs    []emulator.Request
	auth    []string
	agents  []string
	ctypes  map[string]string // "METHOD path" -> Content-Type
	arrived chan string
}

func newSeen() *seen {
	return &seen{ctypes: map[string]string{}, arrived: make(chan string, 1)}
}

func (s *seen) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, emulator.Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.agents = append(s.agents, r.Header.Get("User-Agent"))
		s.ctypes[r.Method+" "+r.URL.Path] = r.Header.Get("Content-Type")
		s.mu.Unlock()
		select {
		case s.arrived <- r.Method + " " + r.URL.Path:
		default:
		}
		h.ServeHTTP(w, r)
	})
}

// reset forgets the requests seen so far.
func (s *seen) reset() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// to returns the requests seen with this method and path suffix.
func (s *seen) to(method, pathSuffix string) []emulator.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []emulator.Request
	for _, r := range s.reqs {
		if r.Method == method && strings.HasSuffix(r.Path, pathSuffix) {
			out = append(out, r)
		}
	}
	return out
}

type testEnv struct {
	emu  *emulator.Server
	c    *jobsapi.Client
	url  string
	seen *seen
}

// newEnv starts an emulator on loopback and a client of it. Backoff is
// shortened so that retry tests stay fast; everything else is as shipped.
func newEnv(t testing.TB, eo emulator.Options, o jobsapi.Options) *testEnv {
	t.Helper()
	emu, err := emulator.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	sn := newSeen()
	hs := httptest.NewServer(sn.wrap(emu))
	t.Cleanup(hs.Close)
	if o.MinBackoff == 0 {
		o.MinBackoff = time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Millisecond
	}
	c, err := jobsapi.New(jobsapi.Config{Host: hs.URL, Token: testToken}, o)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{emu: emu, c: c, url: hs.URL, seen: sn}
}

func raw(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tasks(n int) []any {
	out := make([]any, n)
	for i := range out {
		task := map[string]any{
			"task_key":      fmt.Sprintf("t%04d", i),
			"notebook_task": map[string]any{"notebook_path": fmt.Sprintf("/Workspace/nb/%d", i)},
		}
		if i > 0 {
			task["depends_on"] = []any{map[string]any{"task_key": fmt.Sprintf("t%04d", i-1)}}
		}
		out[i] = task
	}
	return out
}

func jobSettings(name string, nTasks int) map[string]any {
	return map[string]any{
		"name":  name,
		"tags":  map[string]any{"jobsync": "proj/" + name},
		"tasks": tasks(nTasks),
	}
}

func mustCreate(t testing.TB, c *jobsapi.Client, settings map[string]any) int64 {
	t.Helper()
	id, err := c.CreateJob(context.Background(), raw(t, settings))
	if err != nil {
		t.Fatalf("create %v: %v", settings["name"], err)
	}
	return id
}

// createMany creates n jobs in parallel.
func createMany(t testing.TB, c *jobsapi.Client, n, nTasks int, prefix string) []int64 {
	t.Helper()
	ids := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := c.CreateJob(context.Background(), raw(t, jobSettings(fmt.Sprintf("%s-%05d", prefix, i), nTasks)))
			if err != nil {
				errs <- err
				return
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

func taskKeys(t *testing.T, settings map[string]any, field, key string) []string {
	t.Helper()
	arr, _ := settings[field].([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			t.Fatalf("%s element is %T", field, x)
		}
		s, _ := m[key].(string)
		out = append(out, s)
	}
	return out
}

func apiErr(t *testing.T, err error) *jobsapi.APIError {
	t.Helper()
	var ae *jobsapi.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want *APIError, got %T: %v", err, err)
	}
	return ae
}

func TestJobLifecycle(t *testing.T) {
	e := newEnv(t, emulator.Options{}, jobsapi.Options{})
	ctx := context.Background()
	c := e.c

	settings := jobSettings("nightly", 2)
	settings["max_concurrent_runs"] = 3
	settings["queue"] = map[string]any{"enabled": false}
	id, err := c.CreateJob(ctx, raw(t, settings))
	if err != nil {
		t.Fatal(err)
	}
	if ids := e.emu.JobIDs(); len(ids) != 1 || ids[0] != id {
		t.Fatalf("client says job %d, emulator holds %v", id, ids)
	}
	if id <= 1<<53 {
		t.Logf("note: job id %d is within float64 precision; the float64 check is weaker", id)
	}

	job, err := c.GetJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if job.JobID != id || job.Settings["name"] != "nightly" || job.CreatedTime == 0 || job.CreatorUserName == "" {
		t.Fatalf("get: %+v", job)
	}
	if n, ok := job.Settings["max_concurrent_runs"].(json.Number); !ok || n.String() != "3" {
		t.Fatalf("max_concurrent_runs = %#v, want json.Number 3", job.Settings["max_concurrent_runs"])
	}
	if got := taskKeys(t, job.Settings, "tasks", "task_key"); !slices.Equal(sortedCopy(got), []string{"t0000", "t0001"}) {
		t.Fatalf("tasks %v", got)
	}

	// update: name replaced, a task added by key, others kept.
	upd := map[string]any{"job_id": id, "new_settings": map[string]any{
		"name":  "nightly-2",
		"tasks": []any{map[string]any{"task_key": "extra", "notebook_task": map[string]any{"notebook_path": "/x"}}},
	}}
	if err := c.UpdateJob(ctx, raw(t, upd)); err != nil {
		t.Fatal(err)
	}
	job, err = c.GetJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if job.Settings["name"] != "nightly-2" || len(taskKeys(t, job.Settings, "tasks", "task_key")) != 3 {
		t.Fatalf("after update: name %v, tasks %v", job.Settings["name"], taskKeys(t, job.Settings, "tasks", "task_key"))
	}
	// update with fields_to_remove
	rm := map[string]any{"job_id": id, "fields_to_remove": []any{"tasks/extra", "tags"}}
	if err := c.UpdateJob(ctx, raw(t, rm)); err != nil {
		t.Fatal(err)
	}
	if job, err = c.GetJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, has := job.Settings["tags"]; has || len(taskKeys(t, job.Settings, "tasks", "task_key")) != 2 {
		t.Fatalf("fields_to_remove ignored: %v", job.Settings)
	}

	// reset: full replacement.
	reset := map[string]any{"job_id": id, "new_settings": jobSettings("nightly-reset", 1)}
	if err := c.ResetJob(ctx, raw(t, reset)); err != nil {
		t.Fatal(err)
	}
	if job, err = c.GetJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	if job.Settings["name"] != "nightly-reset" || len(taskKeys(t, job.Settings, "tasks", "task_key")) != 1 {
		t.Fatalf("after reset: %v", job.Settings)
	}

	list, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{})
	if err != nil || len(list) != 1 || list[0].JobID != id {
		t.Fatalf("list: %v %v", list, err)
	}

	if err := c.DeleteJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetJob(ctx, id)
	if !jobsapi.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
	ae := apiErr(t, err)
	if ae.StatusCode != 400 || ae.ErrorCode != "INVALID_PARAMETER_VALUE" || ae.Method != "GET" || ae.Path != "/api/2.2/jobs/get" {
		t.Fatalf("not-found error %+v", ae)
	}
	// A clean (non-retried) delete of a missing job is an error, not success.
	if err := c.DeleteJob(ctx, id); !jobsapi.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
	for _, err := range []error{
		c.ResetJob(ctx, raw(t, map[string]any{"job_id": id, "new_settings": jobSettings("x", 1)})),
		c.UpdateJob(ctx, raw(t, map[string]any{"job_id": id, "new_settings": map[string]any{"name": "x"}})),
	} {
		if !jobsapi.IsNotFound(err) {
			t.Errorf("write to a deleted job: %v", err)
		}
	}

	// Wire format: job_id in the body for writes, in the query for reads.
	for _, r := range e.seen.to("POST", "/jobs/delete") {
		if string(r.Body) != fmt.Sprintf(`{"job_id":%d}`, id) || r.Query != "" {
			t.Errorf("delete sent %s ?%s", r.Body, r.Query)
		}
	}
	for _, r := range e.seen.to("GET", "/jobs/get") {
		if !strings.Contains(r.Query, fmt.Sprintf("job_id=%d", id)) || len(r.Body) != 0 {
			t.Errorf("get sent ?%s %s", r.Query, r.Body)
		}
	}
	if ct := e.seen.ctypes["POST /api/2.2/jobs/create"]; ct != "application/json" {
		t.Errorf("create Content-Type %q", ct)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestGetJobFollowsEveryPage(t *testing.T) {
	e := newEnv(t, emulator.Options{}, jobsapi.Options{})
	ctx := context.Background()
	settings := jobSettings("big", 250)
	var clusters, params []any
	for i := range 130 {
		clusters = append(clusters, map[string]any{"job_cluster_key": fmt.Sprintf("c%03d", i),
			"new_cluster": map[string]any{"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}})
	}
	for i := range 101 {
		params = append(params, map[string]any{"name": fmt.Sprintf("p%03d", i), "default": ""})
	}
	var envs []any
	for i := range 105 {
		envs = append(envs, map[string]any{"environment_key": fmt.Sprintf("e%03d", i), "spec": map[string]any{"client": "1"}})
	}
	settings["job_clusters"] = clusters
	settings["parameters"] = params
	settings["environments"] = envs
	id := mustCreate(t, e.c, settings)
	e.seen.reset()

	job, err := e.c.GetJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	keys := taskKeys(t, job.Settings, "tasks", "task_key")
	if len(keys) != 250 {
		t.Fatalf("%d tasks after paging, want 250", len(keys))
	}
	if u := slices.Compact(sortedCopy(keys)); len(u) != 250 {
		t.Fatalf("duplicate tasks across pages: %d unique", len(u))
	}
	if n := len(taskKeys(t, job.Settings, "job_clusters", "job_cluster_key")); n != 130 {
		t.Errorf("%d job_clusters, want 130", n)
	}
	if n := len(taskKeys(t, job.Settings, "parameters", "name")); n != 101 {
		t.Errorf("%d parameters, want 101", n)
	}
	if n := len(taskKeys(t, job.Settings, "environments", "environment_key")); n != 105 {
		t.Errorf("%d environments, want 105", n)
	}
	if job.HasMore {
		t.Error("a merged job keeps HasMore")
	}
	gets := e.seen.to("GET", "/jobs/get")
	if len(gets) != 3 {
		t.Fatalf("%d jobs/get requests for 250 tasks, want 3", len(gets))
	}
	for i, r := range gets {
		if has := strings.Contains(r.Query, "page_token="); has != (i > 0) {
			t.Errorf("request %d query %q", i, r.Query)
		}
	}

	// The list view cuts at 100 and flags the job; the caller completes it.
	list, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{ExpandTasks: true})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if !list[0].HasMore || len(taskKeys(t, list[0].Settings, "tasks", "task_key")) != 100 {
		t.Errorf("list item: has_more=%v with %d tasks", list[0].HasMore, len(taskKeys(t, list[0].Settings, "tasks", "task_key")))
	}
	if r := e.seen.to("GET", "/jobs/list"); len(r) != 1 || !strings.Contains(r[0].Query, "expand_tasks=true") || !strings.Contains(r[0].Query, "limit=100") {
		t.Errorf("list request %+v", r)
	}
}

func TestListJobsFollowsEveryPage(t *testing.T) {
	e := newEnv(t, emulator.Options{}, jobsapi.Options{})
	ctx := context.Background()

	// An empty workspace: "jobs" is omitted, which is not an error.
	list, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{})
	if err != nil || len(list) != 0 {
		t.Fatalf("empty workspace: %v %v", list, err)
	}

	ids := createMany(t, e.c, 250, 1, "job")
	e.seen.reset()
	list, err = e.c.ListJobs(ctx, jobsapi.ListJobsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int64, len(list))
	for i, j := range list {
		got[i] = j.JobID
		if _, has := j.Settings["tasks"]; has {
			t.Fatalf("tasks without expand_tasks")
		}
	}
	slices.Sort(got)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d jobs, want the %d created (first diff around %v)", len(got), len(want), firstDiff(got, want))
	}
	if slices.Compare(e.emu.JobIDs(), want) != 0 {
		t.Fatalf("emulator ids differ")
	}
	reqs := e.seen.to("GET", "/jobs/list")
	if len(reqs) != 3 {
		t.Fatalf("%d list requests for 250 jobs, want 3", len(reqs))
	}
	for _, r := range reqs {
		if !strings.Contains(r.Query, "limit=100") {
			t.Errorf("list query %q", r.Query)
		}
	}

	// Name filter: exact, case-insensitive, done by the server.
	byName, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{Name: "JOB-00042"})
	if err != nil || len(byName) != 1 || byName[0].Settings["name"] != "job-00042" {
		t.Fatalf("by name: %v %v", byName, err)
	}
	// Small pages work too.
	small, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{Limit: 7})
	if err != nil || len(small) != 250 {
		t.Fatalf("limit 7: %d %v", len(small), err)
	}
}

func firstDiff(a, b []int64) any {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return [2]int64{a[i], b[i]}
		}
	}
	return "length"
}

func TestIDsKeepEveryDigit(t *testing.T) {
	// 2^63-1 and its neighbours are far beyond float64's 53 bits.
	const first = math.MaxInt64 - 10*1_000_002*2
	e := newEnv(t, emulator.Options{FirstJobID: first}, jobsapi.Options{})
	ctx := context.Background()
	a := mustCreate(t, e.c, jobSettings("a", 1))
	s := jobSettings("b", 1)
	s["tasks"] = []any{map[string]any{"task_key": "run_a", "run_job_task": map[string]any{"job_id": a}}}
	b := mustCreate(t, e.c, s)
	if a != e.emu.JobIDs()[0] || b != e.emu.JobIDs()[1] {
		t.Fatalf("ids %d %d, emulator %v", a, b, e.emu.JobIDs())
	}
	job, err := e.c.GetJob(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	ref := job.Settings["tasks"].([]any)[0].(map[string]any)["run_job_task"].(map[string]any)["job_id"]
	if n, ok := ref.(json.Number); !ok || n.String() != fmt.Sprint(a) {
		t.Fatalf("run_job_task.job_id = %#v, want json.Number %d", ref, a)
	}
	list, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{})
	if err != nil || len(list) != 2 {
		t.Fatal(list, err)
	}
	for _, j := range list {
		if j.JobID != a && j.JobID != b {
			t.Errorf("listed id %d lost digits", j.JobID)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	e := newEnv(t, emulator.Options{}, jobsapi.Options{})
	ctx := context.Background()
	dup := jobSettings("dup", 0)
	dup["tasks"] = []any{
		map[string]any{"task_key": "a", "notebook_task": map[string]any{"notebook_path": "/a"}},
		map[string]any{"task_key": "a", "notebook_task": map[string]any{"notebook_path": "/b"}},
	}
	_, err := e.c.CreateJob(ctx, raw(t, dup))
	ae := apiErr(t, err)
	if ae.StatusCode != 400 || ae.ErrorCode != "INVALID_PARAMETER_VALUE" || ae.Message == "" || jobsapi.IsNotFound(err) {
		t.Errorf("duplicate task keys: %+v", ae)
	}
	if errors.Is(err, jobsapi.ErrMaybeCommitted) {
		t.Error("a definite 400 reported as maybe committed")
	}
	// A type mismatch is MALFORMED_REQUEST.
	_, err = e.c.CreateJob(ctx, json.RawMessage(`{"name": {"not": "a string"}}`))
	if ae := apiErr(t, err); ae.StatusCode != 400 || ae.ErrorCode != "MALFORMED_REQUEST" {
		t.Errorf("type mismatch: %+v", ae)
	}
	// Broken JSON never leaves the client.
	before := e.emu.RequestCount()
	for _, body := range []string{`{"name":`, `[1,2]`, ``} {
		if _, err := e.c.CreateJob(ctx, json.RawMessage(body)); err == nil || !strings.Contains(err.Error(), "request body") {
			t.Errorf("body %q: %v", body, err)
		}
	}
	if e.emu.RequestCount() != before {
		t.Error("an invalid body was sent")
	}
	// A missing run is not-found too.
	_, err = e.c.GetRun(ctx, 12345)
	if !jobsapi.IsNotFound(err) {
		t.Errorf("missing run: %v", err)
	}
	if len(e.emu.JobIDs()) != 0 {
		t.Errorf("failed creates left jobs: %v", e.emu.JobIDs())
	}
}

func TestAPIVersion21(t *testing.T) {
	e := newEnv(t, emulator.Options{}, jobsapi.Options{APIVersion: "2.1"})
	ctx := context.Background()
	id := mustCreate(t, e.c, jobSettings("small", 3))
	job, err := e.c.GetJob(ctx, id)
	if err != nil || len(taskKeys(t, job.Settings, "tasks", "task_key")) != 3 {
		t.Fatal(job, err)
	}
	if r := e.seen.to("GET", "/jobs/get"); len(r) != 1 || !strings.HasPrefix(r[0].Path, "/api/2.1/") {
		t.Fatalf("requests %+v", r)
	}
	if _, err := jobsapi.New(jobsapi.Config{Host: e.url, Token: "x"}, jobsapi.Options{APIVersion: "3.0"}); err == nil {
		t.Error("API version 3.0 accepted")
	}
}

func TestPermissions(t *testing.T) {
	e := newEnv(t, emulator.Options{User: "owner@example.com",
		Directory: emulator.Directory{Groups: []emulator.Group{{DisplayName: "data-eng"}}, Users: []emulator.User{{UserName: "viewer@example.com"}}}}, jobsapi.Options{})
	ctx := context.Background()
	id := mustCreate(t, e.c, jobSettings("perm", 1))

	p, err := e.c.GetPermissions(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.ObjectID != fmt.Sprintf("/jobs/%d", id) || p.ObjectType != "job" {
		t.Errorf("object %q %q", p.ObjectID, p.ObjectType)
	}
	if lvl := levelOf(p, "owner@example.com"); lvl != "IS_OWNER" {
		t.Errorf("creator holds %q, want IS_OWNER; acl %+v", lvl, p.AccessControlList)
	}

	put := map[string]any{"access_control_list": []any{
		map[string]any{"user_name": "owner@example.com", "permission_level": "IS_OWNER"},
		map[string]any{"group_name": "data-eng", "permission_level": "CAN_MANAGE_RUN"},
	}}
	p, err = e.c.SetPermissions(ctx, id, raw(t, put))
	if err != nil {
		t.Fatal(err)
	}
	if levelOf(p, "data-eng") != "CAN_MANAGE_RUN" {
		t.Errorf("after PUT: %+v", p.AccessControlList)
	}
	patch := map[string]any{"access_control_list": []any{
		map[string]any{"user_name": "viewer@example.com", "permission_level": "CAN_VIEW"},
	}}
	p, err = e.c.UpdatePermissions(ctx, id, raw(t, patch))
	if err != nil {
		t.Fatal(err)
	}
	if levelOf(p, "viewer@example.com") != "CAN_VIEW" || levelOf(p, "data-eng") != "CAN_MANAGE_RUN" {
		t.Errorf("after PATCH: %+v", p.AccessControlList)
	}
	got, err := e.c.GetPermissions(ctx, id)
	if err != nil || levelOf(got, "viewer@example.com") != "CAN_VIEW" {
		t.Errorf("GET after PATCH: %+v %v", got, err)
	}

	levels, err := e.c.GetPermissionLevels(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range levels {
		names = append(names, l.PermissionLevel)
	}
	for _, want := range []string{"CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"} {
		if !slices.Contains(names, want) {
			t.Errorf("permission levels %v lack %s", names, want)
		}
	}

	// PUT that leaves no owner: 400 with the documented message.
	_, err = e.c.SetPermissions(ctx, id, raw(t, map[string]any{"access_control_list": []any{
		map[string]any{"group_name": "data-eng", "permission_level": "CAN_MANAGE"},
	}}))
	if ae := apiErr(t, err); ae.StatusCode != 400 || !strings.Contains(ae.Message, "exactly one owner") {
		t.Errorf("ownerless PUT: %+v", ae)
	}
	if r := e.seen.to("PATCH", fmt.Sprintf("/permissions/jobs/%d", id)); len(r) != 1 || !strings.HasPrefix(r[0].Path, "/api/2.0/") {
		t.Errorf("PATCH requests %+v", r)
	}
}

func levelOf(p *jobsapi.JobPermissions, principal string) string {
	for _, a := range p.AccessControlList {
		if a.UserName == principal || a.GroupName == principal || a.ServicePrincipalName == principal {
			for _, l := range a.AllPermissions {
				if !l.Inherited {
					return l.PermissionLevel
				}
			}
		}
	}
	return ""
}

// clock is a settable emulated clock for runs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRuns(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, emulator.Options{Now: clk.Now}, jobsapi.Options{})
	ctx := context.Background()
	c := e.c
	id := mustCreate(t, c, jobSettings("runner", 3))

	// run-now with an idempotency token: the same token gives the same run.
	body := raw(t, map[string]any{"job_id": id, "idempotency_token": "tok-1", "job_parameters": map[string]any{}})
	r1, err := c.RunNow(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.RunNow(ctx, body)
	if err != nil || r2.RunID != r1.RunID || r1.RunID == 0 {
		t.Fatalf("idempotent run-now: %+v %+v %v", r1, r2, err)
	}
	run, err := c.GetRun(ctx, r1.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.RunID != r1.RunID || run.JobID != id || run.State.LifeCycleState == "" || len(run.Tasks) != 3 || run.Raw["run_id"] == nil {
		t.Fatalf("run %+v", run)
	}
	if run.State.Terminal() {
		t.Fatalf("a fresh run is already %s", run.State.LifeCycleState)
	}

	// The emulated clock moves the run to the end.
	clk.Advance(time.Hour)
	run, err = c.GetRun(ctx, r1.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.State.LifeCycleState != "TERMINATED" || run.State.ResultState != "SUCCESS" {
		t.Fatalf("after an hour: %+v", run.State)
	}
	for _, tr := range run.Tasks {
		if tr.RunID == 0 || tr.TaskKey == "" {
			t.Errorf("task run %+v", tr)
		}
	}
	out, err := c.GetRunOutput(ctx, run.Tasks[0].RunID)
	if err != nil || out["metadata"] == nil {
		t.Errorf("get-output of a task run: %v %v", out, err)
	}
	// get-output of a multi-task job run is refused (jobs-api.md §3.2.11).
	if _, err := c.GetRunOutput(ctx, r1.RunID); err == nil {
		t.Error("get-output of a multi-task run succeeded")
	} else if ae := apiErr(t, err); ae.StatusCode != 400 {
		t.Errorf("get-output of a job run: %+v", ae)
	}
	exp, err := c.ExportRun(ctx, run.Tasks[0].RunID, "CODE")
	if err != nil {
		t.Errorf("export: %v", err)
	} else if _, ok := exp["views"]; !ok {
		t.Errorf("export answer %v", exp)
	}

	// submit, cancel, cancel-all.
	sub, err := c.SubmitRun(ctx, raw(t, map[string]any{"run_name": "once", "tasks": []any{
		map[string]any{"task_key": "only", "notebook_task": map[string]any{"notebook_path": "/x"}},
	}}))
	if err != nil || sub == 0 {
		t.Fatalf("submit: %d %v", sub, err)
	}
	if err := c.CancelRun(ctx, sub); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	sr, err := c.GetRun(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if sr.State.ResultState != "CANCELED" {
		t.Errorf("cancelled run: %+v", sr.State)
	}
	r3, err := c.RunNow(ctx, raw(t, map[string]any{"job_id": id}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CancelAllRuns(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if r, err := c.GetRun(ctx, r3.RunID); err != nil || r.State.ResultState != "CANCELED" {
		t.Errorf("after cancel-all: %+v %v", r, err)
	}
	if err := c.CancelAllRuns(ctx, 0, true); err != nil {
		t.Errorf("cancel all queued runs: %v", err)
	}
	if got := e.seen.to("POST", "/jobs/runs/cancel-all"); len(got) != 2 || string(got[0].Body) != fmt.Sprintf(`{"job_id":%d}`, id) || string(got[1].Body) != `{"all_queued_runs":true}` {
		t.Errorf("cancel-all bodies %+v", got)
	}

	runs, err := c.ListRuns(ctx, jobsapi.ListRunsOptions{JobID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Errorf("%d runs of the job, want 2", len(runs))
	}
	for _, r := range runs {
		if r.JobID != id {
			t.Errorf("runs/list filter ignored: %+v", r)
		}
	}

	// repair the finished run: a new repair id.
	rep, err := c.RepairRun(ctx, raw(t, map[string]any{"run_id": r1.RunID, "rerun_tasks": []any{"t0001"}}))
	if err != nil || rep == 0 {
		t.Errorf("repair: %d %v", rep, err)
	}

	// delete a finished run; then it is gone.
	if err := c.DeleteRun(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRun(ctx, sub); !jobsapi.IsNotFound(err) {
		t.Errorf("deleted run: %v", err)
	}
}

func TestRunsPaging(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, emulator.Options{Now: clk.Now}, jobsapi.Options{})
	ctx := context.Background()
	id := mustCreate(t, e.c, jobSettings("wide", 150))
	var ids []int64
	for i := range 30 {
		r, err := e.c.RunNow(ctx, raw(t, map[string]any{"job_id": id, "idempotency_token": fmt.Sprint("t", i)}))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.RunID)
		clk.Advance(time.Second)
	}
	e.seen.reset()
	runs, err := e.c.ListRuns(ctx, jobsapi.ListRunsOptions{JobID: id})
	if err != nil || len(runs) != 30 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	if n := len(e.seen.to("GET", "/jobs/runs/list")); n < 2 {
		t.Errorf("%d runs/list requests for 30 runs", n)
	}
	got := make([]int64, len(runs))
	for i, r := range runs {
		got[i] = r.RunID
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("listed runs differ")
	}
	few, err := e.c.ListRuns(ctx, jobsapi.ListRunsOptions{JobID: id, Max: 3})
	if err != nil || len(few) != 3 {
		t.Errorf("Max 3: %d %v", len(few), err)
	}
	// runs/get pages the 150 task runs.
	e.seen.reset()
	run, err := e.c.GetRun(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Tasks) != 150 {
		t.Errorf("%d task runs, want 150", len(run.Tasks))
	}
	if arr, _ := run.Raw["tasks"].([]any); len(arr) != 150 {
		t.Errorf("Raw holds %d tasks", len(arr))
	}
	if n := len(e.seen.to("GET", "/jobs/runs/get")); n != 2 {
		t.Errorf("%d runs/get requests for 150 tasks, want 2", n)
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()

	t.Run("429 and 503 on reads are retried", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		id := mustCreate(t, e.c, jobSettings("r", 1))
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/get", Status: 429, Count: 3})
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 503, Count: 2})
		before := e.c.Stats()
		if _, err := e.c.GetJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{}); err != nil {
			t.Fatal(err)
		}
		st := e.c.Stats()
		if d := st.Retries - before.Retries; d != 5 {
			t.Errorf("%d retries, want 5", d)
		}
		if d := st.Throttled - before.Throttled; d != 3 {
			t.Errorf("%d throttled, want 3", d)
		}
		if d := st.Requests - before.Requests; d != 7 {
			t.Errorf("%d requests, want 7", d)
		}
	})

	t.Run("500, 502 and 504 are retried for idempotent calls", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		id := mustCreate(t, e.c, jobSettings("r", 1))
		e.emu.InjectFault(emulator.Fault{Method: "GET", Endpoint: "jobs/get", Status: 500, Count: 1})
		e.emu.InjectFault(emulator.Fault{Method: "GET", Endpoint: "jobs/get", Status: 504, Count: 1})
		e.emu.InjectFault(emulator.Fault{Method: "GET", Endpoint: "jobs/get", Status: 502, Body: "<html><title>502 Bad Gateway</title></html>", Count: 1})
		if _, err := e.c.GetJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		// A reset is idempotent: a passing 500 is retried.
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/reset", Status: 500, Message: "boom", Count: 1})
		if err := e.c.ResetJob(ctx, raw(t, map[string]any{"job_id": id, "new_settings": jobSettings("r2", 1)})); err != nil {
			t.Errorf("reset after one 500: %v", err)
		}
		if n := len(e.seen.to("POST", "/jobs/reset")); n != 2 {
			t.Errorf("reset sent %d times, want 2", n)
		}
		// A create is not: a 500 may hide a committed create.
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", Status: 500, Message: "boom", Count: 1})
		_, err := e.c.CreateJob(ctx, raw(t, jobSettings("c", 1)))
		if ae := apiErr(t, err); ae.StatusCode != 500 || ae.Message != "boom" || !errors.Is(err, jobsapi.ErrMaybeCommitted) {
			t.Errorf("create 500: %v", err)
		}
		if n := len(e.seen.to("POST", "/jobs/create")); n != 2 {
			t.Errorf("creates sent %d, want 2 (one in mustCreate, one refused)", n)
		}
		// A 200 that is not the API's JSON (an SSO page in front of the
		// workspace) is no success: the idempotent update is sent again.
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/update", Status: 200, Body: "<html><title>Sign in</title></html>", Count: 1})
		if err := e.c.UpdateJob(ctx, raw(t, map[string]any{"job_id": id, "new_settings": map[string]any{"max_concurrent_runs": 3}})); err != nil {
			t.Errorf("update after an HTML 200: %v", err)
		}
		if n := len(e.seen.to("POST", "/jobs/update")); n != 2 {
			t.Errorf("update sent %d times, want 2", n)
		}
		// A 504 on reset is retried: repeating a reset is harmless.
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/reset", Status: 504})
		if err := e.c.ResetJob(ctx, raw(t, map[string]any{"job_id": id, "new_settings": jobSettings("r3", 1)})); err != nil {
			t.Errorf("reset after 504: %v", err)
		}
	})

	t.Run("non-idempotent writes are never repeated after they may have landed", func(t *testing.T) {
		for _, f := range []emulator.Fault{
			{Endpoint: "jobs/create", DropAfterCommit: true},
			{Endpoint: "jobs/create", DropBeforeCommit: true},
			{Endpoint: "jobs/create", Status: 504},
			{Endpoint: "jobs/create", Status: 502, Body: "<html><title>Bad Gateway</title></html>"},
			{Endpoint: "jobs/create", Status: 500},
		} {
			e := newEnv(t, emulator.Options{}, jobsapi.Options{})
			e.emu.InjectFault(f)
			_, err := e.c.CreateJob(ctx, raw(t, jobSettings("once", 1)))
			if !errors.Is(err, jobsapi.ErrMaybeCommitted) {
				t.Errorf("%+v: want ErrMaybeCommitted, got %v", f, err)
				continue
			}
			var amb *jobsapi.AmbiguousError
			if !errors.As(err, &amb) || amb.Path != "/api/2.2/jobs/create" {
				t.Errorf("%+v: %T %v", f, err, err)
				continue
			}
			// Only the workspace's own 500 ends the exchange; after a drop
			// or a gateway's answer the create may still be running.
			if want := f.Status == 500; amb.Settled != want {
				t.Errorf("%+v: Settled = %v, want %v", f, amb.Settled, want)
			}
			if n := len(e.seen.to("POST", "/jobs/create")); n != 1 {
				t.Errorf("%+v: create sent %d times", f, n)
			}
			wantJobs := 0
			if f.DropAfterCommit {
				wantJobs = 1
			}
			if n := len(e.emu.JobIDs()); n != wantJobs {
				t.Errorf("%+v: %d jobs exist, want %d", f, n, wantJobs)
			}
		}
	})

	t.Run("429 and 503 on a create are retried: the request was not taken", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", Status: 429, Count: 2})
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", Status: 503, Count: 1})
		if _, err := e.c.CreateJob(ctx, raw(t, jobSettings("once", 1))); err != nil {
			t.Fatal(err)
		}
		if n := len(e.emu.JobIDs()); n != 1 {
			t.Errorf("%d jobs", n)
		}
	})

	t.Run("dropped connections on idempotent writes are retried", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		id := mustCreate(t, e.c, jobSettings("d", 1))
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/reset", DropAfterCommit: true})
		if err := e.c.ResetJob(ctx, raw(t, map[string]any{"job_id": id, "new_settings": jobSettings("d2", 1)})); err != nil {
			t.Fatal(err)
		}
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/update", DropBeforeCommit: true})
		if err := e.c.UpdateJob(ctx, raw(t, map[string]any{"job_id": id, "new_settings": map[string]any{"name": "d3"}})); err != nil {
			t.Fatal(err)
		}
		e.emu.InjectFault(emulator.Fault{Method: "PUT", Endpoint: "permissions/jobs", DropAfterCommit: true})
		if _, err := e.c.SetPermissions(ctx, id, raw(t, map[string]any{"access_control_list": []any{
			map[string]any{"user_name": "user@example.com", "permission_level": "IS_OWNER"}}})); err != nil {
			t.Fatal(err)
		}
		// The delete lands, its answer is lost, the retry finds no job:
		// that is success.
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/delete", DropAfterCommit: true})
		if err := e.c.DeleteJob(ctx, id); err != nil {
			t.Fatalf("delete after a lost answer: %v", err)
		}
		if n := len(e.seen.to("POST", "/jobs/delete")); n != 2 {
			t.Errorf("delete sent %d times, want 2", n)
		}
		if len(e.emu.JobIDs()) != 0 {
			t.Error("job not deleted")
		}
	})

	t.Run("run-now and submit retry only with an idempotency token", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		id := mustCreate(t, e.c, jobSettings("rn", 1))
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/run-now", DropAfterCommit: true})
		_, err := e.c.RunNow(ctx, raw(t, map[string]any{"job_id": id}))
		if !errors.Is(err, jobsapi.ErrMaybeCommitted) {
			t.Fatalf("run-now without token: %v", err)
		}
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/run-now", DropAfterCommit: true})
		r, err := e.c.RunNow(ctx, raw(t, map[string]any{"job_id": id, "idempotency_token": "abc"}))
		if err != nil || r.RunID == 0 {
			t.Fatalf("run-now with token: %+v %v", r, err)
		}
		runs, err := e.c.ListRuns(ctx, jobsapi.ListRunsOptions{JobID: id})
		if err != nil || len(runs) != 2 {
			t.Errorf("%d runs (want 2: the ambiguous one and one deduplicated), %v", len(runs), err)
		}
		submit := map[string]any{"run_name": "s", "idempotency_token": "sub-1", "tasks": []any{
			map[string]any{"task_key": "only", "notebook_task": map[string]any{"notebook_path": "/x"}}}}
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/runs/submit", DropAfterCommit: true})
		s1, err := e.c.SubmitRun(ctx, raw(t, submit))
		if err != nil {
			t.Fatalf("submit with token: %v", err)
		}
		s2, err := e.c.SubmitRun(ctx, raw(t, submit))
		if err != nil || s1 != s2 {
			t.Errorf("submit dedup: %d %d %v", s1, s2, err)
		}
		delete(submit, "idempotency_token")
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/runs/submit", Status: 504})
		if _, err := e.c.SubmitRun(ctx, raw(t, submit)); !errors.Is(err, jobsapi.ErrMaybeCommitted) {
			t.Errorf("submit without token after 504: %v", err)
		}
	})

	t.Run("the retry budget ends retrying", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{RetryTimeout: 30 * time.Millisecond})
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 503, Count: 1 << 30})
		_, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{})
		var re *jobsapi.RetryError
		if !errors.As(err, &re) || re.Attempts < 2 || apiErr(t, err).StatusCode != 503 {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(err.Error(), "gave up after") {
			t.Errorf("message %q", err)
		}
		// A Retry-After beyond the budget ends at once.
		e2 := newEnv(t, emulator.Options{}, jobsapi.Options{RetryTimeout: time.Second})
		e2.emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 429, RetryAfter: 30})
		_, err = e2.c.ListJobs(ctx, jobsapi.ListJobsOptions{})
		if !errors.As(err, &re) || re.Attempts != 1 || !strings.Contains(err.Error(), "asked to wait 30s") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("a refused connection is retried, even for a create, then given up", func(t *testing.T) {
		// Nothing listens on the port: the request never left, so a
		// create may be repeated; after a few refusals in a row the host
		// is called unreachable instead of spending the whole budget.
		hs := httptest.NewServer(http.NotFoundHandler())
		url := hs.URL
		hs.Close()
		c, err := jobsapi.New(jobsapi.Config{Host: url, Token: testToken},
			jobsapi.Options{RetryTimeout: time.Minute, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateJob(ctx, raw(t, jobSettings("x", 1)))
		if err == nil || errors.Is(err, jobsapi.ErrMaybeCommitted) || !strings.Contains(err.Error(), "cannot reach "+url+" after 4 attempts") {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("message %q does not say why", err)
		}
	})

	t.Run("HTML and empty error bodies read well", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/get", Status: 403, Body: "<html><head><title>Access denied</title></head></html>"})
		_, err := e.c.GetJob(ctx, 1)
		if ae := apiErr(t, err); ae.StatusCode != 403 || !strings.Contains(ae.Message, "Access denied") || !jobsapi.IsAuth(err) {
			t.Errorf("HTML 403: %v", err)
		}
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/get", Status: 401, ErrorCode: "UNAUTHENTICATED", Message: "Invalid access token."})
		_, err = e.c.GetJob(ctx, 1)
		if ae := apiErr(t, err); ae.ErrorCode != "UNAUTHENTICATED" || ae.Message != "Invalid access token." {
			t.Errorf("401: %v", err)
		}
	})

	t.Run("random 500 and 503 under load", func(t *testing.T) {
		e := newEnv(t, emulator.Options{Seed: 7}, jobsapi.Options{})
		createMany(t, e.c, 120, 1, "flaky-setup")
		e.emu.SetFailRate(0.3)
		list, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{ExpandTasks: true, Limit: 10})
		if err != nil || len(list) != 120 {
			t.Fatalf("%d jobs, %v", len(list), err)
		}
		if e.c.Stats().Retries == 0 {
			t.Error("a 30% failure rate caused no retry")
		}
	})

	t.Run("a server rate limit is absorbed", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		id := mustCreate(t, e.c, jobSettings("rl", 1))
		e.emu.SetRateLimit("jobs/get", 50)
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range 80 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.c.GetJob(ctx, id); err != nil {
					failed.Add(1)
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if failed.Load() != 0 {
			t.Fatalf("%d reads failed", failed.Load())
		}
		if e.c.Stats().Throttled == 0 {
			t.Error("80 concurrent reads at a 50/s limit were never throttled; the test proves nothing")
		}
	})
}

func TestCancellation(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		e := newEnv(t, emulator.Options{Latency: time.Hour}, jobsapi.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{})
			done <- err
		}()
		<-e.seen.arrived
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("while waiting to retry", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 429, RetryAfter: 120})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := e.c.ListJobs(ctx, jobsapi.ListJobsOptions{})
			done <- err
		}()
		<-e.seen.arrived
		for e.emu.RequestCount() == 0 { // the 429 has been answered
			time.Sleep(time.Millisecond)
		}
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if e.emu.RequestCount() != 1 {
			t.Errorf("%d requests", e.emu.RequestCount())
		}
	})
	t.Run("before the first request", func(t *testing.T) {
		e := newEnv(t, emulator.Options{}, jobsapi.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.c.CreateJob(ctx, raw(t, jobSettings("x", 1))); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if e.emu.RequestCount() != 0 {
			t.Error("a request was sent with a cancelled context")
		}
	})
	t.Run("deadline", func(t *testing.T) {
		e := newEnv(t, emulator.Options{Latency: time.Hour}, jobsapi.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := e.c.GetJob(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestOAuthM2MAgainstEmulator(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sn := newSeen()
	hs := httptest.NewServer(sn.wrap(emu))
	defer hs.Close()
	debug := &syncBuffer{}
	c, err := jobsapi.New(jobsapi.Config{Host: hs.URL, ClientID: "sp-app-id", ClientSecret: "sp-oauth-secret-value"},
		jobsapi.Options{Debug: debug, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	createMany(t, c, 40, 1, "m2m")
	if _, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(sn.to("POST", "/oidc/v1/token")); n != 1 {
		t.Errorf("%d token requests for 41 API calls, want 1", n)
	}
	sn.mu.Lock()
	for i, a := range sn.auth {
		if !strings.HasPrefix(a, "Bearer ") && !strings.HasPrefix(a, "Basic ") {
			t.Errorf("request %d: Authorization %q", i, a)
		}
	}
	sn.mu.Unlock()
	// A 401 makes the client fetch a new token once and try again.
	emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 401})
	if _, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{}); err != nil {
		t.Fatalf("after 401: %v", err)
	}
	if n := len(sn.to("POST", "/oidc/v1/token")); n != 2 {
		t.Errorf("%d token requests after a 401, want 2", n)
	}
	// Two 401s in a row are an answer, not a glitch.
	emu.InjectFault(emulator.Fault{Endpoint: "jobs/list", Status: 401, Count: 2})
	if _, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{}); !jobsapi.IsAuth(err) {
		t.Fatalf("after two 401s: %v", err)
	}
	if st := c.Stats(); st.TokenRequests != 3 {
		t.Errorf("stats %+v", st)
	}
	if strings.Contains(debug.String(), "sp-oauth-secret-value") || strings.Contains(debug.String(), "emulator-token-") {
		t.Errorf("debug log leaks a credential:\n%s", debug.String())
	}
	if !strings.Contains(debug.String(), "POST /oidc/v1/token 200") {
		t.Errorf("token request not logged:\n%s", debug.String())
	}
}

func TestHeadersAndDebugLog(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sn := newSeen()
	hs := httptest.NewServer(sn.wrap(emu))
	defer hs.Close()
	debug := &syncBuffer{}
	c, err := jobsapi.New(jobsapi.Config{Host: hs.URL, Token: testToken}, jobsapi.Options{UserAgent: "jobsync/9.8.7", Debug: debug, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := mustCreate(t, c, jobSettings("h", 1))
	emu.InjectFault(emulator.Fault{Endpoint: "jobs/get", Status: 503})
	if _, err := c.GetJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	sn.mu.Lock()
	for _, ua := range sn.agents {
		if !strings.HasPrefix(ua, "jobsync/9.8.7 go/") || !strings.HasSuffix(ua, " auth/pat") || !strings.Contains(ua, " os/") {
			t.Errorf("User-Agent %q", ua)
		}
	}
	for _, a := range sn.auth {
		if a != "Bearer "+testToken {
			t.Errorf("Authorization %q", a)
		}
	}
	sn.mu.Unlock()
	log := debug.String()
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 debug lines (create, 503, retry), got:\n%s", log)
	}
	for i, want := range []string{"POST /api/2.2/jobs/create 200 ", "GET /api/2.2/jobs/get?job_id=" + fmt.Sprint(id) + " 503 ", "GET /api/2.2/jobs/get?job_id=" + fmt.Sprint(id) + " 200 "} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q lacks %q", i, lines[i], want)
		}
	}
	if !strings.HasSuffix(lines[1], "attempt=1") || !strings.HasSuffix(lines[2], "attempt=2") {
		t.Errorf("attempts not logged:\n%s", log)
	}
	if strings.Contains(log, testToken) {
		t.Error("token in the debug log")
	}
}

// PrincipalExists finds users (any case), groups and service principals by
// the names ACL entries use, and says no for others.
func TestPrincipalExists(t *testing.T) {
	e := newEnv(t, emulator.Options{Directory: emulator.Directory{
		Users:             []emulator.User{{UserName: "Jane@acme.com"}},
		Groups:            []emulator.Group{{DisplayName: `data "eng"`}},
		ServicePrincipals: []emulator.ServicePrincipal{{ApplicationID: "6f2d0c1e-8b4a-4c3e-9d55-0b1e2a3c4d5e"}},
	}}, jobsapi.Options{})
	ctx := context.Background()
	for _, c := range []struct {
		kind, name string
		want       bool
	}{
		{jobsapi.PrincipalUser, "jane@acme.com", true},
		{jobsapi.PrincipalUser, "ghost@acme.com", false},
		{jobsapi.PrincipalGroup, `data "eng"`, true},
		{jobsapi.PrincipalGroup, "users", true},
		{jobsapi.PrincipalGroup, "data", false},
		{jobsapi.PrincipalServicePrincipal, "6f2d0c1e-8b4a-4c3e-9d55-0b1e2a3c4d5e", true},
		{jobsapi.PrincipalServicePrincipal, "jane@acme.com", false},
	} {
		got, err := e.c.PrincipalExists(ctx, c.kind, c.name)
		if err != nil || got != c.want {
			t.Errorf("PrincipalExists(%s, %q) = %v, %v; want %v", c.kind, c.name, got, err, c.want)
		}
	}
	if _, err := e.c.PrincipalExists(ctx, "role_name", "x"); err == nil {
		t.Error("an unknown kind is accepted")
	}
}
