package emulator

import (
	"strings"
	"testing"
)

func TestUpdateMerge(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(parse(t, `{
		"name": "n", "description": "d", "timeout_seconds": 60,
		"schedule": {"quartz_cron_expression": "0 0 1 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"},
		"tags": {"a": "1", "b": "2"},
		"job_clusters": [{"job_cluster_key": "c1", "new_cluster": {"num_workers": 1}}, {"job_cluster_key": "c2", "new_cluster": {"num_workers": 2}}],
		"parameters": [{"name": "p1", "default": "x"}, {"name": "p2", "default": "y"}],
		"tasks": [
			{"task_key": "a", "job_cluster_key": "c1", "notebook_task": {"notebook_path": "a"}, "max_retries": 3},
			{"task_key": "b", "depends_on": [{"task_key": "a"}], "job_cluster_key": "c2", "notebook_task": {"notebook_path": "b"}}
		]}`))
	e.ok("POST", "/api/2.2/jobs/update", parse(t, `{"job_id": `+itoa(id)+`, "new_settings": {
		"name": "n2",
		"tags": {"c": "3"},
		"schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC"},
		"tasks": [{"task_key": "a", "job_cluster_key": "c1", "spark_python_task": {"python_file": "a.py"}}, {"task_key": "n", "notebook_task": {"notebook_path": "new"}}],
		"job_clusters": [{"job_cluster_key": "c2", "new_cluster": {"num_workers": 5}}],
		"parameters": [{"name": "p2", "default": "z"}, {"name": "p3", "default": ""}]
	}, "fields_to_remove": ["description", "timeout_seconds"]}`))
	st := e.settings(id)
	checks := map[string]string{
		"name":            `"n2"`,
		"tags":            `{"c":"3"}`,                                                    // replaced wholesale
		"schedule":        `{"quartz_cron_expression":"0 0 2 * * ?","timezone_id":"UTC"}`, // no deep merge
		"timeout_seconds": `0`,                                                            // removed, back to the default
		"parameters":      `[{"default":"x","name":"p1"},{"default":"z","name":"p2"},{"default":"","name":"p3"}]`,
	}
	for k, want := range checks {
		if got := jsonOf(t, st[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	if _, ok := st["description"]; ok {
		t.Error("description not removed")
	}
	if got := strings.Join(taskKeys(t, st), ","); got != "a,b,n" {
		t.Errorf("tasks %s", got)
	}
	a := st["tasks"].([]any)[0].(map[string]any)
	if a["notebook_task"] != nil || a["spark_python_task"] == nil || a["max_retries"] != nil {
		t.Errorf("task a not replaced wholesale: %v", a)
	}
	if got := jsonOf(t, st["job_clusters"].([]any)[1].(map[string]any)["new_cluster"].(map[string]any)["num_workers"]); got != "5" {
		t.Errorf("job cluster c2 num_workers %s", got)
	}
}

func TestUpdateFieldsToRemove(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{
		"job_clusters": []any{map[string]any{"job_cluster_key": "c", "new_cluster": map[string]any{}}},
		"tasks":        []any{nb("a"), nb("b", "a"), nb("c")},
	})
	upd := func(remove ...string) map[string]any {
		return map[string]any{"job_id": id, "fields_to_remove": remove}
	}
	e.ok("POST", "/api/2.2/jobs/update", upd("tasks/c", "job_clusters/c"))
	if got := strings.Join(taskKeys(t, e.settings(id)), ","); got != "a,b" {
		t.Errorf("tasks %s", got)
	}
	// The merged result is validated: b depends on a.
	msg := e.fail("POST", "/api/2.2/jobs/update", upd("tasks/a"), 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(msg, "depends on a") {
		t.Errorf("message %q", msg)
	}
	for _, bad := range []string{"tasks/zzz", "schedule/pause_status", "tasks/a/libraries", "", "job_clusters/"} {
		e.fail("POST", "/api/2.2/jobs/update", upd(bad), 400, "INVALID_PARAMETER_VALUE")
	}
	// A failed update changes nothing.
	if got := strings.Join(taskKeys(t, e.settings(id)), ","); got != "a,b" {
		t.Errorf("tasks after failed updates: %s", got)
	}
	e.ok("POST", "/api/2.2/jobs/update", upd("tasks"))
	if _, ok := e.settings(id)["tasks"]; ok {
		t.Error("tasks not removed")
	}
}

func TestUpdateValidation(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"tasks": []any{nb("a")}})
	// A schedule must be complete: new_settings replaces it wholesale
	// (databricks-cli#606).
	msg := e.fail("POST", "/api/2.2/jobs/update", parse(t, `{"job_id": `+itoa(id)+`, "new_settings": {"schedule": {"pause_status": "PAUSED"}}}`), 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(msg, "quartz_cron_expression") {
		t.Errorf("message %q", msg)
	}
	e.fail("POST", "/api/2.2/jobs/update", map[string]any{"job_id": id, "new_settings": map[string]any{"tasks": []any{nb("x"), nb("x")}}}, 400, "INVALID_PARAMETER_VALUE")
	// Update keeps queue and run_as when absent, and does not default queue.
	id = asInt(t, e.ok("POST", "/api/2.1/jobs/create", map[string]any{"run_as": map[string]any{"user_name": "u@x"}})["job_id"])
	e.ok("POST", "/api/2.2/jobs/update", map[string]any{"job_id": id, "new_settings": map[string]any{"name": "x"}})
	st := e.settings(id)
	if _, ok := st["queue"]; ok {
		t.Error("update added queue")
	}
	if jsonOf(t, st["run_as"]) != `{"user_name":"u@x"}` {
		t.Errorf("run_as %v", st["run_as"])
	}
	// No-op update.
	e.ok("POST", "/api/2.2/jobs/update", map[string]any{"job_id": id})
}

func TestResetQuirks(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(parse(t, `{"name": "a", "description": "d", "run_as": {"service_principal_name": "sp-1"}, "queue": {"enabled": false}, "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "p"}}]}`))
	if got := e.get(id)["run_as_user_name"]; got != "sp-1" {
		t.Errorf("run_as_user_name %v", got)
	}
	e.ok("POST", "/api/2.2/jobs/reset", parse(t, `{"job_id": `+itoa(id)+`, "new_settings": {"name": "b", "format": "SINGLE_TASK"}}`))
	st := e.settings(id)
	if st["name"] != "b" || st["description"] != nil || st["tasks"] != nil {
		t.Errorf("reset did not replace everything: %v", st)
	}
	// run_as sticks ([cloud] run_as/job_default); queue is turned on (2.2).
	if jsonOf(t, st["run_as"]) != `{"service_principal_name":"sp-1"}` {
		t.Errorf("run_as %v", st["run_as"])
	}
	if jsonOf(t, st["queue"]) != `{"enabled":true}` {
		t.Errorf("queue %v", st["queue"])
	}
	if st["format"] != "MULTI_TASK" {
		t.Errorf("format %v", st["format"])
	}
	// Explicit run_as replaces; 2.1 reset leaves queue unset.
	e.ok("POST", "/api/2.1/jobs/reset", parse(t, `{"job_id": `+itoa(id)+`, "new_settings": {"run_as": {"user_name": "`+defaultUser+`"}}}`))
	st = e.settings(id)
	if _, ok := st["queue"]; ok {
		t.Error("2.1 reset set queue")
	}
	if jsonOf(t, st["run_as"]) != `{"user_name":"`+defaultUser+`"}` {
		t.Errorf("run_as %v", st["run_as"])
	}
	e.fail("POST", "/api/2.2/jobs/reset", map[string]any{"job_id": id}, 400, "INVALID_PARAMETER_VALUE")
	// created_time and creator survive a reset.
	if asInt(t, e.get(id)["created_time"]) != newClock().Now().UnixMilli() {
		t.Error("created_time changed")
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t, Options{})
	tags := map[string]any{}
	for i := range 26 {
		tags[string(rune('a'+i))] = "v"
	}
	many := make([]any, 1001)
	for i := range many {
		many[i] = nb("t" + itoa(int64(i)))
	}
	cases := []struct {
		name string
		body any
		want string
	}{
		{"duplicate task key", map[string]any{"tasks": []any{nb("a"), nb("a")}}, `Duplicate task_key "a"`},
		{"unknown dependency", map[string]any{"tasks": []any{nb("a", "zz")}}, "depends on zz"},
		{"self dependency", map[string]any{"tasks": []any{nb("a", "a")}}, "cannot depend on itself"},
		{"cycle", map[string]any{"tasks": []any{nb("a", "b"), nb("b", "a")}}, "cycle: a -> b -> a"},
		{"no task type", parse(t, `{"tasks": [{"task_key": "a"}]}`), "exactly one task type"},
		{"two task types", parse(t, `{"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p"}, "spark_python_task": {"python_file": "f"}}]}`), "exactly one task type"},
		{"missing job cluster", parse(t, `{"tasks": [{"task_key": "a", "job_cluster_key": "c", "notebook_task": {"notebook_path": "p"}}]}`), "job_cluster_key c"},
		{"duplicate job cluster", parse(t, `{"job_clusters": [{"job_cluster_key": "c"}, {"job_cluster_key": "c"}], "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p"}}]}`), "Duplicate job_cluster_key"},
		{"job clusters without tasks", parse(t, `{"job_clusters": [{"job_cluster_key": "c"}]}`), "Shared job cluster feature is only supported in multi-task jobs."},
		{"missing environment", parse(t, `{"tasks": [{"task_key": "a", "environment_key": "e", "spark_python_task": {"python_file": "p"}}]}`), "environment_key e"},
		{"git provider missing", parse(t, `{"git_source": {"git_url": "u"}}`), "git_source.git_provider must be one of: github,gitlab,bitbucketcloud,gitlabenterpriseedition,bitbucketserver,azuredevopsservices,githubenterprise,awscodecommit"},
		{"git provider unknown", parse(t, `{"git_source": {"git_url": "u", "git_provider": "svn"}}`), "git_provider must be one of"},
		{"schedule without timezone", parse(t, `{"schedule": {"quartz_cron_expression": "0 0 1 * * ?"}}`), "Missing required field: settings.schedule.timezone_id"},
		{"bad cron", parse(t, `{"schedule": {"quartz_cron_expression": "0 30 2,7,11,15 * * *", "timezone_id": "UTC"}}`), "Invalid quartz_cron_expression: 0 30 2,7,11,15 * * *."},
		{"schedule and continuous", parse(t, `{"schedule": {"quartz_cron_expression": "0 0 1 * * ?", "timezone_id": "UTC"}, "continuous": {}}`), "Only one of schedule and continuous"},
		{"triggers with schedule", parse(t, `{"schedule": {"quartz_cron_expression": "0 0 1 * * ?", "timezone_id": "UTC"}, "triggers": [{}]}`), "legacy"},
		{"trigger without type", parse(t, `{"trigger": {"pause_status": "PAUSED"}}`), "exactly one of file_arrival"},
		{"too many tags", map[string]any{"tags": tags}, "at most 25 tags"},
		{"too many tasks", map[string]any{"tasks": many}, "at most 1000 tasks"},
		{"max_concurrent_runs", map[string]any{"max_concurrent_runs": 1001}, "max_concurrent_runs must be between 0 and 1000"},
		{"name too long", map[string]any{"name": strings.Repeat("é", 2049)}, "at most 4096 bytes"},
		{"run_as two principals", parse(t, `{"run_as": {"user_name": "a", "service_principal_name": "b"}}`), "exactly one of user_name"},
		{"parameter name", parse(t, `{"parameters": [{"name": "a b", "default": ""}]}`), "Invalid job parameter name"},
		{"parameter default required", parse(t, `{"parameters": [{"name": "a"}]}`), "Missing required field: settings.parameters[0].default"},
		{"task_key required", parse(t, `{"tasks": [{"notebook_task": {"notebook_path": "p"}}]}`), "Missing required field: settings.tasks[0].task_key"},
		{"dbt commands", parse(t, `{"tasks": [{"task_key": "a", "dbt_task": {"commands": ["ls"]}}]}`), `must start with "dbt"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := e.fail("POST", "/api/2.2/jobs/create", c.body, 400, "INVALID_PARAMETER_VALUE")
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q, want %q", msg, c.want)
			}
		})
	}
	if got := len(e.s.JobIDs()); got != 0 {
		t.Errorf("%d jobs created by invalid requests", got)
	}
	// Accepted edge cases.
	for _, ok := range []string{
		`{"git_source": {"git_url": "u", "git_provider": "GITHUB"}}`,
		`{"git_source": {"git_url": "u", "git_provider": "azureDevOpsServices"}}`,
		`{"schedule": {"quartz_cron_expression": "0 15 10 ? * MON-FRI", "timezone_id": "Europe/Paris"}}`,
		`{"max_concurrent_runs": 0, "name": "` + strings.Repeat("x", 4096) + `"}`,
		`{"tasks": [{"task_key": "a", "for_each_task": {"inputs": "[1,2]", "task": {"task_key": "a_inner", "notebook_task": {"notebook_path": "p"}}}}]}`,
	} {
		e.create(ok)
	}
}

func TestQuartz(t *testing.T) {
	good := []string{
		"0 0 12 * * ?", "0 15 10 ? * *", "0 15 10 * * ? 2030", "0 * 14 * * ?", "0 0/5 14,18 * * ?",
		"0 0-5 14 * * ?", "0 10,44 14 ? 3 WED", "0 15 10 ? * MON-FRI", "0 15 10 15 * ?", "0 15 10 L * ?",
		"0 15 10 L-2 * ?", "0 15 10 ? * 6L", "0 15 10 ? * 6#3", "0 0 12 1/5 * ?", "0 11 11 11 11 ?",
		"0 0 0 LW * ?", "0 0 0 15W * ?", "*/30 * * ? * *", "0 0 0 ? jan,FEB SUN",
	}
	for _, expr := range good {
		if err := checkQuartz(expr); err != nil {
			t.Errorf("%q: %v", expr, err)
		}
	}
	bad := []string{
		"", "* * * * *", "0 30 2,7,11,15 * * *", "0 0 12 ? * ?", "60 0 12 * * ?", "0 60 12 * * ?", "0 0 24 * * ?",
		"0 0 12 32 * ?", "0 0 12 ? 13 *", "0 0 12 ? * 8", "0 0 12 ? * MON#6", "0 0 12 * * ? 1969", "0 0/0 12 * * ?",
		"0 0 12 * * ? 2030 1", "a b c d e f", "0 0 12 L-40 * ?", "? 0 12 * * ?",
	}
	for _, expr := range bad {
		if err := checkQuartz(expr); err == nil {
			t.Errorf("%q accepted", expr)
		}
	}
}
