package emulator

import (
	"html"
	"maps"
	"path"
	"strconv"
)

// runView renders a job run as BaseRun / Run (§3.2.10, jobs-api-schema.md
// Run). withTasks adds the task runs; history adds repair_history
// (include_history).
//
// With internalError (FailedRunInternalError), a job run that failed shows
// life_cycle_state INTERNAL_ERROR, as the service's do ([cloud]
// acceptance/bundle/resources/job_runs/failed_run/output.txt:40-43); its
// v2 status stays TERMINATED (RunLifecycleStateV2State has no such state)
// and task runs keep TERMINATED (assumed: the recorded output shows only the
// run's state).
func runView(r *run, rs *runState, host string, withTasks, history, internalError bool) map[string]any {
	first := r.Epochs[0]
	out := map[string]any{
		"run_id":                  num(r.ID),
		"number_in_job":           num(r.ID), // deprecated, equals run_id ([OAS21])
		"original_attempt_run_id": num(r.ID),
		"attempt_number":          zero,
		"creator_user_name":       r.Creator,
		"run_name":                r.Name,
		"run_type":                r.Type,
		"trigger":                 "ONE_TIME",
		"format":                  "MULTI_TASK",
		"start_time":              num(r.Created),
		"end_time":                num(rs.end),
		"queue_duration":          num(max(0, first.Start-r.Created)),
		"setup_duration":          zero,
		"execution_duration":      zero,
		"cleanup_duration":        zero,
		"run_duration":            zero,
		"run_page_url":            pageURL(host, r.JobID, r.ID),
		"state":                   stateView(rs.life, rs.result, rs.message, rs.cancelled),
		"status":                  statusView(rs.life, rs.result, rs.message),
	}
	if internalError && rs.life == lcTerminated && rs.result == resFailed {
		out["state"] = stateView(lcInternalError, rs.result, rs.message, rs.cancelled)
	}
	if r.Type == runTypeJob {
		out["job_id"] = num(r.JobID)
	}
	if rs.end > 0 && !r.Skipped {
		out["setup_duration"] = num(r.PendingMs)
		out["execution_duration"] = num(max(0, rs.end-first.Start-r.PendingMs))
		out["run_duration"] = num(rs.end - r.Created)
	}
	if len(r.Params) > 0 {
		params := make([]any, len(r.Params))
		for i, p := range r.Params {
			params[i] = p
		}
		out["job_parameters"] = params
	}
	if r.Overriding != nil {
		out["overriding_parameters"] = r.Overriding
	}
	if gs, ok := r.Settings["git_source"]; ok {
		out["git_source"] = gs
	}
	if withTasks {
		if jc, ok := (reader{}).settings(r.Settings, false)["job_clusters"]; ok {
			out["job_clusters"] = jc
		}
		_, hasGit := r.Settings["git_source"]
		tasks := make([]any, len(rs.current))
		for i, ts := range rs.current {
			tasks[i] = taskView(ts, r, host, hasGit)
		}
		out["tasks"] = tasks
	}
	if history {
		out["repair_history"] = repairHistory(r, rs)
	}
	return out
}

// taskView renders a task run (RunTask): the task settings with their read
// defaults plus the run fields.
func taskView(ts *taskState, r *run, host string, hasGit bool) map[string]any {
	out := reader{}.task(ts.att.Def, hasGit) // run views: the base read defaults only
	out["run_id"] = num(ts.att.RunID)
	out["attempt_number"] = zero
	out["start_time"] = num(ts.start)
	out["end_time"] = num(ts.end)
	out["setup_duration"] = zero
	out["cleanup_duration"] = zero
	out["execution_duration"] = zero
	out["run_duration"] = zero
	if ts.end > 0 && ts.start > 0 {
		out["execution_duration"] = num(ts.end - ts.start)
		out["run_duration"] = num(ts.end - ts.start)
	}
	out["run_page_url"] = pageURL(host, r.JobID, ts.att.RunID)
	out["state"] = stateView(ts.life, ts.result, ts.message, ts.result == resCanceled)
	out["status"] = statusView(ts.life, ts.result, ts.message)
	if ts.outcome != "" {
		c := maps.Clone(getMap(out, "condition_task"))
		c["outcome"] = ts.outcome
		out["condition_task"] = c
	}
	return out
}

// taskRunAsRun renders a task run as a Run, as runs/get does for a task run
// id and runs/get-output does in metadata.
func taskRunAsRun(r *run, ts *taskState, host string) map[string]any {
	_, hasGit := r.Settings["git_source"]
	tv := taskView(ts, r, host, hasGit)
	out := map[string]any{
		"run_id":                  tv["run_id"],
		"job_run_id":              num(r.ID),
		"number_in_job":           tv["run_id"],
		"original_attempt_run_id": tv["run_id"],
		"attempt_number":          zero,
		"creator_user_name":       r.Creator,
		"run_name":                ts.key,
		"run_type":                r.Type,
		"trigger":                 "ONE_TIME",
		"format":                  "MULTI_TASK",
		"start_time":              tv["start_time"],
		"end_time":                tv["end_time"],
		"setup_duration":          zero,
		"execution_duration":      tv["execution_duration"],
		"cleanup_duration":        zero,
		"run_duration":            tv["run_duration"],
		"run_page_url":            tv["run_page_url"],
		"state":                   tv["state"],
		"status":                  tv["status"],
		"tasks":                   []any{tv},
	}
	if r.Type == runTypeJob {
		out["job_id"] = num(r.JobID)
	}
	return out
}

func repairHistory(r *run, rs *runState) []any {
	out := make([]any, len(r.Epochs))
	for i, ep := range r.Epochs {
		item := map[string]any{"type": "ORIGINAL", "id": num(r.ID), "start_time": num(ep.Start), "end_time": num(rs.epochEnds[i])}
		if i > 0 {
			item["type"], item["id"] = "REPAIR", num(ep.RepairID)
		}
		var ids []any
		for _, t := range r.Tasks {
			for _, a := range t.Attempts {
				if a.Epoch == i {
					ids = append(ids, num(a.RunID))
				}
			}
		}
		item["task_run_ids"] = ids
		life, res := lcTerminated, rs.epochResults[i]
		if i == len(r.Epochs)-1 {
			life = rs.life
		}
		item["state"] = stateView(life, res, "", res == resCanceled)
		item["status"] = statusView(life, res, "")
		out[i] = item
	}
	return out
}

func pageURL(host string, jobID, runID int64) string {
	if jobID == 0 {
		return "http://" + host + "/#run/" + strconv.FormatInt(runID, 10)
	}
	return "http://" + host + "/#job/" + strconv.FormatInt(jobID, 10) + "/run/" + strconv.FormatInt(runID, 10)
}

// stateView is the deprecated RunState object.
func stateView(life, result, msg string, cancelled bool) map[string]any {
	out := map[string]any{"life_cycle_state": life, "state_message": msg, "user_cancelled_or_timedout": cancelled}
	if result != "" {
		out["result_state"] = result
	}
	if life == lcQueued {
		out["queue_reason"] = msg
	}
	return out
}

// statusView is RunStatus: the v2 state with termination or queue details.
// The mapping of results to termination codes is assumed from the enums of
// TerminationCodeCode and TerminationTypeType.
func statusView(life, result, msg string) map[string]any {
	state := life
	switch life {
	case lcSkipped:
		state = lcTerminated
	case "":
		state = lcPending
	}
	out := map[string]any{"state": state}
	if life == lcQueued {
		out["queue_details"] = map[string]any{"code": "MAX_CONCURRENT_RUNS_REACHED", "message": msg}
	}
	if state != lcTerminated {
		return out
	}
	code, typ := "SUCCESS", "SUCCESS"
	switch result {
	case resWithFail:
		code = resWithFail
	case resFailed:
		code, typ = "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
	case resCanceled:
		code = "USER_CANCELED"
	case resUpCanceled:
		code = "CANCELED"
	case resUpFailed, resExcluded:
		code = "SKIPPED"
	case resDisabled:
		code = "DISABLED"
	case resMaxRuns:
		code, typ = "MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"
	}
	out["termination_details"] = map[string]any{"code": code, "type": typ, "message": msg}
	return out
}

// listRuns: GET jobs/runs/list (§3.2.9, §5.3): runs newest first ("descending
// order by end time. If a run has not finished, it falls back to start time",
// [SDK] interface.go), paged with opaque tokens.
func (s *Server) listRuns(rq *request) (any, *apiError) {
	st := rq.st
	p := rq.params
	// limit: "greater than 0 and less than 25. The default value is 20. If a
	// request specifies a limit of 0, the service instead uses the maximum
	// limit" ([SDK] ListRunsRequest); above 25 assumed 400.
	limit := 20
	if _, ok := p["limit"]; ok {
		limit = int(getInt(p, "limit"))
		if limit == 0 {
			limit = 25
		}
	}
	if limit < 0 || limit > 25 {
		return nil, invalidParam("Invalid limit %d: must be between 1 and 25.", limit)
	}
	if getBool(p, "active_only") && getBool(p, "completed_only") {
		// [SDK] "active_only and completed_only cannot both be true".
		return nil, invalidParam("active_only and completed_only cannot both be true.")
	}
	jobID := getInt(p, "job_id")
	from, to := getInt(p, "start_time_from"), getInt(p, "start_time_to")
	runType := getString(p, "run_type")
	expand := getBool(p, "expand_tasks")

	st.mu.RLock()
	defer st.mu.RUnlock()
	if jobID != 0 && st.jobs[jobID] == nil {
		return nil, jobNotFound(jobID)
	}
	type item struct {
		r   *run
		rs  *runState
		key cursor
	}
	var items []item
	for _, r := range st.runs {
		if r.Type == runTypeJob && !s.canView(rq, r.JobID) {
			continue // permissions.go: a listing shows what the caller may view
		}
		if jobID != 0 && (r.JobID != jobID || r.Type != runTypeJob) ||
			runType != "" && runType != r.Type ||
			from != 0 && r.Created < from || to != 0 && r.Created > to {
			continue
		}
		rs := r.eval(rq.now)
		if getBool(p, "active_only") && !rs.active() || getBool(p, "completed_only") && rs.active() {
			continue
		}
		k := r.Created
		if !rs.active() {
			k = rs.end
		}
		items = append(items, item{r, rs, cursor{K1: k, K2: r.ID}})
	}
	sortDesc(items, func(it item) cursor { return it.key })
	lo, hi, next, prev, err := pageOf(len(items), func(i int) cursor { return items[i].key }, tokRunList, getString(p, "page_token"), int(getInt(p, "offset")), limit)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"has_more": next != ""}
	if hi > lo {
		runs := make([]any, 0, hi-lo)
		for _, it := range items[lo:hi] {
			v := runView(it.r, it.rs, rq.r.Host, expand, false, s.on(FailedRunInternalError))
			if expand && !rq.v21() {
				// 2.2: at most 100 tasks per run in lists, has_more when cut
				// ([SDK] BaseRun.has_more).
				if _, more := pageArrays(v, 0, []string{"tasks", "job_clusters"}); more {
					v["has_more"] = true
				}
			}
			runs = append(runs, v)
		}
		out["runs"] = runs
	}
	if next != "" {
		out["next_page_token"] = next
	}
	if prev != "" {
		out["prev_page_token"] = prev
	}
	return out, nil
}

// getRun: GET jobs/runs/get (§3.2.10, §5.4). A task run id answers that task
// run. 2.2 pages tasks, job_clusters, job_parameters and repair_history at
// 100; 2.1 refuses runs of more than 100 tasks (assumed from §11.1).
func (s *Server) getRun(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "run_id")
	st.mu.RLock()
	defer st.mu.RUnlock()
	r, att := st.findRun(id)
	if r == nil {
		return nil, runNotFound(id)
	}
	rs := r.eval(rq.now)
	if att != nil {
		return taskRunAsRun(r, rs.byRunID[att.RunID], rq.r.Host), nil
	}
	page := 0
	if tok := getString(rq.params, "page_token"); tok != "" {
		c, err := decodeToken(tok, tokRunGet)
		if err != nil || c.K1 != id || c.K2 < 1 {
			return nil, invalidParam("Invalid page token.")
		}
		page = int(c.K2)
	}
	v := runView(r, rs, rq.r.Host, true, getBool(rq.params, "include_history"), s.on(FailedRunInternalError))
	if rq.v21() {
		if n := len(r.Tasks); n > pageSize {
			return nil, invalidParam("Resources with more than %d tasks can only be handled by API 2.2 and above. Your resource has %d tasks", pageSize, n)
		}
		return v, nil
	}
	if _, more := pageArrays(v, page, []string{"tasks", "job_clusters", "job_parameters", "repair_history"}); more {
		v["next_page_token"] = encodeToken(tokRunGet, cursor{K1: id, K2: int64(page + 1)})
	}
	return v, nil
}

// outputTask resolves the task run whose output get-output and export
// return: a task run id, or a job run of a single task. For a job run of
// several tasks the service answers 400 (§3.2.11 [obs]
// databricks/databricks-sdk-go#375).
func (s *Server) outputTask(rq *request) (*run, *taskState, *apiError) {
	st := rq.st
	id := getInt(rq.params, "run_id")
	r, att := st.findRun(id)
	if r == nil {
		return nil, nil, runNotFound(id)
	}
	rs := r.eval(rq.now)
	if att == nil {
		if len(rs.current) != 1 {
			return nil, nil, invalidParam("Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.")
		}
		return r, rs.current[0], nil
	}
	return r, rs.byRunID[att.RunID], nil
}

// getRunOutput: GET jobs/runs/get-output (§3.2.11).
func (s *Server) getRunOutput(rq *request) (any, *apiError) {
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	r, ts, err := s.outputTask(rq)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"metadata": taskRunAsRun(r, ts, rq.r.Host)}
	if !ts.terminal() {
		return out, nil
	}
	def := ts.att.Def
	if ts.result == resFailed {
		out["error"] = "emulator: task " + ts.key + " failed (the emulator fails tasks whose task_key ends in \"_fail\" or whose notebook_task.base_parameters has emulator_fail=true)"
		out["error_trace"] = ""
		return out, nil
	}
	switch {
	case def["notebook_task"] != nil:
		out["notebook_output"] = map[string]any{"truncated": false}
	case def["spark_python_task"] != nil, def["python_wheel_task"] != nil, def["spark_jar_task"] != nil, def["spark_submit_task"] != nil:
		out["logs"] = ""
		out["logs_truncated"] = false
	case def["dbt_task"] != nil:
		out["dbt_output"] = map[string]any{}
	case def["sql_task"] != nil:
		out["sql_output"] = map[string]any{}
	}
	return out, nil
}

// exportRun: GET jobs/runs/export (§3.2.12): the notebook views of a task
// run; views_to_export defaults to CODE ([SDK] ExportRunRequest).
func (s *Server) exportRun(rq *request) (any, *apiError) {
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	_, ts, err := s.outputTask(rq)
	if err != nil {
		return nil, err
	}
	views := []any{}
	what := getString(rq.params, "views_to_export")
	if nb := getMap(ts.att.Def, "notebook_task"); nb != nil && what != "DASHBOARDS" {
		p := getString(nb, "notebook_path")
		views = append(views, map[string]any{
			"name":    path.Base(p),
			"type":    "NOTEBOOK",
			"content": "<html><head><title>" + html.EscapeString(path.Base(p)) + "</title></head><body><!-- exported by the jobsync emulator: " + html.EscapeString(p) + " --></body></html>",
		})
	}
	return map[string]any{"views": views}, nil
}
