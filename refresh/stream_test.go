package refresh_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
)

// TestStreamedListReadsWhatSequentialReadsRead: planning the pages of a
// listing as they come (with the reads of truncated jobs, of declared
// permissions and of jobs that changed going out meanwhile) makes exactly
// the requests reading first and planning after made, and the plan Build
// makes of the jobs read: here 3 list pages, the 2 get pages of a 130-task
// job, 3 permission reads, and one confirming get for each of the 5 jobs
// that changed outside jobsync (a job with permissions among them, and two
// whose plan waits for the last page: one refers to another job, one was
// dropped from the lockfile and is adopted by its tag).
func TestStreamedListReadsWhatSequentialReadsRead(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	desired := jobs(250, map[int]int{7: 130}, map[int]bool{2: true, 9: true, 150: true})
	tasks := desired[20].Settings["tasks"].([]any)
	desired[20].Settings["tasks"] = append(tasks, map[string]any{"task_key": "next",
		"run_job_task": map[string]any{"job_id": "${jobs.job_0021.id}"}})
	p, _ := w.plan(desired, refresh.List)
	w.apply(p)
	if p, n := w.plan(desired, refresh.List); !p.Empty() || n != 3+2+3 {
		t.Fatalf("no-change plan: %v, %d requests; want none and 8", p.Counts(), n)
	}
	drifted := []int{3, 9, 20, 40, 150}
	for _, i := range drifted {
		id := w.store.File().Jobs[desired[i].Key].JobID
		body, _ := json.Marshal(map[string]any{"job_id": id, "new_settings": map[string]any{"max_concurrent_runs": 4}})
		if err := w.client.UpdateJob(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.store.Forget(ctx, desired[40].Key); err != nil {
		t.Fatal(err)
	}
	in := planner.Input{Desired: desired, Lock: w.store.File(), Project: project, Workspace: "https://emulator", Now: time.Unix(0, 0).UTC()}
	before := w.emu.RequestCount()
	p, live, err := refresh.Plan(ctx, w.client, in, refresh.Options{Strategy: refresh.List})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.emu.RequestCount() - before; n != 3+2+3+5 {
		t.Errorf("%d requests, want 13 (3 pages, 2 for the wide job, 3 permission reads, 5 confirmations)", n)
	}
	if c := p.Counts()[planner.OpUpdate]; c != len(drifted) {
		t.Fatalf("updates %v, want %d", p.Counts(), len(drifted))
	}
	gets := 0
	for _, r := range w.emu.Requests() {
		if strings.HasSuffix(r.Path, "/jobs/get") {
			gets++
		}
	}
	if gets < 2+5 {
		t.Errorf("%d jobs/get in the log, want at least 7", gets)
	}
	in.Live = live
	want, err := planner.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	p.Refresh = nil
	if got, want := planJSON(t, p), planJSON(t, want); got != want {
		t.Errorf("streamed plan:\n%s\nBuild of the jobs read:\n%s", got, want)
	}
	// Everything written is planned from a jobs/get read (a tree).
	byID := map[int64]planner.Live{}
	for _, l := range live {
		byID[l.JobID] = l
	}
	for _, a := range p.Actions {
		if byID[a.JobID].Settings == nil {
			t.Errorf("%s (job %d) was planned from its list view", a.Key, a.JobID)
		}
	}
}

func planJSON(t *testing.T, p *planner.Plan) string {
	t.Helper()
	var b strings.Builder
	if err := planner.WritePlan(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
