package planner_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

const renamedYAML = `jobs:
  etl2:
    name: etl
    tasks: [{task_key: t, notebook_task: {notebook_path: /a}}]
    lifecycle: {moved_from: etl}
`

const etlLive = `{"name":"etl","tasks":[{"task_key":"t","notebook_task":{"notebook_path":"/a"}}]}`

func TestRenameJob(t *testing.T) {
	lock := &state.File{Lineage: "l", Jobs: map[string]state.Job{"etl": {JobID: 5}}}
	for _, tc := range []struct {
		name string
		lock *state.File
	}{
		{"recorded in the lockfile", lock},
		{"no lockfile: found by the old key's tag", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := build(t, renamedYAML, []planner.Live{liveOf(t, 5, "etl", etlLive)}, tc.lock)
			if err != nil {
				t.Fatal(err)
			}
			a := one(t, p)
			if a.Op != planner.OpUpdate || a.Key != "etl2" || a.MovedFrom != "etl" || a.JobID != 5 {
				t.Fatalf("want an update renaming etl to etl2 on job 5, got %s", fmtActions(p))
			}
			if len(p.Skipped) > 0 || len(p.Records) > 0 {
				t.Errorf("a rename deletes nothing and records nothing before it is applied: %s", fmtActions(p))
			}
			body := decodeBody(t, a.Request)
			tags := body["new_settings"].(map[string]any)["tags"].(map[string]any)
			if tags["jobsync"] != "acme/etl2" {
				t.Errorf("the update moves the ownership tag to the new key: %s", a.Request)
			}
		})
	}
}

func TestRenameJobEdges(t *testing.T) {
	// Renamed, but the old key's entry survived (an apply stopped between
	// recording the new key and forgetting the old): forgotten, no write.
	both := &state.File{Lineage: "l", Jobs: map[string]state.Job{"etl": {JobID: 5}, "etl2": {JobID: 5}}}
	done := liveOf(t, 5, "etl2", etlLive)
	p, err := build(t, renamedYAML, []planner.Live{done}, both)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 0 || len(p.Records) < 1 || !hasForget(p, "etl") {
		t.Errorf("a stale old entry is forgotten: %s", fmtActions(p))
	}
	// The update landed and nothing was recorded: the job is found by its
	// new tag, and the old entry forgotten.
	old := &state.File{Lineage: "l", Jobs: map[string]state.Job{"etl": {JobID: 5}}}
	p, err = build(t, renamedYAML, []planner.Live{done}, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 0 || !hasForget(p, "etl") {
		t.Errorf("renamed, lockfile not updated: %s", fmtActions(p))
	}
	// The old job is gone: the new key's job is created, the old entry
	// forgotten.
	p, err = build(t, renamedYAML, nil, old)
	if err != nil {
		t.Fatal(err)
	}
	if a := one(t, p); a.Op != planner.OpCreate || a.MovedFrom != "" || !hasForget(p, "etl") {
		t.Errorf("old job gone: %s", fmtActions(p))
	}
	// Both keys have a job: refused, naming both.
	two := []planner.Live{liveOf(t, 5, "etl", etlLive), liveOf(t, 6, "etl2", etlLive)}
	if _, err := build(t, renamedYAML, two, old); err == nil || !strings.Contains(err.Error(), "both keys have a job") {
		t.Errorf("two jobs for one rename: %v", err)
	}
	// The old key's lockfile entry names a job that is not the old key's:
	// the rename is no licence to write to it.
	foreign := liveOf(t, 5, "other", etlLive)
	var oe *planner.OwnershipError
	if _, err := build(t, renamedYAML, []planner.Live{foreign}, old); !errors.As(err, &oe) || oe.Key != "etl" || oe.JobID != 5 {
		t.Errorf("a foreign job under the old key: %v", err)
	}
	if err := planner.CheckRenameOwner("acme", "etl2", "etl", 5, liveOf(t, 5, "etl", etlLive).Settings); err != nil {
		t.Errorf("a rename may write to the old key's job: %v", err)
	}
	if err := planner.CheckRenameOwner("acme", "etl2", "", 5, liveOf(t, 5, "etl", etlLive).Settings); err == nil {
		t.Errorf("without moved_from, the old key's tag is another key's")
	}
}

func hasForget(p *planner.Plan, key string) bool {
	for _, r := range p.Records {
		if r.Key == key && r.Forget {
			return true
		}
	}
	return false
}

func TestRenameTask(t *testing.T) {
	yaml := `jobs:
  etl:
    name: etl
    tasks:
      - {task_key: ingest_raw, notebook_task: {notebook_path: /a}}
      - {task_key: report, depends_on: [{task_key: ingest_raw}], notebook_task: {notebook_path: /r}}
      - {task_key: other, notebook_task: {notebook_path: /o}}
    lifecycle: {moved_tasks: {ingest: ingest_raw}}
`
	live := liveOf(t, 5, "etl", `{"name":"etl","tasks":[
		{"task_key":"ingest","notebook_task":{"notebook_path":"/a"}},
		{"task_key":"report","depends_on":[{"task_key":"ingest"}],"notebook_task":{"notebook_path":"/r"}},
		{"task_key":"other","notebook_task":{"notebook_path":"/o"}}]}`)
	p, err := build(t, yaml, []planner.Live{live}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := one(t, p)
	if a.Op != planner.OpUpdate {
		t.Fatalf("a task rename is an update: %s", fmtActions(p))
	}
	var rename *planner.Change
	for i, c := range a.Changes {
		if c.Kind == planner.KindRename {
			rename = &a.Changes[i]
		}
		if strings.HasPrefix(c.Path, `tasks[task_key="ingest"]`) || c.Path == `tasks[task_key="ingest_raw"]` && c.Kind != planner.KindRename {
			t.Errorf("the renamed task is compared under its new key, not removed and added: %+v", c)
		}
	}
	if rename == nil || rename.Before != "ingest" || rename.After != "ingest_raw" {
		t.Fatalf("no rename change: %+v", a.Changes)
	}
	body := decodeBody(t, a.Request)
	rm, _ := body["fields_to_remove"].([]any)
	if len(rm) != 1 || rm[0] != "tasks/ingest" {
		t.Errorf("the old task key goes in the same request: fields_to_remove %v", rm)
	}
	var sent []string
	for _, tk := range body["new_settings"].(map[string]any)["tasks"].([]any) {
		sent = append(sent, tk.(map[string]any)["task_key"].(string))
	}
	if strings.Join(sent, ",") != "ingest_raw,report" {
		t.Errorf("the new task and the task whose depends_on follows it are sent, nothing else: %v", sent)
	}
	// Once renamed in the workspace, moved_tasks changes nothing.
	renamed := liveOf(t, 5, "etl", `{"name":"etl","tasks":[
		{"task_key":"ingest_raw","notebook_task":{"notebook_path":"/a"}},
		{"task_key":"report","depends_on":[{"task_key":"ingest_raw"}],"notebook_task":{"notebook_path":"/r"}},
		{"task_key":"other","notebook_task":{"notebook_path":"/o"}}]}`)
	p, err = build(t, yaml, []planner.Live{renamed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 0 {
		t.Errorf("renamed already: %s", fmtActions(p))
	}
}
