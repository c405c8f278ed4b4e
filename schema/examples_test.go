package schema

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const examplesDir = "../examples/jobs"

// TestExamplesAreValid loads every example file: together they must be a
// valid configuration (they refer to each other), cover the common shapes,
// and one must have more than 100 tasks.
func TestExamplesAreValid(t *testing.T) {
	cfg, err := Load(context.Background(), []string{examplesDir})
	if err != nil {
		t.Fatalf("examples do not validate:\n%v", diagLines(err))
	}
	if len(cfg.Files) < 6 {
		t.Errorf("want at least 6 example files, have %d", len(cfg.Files))
	}
	entries, _ := os.ReadDir(examplesDir)
	yamlFiles := 0
	for _, e := range entries {
		if (strings.HasSuffix(e.Name(), ".yml") || strings.HasSuffix(e.Name(), ".yaml")) && !IsProjectFileName(e.Name()) {
			yamlFiles++
		}
	}
	if yamlFiles != len(cfg.Files) {
		t.Errorf("read %d files of %d", len(cfg.Files), yamlFiles)
	}
	seen := map[string]bool{}
	big := false
	for _, j := range cfg.Jobs {
		tasks, _ := j.Settings["tasks"].([]any)
		if len(tasks) > 100 {
			big = true
		}
		for _, r := range j.References() {
			seen["reference"] = true
			if cfg.Job(r) == nil {
				t.Errorf("%s refers to unknown job %s", j.Key, r)
			}
		}
		for _, f := range []string{"schedule", "trigger", "continuous", "environments", "parameters", "job_clusters", "git_source", "webhook_notifications", "email_notifications"} {
			if _, ok := j.Settings[f]; ok {
				seen[f] = true
			}
		}
		if j.Permissions != nil {
			seen["permissions"] = true
			for _, p := range j.Permissions {
				if p.PermissionLevel == "IS_OWNER" {
					t.Errorf("%s: examples grant no IS_OWNER (the owner is whoever applies)", j.Key)
				}
			}
		}
		walkStrings(j.Settings, "", func(ptr, s string) {
			if strings.HasSuffix(ptr, "file_arrival/url") {
				seen["file_arrival"] = true
			}
		})
		for _, tk := range tasks {
			m, _ := tk.(map[string]any)
			for _, tt := range taskTypes {
				if _, ok := m[tt]; ok {
					seen[tt] = true
				}
			}
			if _, ok := m["environment_key"]; ok {
				seen["environment_key"] = true
			}
		}
	}
	if !big {
		t.Error("no example job has more than 100 tasks")
	}
	for _, f := range []string{"schedule", "trigger", "continuous", "environments", "environment_key", "parameters", "job_clusters",
		"git_source", "webhook_notifications", "email_notifications", "permissions", "reference", "file_arrival",
		"notebook_task", "python_wheel_task", "sql_task", "dbt_task", "for_each_task", "run_job_task", "condition_task"} {
		if !seen[f] {
			t.Errorf("no example uses %s", f)
		}
	}
	hint := false
	for _, f := range cfg.Files {
		b, _ := os.ReadFile(filepath.FromSlash(f))
		if strings.Contains(string(b), "# yaml-language-server: $schema=") {
			hint = true
		}
	}
	if !hint {
		t.Error("no example carries the yaml-language-server schema hint")
	}
}

func diagLines(err error) string {
	if ds, ok := err.(Diagnostics); ok {
		var b strings.Builder
		for _, d := range ds {
			b.WriteString(d.Error() + "\n")
		}
		return b.String()
	}
	return err.Error()
}

// TestLoadConcurrently loads from several goroutines at once: the compiled
// schema is shared between Loads (run with -race to check that it is only
// read).
func TestLoadConcurrently(t *testing.T) {
	want, err := Load(context.Background(), []string{examplesDir})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			cfg, err := Load(context.Background(), []string{examplesDir})
			if err == nil && len(cfg.Jobs) != len(want.Jobs) {
				err = fmt.Errorf("loaded %d jobs, want %d", len(cfg.Jobs), len(want.Jobs))
			}
			if err == nil {
				_, err = Load(context.Background(), []string{"testdata/concurrent_bad.yml"})
				if _, ok := err.(Diagnostics); ok {
					err = nil
				} else {
					err = fmt.Errorf("bad file: want Diagnostics, got %v", err)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
