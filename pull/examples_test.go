package pull

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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

// TestPullTheExamples edits every example job in the workspace (a scalar,
// a field of its first task, a new tag), pulls, and checks the invariant
// pull promises on YAML written the way users write it (the repository's
// examples: comments, anchors, variables, a project file with project-wide
// permissions): afterwards the plan shows nothing but what pull said it
// left for a decision, drift finds nothing (when nothing was left), and a
// second pull finds nothing left to write.
func TestPullTheExamples(t *testing.T) {
	dir := t.TempDir()
	copyExamples(t, "../examples/jobs", dir)
	ctx := context.Background()
	// The workspace knows the principals the examples grant to.
	principals, err := emulator.ReadDirectory("../examples/jobs/jobsync.principals.json")
	if err != nil {
		t.Fatal(err)
	}
	_, client := emutest.Start(t, emulator.Options{ReorderReads: true, Directory: principals}, jobsapi.Options{})
	st, err := state.Open(ctx, filepath.Join(t.TempDir(), "jobsync.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	const ws, project = "https://example.cloud.databricks.com", "default"
	st.Init(ws, project)
	load := func(ctx context.Context) ([]*schema.Job, error) {
		cfg, err := schema.Load(ctx, []string{dir})
		if err != nil {
			return nil, err
		}
		return cfg.Jobs, nil
	}
	input := func() planner.Input {
		jobs, err := load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return planner.Input{Desired: jobs, Lock: st.File(), Project: project, Workspace: ws, Now: time.Unix(0, 0)}
	}
	p, _, err := refresh.Plan(ctx, client, input(), refresh.Options{Strategy: refresh.List})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applier.Apply(ctx, p, client, st, applier.Options{}); err != nil {
		t.Fatal(err)
	}

	// Someone edits every job in the UI.
	keys := st.File().Keys()
	for _, key := range keys {
		id := st.File().Jobs[key].JobID
		job, err := client.GetJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		s := job.Settings
		upd := map[string]any{}
		mcr, _ := strconv.Atoi(string(jsonNumber(s["max_concurrent_runs"])))
		upd["max_concurrent_runs"] = mcr + 2
		tags, _ := s["tags"].(map[string]any)
		nt := map[string]any{"pulled_by": "test"}
		for k, v := range tags {
			nt[k] = v
		}
		upd["tags"] = nt
		if tasks, _ := s["tasks"].([]any); len(tasks) > 0 {
			sort.Slice(tasks, func(i, j int) bool {
				return tasks[i].(map[string]any)["task_key"].(string) < tasks[j].(map[string]any)["task_key"].(string)
			})
			first := tasks[0].(map[string]any)
			first["timeout_seconds"] = 4321
			upd["tasks"] = []any{first}
		}
		body, _ := json.Marshal(map[string]any{"job_id": id, "new_settings": upd})
		if err := client.UpdateJob(ctx, body); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}

	rep, err := Plan(ctx, client, input(), Options{Strategy: refresh.List})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written() < 2*len(keys) {
		t.Errorf("only %d changes pulled for %d jobs edited three ways", rep.Written(), len(keys))
	}
	left := map[string]bool{}
	for _, j := range rep.Jobs {
		for _, l := range j.Left {
			left[j.Key+" "+l.Path] = true
		}
	}
	if err := rep.Write(ctx, load, client, st); err != nil {
		t.Fatal(err)
	}

	after, _, err := refresh.Plan(ctx, client, input(), refresh.Options{Strategy: refresh.List})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range after.Actions {
		for _, c := range a.Changes {
			if !left[a.Key+" "+c.Path] {
				t.Errorf("after pull, %s %s still changes (%v → %v), and pull did not say it left it", a.Key, c.Path, c.Before, c.After)
			}
		}
	}
	if len(left) == 0 {
		d, err := refresh.Drift(ctx, client, planner.Input{Lock: st.File(), Project: project, Workspace: ws, Now: time.Unix(0, 0)}, "jobsync.lock.json", refresh.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Found() {
			t.Errorf("after pull, drift still finds changes: the lockfile did not record the pulled values")
		}
	}
	again, err := Plan(ctx, client, input(), Options{Strategy: refresh.List})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() {
		t.Errorf("a second pull still edits:\n%s", again.Diff())
	}
}

func jsonNumber(v any) json.Number {
	switch x := v.(type) {
	case json.Number:
		return x
	case float64:
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	}
	return "1"
}

func copyExamples(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yml") || strings.HasSuffix(e.Name(), ".yaml")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
