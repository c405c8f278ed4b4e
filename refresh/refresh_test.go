package refresh_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/internal/emutest"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

const project = "refresh-test"

type world struct {
	t      *testing.T
	emu    *emulator.Server
	client *jobsapi.Client
	store  *state.Store
}

func newWorld(t *testing.T) *world {
	t.Helper()
	// The workspace knows the group the jobs grant to (jobs).
	emu, c := emutest.Start(t, emulator.Options{ReorderReads: true,
		Directory: emulator.Directory{Groups: []emulator.Group{{DisplayName: "readers"}}}}, jobsapi.Options{})
	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "jobsync.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	st.Init("https://emulator", project)
	return &world{t: t, emu: emu, client: c, store: st}
}

// jobs makes n desired jobs of three tasks; job i has tasks[i] tasks when
// given.
func jobs(n int, bigTasks map[int]int, perms map[int]bool) []*schema.Job {
	out := make([]*schema.Job, n)
	for i := range out {
		nt := 3
		if bigTasks[i] > 0 {
			nt = bigTasks[i]
		}
		tasks := make([]any, nt)
		for k := range tasks {
			task := map[string]any{
				"task_key":      fmt.Sprintf("t%03d", k),
				"notebook_task": map[string]any{"notebook_path": fmt.Sprintf("/nb/%d/%d", i, k)},
			}
			if k > 0 {
				task["depends_on"] = []any{map[string]any{"task_key": fmt.Sprintf("t%03d", k-1)}}
			}
			tasks[k] = task
		}
		j := schema.NewJob(fmt.Sprintf("job_%04d", i), "jobs.yaml", map[string]any{
			"name":  fmt.Sprintf("job %d", i),
			"tasks": tasks,
		}, nil)
		if perms[i] {
			j.Permissions = []schema.Permission{{GroupName: "readers", PermissionLevel: "CAN_VIEW"}}
		}
		out[i] = j
	}
	return out
}

func (w *world) plan(desired []*schema.Job, s refresh.Strategy) (*planner.Plan, int64) {
	w.t.Helper()
	before := w.emu.RequestCount()
	p, _, err := refresh.Plan(context.Background(), w.client, planner.Input{
		Desired: desired, Lock: w.store.File(), Project: project, Workspace: "https://emulator",
		Now: time.Unix(0, 0).UTC(),
	}, refresh.Options{Strategy: s})
	if err != nil {
		w.t.Fatal(err)
	}
	return p, w.emu.RequestCount() - before
}

func (w *world) apply(p *planner.Plan) {
	w.t.Helper()
	res, err := applier.Apply(context.Background(), p, w.client, w.store, applier.Options{})
	if err != nil || len(res.Failed) > 0 {
		w.t.Fatalf("apply: %v %+v", err, res)
	}
}

// TestListStrategyRequestCounts pins the cost of a refresh: one list page
// per 100 jobs, a get only for truncated jobs and for jobs that will
// change, and nothing else.
func TestListStrategyRequestCounts(t *testing.T) {
	w := newWorld(t)
	desired := jobs(250, map[int]int{7: 130}, nil)
	p, _ := w.plan(desired, refresh.List)
	if got := p.Counts()[planner.OpCreate]; got != 250 {
		t.Fatalf("creates = %d, want 250", got)
	}
	w.apply(p)

	p, n := w.plan(desired, refresh.List)
	if !p.Empty() {
		t.Fatalf("plan after apply is not empty: %+v", p.Actions)
	}
	// 3 list pages + a get of the 130-task job, truncated by the list (2
	// pages of 100 tasks).
	if n != 5 || p.Refresh.Requests != 5 || p.Refresh.Strategy != "list" {
		t.Fatalf("no-change refresh made %d requests (report %+v), want 5", n, p.Refresh)
	}

	// Two jobs edited outside jobsync: each is confirmed with one get.
	for _, i := range []int{3, 200} {
		id := w.store.File().Jobs[desired[i].Key].JobID
		body, _ := json.Marshal(map[string]any{"job_id": id, "new_settings": map[string]any{"max_concurrent_runs": 4}})
		if err := w.client.UpdateJob(context.Background(), body); err != nil {
			t.Fatal(err)
		}
	}
	p, n = w.plan(desired, refresh.List)
	if got := p.Counts()[planner.OpUpdate]; got != 2 {
		t.Fatalf("updates = %d, want 2: %+v", got, p.Actions)
	}
	if n != 7 {
		t.Fatalf("drift refresh made %d requests, want 7 (3 pages, 2 for the truncated job, 2 confirmations)", n)
	}
	w.apply(p)
	if p, _ := w.plan(desired, refresh.List); !p.Empty() {
		t.Fatalf("plan after second apply is not empty: %+v", p.Actions)
	}
}

func TestAutoStrategy(t *testing.T) {
	w := newWorld(t)
	small := jobs(5, nil, nil)
	p, _ := w.plan(small, refresh.Auto)
	if p.Refresh.Strategy != "list" {
		t.Fatalf("without a lockfile auto must list (only a list finds tagged jobs), got %s", p.Refresh.Strategy)
	}
	w.apply(p)
	if err := w.store.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, n := w.plan(small, refresh.Auto)
	if p.Refresh.Strategy != "get" || n != 5 || !p.Empty() {
		t.Fatalf("a small, fully locked project should be read by get: strategy %s, %d requests, %d actions", p.Refresh.Strategy, n, len(p.Actions))
	}
	// A key the lockfile does not know forces a list.
	p, _ = w.plan(jobs(6, nil, nil), refresh.Auto)
	if p.Refresh.Strategy != "list" || p.Counts()[planner.OpCreate] != 1 {
		t.Fatalf("new key: strategy %s, counts %v", p.Refresh.Strategy, p.Counts())
	}
}

// TestPermissionsReadOnlyWhereDeclared: the permissions API has no bulk read,
// so only jobs that declare permissions cost a request.
func TestPermissionsReadOnlyWhereDeclared(t *testing.T) {
	w := newWorld(t)
	desired := jobs(20, nil, map[int]bool{2: true, 9: true})
	p, _ := w.plan(desired, refresh.List)
	w.apply(p)
	p, n := w.plan(desired, refresh.List)
	if !p.Empty() {
		t.Fatalf("plan after apply is not empty: %+v", p.Actions)
	}
	if n != 3 {
		t.Fatalf("refresh made %d requests, want 3 (1 list page, 2 permission reads)", n)
	}
}

func TestUnknownStrategy(t *testing.T) {
	w := newWorld(t)
	_, _, err := refresh.Plan(context.Background(), w.client, planner.Input{Project: project}, refresh.Options{Strategy: "bulk"})
	if err == nil {
		t.Fatal("unknown strategy accepted")
	}
}

// TestTruncatedJobNotReadTwice: a job the list truncated was already read
// whole, so a change to it costs no confirming get.
func TestTruncatedJobNotReadTwice(t *testing.T) {
	w := newWorld(t)
	desired := jobs(3, map[int]int{1: 150}, nil)
	p, _ := w.plan(desired, refresh.List)
	w.apply(p)
	id := w.store.File().Jobs[desired[1].Key].JobID
	body, _ := json.Marshal(map[string]any{"job_id": id, "new_settings": map[string]any{"max_concurrent_runs": 4}})
	if err := w.client.UpdateJob(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	p, n := w.plan(desired, refresh.List)
	if len(p.Actions) != 1 || n != 3 {
		t.Fatalf("%d actions, %d requests; want 1 action and 3 requests (1 list page, 2 get pages)", len(p.Actions), n)
	}
}

// TestAutoListsWhenPruning: a tagged job that is neither in the YAML nor in
// the lockfile is invisible to Get, so pruning always lists.
func TestAutoListsWhenPruning(t *testing.T) {
	w := newWorld(t)
	all := jobs(3, nil, nil)
	p, _ := w.plan(all, refresh.List)
	w.apply(p)
	// The lockfile forgets job 2 (say it was restored from an older
	// commit) and the YAML drops it.
	if err := w.store.Forget(context.Background(), all[2].Key); err != nil {
		t.Fatal(err)
	}
	p, _, err := refresh.Plan(context.Background(), w.client, planner.Input{
		Desired: all[:2], Lock: w.store.File(), Project: project, Workspace: "https://emulator", Prune: true,
	}, refresh.Options{Strategy: refresh.Auto})
	if err != nil {
		t.Fatal(err)
	}
	if p.Refresh.Strategy != "list" || p.Counts()[planner.OpDelete] != 1 {
		t.Fatalf("strategy %s, counts %v: the orphaned tagged job must be found and deleted", p.Refresh.Strategy, p.Counts())
	}
}

// A list read keeps each job's settings as JSON, ours and others' alike;
// jobs completed with jobs/get are trees. Both read back the same values.
func TestListKeepsSettingsRaw(t *testing.T) {
	w := newWorld(t)
	desired := jobs(3, map[int]int{1: 150}, nil)
	p, _ := w.plan(desired, refresh.List)
	w.apply(p)
	foreign, _ := json.Marshal(map[string]any{"name": "someone else's", "timeout_seconds": 86400})
	otherID, err := w.client.CreateJob(context.Background(), foreign)
	if err != nil {
		t.Fatal(err)
	}
	p, live, err := refresh.Plan(context.Background(), w.client, planner.Input{
		Desired: desired, Lock: w.store.File(), Project: project, Workspace: "https://emulator",
	}, refresh.Options{Strategy: refresh.List})
	if err != nil || !p.Empty() {
		t.Fatalf("plan: %v, %v; want no changes", err, p.Counts())
	}
	if len(live) != 4 {
		t.Fatalf("%d live jobs, want 4", len(live))
	}
	wide := w.store.File().Jobs[desired[1].Key].JobID
	for _, l := range live {
		full := l.JobID == wide // 150 tasks: read whole with jobs/get
		if (l.Settings != nil) != full || (l.RawSettings != nil) == full {
			t.Errorf("job %d: tree %v, raw %v; want a tree only for the job read with jobs/get", l.JobID, l.Settings != nil, l.RawSettings != nil)
		}
		s, err := l.Decoded()
		if err != nil {
			t.Fatal(err)
		}
		_, ours := l.OwnedKey(project)
		if l.JobID == otherID {
			if ours || s["name"] != "someone else's" || s["timeout_seconds"] != json.Number("86400") {
				t.Errorf("foreign job: ours=%v settings %v", ours, s)
			}
		} else if !ours {
			t.Errorf("job %d: not recognised as ours", l.JobID)
		}
	}
}
