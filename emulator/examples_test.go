package emulator

import (
	"io"
	"strings"
	"testing"
)

// The documented request/response examples quoted in jobs-api.md, replayed
// against the emulator byte for byte where the reference quotes bytes.

// §6.1/§6.2: the error body for a missing job ([obs] TF PR #2225 with job
// 998654886170278).
func TestExampleMissingJobBody(t *testing.T) {
	e := newEnv(t, Options{FirstJobID: 998654886170278})
	id := e.create(map[string]any{"name": "gone"})
	e.ok("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id})
	resp := e.raw("GET", "/api/2.1/jobs/get?job_id=998654886170278", "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(body) != `{"error_code":"INVALID_PARAMETER_VALUE","message":"Job 998654886170278 does not exist."}` {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// §2 / cli #1122: update with {"job_id": 0}.
func TestExampleJobZero(t *testing.T) {
	e := newEnv(t, Options{})
	if msg := e.fail("POST", "/api/2.2/jobs/update", `{"job_id": 0, "new_settings": {}}`, 400, "INVALID_PARAMETER_VALUE"); msg != "Job 0 does not exist." {
		t.Errorf("%q", msg)
	}
}

// §4.1: the 2.1 spec's jobs/update example, fields_to_remove
// ["libraries", "schedule"].
func TestExampleFieldsToRemove(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(parse(t, `{"name": "x", "schedule": {"quartz_cron_expression": "20 30 * * * ?", "timezone_id": "Europe/London", "pause_status": "PAUSED"}}`))
	e.ok("POST", "/api/2.1/jobs/update", parse(t, `{"job_id": `+itoa(id)+`, "new_settings": {"name": "A multitask job"}, "fields_to_remove": ["libraries", "schedule"]}`))
	st := e.settings(id)
	if st["name"] != "A multitask job" || st["schedule"] != nil {
		t.Errorf("settings %v", st)
	}
}

// §3.2.7: run-now answers run_id and the deprecated number_in_job.
func TestExampleRunNowResponse(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"tasks": []any{nb("a")}})
	resp := e.raw("POST", "/api/2.2/jobs/run-now", `{"job_id": `+itoa(id)+`}`)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"number_in_job":` + itoa(defaultFirstRunID) + `,"run_id":` + itoa(defaultFirstRunID) + `}`; string(body) != want {
		t.Errorf("%s, want %s", body, want)
	}
}

// §2: responses of the write endpoints are {}.
func TestExampleEmptyResponses(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"tasks": []any{nb("a")}})
	run := e.runNow(map[string]any{"job_id": id})
	for _, c := range []struct{ path, body string }{
		{"/api/2.2/jobs/update", `{"job_id": ` + itoa(id) + `, "new_settings": {"name": "n"}}`},
		{"/api/2.2/jobs/reset", `{"job_id": ` + itoa(id) + `, "new_settings": {"name": "n", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p"}}]}}`},
		{"/api/2.2/jobs/runs/cancel", `{"run_id": ` + itoa(run) + `}`},
		{"/api/2.2/jobs/runs/cancel-all", `{"job_id": ` + itoa(id) + `}`},
		{"/api/2.2/jobs/runs/delete", `{"run_id": ` + itoa(run) + `}`},
		{"/api/2.2/jobs/delete", `{"job_id": ` + itoa(id) + `}`},
	} {
		resp := e.raw("POST", c.path, c.body)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "{}" {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, body)
		}
	}
}

// A complete round trip: what a create sends and what jobs/get then shows,
// with every server default of §7 and the service behaviours (tasks sorted
// by task_key, per-task webhook_notifications and disabled) (the shape of the docs' example GET, with
// "max_concurrent_runs": 1, and of the [cloud] plan files).
func TestExampleRoundTrip(t *testing.T) {
	e := newEnv(t, Options{FirstJobID: 11223344556677})
	id := e.create(parse(t, `{
		"name": "A multitask job",
		"tags": {"cost-center": "engineering"},
		"tasks": [
			{"task_key": "Sessionize", "description": "Extracts session data from events",
			 "existing_cluster_id": "0923-164208-meows279",
			 "spark_jar_task": {"main_class_name": "com.databricks.Sessionize", "parameters": ["--data", "dbfs:/path/to/data.json"]},
			 "libraries": [{"jar": "dbfs:/mnt/databricks/Sessionize.jar"}], "max_retries": 3},
			{"task_key": "Orders_Ingest", "job_cluster_key": "auto_scaling_cluster",
			 "notebook_task": {"notebook_path": "/Users/user@example.com/ingest"}},
			{"task_key": "Match", "depends_on": [{"task_key": "Sessionize"}, {"task_key": "Orders_Ingest"}],
			 "new_cluster": {"spark_version": "7.3.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2, "apply_policy_default_values": false},
			 "notebook_task": {"notebook_path": "/Users/user@example.com/Match", "base_parameters": {"name": "John Doe", "age": "35"}}}
		],
		"job_clusters": [{"job_cluster_key": "auto_scaling_cluster",
			"new_cluster": {"spark_version": "7.3.x-scala2.12", "node_type_id": "i3.xlarge", "autoscale": {"min_workers": 2, "max_workers": 16}}}],
		"email_notifications": {"on_failure": ["user.name@databricks.com"]},
		"max_concurrent_runs": 10,
		"schedule": {"quartz_cron_expression": "20 30 * * * ?", "timezone_id": "Europe/London", "pause_status": "PAUSED"}
	}`))
	want := `{"created_time":1772366400000,"creator_user_name":"user@example.com","job_id":11223344556677,"run_as_user_name":"user@example.com","settings":{` +
		`"email_notifications":{"on_failure":["user.name@databricks.com"]},"format":"MULTI_TASK",` +
		`"job_clusters":[{"job_cluster_key":"auto_scaling_cluster","new_cluster":{"autoscale":{"max_workers":16,"min_workers":2},"aws_attributes":{"availability":"SPOT_WITH_FALLBACK","zone_id":"us-east-1c"},"data_security_mode":"SINGLE_USER","enable_elastic_disk":false,"node_type_id":"i3.xlarge","spark_version":"7.3.x-scala2.12"}}],` +
		`"max_concurrent_runs":10,"name":"A multitask job","queue":{"enabled":true},` +
		`"schedule":{"pause_status":"PAUSED","quartz_cron_expression":"20 30 * * * ?","timezone_id":"Europe/London"},` +
		`"tags":{"cost-center":"engineering"},"tasks":[` +
		`{"depends_on":[{"task_key":"Orders_Ingest"},{"task_key":"Sessionize"}],"disabled":false,"email_notifications":{},"new_cluster":{"aws_attributes":{"availability":"SPOT_WITH_FALLBACK","zone_id":"us-east-1c"},"data_security_mode":"SINGLE_USER","enable_elastic_disk":false,"node_type_id":"i3.xlarge","num_workers":2,"spark_version":"7.3.x-scala2.12"},"notebook_task":{"base_parameters":{"age":"35","name":"John Doe"},"notebook_path":"/Users/user@example.com/Match","source":"WORKSPACE"},"run_if":"ALL_SUCCESS","task_key":"Match","timeout_seconds":0,"webhook_notifications":{}},` +
		`{"disabled":false,"email_notifications":{},"job_cluster_key":"auto_scaling_cluster","notebook_task":{"notebook_path":"/Users/user@example.com/ingest","source":"WORKSPACE"},"run_if":"ALL_SUCCESS","task_key":"Orders_Ingest","timeout_seconds":0,"webhook_notifications":{}},` +
		`{"description":"Extracts session data from events","disabled":false,"email_notifications":{},"existing_cluster_id":"0923-164208-meows279","libraries":[{"jar":"dbfs:/mnt/databricks/Sessionize.jar"}],"max_retries":3,"run_if":"ALL_SUCCESS","spark_jar_task":{"main_class_name":"com.databricks.Sessionize","parameters":["--data","dbfs:/path/to/data.json"]},"task_key":"Sessionize","timeout_seconds":0,"webhook_notifications":{}}],` +
		`"timeout_seconds":0,"webhook_notifications":{}}}`
	resp := e.raw("GET", "/api/2.2/jobs/get?job_id="+itoa(id), "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.TrimSpace(string(body)); got != want {
		t.Errorf("jobs/get\n got %s\nwant %s", got, want)
	}
}
