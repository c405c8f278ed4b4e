package planner_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/jobsync/jobsync/schema"
)

// The golden configurations are valid jobsync YAML, and the test loader
// reads them as schema.Load does: same settings, same positions. So the
// goldens' `(file:line)` columns are what `jobsync plan` prints.
func TestGoldenConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(file), func(t *testing.T) { checkLoads(t, file, ar) })
	}
}

func checkLoads(t *testing.T, file string, ar *txtar.Archive) {
	for _, f := range ar.Files {
		if f.Name != "desired.yaml" {
			continue
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "desired.yaml"), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		cfg, err := schema.Load(context.Background(), []string{"desired.yaml"})
		if err != nil {
			t.Errorf("%s: schema.Load: %v", file, err)
			continue
		}
		mine := loadYAML(t, "desired.yaml", f.Data)
		if len(mine) != len(cfg.Jobs) {
			t.Errorf("%s: %d jobs, schema.Load has %d", file, len(mine), len(cfg.Jobs))
			continue
		}
		for i, j := range cfg.Jobs {
			m := mine[i]
			a, _ := json.Marshal(j.Settings)
			b, _ := json.Marshal(m.Settings)
			if j.Key != m.Key || string(a) != string(b) {
				t.Errorf("%s: job %s differs from schema.Load:\n%s\n%s", file, j.Key, b, a)
			}
			walkPointers(m.Settings, "", func(ptr string) {
				if got, want := m.PosOf(ptr), j.PosOf(ptr); got != want {
					t.Errorf("%s: %s%s at %s, schema.Load says %s", file, j.Key, ptr, got, want)
				}
			})
			if j.Pos != m.Pos || len(j.Permissions) != len(m.Permissions) || j.PermissionsMode != m.PermissionsMode || j.Lifecycle.PreventDestroy != m.Lifecycle.PreventDestroy ||
				len(j.Lifecycle.IgnoreChanges) != len(m.Lifecycle.IgnoreChanges) {
				t.Errorf("%s: job %s: position, permissions or lifecycle differ from schema.Load", file, j.Key)
			}
		}
	}
}

func walkPointers(v any, ptr string, fn func(string)) {
	fn(ptr)
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walkPointers(e, ptr+"/"+escapePtr(k), fn)
		}
	case []any:
		for i, e := range x {
			walkPointers(e, ptr+"/"+itoa(i), fn)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
