package planner

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestResetFromUpdate(t *testing.T) {
	current := decodeJSON(t, `{
		"name": "etl", "timeout_seconds": 60, "max_concurrent_runs": 1,
		"tags": {"team": "data", "jobsync": "x"},
		"email_notifications": {"on_failure": ["a@example.com"]},
		"tasks": [
			{"task_key": "extract", "notebook_task": {"notebook_path": "/e"}},
			{"task_key": "load", "depends_on": [{"task_key": "extract"}], "notebook_task": {"notebook_path": "/l"}},
			{"task_key": "old", "notebook_task": {"notebook_path": "/o"}}
		],
		"job_clusters": [{"job_cluster_key": "c", "new_cluster": {"num_workers": 1}}]
	}`)
	before := mustJSON(t, current)
	update := json.RawMessage(`{"job_id": 9081234567890123,
		"new_settings": {
			"tags": {"team": "platform"},
			"tasks": [
				{"task_key": "load", "notebook_task": {"notebook_path": "/l2"}},
				{"task_key": "report", "depends_on": [{"task_key": "load"}], "notebook_task": {"notebook_path": "/r"}}
			]
		},
		"fields_to_remove": ["email_notifications", "tasks/old", "libraries"]}`)
	got, err := ResetFromUpdate(current, update)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"job_id":9081234567890123,"new_settings":{` +
		`"job_clusters":[{"job_cluster_key":"c","new_cluster":{"num_workers":1}}],` +
		`"max_concurrent_runs":1,"name":"etl",` +
		`"tags":{"team":"platform"},` +
		`"tasks":[{"notebook_task":{"notebook_path":"/e"},"task_key":"extract"},` +
		`{"notebook_task":{"notebook_path":"/l2"},"task_key":"load"},` +
		`{"depends_on":[{"task_key":"load"}],"notebook_task":{"notebook_path":"/r"},"task_key":"report"}],` +
		`"timeout_seconds":60}}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if mustJSON(t, current) != before {
		t.Error("ResetFromUpdate modified the current settings")
	}
	for body, msg := range map[string]string{
		`{"job_id": 1, "fields_to_remove": ["tasks/missing"]}`:           "has no such element",
		`{"job_id": 1, "fields_to_remove": ["tasks/extract/libraries"]}`: "only top-level fields",
		`{"job_id": 1, "fields_to_remove": ["parameters/x"]}`:            "only top-level fields",
		`{"new_settings": {}}`: "no job_id",
		`not json`:             "not valid JSON",
	} {
		if _, err := ResetFromUpdate(current, json.RawMessage(body)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
