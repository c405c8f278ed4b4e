package planner_test

import (
	"testing"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

// pullOne plans a pull of one job whose last apply was applied and whose
// workspace copy is now live.
func pullOne(t *testing.T, yaml, applied, live string) planner.PulledJob {
	t.Helper()
	lock := &state.File{Lineage: "l", Jobs: map[string]state.Job{"etl": {JobID: 5, Applied: lockApplied(t, planner.Normalize(liveOf(t, 5, "etl", applied).Settings))}}}
	p, err := planner.Pull(planner.Input{Desired: loadYAML(t, "jobs.yaml", []byte(yaml)), Live: []planner.Live{liveOf(t, 5, "etl", live)},
		Lock: lock, Project: "acme"}, planner.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Jobs) != 1 {
		t.Fatalf("want one job, got %+v", p.Jobs)
	}
	return p.Jobs[0]
}

func TestPullKeepsTheOrderOfASet(t *testing.T) {
	yaml := "jobs:\n  etl:\n    name: etl\n    email_notifications: {on_failure: [zed@x.com, amy@x.com]}\n"
	j := pullOne(t, yaml, `{"name":"etl","email_notifications":{"on_failure":["zed@x.com","amy@x.com"]}}`,
		`{"name":"etl","email_notifications":{"on_failure":["amy@x.com","bob@x.com","zed@x.com"]}}`)
	if len(j.Edits) != 1 {
		t.Fatalf("want one edit, got %+v", j.Edits)
	}
	got, _ := j.Edits[0].Value.([]any)
	if len(got) != 3 || got[0] != "zed@x.com" || got[1] != "amy@x.com" || got[2] != "bob@x.com" {
		t.Errorf("the YAML's order stays and the new address comes last: %v", got)
	}
}

func TestPullReferencesAndOwnerTag(t *testing.T) {
	yaml := "jobs:\n  etl:\n    name: etl\n"
	other := liveOf(t, 9, "report", `{"name":"report"}`)
	lock := &state.File{Lineage: "l", Jobs: map[string]state.Job{
		"etl":    {JobID: 5, Applied: lockApplied(t, planner.Normalize(liveOf(t, 5, "etl", `{"name":"etl"}`).Settings))},
		"report": {JobID: 9, Applied: lockApplied(t, planner.Normalize(other.Settings))},
	}}
	live := liveOf(t, 5, "etl", `{"name":"etl","tags":{"team":"x"},"tasks":[{"task_key":"go","run_job_task":{"job_id":9}}]}`)
	desired := loadYAML(t, "jobs.yaml", []byte(yaml+"  report:\n    name: report\n"))
	p, err := planner.Pull(planner.Input{Desired: desired, Live: []planner.Live{live, other}, Lock: lock, Project: "acme"}, planner.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Jobs) != 1 || p.Jobs[0].Key != "etl" {
		t.Fatalf("want etl only: %+v", p.Jobs)
	}
	for _, e := range p.Jobs[0].Edits {
		switch e.Path {
		case "tags.team":
			// The YAML's tags always stand for more than it writes (the
			// ownership tag is added), so a new tag is a field of its own.
			if e.Value != "x" || e.Kind != planner.KindAdd {
				t.Errorf("tags.team: %+v", e)
			}
		case `tasks[task_key="go"]`:
			rj := e.Value.(map[string]any)["run_job_task"].(map[string]any)
			if rj["job_id"] != "${jobs.report.id}" {
				t.Errorf("a managed job's id is written as its reference: %v", rj)
			}
		default:
			t.Errorf("unexpected edit %s", e.Path)
		}
	}
	// The record to write afterwards has the workspace's values, ids as ids.
	rec, ok := p.Jobs[0].Record([]int{0, 1})
	if !ok {
		t.Fatal("no record")
	}
	tasks := rec.Applied["tasks"].([]any)
	if id := tasks[0].(map[string]any)["run_job_task"].(map[string]any)["job_id"]; id == "${jobs.report.id}" {
		t.Errorf("the lockfile records the id, not the reference: %v", id)
	}
}
