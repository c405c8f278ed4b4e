package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// referencePath is the API reference the schema is generated from; it sits
// beside the repository (CI checks out shared/ there).
const referencePath = "../../shared/reference/jobs-api-schema.md"

// TestSchemaIsGenerated checks that the committed schema is exactly what
// the generator makes from the reference, so that nobody edits it by hand
// and a change of the reference is not forgotten.
func TestSchemaIsGenerated(t *testing.T) {
	if _, err := os.Stat(referencePath); err != nil {
		t.Skipf("reference not available: %v", err)
	}
	out := filepath.Join(t.TempDir(), "schema.json")
	projectOut := filepath.Join(t.TempDir(), "project.schema.json")
	cmd := exec.Command("go", "run", "./internal/schemagen", "-ref", referencePath, "-out", out, "-project-out", projectOut)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("schemagen: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, JSONSchema()) {
		t.Errorf("jobs.schema.json is not what schemagen produces; run go generate ./schema and commit the result")
	}
	got, err = os.ReadFile(projectOut)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, ProjectJSONSchema()) {
		t.Errorf("project.schema.json is not what schemagen produces; run go generate ./schema and commit the result")
	}
}

func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(JSONSchema(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func defProps(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	d, ok := doc["definitions"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("no definition %s", name)
	}
	p, _ := d["properties"].(map[string]any)
	return p
}

// TestSchemaCoverage pins what the schema must contain: every JobSettings
// field (the API's, from jobs-api.md §8.2) plus jobsync's own, every task
// type the semantic checks know, and additionalProperties: false on every
// object that is not a free map.
func TestSchemaCoverage(t *testing.T) {
	doc := schemaDoc(t)
	job := defProps(t, doc, "job")
	var got []string
	for k := range job {
		got = append(got, k)
	}
	sort.Strings(got)
	want := []string{"budget_policy_id", "continuous", "deployment", "description", "edit_mode", "email_notifications",
		"environments", "format", "git_source", "health", "job_clusters", "lifecycle", "max_concurrent_runs", "name",
		"notification_settings", "parameters", "parent_path", "performance_target", "permissions", "queue", "run_as",
		"schedule", "tags", "tasks", "timeout_seconds", "trigger", "triggers", "usage_policy_id", "webhook_notifications"}
	if !equalStrings(got, want) {
		t.Errorf("job fields:\n got %v\nwant %v", got, want)
	}
	task := defProps(t, doc, "Task")
	for _, tt := range taskTypes {
		if _, ok := task[tt]; !ok {
			t.Errorf("task type %s missing from the Task definition", tt)
		}
	}
	// Every *_task field of Task is a task type the semantic check knows.
	for f := range task {
		if len(f) > 5 && f[len(f)-5:] == "_task" && !contains(taskTypes, f) {
			t.Errorf("Task.%s is not in taskTypes", f)
		}
	}
	var walk func(path string, s any)
	walk = func(path string, s any) {
		switch x := s.(type) {
		case map[string]any:
			if x["type"] == "object" {
				if _, ok := x["additionalProperties"]; !ok {
					t.Errorf("%s: object without additionalProperties", path)
				}
			}
			for k, v := range x {
				walk(path+"/"+k, v)
			}
		case []any:
			for _, v := range x {
				walk(path+"/[]", v)
			}
		}
	}
	walk("#", doc)
}

func TestJSONSchemaIsACopy(t *testing.T) {
	a := JSONSchema()
	a[0] = 'X'
	if JSONSchema()[0] == 'X' {
		t.Error("JSONSchema returns the embedded bytes themselves")
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
