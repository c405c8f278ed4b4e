package pull

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
	"github.com/jobsync/jobsync/yamledit"
)

// TestWriteIsAllOrNothing: when the check after writing finds a pulled
// change still planned, or the YAML no longer loads, every file gets its
// old text back (and nothing is recorded: the store is nil, so recording
// would fail the test).
func TestWriteIsAllOrNothing(t *testing.T) {
	for _, c := range []struct {
		value any
		err   string
	}{
		{json.Number("2"), "still shows etl max_concurrent_runs"},
		{"2", "the pulled YAML does not load"},
	} {
		writeAllOrNothing(t, c.value, c.err)
	}
}

func writeAllOrNothing(t *testing.T, value any, wantErr string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jobs.yaml")
	old := "jobs:\n  etl:\n    name: etl   # keep me\n    max_concurrent_runs: 1\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	// The workspace says 3; a wrong edit writes 2.
	res, err := yamledit.Apply(path, []byte(old), []yamledit.Edit{{Job: "etl", Path: []yamledit.Step{{Field: "max_concurrent_runs"}}, Value: value}})
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("setup: %v %+v", err, res)
	}
	live := map[string]any{"name": "etl", "max_concurrent_runs": 3, "tags": map[string]any{planner.OwnerTagKey: "p/etl"}}
	applied, _ := state.EncodeApplied(map[string]any{"name": "etl", "tags": map[string]any{planner.OwnerTagKey: "p/etl"}})
	lock := &state.File{Lineage: "l", Project: "p", Jobs: map[string]state.Job{"etl": {JobID: 5, Applied: applied}}}
	r := &Report{Project: "p", Files: []*yamledit.Result{res},
		Jobs:   []Job{{Key: "etl", JobID: 5, File: path, Written: []planner.PullEdit{{Path: "max_concurrent_runs"}}, done: []int{0}}},
		in:     planner.Input{Project: "p", Lock: lock, Live: []planner.Live{{JobID: 5, Settings: live}}},
		pulled: map[string]*planner.PulledJob{"etl": {Key: "etl", JobID: 5}},
	}
	reload := func(ctx context.Context) ([]*schema.Job, error) {
		cfg, err := schema.LoadWith(ctx, []string{dir}, schema.Options{})
		if err != nil {
			return nil, err
		}
		return cfg.Jobs, nil
	}
	err = r.Write(context.Background(), reload, nil, nil)
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("want %q, got %v", wantErr, err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != old {
		t.Errorf("the file must be as it was:\n%s", got)
	}
}

func TestRelated(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"tags.team", "tags.team", true},
		{"tags", "tags.team", true},
		{`tasks[task_key="a"].x`, `tasks[task_key="a"]`, true},
		{"tags.teams", "tags.team", false},
		{"timeout_seconds", "tags", false},
	} {
		if got := related(c.a, c.b); got != c.want {
			t.Errorf("related(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
