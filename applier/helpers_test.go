package applier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

const testProject = "proj/test"

// env is an emulated workspace served over loopback, a real client of it,
// and a lockfile in a temp dir.
type env struct {
	t        testing.TB
	emu      *emulator.Server
	srv      *httptest.Server
	client   *jobsapi.Client
	lockPath string

	// Concurrency seen by the server: requests being handled now, and the
	// most at any one time.
	inflight, maxInflight atomic.Int64
	// handling counts requests still inside the handler, so a test can wait
	// until an abandoned request has finished on the server side.
	handling sync.WaitGroup
	// around, when set, handles each request instead of the emulator; it
	// calls serve to pass the request on (or not).
	around atomic.Pointer[aroundFunc]
}

type aroundFunc func(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc)

func newEnv(t testing.TB, o emulator.Options) *env {
	t.Helper()
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, emu: emu, lockPath: filepath.Join(t.TempDir(), "jobsync.lock.json")}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.handling.Add(1)
		defer e.handling.Done()
		n := e.inflight.Add(1)
		defer e.inflight.Add(-1)
		for {
			m := e.maxInflight.Load()
			if n <= m || e.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		if f := e.around.Load(); f != nil {
			(*f)(w, r, emu.ServeHTTP)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.client = newClient(t, e.srv.URL)
	return e
}

func newClient(t testing.TB, url string) *jobsapi.Client {
	t.Helper()
	c, err := jobsapiClient(url)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readLive reads every job of the workspace completely, with its direct
// permissions: what the CLI's refresh hands the planner.
func readLive(ctx context.Context, c *jobsapi.Client) ([]planner.Live, error) {
	list, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]planner.Live, len(list))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, j := range list {
		g.Go(func() error {
			full, err := c.GetJob(gctx, j.JobID)
			if err != nil {
				return err
			}
			perms, err := c.GetPermissions(gctx, j.JobID)
			if err != nil {
				return err
			}
			out[i] = planner.Live{JobID: full.JobID, CreatorUserName: full.CreatorUserName,
				RunAsUserName: full.RunAsUserName, Settings: full.Settings, Permissions: directACL(perms)}
			return nil
		})
	}
	return out, g.Wait()
}

func directACL(p *jobsapi.JobPermissions) []schema.Permission {
	out := []schema.Permission{}
	for _, e := range p.AccessControlList {
		for _, lvl := range e.AllPermissions {
			if lvl.Inherited {
				continue
			}
			out = append(out, schema.Permission{UserName: e.UserName, GroupName: e.GroupName,
				ServicePrincipalName: e.ServicePrincipalName, PermissionLevel: lvl.PermissionLevel})
		}
	}
	return out
}

// buildPlan plans desired against the workspace and the lockfile at path.
func buildPlan(ctx context.Context, c *jobsapi.Client, path string, desired []*schema.Job, prune bool) (*planner.Plan, error) {
	st, err := state.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	live, err := readLive(ctx, c)
	if err != nil {
		return nil, err
	}
	return planner.Build(planner.Input{
		Desired: desired, Live: live, Lock: st.File(), Project: testProject, Workspace: c.Host(),
		Prune: prune, Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ToolVersion: "test",
	})
}

func (e *env) plan(desired []*schema.Job, prune bool) *planner.Plan {
	e.t.Helper()
	p, err := buildPlan(context.Background(), e.client, e.lockPath, desired, prune)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) store() *state.Store {
	e.t.Helper()
	st, err := state.Open(context.Background(), e.lockPath)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) apply(ctx context.Context, p *planner.Plan, o Options) (*Result, error) {
	return Apply(ctx, p, e.client, e.store(), o)
}

// converge plans and applies desired, failing the test on any error.
func (e *env) converge(desired []*schema.Job, prune bool) *Result {
	e.t.Helper()
	res, err := e.apply(context.Background(), e.plan(desired, prune), Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// assertConverged checks the convergence invariant: after apply, a fresh
// plan against the live workspace is empty.
func (e *env) assertConverged(desired []*schema.Job, prune bool) {
	e.t.Helper()
	p := e.plan(desired, prune)
	if !p.Empty() {
		var b strings.Builder
		for _, a := range p.Actions {
			fmt.Fprintf(&b, "  %s %s: %s\n", a.Op, a.Key, a.Reason)
			for _, c := range a.Changes {
				fmt.Fprintf(&b, "    %s %s: %v -> %v\n", c.Kind, c.Path, c.Before, c.After)
			}
		}
		e.t.Fatalf("plan after apply is not empty:\n%s", b.String())
	}
}

// lock reads the committed lockfile.
func (e *env) lock() *state.File {
	e.t.Helper()
	f := e.store().File()
	if f == nil {
		e.t.Fatal("no lockfile")
	}
	return f
}

// job returns a desired job with one notebook task, optionally running
// other jobs (run_job_task with a reference) after it.
func job(key string, runs ...string) *schema.Job {
	tasks := []any{map[string]any{
		"task_key":            "main",
		"existing_cluster_id": "0101-123456-abcdefgh",
		"notebook_task":       map[string]any{"notebook_path": "/Workspace/jobs/" + key},
	}}
	for _, r := range runs {
		tasks = append(tasks, map[string]any{
			"task_key":     "run_" + r,
			"depends_on":   []any{map[string]any{"task_key": "main"}},
			"run_job_task": map[string]any{"job_id": "${jobs." + r + ".id}"},
		})
	}
	return schema.NewJob(key, "jobs.yml", map[string]any{
		"name":                "test " + key,
		"max_concurrent_runs": json.Number("1"),
		"tasks":               tasks,
	}, nil)
}

func jobs(keys ...string) []*schema.Job {
	out := make([]*schema.Job, len(keys))
	for i, k := range keys {
		out[i] = job(k)
	}
	return out
}

// tagged maps each ownership key to the ids of the live jobs carrying its
// tag.
func tagged(t testing.TB, c *jobsapi.Client) map[string][]int64 {
	t.Helper()
	list, err := c.ListJobs(context.Background(), jobsapi.ListJobsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int64{}
	for _, j := range list {
		if k, ok := planner.OwnedKey(testProject, j.Settings); ok {
			out[k] = append(out[k], j.JobID)
		}
	}
	for _, ids := range out {
		sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	}
	return out
}

// requestsTo returns the logged requests whose path contains endpoint.
func requestsTo(emu *emulator.Server, method, endpoint string) []emulator.Request {
	var out []emulator.Request
	for _, r := range emu.Requests() {
		if r.Method == method && strings.Contains(r.Path, endpoint) {
			out = append(out, r)
		}
	}
	return out
}
