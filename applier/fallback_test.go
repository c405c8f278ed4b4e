package applier

import (
	"context"
	"encoding/json"
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
