package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCreateGetDefaults(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(parse(t, `{
		"name": "nightly",
		"format": "SINGLE_TASK",
		"git_source": {"git_url": "https://github.com/o/r", "git_provider": "gitHub", "git_branch": "main"},
		"job_clusters": [{"job_cluster_key": "c", "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 0, "apply_policy_default_values": true}}],
		"tasks": [
			{"task_key": "b", "depends_on": [{"task_key": "z"}, {"task_key": "a"}], "job_cluster_key": "c", "notebook_task": {"notebook_path": "nb"}},
			{"task_key": "a", "job_cluster_key": "c", "spark_python_task": {"python_file": "x.py"}},
			{"task_key": "z", "new_cluster": {"spark_version": "15.4.x-scala2.12", "azure_attributes": {"availability": "SPOT_AZURE"}}, "sql_task": {"warehouse_id": "w", "file": {"path": "q.sql"}}}
		]}`))
	if id != defaultFirstJobID {
		t.Errorf("first job id %d, want %d", id, int64(defaultFirstJobID))
	}
	job := e.get(id)
	if job["creator_user_name"] != defaultUser || job["run_as_user_name"] != defaultUser {
		t.Errorf("creator/run_as: %v / %v", job["creator_user_name"], job["run_as_user_name"])
	}
	if asInt(t, job["created_time"]) != newClock().Now().UnixMilli() {
		t.Errorf("created_time %v", job["created_time"])
	}
	if _, ok := job["has_more"]; ok {
		t.Error("jobs/get must not set has_more")
	}
	st := job["settings"].(map[string]any)
	want := map[string]string{
		"format":                `"MULTI_TASK"`,
		"max_concurrent_runs":   `1`,
		"timeout_seconds":       `0`,
		"email_notifications":   `{}`,
		"webhook_notifications": `{}`,
		"queue":                 `{"enabled":true}`,
	}
	for k, v := range want {
		if got := jsonOf(t, st[k]); got != v {
			t.Errorf("settings.%s = %s, want %s", k, got, v)
		}
	}
	tasks := st["tasks"].([]any)
	var keys []string
	for _, t := range tasks {
		keys = append(keys, t.(map[string]any)["task_key"].(string))
	}
	if strings.Join(keys, ",") != "a,b,z" {
		t.Errorf("tasks come back as %v, want sorted by task_key (SortedTasks)", keys)
	}
	b := tasks[1].(map[string]any)
	if got := jsonOf(t, b["depends_on"]); got != `[{"task_key":"a"},{"task_key":"z"}]` {
		t.Errorf("depends_on not sorted by task_key: %s", got)
	}
	if b["run_if"] != "ALL_SUCCESS" || jsonOf(t, b["timeout_seconds"]) != "0" || jsonOf(t, b["email_notifications"]) != "{}" ||
		jsonOf(t, b["webhook_notifications"]) != "{}" || b["disabled"] != false {
		t.Errorf("task defaults missing: %v", b)
	}
	if src := b["notebook_task"].(map[string]any)["source"]; src != "GIT" {
		t.Errorf("notebook source with git_source = %v, want GIT", src)
	}
	if src := tasks[0].(map[string]any)["spark_python_task"].(map[string]any)["source"]; src != "GIT" {
		t.Errorf("python source = %v", src)
	}
	z := tasks[2].(map[string]any)
	if src := z["sql_task"].(map[string]any)["file"].(map[string]any)["source"]; src != "GIT" {
		t.Errorf("sql file source = %v", src)
	}
	zc := z["new_cluster"].(map[string]any)
	if _, ok := zc["aws_attributes"]; ok {
		t.Error("aws_attributes added to an Azure cluster")
	}
	if zc["data_security_mode"] != "SINGLE_USER" {
		t.Errorf("data_security_mode = %v", zc["data_security_mode"])
	}
	jc := st["job_clusters"].([]any)[0].(map[string]any)["new_cluster"].(map[string]any)
	if _, ok := jc["apply_policy_default_values"]; ok {
		t.Error("apply_policy_default_values must not be returned")
	}
	if jsonOf(t, jc["aws_attributes"]) != `{"availability":"SPOT_WITH_FALLBACK","zone_id":"us-east-1c"}` || jsonOf(t, jc["num_workers"]) != "0" {
		t.Errorf("job cluster: %s", jsonOf(t, jc))
	}
}

func TestDefaultsWithoutGitAndName(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"tasks": []any{nb("a")}})
	st := e.settings(id)
	if st["name"] != "Untitled" {
		t.Errorf("name = %v", st["name"])
	}
	if src := st["tasks"].([]any)[0].(map[string]any)["notebook_task"].(map[string]any)["source"]; src != "WORKSPACE" {
		t.Errorf("source = %v", src)
	}
}

func TestQueueDefaultPerVersion(t *testing.T) {
	e := newEnv(t, Options{})
	id := asInt(t, e.ok("POST", "/api/2.1/jobs/create", map[string]any{"tasks": []any{nb("a")}})["job_id"])
	if q, ok := e.settings(id)["queue"]; ok {
		t.Errorf("2.1 create set queue %v", q)
	}
	id = e.create(map[string]any{"queue": map[string]any{"enabled": false}, "tasks": []any{nb("a")}})
	if got := jsonOf(t, e.settings(id)["queue"]); got != `{"enabled":false}` {
		t.Errorf("explicit queue lost: %s", got)
	}
}

func TestIDsBeyondFloat64(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.create(map[string]any{"name": "a"})
	b := e.create(map[string]any{"name": "b"})
	if b-a != jobIDStep {
		t.Errorf("step %d", b-a)
	}
	for _, id := range []int64{a, b} {
		if int64(float64(id)) == id {
			t.Errorf("id %d survives float64; the ids must not", id)
		}
		if n := len(itoa(id)); n < 15 || n > 19 {
			t.Errorf("id %d has %d digits", id, n)
		}
	}
	if got := e.s.JobIDs(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("JobIDs = %v", got)
	}
	e2 := newEnv(t, Options{FirstJobID: 123_456_789_012_345})
	if id := e2.create(map[string]any{}); id != 123_456_789_012_345 {
		t.Errorf("FirstJobID ignored: %d", id)
	}
}

func TestMissingJob(t *testing.T) {
	e := newEnv(t, Options{})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/2.2/jobs/get?job_id=42", ""},
		{"GET", "/api/2.1/jobs/get?job_id=42", ""},
		{"POST", "/api/2.2/jobs/update", `{"job_id": 42, "new_settings": {"name": "x"}}`},
		{"POST", "/api/2.2/jobs/reset", `{"job_id": 42, "new_settings": {"name": "x"}}`},
		{"POST", "/api/2.2/jobs/delete", `{"job_id": 42}`},
		{"POST", "/api/2.2/jobs/run-now", `{"job_id": 42}`},
	} {
		msg := e.fail(c.method, c.path, c.body, http.StatusBadRequest, "INVALID_PARAMETER_VALUE")
		if msg != "Job 42 does not exist." {
			t.Errorf("%s %s: message %q", c.method, c.path, msg)
		}
	}
	// cli #1122: no job_id at all is job 0.
	if msg := e.fail("POST", "/api/2.2/jobs/update", `{}`, 400, "INVALID_PARAMETER_VALUE"); msg != "Job 0 does not exist." {
		t.Errorf("message %q", msg)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"name": "x"})
	e.ok("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id})
	e.fail("GET", "/api/2.2/jobs/get?job_id="+itoa(id), nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id}, 400, "INVALID_PARAMETER_VALUE")
	if len(e.s.JobIDs()) != 0 {
		t.Error("job still listed")
	}
}

func TestMalformedRequests(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct{ body, want string }{
		{`{"name": `, "Could not parse request object"},
		{`[1,2]`, "Invalid JSON given in the body of the request - expected a map"},
		{`"x"`, "expected a map"},
		{`{"tasks": {"task_key": "a"}}`, "Expected array for field tasks, found OBJECT"},
		{`{"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "p", "base_parameters": "x"}}]}`, "Expected object for field base_parameters, found STRING"},
		{`{"max_concurrent_runs": "5"}`, "Expected int for field max_concurrent_runs, found STRING"},
		{`{"max_concurrent_runs": 1.5}`, "not an integer"},
		{`{"max_concurrent_runs": 99999999999}`, "out of range"},
		{`{"tags": {"a": 1}}`, "Expected string for field tags, found NUMBER"},
		{`{"queue": {"enabled": "yes"}}`, "Expected boolean for field enabled"},
		{`{"edit_mode": "LOCKED"}`, "Invalid value"},
		{`{} {}`, "unexpected data"},
	}
	for _, c := range cases {
		msg := e.fail("POST", "/api/2.2/jobs/create", c.body, 400, "MALFORMED_REQUEST")
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: message %q, want %q", c.body, msg, c.want)
		}
	}
	e.fail("GET", "/api/2.2/jobs/get?job_id=abc", nil, 400, "MALFORMED_REQUEST")
	e.fail("GET", "/api/2.2/jobs/list?expand_tasks=True", nil, 400, "MALFORMED_REQUEST")
}

func TestUnknownFieldsIgnored(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(parse(t, `{"name": "a", "colour": "blue", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "p", "extra": 1}, "bogus": true}]}`))
	// databricks-cli#616: a whole jobs/get object as new_settings changes nothing.
	e.ok("POST", "/api/2.2/jobs/update", map[string]any{"job_id": id, "new_settings": map[string]any{"settings": map[string]any{"name": "b"}}})
	st := e.settings(id)
	if st["name"] != "a" || st["colour"] != nil {
		t.Errorf("settings %v", st)
	}
	task := st["tasks"].([]any)[0].(map[string]any)
	if task["bogus"] != nil || task["notebook_task"].(map[string]any)["extra"] != nil {
		t.Errorf("unknown fields stored: %v", task)
	}
	// null is no value.
	id = e.create(`{"name": null, "description": "d"}`)
	if st := e.settings(id); st["name"] != "Untitled" || st["description"] != "d" {
		t.Errorf("null handling: %v", st)
	}
}

func TestEndpointNotFound(t *testing.T) {
	e := newEnv(t, Options{})
	for _, c := range []struct{ method, path, msg string }{
		{"GET", "/api/2.2/jobs/nope", "No API found for 'GET /jobs/nope'"},
		{"POST", "/api/2.2/jobs/get", "No API found for 'POST /jobs/get'"},
		{"GET", "/api/2.2/jobs/create", "No API found for 'GET /jobs/create'"},
		{"DELETE", "/api/2.0/permissions/jobs/1", "No API found for 'DELETE /permissions/jobs/1'"},
		{"GET", "/api/2.0/jobs/list", "No API found for 'GET /jobs/list'"},
		{"GET", "/api/2.2/permissions/jobs/1", "No API found for 'GET /permissions/jobs/1'"},
		{"GET", "/api/2.0/permissions/jobs/", ""},
		{"GET", "/api/2.0/permissions/jobs/1/other", ""},
		{"GET", "/elsewhere", ""},
	} {
		msg := e.fail(c.method, c.path, nil, 404, "ENDPOINT_NOT_FOUND")
		if c.msg != "" && msg != c.msg {
			t.Errorf("%s %s: %q", c.method, c.path, msg)
		}
	}
}

func TestAuthRequired(t *testing.T) {
	e := newEnv(t, Options{})
	resp, err := http.Get(e.srv.URL + "/api/2.2/jobs/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no credentials: %d", resp.StatusCode)
	}
	e2 := newEnv(t, Options{AllowAnonymous: true})
	resp, err = http.Get(e2.srv.URL + "/api/2.2/jobs/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("AllowAnonymous: %d", resp.StatusCode)
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, Options{})
	big := `{"description": "` + strings.Repeat("x", 10<<20) + `"}`
	msg := e.fail("POST", "/api/2.2/jobs/create", big, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(msg, "maximum size") {
		t.Errorf("message %q", msg)
	}
}

func TestQuotaAndCreationRate(t *testing.T) {
	e := newEnv(t, Options{JobQuota: 2})
	e.create(map[string]any{})
	e.create(map[string]any{})
	msg := e.fail("POST", "/api/2.2/jobs/create", `{}`, 400, "QUOTA_EXCEEDED")
	if !strings.HasPrefix(msg, "The quota for the number of jobs has been reached. The current quota is 2.") {
		t.Errorf("message %q", msg)
	}
	e = newEnv(t, Options{CreatesPerHour: 2})
	id := e.create(map[string]any{})
	e.create(map[string]any{})
	e.ok("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id})
	msg = e.fail("POST", "/api/2.2/jobs/create", `{}`, 400, "INVALID_STATE")
	if msg != "There were already 2 jobs created in past 3600 seconds, exceeding rate limit: 2 job creations per 3600 seconds." {
		t.Errorf("message %q", msg)
	}
	e.clock.Advance(3601e9)
	e.create(map[string]any{})
}

func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, Options{})
	const n = 64
	errs := make(chan error, n)
	for i := range n {
		go func() {
			body := fmt.Sprintf(`{"name": "job-%d", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "p"}}]}`, i)
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/2.2/jobs/create", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer x")
			resp, err := e.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			if err == nil {
				req, _ = http.NewRequest("GET", e.srv.URL+"/api/2.2/jobs/list?expand_tasks=true&limit=100", nil)
				req.Header.Set("Authorization", "Bearer x")
				if resp, err = e.srv.Client().Do(req); err == nil {
					resp.Body.Close()
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(e.s.JobIDs()); got != n {
		t.Errorf("%d jobs, want %d", got, n)
	}
}
