package applier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/planner"
)

// TestUpdateFallsBackToReset: a workspace without jobs/update (404 or 501,
// injected into the emulator) gets resets built from each job's current
// settings with the update applied; the apply says so once and converges.
func TestUpdateFallsBackToReset(t *testing.T) {
	for _, f := range []emulator.Fault{
		{Endpoint: "jobs/update", Status: 404, ErrorCode: "ENDPOINT_NOT_FOUND", Message: "No API found for 'POST /jobs/update'", Count: 1000},
		{Endpoint: "jobs/update", Status: 501, Body: "Not Implemented", Count: 1000},
	} {
		t.Run(f.ErrorCode+f.Body, func(t *testing.T) {
			e := newEnv(t, emulator.Options{})
			desired := jobs("a", "b", "c")
			second := map[string]any{"task_key": "second", "depends_on": []any{map[string]any{"task_key": "main"}},
				"existing_cluster_id": "0101-123456-abcdefgh", "notebook_task": map[string]any{"notebook_path": "/Workspace/jobs/second"}}
			third := map[string]any{"task_key": "third", "existing_cluster_id": "0101-123456-abcdefgh",
				"notebook_task": map[string]any{"notebook_path": "/Workspace/jobs/third"}}
			desired[1].Settings["tasks"] = append(desired[1].Settings["tasks"].([]any), second)
			desired[2].Settings["tasks"] = append(desired[2].Settings["tasks"].([]any), second)
			desired[2].Settings["description"] = "to be removed"
			e.converge(desired, false)

			// a: a top-level change; b: one task changed (the update sends
			// only that one: the other must survive the merge) and one
			// added; c: a task and a top-level field removed.
			desired[0].Settings["timeout_seconds"] = json.Number("600")
			desired[1].Settings["tasks"] = []any{
				map[string]any{"task_key": "main", "existing_cluster_id": "0101-123456-abcdefgh",
					"notebook_task": map[string]any{"notebook_path": "/Workspace/jobs/b2"}},
				second, third,
			}
			desired[2].Settings["tasks"] = desired[2].Settings["tasks"].([]any)[:1]
			delete(desired[2].Settings, "description")
			p := e.plan(desired, false)
			for _, act := range p.Actions {
				if act.Op != planner.OpUpdate {
					t.Fatalf("%s: %s, want update (%s)", act.Key, act.Op, act.Reason)
				}
			}

			e.emu.InjectFault(f)
			e.emu.ResetRequests()
			var notices []Event
			res, err := e.apply(context.Background(), p, Options{Parallelism: 1, Progress: func(ev Event) {
				if ev.Phase == PhaseNotice {
					notices = append(notices, ev)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Applied) != 3 {
				t.Errorf("applied %v", res.Applied)
			}
			if len(notices) != 1 || !strings.Contains(notices[0].Note, "does not implement jobs/update") || !strings.Contains(notices[0].Note, "jobs/reset") {
				t.Errorf("notices %+v", notices)
			}
			count := map[string]int{}
			for _, r := range e.emu.Requests() {
				count[r.Method+" "+r.Path]++
			}
			if count["POST /api/2.2/jobs/update"] != 1 || count["POST /api/2.2/jobs/reset"] != 3 {
				t.Errorf("requests %v", count)
			}
			e.assertConverged(desired, false)
		})
	}
}

// TestFallbackResetChecksOwner: the reset that stands in for an update is
// made from a fresh read of the job and rewrites every field of it; when
// that read shows the job no longer carries the key's tag (removed in the
// workspace after the plan), nothing is sent and the job stays as it is.
func TestFallbackResetChecksOwner(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	ctx := context.Background()
	desired := jobs("a")
	e.converge(desired, false)
	id := e.lock().Jobs["a"].JobID
	desired[0].Settings["timeout_seconds"] = json.Number("600")
	p := e.plan(desired, false)
	if len(p.Actions) != 1 || p.Actions[0].Op != planner.OpUpdate {
		t.Fatalf("plan %+v", p.Actions)
	}
	// Someone takes the job over in the workspace: its tags now say
	// nothing of jobsync.
	body, _ := json.Marshal(map[string]any{"job_id": id, "new_settings": map[string]any{"tags": map[string]any{"team": "theirs"}}})
	if err := e.client.UpdateJob(ctx, body); err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(emulator.Fault{Endpoint: "jobs/update", Status: 404, ErrorCode: "ENDPOINT_NOT_FOUND", Message: "No API found for 'POST /jobs/update'", Count: 1000})
	e.emu.ResetRequests()
	_, err := e.apply(ctx, p, Options{})
	var oe *planner.OwnershipError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "not sent as a reset") {
		t.Fatalf("apply: %v; want an ownership error", err)
	}
	if n := len(requestsTo(e.emu, "POST", "jobs/reset")); n != 0 {
		t.Errorf("%d resets sent to the job that lost its tag", n)
	}
	job, err := e.client.GetJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(job.Settings["timeout_seconds"]) == "600" || planner.OwnerTag(job.Settings) != "" {
		t.Errorf("the job was written: %v", job.Settings)
	}
}
