package emulator

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func (e *testEnv) runNow(body any) int64 {
	e.t.Helper()
	out := e.ok("POST", "/api/2.2/jobs/run-now", body)
	if asInt(e.t, out["number_in_job"]) != asInt(e.t, out["run_id"]) {
		e.t.Errorf("number_in_job %v != run_id %v", out["number_in_job"], out["run_id"])
	}
	return asInt(e.t, out["run_id"])
}

func (e *testEnv) run(id int64, query ...string) map[string]any {
	e.t.Helper()
	return e.ok("GET", "/api/2.2/jobs/runs/get?run_id="+itoa(id)+strings.Join(query, ""), nil)
}

// states summarises a run: "LIFE/RESULT a=LIFE/RESULT b=...".
func states(t *testing.T, r map[string]any) string {
	t.Helper()
	one := func(m map[string]any) string {
		st := m["state"].(map[string]any)
		s, _ := st["life_cycle_state"].(string)
		if res, ok := st["result_state"].(string); ok {
			s += "/" + res
		}
		return s
	}
	parts := []string{one(r)}
	for _, task := range r["tasks"].([]any) {
		tm := task.(map[string]any)
		parts = append(parts, tm["task_key"].(string)+"="+one(tm))
	}
	return strings.Join(parts, " ")
}

func taskRunID(t *testing.T, r map[string]any, key string) int64 {
	t.Helper()
	for _, task := range r["tasks"].([]any) {
		if tm := task.(map[string]any); tm["task_key"] == key {
			return asInt(t, tm["run_id"])
		}
	}
	t.Fatalf("no task %s", key)
	return 0
}

func TestRunLifecycle(t *testing.T) {
	e := newEnv(t, Options{RunPending: time.Second, RunRunning: 3 * time.Second})
	jobID := e.create(map[string]any{"name": "etl", "tasks": []any{nb("a"), nb("b", "a")},
		"parameters": []any{map[string]any{"name": "env", "default": "dev"}}})
	id := e.runNow(map[string]any{"job_id": jobID, "job_parameters": map[string]any{"env": "prod"}})
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "PENDING a=PENDING b=PENDING"},
		{time.Second, "RUNNING a=RUNNING b=BLOCKED"},
		{2 * time.Second, "RUNNING a=TERMINATED/SUCCESS b=RUNNING"},
		{2 * time.Second, "TERMINATED/SUCCESS a=TERMINATED/SUCCESS b=TERMINATED/SUCCESS"},
	}
	for _, s := range steps {
		e.clock.Advance(s.advance)
		if got := states(t, e.run(id)); got != s.want {
			t.Errorf("after %v: %s, want %s", s.advance, got, s.want)
		}
	}
	r := e.run(id)
	start := newClock().Now().UnixMilli()
	if asInt(t, r["start_time"]) != start || asInt(t, r["end_time"]) != start+4000 || asInt(t, r["job_id"]) != jobID {
		t.Errorf("times/job: %v %v %v", r["start_time"], r["end_time"], r["job_id"])
	}
	if r["run_name"] != "etl" || r["run_type"] != "JOB_RUN" || r["creator_user_name"] != defaultUser {
		t.Errorf("run fields %v %v %v", r["run_name"], r["run_type"], r["creator_user_name"])
	}
	if got := jsonOf(t, r["job_parameters"]); got != `[{"default":"dev","name":"env","value":"prod"}]` {
		t.Errorf("job_parameters %s", got)
	}
	if got := jsonOf(t, r["status"]); got != `{"state":"TERMINATED","termination_details":{"code":"SUCCESS","message":"","type":"SUCCESS"}}` {
		t.Errorf("status %s", got)
	}
	// A task run id answers that task run.
	tr := e.run(taskRunID(t, r, "b"))
	if asInt(t, tr["job_run_id"]) != id || tr["state"].(map[string]any)["result_state"] != "SUCCESS" {
		t.Errorf("task run %v", tr)
	}
	e.fail("GET", "/api/2.2/jobs/runs/get?run_id=1", nil, 400, "INVALID_PARAMETER_VALUE")
}

func TestRunFailureAndRepair(t *testing.T) {
	e := newEnv(t, Options{})
	failing := nb("b", "a")
	failing["notebook_task"].(map[string]any)["base_parameters"] = map[string]any{"emulator_fail": "true"}
	alwaysRuns := nb("d", "b")
	alwaysRuns["run_if"] = "ALL_DONE"
	jobID := e.create(map[string]any{"tasks": []any{nb("a"), failing, nb("c", "b"), alwaysRuns}})
	id := e.runNow(map[string]any{"job_id": jobID})
	e.fail("POST", "/api/2.2/jobs/runs/repair", map[string]any{"run_id": id, "rerun_all_failed_tasks": true}, 400, "INVALID_STATE")
	e.clock.Advance(time.Minute)
	r := e.run(id)
	if got := states(t, r); got != "INTERNAL_ERROR/FAILED a=TERMINATED/SUCCESS b=TERMINATED/FAILED c=TERMINATED/UPSTREAM_FAILED d=TERMINATED/SUCCESS" {
		t.Errorf("states %s", got)
	}
	if msg := r["state"].(map[string]any)["state_message"].(string); !strings.Contains(msg, "Task b failed") {
		t.Errorf("state_message %q", msg)
	}
	// get-output: job runs of several tasks are refused (§3.2.11).
	msg := e.fail("GET", "/api/2.2/jobs/runs/get-output?run_id="+itoa(id), nil, 400, "INVALID_PARAMETER_VALUE")
	if msg != "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead." {
		t.Errorf("message %q", msg)
	}
	out := e.ok("GET", "/api/2.2/jobs/runs/get-output?run_id="+itoa(taskRunID(t, r, "b")), nil)
	if !strings.Contains(out["error"].(string), "failed") || out["metadata"].(map[string]any)["state"].(map[string]any)["result_state"] != "FAILED" {
		t.Errorf("output %v", out)
	}
	out = e.ok("GET", "/api/2.2/jobs/runs/get-output?run_id="+itoa(taskRunID(t, r, "a")), nil)
	if jsonOf(t, out["notebook_output"]) != `{"truncated":false}` {
		t.Errorf("notebook output %v", out)
	}
	ex := e.ok("GET", "/api/2.2/jobs/runs/export?run_id="+itoa(taskRunID(t, r, "a")), nil)
	views := ex["views"].([]any)
	if len(views) != 1 || views[0].(map[string]any)["type"] != "NOTEBOOK" || views[0].(map[string]any)["name"] != "a" {
		t.Errorf("export %v", ex)
	}
	if v := e.ok("GET", "/api/2.2/jobs/runs/export?views_to_export=DASHBOARDS&run_id="+itoa(taskRunID(t, r, "a")), nil)["views"].([]any); len(v) != 0 {
		t.Errorf("dashboards %v", v)
	}

	// Fix the job, then repair the failed tasks: repairs use the current settings.
	e.ok("POST", "/api/2.2/jobs/update", map[string]any{"job_id": jobID, "new_settings": map[string]any{"tasks": []any{nb("b", "a")}}})
	e.fail("POST", "/api/2.2/jobs/runs/repair", map[string]any{"run_id": id}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/runs/repair", map[string]any{"run_id": id, "rerun_tasks": []any{"zz"}}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/runs/repair", map[string]any{"run_id": id, "rerun_all_failed_tasks": true, "latest_repair_id": 5}, 400, "INVALID_PARAMETER_VALUE")
	rep := e.ok("POST", "/api/2.2/jobs/runs/repair", map[string]any{"run_id": id, "rerun_all_failed_tasks": true})
	repairID := asInt(t, rep["repair_id"])
	if got := states(t, e.run(id)); !strings.HasPrefix(got, "PENDING ") || !strings.Contains(got, "a=TERMINATED/SUCCESS") {
		t.Errorf("after repair: %s", got)
	}
	e.clock.Advance(time.Minute)
	r = e.run(id, "&include_history=true")
	if got := states(t, r); got != "TERMINATED/SUCCESS a=TERMINATED/SUCCESS b=TERMINATED/SUCCESS c=TERMINATED/SUCCESS d=TERMINATED/SUCCESS" {
		t.Errorf("after repair finished: %s", got)
	}
	hist := r["repair_history"].([]any)
	if len(hist) != 2 || hist[0].(map[string]any)["type"] != "ORIGINAL" || asInt(t, hist[1].(map[string]any)["id"]) != repairID {
		t.Fatalf("repair_history %s", jsonOf(t, hist))
	}
	if got := hist[0].(map[string]any)["state"].(map[string]any)["result_state"]; got != "FAILED" {
		t.Errorf("original result %v", got)
	}
	if n := len(hist[1].(map[string]any)["task_run_ids"].([]any)); n != 2 {
		t.Errorf("repair reran %d tasks, want b and c", n)
	}
	// Later repairs need the latest repair id; dependents on request.
	e.fail("POST", "/api/2.2/jobs/runs/repair", map[string]any{"run_id": id, "rerun_tasks": []any{"a"}}, 400, "INVALID_PARAMETER_VALUE")
	rep = e.ok("POST", "/api/2.2/jobs/runs/repair", map[string]any{"run_id": id, "rerun_tasks": []any{"a"}, "rerun_dependent_tasks": true, "latest_repair_id": repairID})
	e.clock.Advance(time.Minute)
	r = e.run(id, "&include_history=true")
	if n := len(r["repair_history"].([]any)[2].(map[string]any)["task_run_ids"].([]any)); n != 4 {
		t.Errorf("dependent repair reran %d tasks", n)
	}
}

func TestRunConditionsAndOnly(t *testing.T) {
	e := newEnv(t, Options{})
	cond := map[string]any{"task_key": "check", "condition_task": map[string]any{"left": "10", "op": "GREATER_THAN", "right": "9"}}
	yes := map[string]any{"task_key": "yes", "depends_on": []any{map[string]any{"task_key": "check", "outcome": "true"}}, "notebook_task": map[string]any{"notebook_path": "p"}}
	no := map[string]any{"task_key": "no", "depends_on": []any{map[string]any{"task_key": "check", "outcome": "false"}}, "notebook_task": map[string]any{"notebook_path": "p"}}
	disabled := nb("off")
	disabled["disabled"] = true
	jobID := e.create(map[string]any{"tasks": []any{cond, yes, no, disabled, nb("x_fail"), nb("after", "x_fail")}})
	id := e.runNow(map[string]any{"job_id": jobID})
	e.clock.Advance(time.Minute)
	r := e.run(id)
	want := "INTERNAL_ERROR/FAILED check=TERMINATED/SUCCESS yes=TERMINATED/SUCCESS no=TERMINATED/EXCLUDED off=TERMINATED/DISABLED x_fail=TERMINATED/FAILED after=TERMINATED/UPSTREAM_FAILED"
	if got := states(t, r); got != want {
		t.Errorf("states\n got %s\nwant %s", got, want)
	}
	for _, task := range r["tasks"].([]any) {
		if tm := task.(map[string]any); tm["task_key"] == "check" && tm["condition_task"].(map[string]any)["outcome"] != "true" {
			t.Errorf("condition outcome %v", tm["condition_task"])
		}
	}
	// only: a subset; "x_fail+" adds downstream tasks.
	id = e.runNow(map[string]any{"job_id": jobID, "only": []any{"yes"}})
	e.clock.Advance(time.Minute)
	if got := states(t, e.run(id)); got != "TERMINATED/SUCCESS yes=TERMINATED/SUCCESS" {
		t.Errorf("only: %s", got)
	}
	id = e.runNow(map[string]any{"job_id": jobID, "only": []any{"x_fail+"}})
	e.clock.Advance(time.Minute)
	if got := states(t, e.run(id)); got != "INTERNAL_ERROR/FAILED x_fail=TERMINATED/FAILED after=TERMINATED/UPSTREAM_FAILED" {
		t.Errorf("only downstream: %s", got)
	}
	e.fail("POST", "/api/2.2/jobs/run-now", map[string]any{"job_id": jobID, "only": []any{"nope"}}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/run-now", map[string]any{"job_id": jobID, "notebook_params": map[string]any{"a": "b"}, "jar_params": []any{"x"}}, 400, "INVALID_PARAMETER_VALUE")
	empty := e.create(map[string]any{"name": "no tasks"})
	e.fail("POST", "/api/2.2/jobs/run-now", map[string]any{"job_id": empty}, 400, "INVALID_PARAMETER_VALUE")
}

func TestRunCancelDeleteIdempotency(t *testing.T) {
	e := newEnv(t, Options{})
	jobID := e.create(map[string]any{"max_concurrent_runs": 5, "tasks": []any{nb("a"), nb("b", "a")}})
	id := e.runNow(map[string]any{"job_id": jobID, "idempotency_token": "tok-1"})
	if again := e.runNow(map[string]any{"job_id": jobID, "idempotency_token": "tok-1"}); again != id {
		t.Errorf("same token gave run %d, want %d", again, id)
	}
	e.fail("POST", "/api/2.2/jobs/run-now", map[string]any{"job_id": jobID, "idempotency_token": strings.Repeat("x", 65)}, 400, "INVALID_PARAMETER_VALUE")
	e.clock.Advance(1500 * time.Millisecond)
	msg := e.fail("POST", "/api/2.2/jobs/runs/delete", map[string]any{"run_id": id}, 400, "INVALID_STATE")
	if !strings.Contains(msg, "active") {
		t.Errorf("message %q", msg)
	}
	e.ok("POST", "/api/2.2/jobs/runs/cancel", map[string]any{"run_id": id})
	r := e.run(id)
	if got := states(t, r); got != "TERMINATED/CANCELED a=TERMINATED/CANCELED b=TERMINATED/UPSTREAM_CANCELED" {
		t.Errorf("cancelled: %s", got)
	}
	if r["state"].(map[string]any)["user_cancelled_or_timedout"] != true {
		t.Error("user_cancelled_or_timedout not set")
	}
	// Cancelling a finished run is a no-op; deleting it works.
	e.ok("POST", "/api/2.2/jobs/runs/cancel", map[string]any{"run_id": id})
	e.ok("POST", "/api/2.2/jobs/runs/delete", map[string]any{"run_id": id})
	e.fail("GET", "/api/2.2/jobs/runs/get?run_id="+itoa(id), nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/runs/delete", map[string]any{"run_id": id}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/runs/cancel", map[string]any{"run_id": id}, 400, "INVALID_PARAMETER_VALUE")
	// The token of a deleted run is an error.
	e.fail("POST", "/api/2.2/jobs/run-now", map[string]any{"job_id": jobID, "idempotency_token": "tok-1"}, 400, "INVALID_PARAMETER_VALUE")

	// cancel-all: the active runs of a job.
	a, b := e.runNow(map[string]any{"job_id": jobID}), e.runNow(map[string]any{"job_id": jobID})
	e.ok("POST", "/api/2.2/jobs/runs/cancel-all", map[string]any{"job_id": jobID})
	for _, id := range []int64{a, b} {
		if res := e.run(id)["state"].(map[string]any)["result_state"]; res != "CANCELED" {
			t.Errorf("run %d: %v", id, res)
		}
	}
	e.fail("POST", "/api/2.2/jobs/runs/cancel-all", map[string]any{}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/runs/cancel-all", map[string]any{"job_id": 7}, 400, "INVALID_PARAMETER_VALUE")
	// Deleting the job deletes its runs.
	e.ok("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": jobID})
	e.fail("GET", "/api/2.2/jobs/runs/get?run_id="+itoa(a), nil, 400, "INVALID_PARAMETER_VALUE")
}

func TestRunConcurrencyAndQueue(t *testing.T) {
	e := newEnv(t, Options{RunPending: time.Second, RunRunning: 2 * time.Second})
	queued := e.create(map[string]any{"tasks": []any{nb("a")}}) // 2.2: queue on, max 1 run
	first := e.runNow(map[string]any{"job_id": queued})
	second := e.runNow(map[string]any{"job_id": queued})
	r := e.run(second)
	if got := states(t, r); got != "QUEUED a=QUEUED" {
		t.Errorf("second run: %s", got)
	}
	if jsonOf(t, r["status"].(map[string]any)["queue_details"].(map[string]any)["code"]) != `"MAX_CONCURRENT_RUNS_REACHED"` {
		t.Errorf("status %v", r["status"])
	}
	e.clock.Advance(3 * time.Second) // the first run ends, the second starts
	if got := states(t, e.run(first)); got != "TERMINATED/SUCCESS a=TERMINATED/SUCCESS" {
		t.Errorf("first: %s", got)
	}
	if got := states(t, e.run(second)); got != "PENDING a=PENDING" {
		t.Errorf("second after the first: %s", got)
	}
	e.clock.Advance(3 * time.Second)
	if asInt(t, e.run(second)["queue_duration"]) != 3000 {
		t.Errorf("queue_duration %v", e.run(second)["queue_duration"])
	}
	// cancel-all with all_queued_runs cancels only queued runs.
	running := e.runNow(map[string]any{"job_id": queued})
	waiting := e.runNow(map[string]any{"job_id": queued})
	e.ok("POST", "/api/2.2/jobs/runs/cancel-all", map[string]any{"all_queued_runs": true})
	if got := states(t, e.run(waiting)); got != "TERMINATED/CANCELED a=TERMINATED/CANCELED" {
		t.Errorf("queued run after cancel-all: %s", got)
	}
	if got := states(t, e.run(running)); got != "PENDING a=PENDING" {
		t.Errorf("active run after cancel-all queued: %s", got)
	}

	// Queueing off: the run is skipped.
	skip := e.create(map[string]any{"queue": map[string]any{"enabled": false}, "tasks": []any{nb("a")}})
	e.runNow(map[string]any{"job_id": skip})
	r = e.run(e.runNow(map[string]any{"job_id": skip}))
	if got := states(t, r); got != "SKIPPED/MAXIMUM_CONCURRENT_RUNS_REACHED a=SKIPPED/MAXIMUM_CONCURRENT_RUNS_REACHED" {
		t.Errorf("skipped: %s", got)
	}
	// max_concurrent_runs 0 skips every run.
	zero := e.create(map[string]any{"max_concurrent_runs": 0, "tasks": []any{nb("a")}})
	if got := e.run(e.runNow(map[string]any{"job_id": zero}))["state"].(map[string]any)["life_cycle_state"]; got != "SKIPPED" {
		t.Errorf("max 0: %v", got)
	}
}

func TestSubmitAndList(t *testing.T) {
	e := newEnv(t, Options{})
	jobID := e.create(map[string]any{"max_concurrent_runs": 100, "tasks": []any{nb("a")}})
	var jobRuns []int64
	for range 7 {
		jobRuns = append(jobRuns, e.runNow(map[string]any{"job_id": jobID}))
		e.clock.Advance(time.Second)
	}
	out := e.ok("POST", "/api/2.2/jobs/runs/submit", parse(t, `{"idempotency_token": "s1", "tasks": [{"task_key": "s", "job_cluster_key": "ignored", "spark_python_task": {"python_file": "f.py"}}]}`))
	sub := asInt(t, out["run_id"])
	if again := asInt(t, e.ok("POST", "/api/2.2/jobs/runs/submit", parse(t, `{"idempotency_token": "s1", "tasks": [{"task_key": "s", "spark_python_task": {"python_file": "f.py"}}]}`))["run_id"]); again != sub {
		t.Errorf("submit token: %d vs %d", again, sub)
	}
	r := e.run(sub)
	if r["run_name"] != "Untitled" || r["run_type"] != "SUBMIT_RUN" || r["job_id"] != nil {
		t.Errorf("submitted run %v %v %v", r["run_name"], r["run_type"], r["job_id"])
	}
	if _, ok := r["tasks"].([]any)[0].(map[string]any)["job_cluster_key"]; ok {
		t.Error("SubmitTask has no job_cluster_key: it must be ignored")
	}
	e.fail("POST", "/api/2.2/jobs/runs/submit", `{"tasks": []}`, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/runs/submit", parse(t, `{"tasks": [{"task_key": "a", "depends_on": [{"task_key": "b"}], "notebook_task": {"notebook_path": "p"}}]}`), 400, "INVALID_PARAMETER_VALUE")

	// Paging with tokens, newest first; filters.
	var ids []int64
	tok := ""
	for pages := 0; ; pages++ {
		q := "/api/2.2/jobs/runs/list?limit=3&job_id=" + itoa(jobID)
		if tok != "" {
			q += "&page_token=" + url.QueryEscape(tok)
		}
		out := e.ok("GET", q, nil)
		for _, r := range out["runs"].([]any) {
			rm := r.(map[string]any)
			if _, ok := rm["tasks"]; ok {
				t.Error("tasks listed without expand_tasks")
			}
			ids = append(ids, asInt(t, rm["run_id"]))
		}
		next, _ := out["next_page_token"].(string)
		if out["has_more"] != (next != "") {
			t.Fatal("has_more inconsistent")
		}
		if next == "" {
			break
		}
		tok = next
	}
	if len(ids) != 7 {
		t.Fatalf("listed %v", ids)
	}
	// Runs start 1 s apart and last 4 s; now is 7 s after the first. The
	// order is by end time for finished runs (0, 1, 2, 3 end at 4, 5, 6, 7 s),
	// by start time for active ones (4, 5, 6 started at 4, 5, 6 s),
	// descending; ties by run id.
	want := []int64{jobRuns[3], jobRuns[6], jobRuns[2], jobRuns[5], jobRuns[1], jobRuns[4], jobRuns[0]}
	if jsonOf(t, ids) != jsonOf(t, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
	count := func(q string) int {
		out := e.ok("GET", "/api/2.2/jobs/runs/list?"+q, nil)
		l, _ := out["runs"].([]any)
		return len(l)
	}
	if n := count("run_type=SUBMIT_RUN"); n != 1 {
		t.Errorf("submit runs %d", n)
	}
	if a, c := count("active_only=true"), count("completed_only=true"); a+c != 8 || a == 0 || c == 0 {
		t.Errorf("active %d completed %d", a, c)
	}
	start := newClock().Now().UnixMilli()
	if n := count("start_time_from=" + itoa(start+2000) + "&start_time_to=" + itoa(start+4000)); n != 3 {
		t.Errorf("time window: %d", n)
	}
	if n := count("limit=0"); n != 8 {
		t.Errorf("limit 0 (the maximum): %d", n)
	}
	out = e.ok("GET", "/api/2.2/jobs/runs/list?expand_tasks=true&limit=1", nil)
	if _, ok := out["runs"].([]any)[0].(map[string]any)["tasks"]; !ok {
		t.Error("expand_tasks without tasks")
	}
	e.fail("GET", "/api/2.2/jobs/runs/list?active_only=true&completed_only=true", nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", "/api/2.2/jobs/runs/list?limit=26", nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", "/api/2.2/jobs/runs/list?job_id=5", nil, 400, "INVALID_PARAMETER_VALUE")
	if out := e.ok("GET", "/api/2.2/jobs/runs/list?run_type=WORKFLOW_RUN", nil); out["runs"] != nil || out["has_more"] != false {
		t.Errorf("empty runs list %v", out)
	}
}

func TestRunGetPaging(t *testing.T) {
	e := newEnv(t, Options{})
	var tasks []any
	for i := range 130 {
		tasks = append(tasks, nb("t"+itoa(int64(1000+i))))
	}
	id := e.runNow(map[string]any{"job_id": e.create(map[string]any{"tasks": tasks})})
	first := e.run(id)
	if n := len(first["tasks"].([]any)); n != 100 {
		t.Errorf("first page %d tasks", n)
	}
	second := e.run(id, "&page_token="+url.QueryEscape(first["next_page_token"].(string)))
	if n := len(second["tasks"].([]any)); n != 30 || second["next_page_token"] != nil {
		t.Errorf("second page %d tasks, next %v", n, second["next_page_token"])
	}
	msg := e.fail("GET", "/api/2.1/jobs/runs/get?run_id="+itoa(id), nil, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(msg, "130 tasks") {
		t.Errorf("message %q", msg)
	}
	out := e.ok("GET", "/api/2.2/jobs/runs/list?expand_tasks=true", nil)
	if out["runs"].([]any)[0].(map[string]any)["has_more"] != true {
		t.Error("runs/list expand_tasks: has_more not set on a run of 130 tasks")
	}
}
