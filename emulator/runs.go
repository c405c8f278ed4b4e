package emulator

import (
	"encoding/json"
	"slices"
	"strings"
)

// runNow: POST jobs/run-now (§3.2.7).
func (s *Server) runNow(rq *request) (any, *apiError) {
	st := rq.st
	p := rq.params
	id := getInt(p, "job_id")
	st.mu.Lock()
	defer st.mu.Unlock()
	j := st.jobs[id]
	if j == nil {
		return nil, jobNotFound(id)
	}
	if r, done, err := st.replay(getString(p, "idempotency_token")); done || err != nil {
		return runNowBody(r), err
	}
	if err := checkLegacyParams(p); err != nil {
		return nil, err
	}
	tasks := objects(j.settings, "tasks")
	if len(tasks) == 0 {
		return nil, invalidParam("Job %d has no tasks to run.", id)
	}
	tasks, err := selectTasks(tasks, getList(p, "only"))
	if err != nil {
		return nil, err
	}
	queue := getMap(j.settings, "queue")
	if q := getMap(p, "queue"); q != nil {
		queue = q
	}
	maxRuns := int64(1)
	if _, ok := j.settings["max_concurrent_runs"]; ok {
		maxRuns = getInt(j.settings, "max_concurrent_runs")
	}
	start, skipped := st.scheduleRun(id, maxRuns, getBool(queue, "enabled"), rq.now)
	r := s.newRun(rq, start, j.settings, tasks)
	r.JobID, r.Type, r.Name, r.Skipped = id, runTypeJob, jobName(j), skipped
	r.Token = getString(p, "idempotency_token")
	r.Params = resolveParams(j.settings, getMap(p, "job_parameters"))
	r.Overriding = overriding(p)
	st.addRun(r)
	return runNowBody(r), nil
}

func runNowBody(r *run) any {
	if r == nil {
		return nil
	}
	// number_in_job is deprecated and equals run_id ([OAS21]).
	return map[string]any{"run_id": num(r.ID), "number_in_job": num(r.ID)}
}

// replay implements idempotency_token (≤ 64 characters): the same token gives
// the same run; if that run was deleted, an error ([SDK] RunNow, SubmitRun).
func (st *store) replay(token string) (*run, bool, *apiError) {
	if token == "" {
		return nil, false, nil
	}
	if len(token) > maxIdempotencyLen {
		return nil, false, invalidParam("idempotency_token must be at most %d characters long.", maxIdempotencyLen)
	}
	rid, ok := st.tokens[token]
	if !ok {
		return nil, false, nil
	}
	if r := st.runs[rid]; r != nil {
		return r, true, nil
	}
	return nil, true, invalidParam("The run with idempotency token %s has been deleted.", token)
}

// checkLegacyParams: notebook_params and jar_params are mutually exclusive and
// each legacy parameter set is at most 10,000 bytes of JSON ([SDK] RunNow).
func checkLegacyParams(p map[string]any) *apiError {
	if _, nb := p["notebook_params"]; nb {
		if _, jar := p["jar_params"]; jar {
			return invalidParam("notebook_params and jar_params cannot be used together.")
		}
	}
	for _, k := range []string{"notebook_params", "jar_params", "python_params", "spark_submit_params", "python_named_params", "sql_params", "dbt_commands"} {
		if v, ok := p[k]; ok {
			if b, _ := json.Marshal(v); len(b) > 10_000 {
				return invalidParam("%s must be at most 10000 bytes of JSON; it is %d.", k, len(b))
			}
		}
	}
	return nil
}

// selectTasks applies run-now "only": task keys to run; "+key" adds the
// upstream tasks of key, "key+" its downstream tasks ([SDK] RunNow.only).
func selectTasks(tasks []map[string]any, only []any) ([]map[string]any, *apiError) {
	if len(only) == 0 {
		return tasks, nil
	}
	byKey := map[string]map[string]any{}
	for _, t := range tasks {
		byKey[getString(t, "task_key")] = t
	}
	want := map[string]bool{}
	var walk func(k string, up bool)
	walk = func(k string, up bool) {
		if want[k] {
			return
		}
		want[k] = true
		if up {
			for _, d := range objects(byKey[k], "depends_on") {
				walk(getString(d, "task_key"), true)
			}
			return
		}
		for _, t := range tasks {
			for _, d := range objects(t, "depends_on") {
				if getString(d, "task_key") == k {
					walk(getString(t, "task_key"), false)
				}
			}
		}
	}
	for _, o := range only {
		k, _ := o.(string)
		up, down := strings.HasPrefix(k, "+"), strings.HasSuffix(k, "+")
		k = strings.TrimSuffix(strings.TrimPrefix(k, "+"), "+")
		if byKey[k] == nil {
			return nil, invalidParam("Task %s in only does not exist in the job.", k)
		}
		switch {
		case up:
			walk(k, true)
		case down:
			walk(k, false)
		default:
			want[k] = true
		}
	}
	var out []map[string]any
	for _, t := range tasks {
		if want[getString(t, "task_key")] {
			out = append(out, t)
		}
	}
	return out, nil
}

// resolveParams lists the job parameters of a run with their values
// ([SDK] BaseRun.job_parameters: name, default, value).
func resolveParams(settings map[string]any, overrides map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range objects(settings, "parameters") {
		name, def := getString(p, "name"), getString(p, "default")
		value := def
		if v, ok := overrides[name].(string); ok {
			value = v
		}
		out = append(out, map[string]any{"name": name, "default": def, "value": value})
	}
	return out
}

func overriding(p map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"notebook_params", "jar_params", "python_params", "spark_submit_params", "python_named_params", "sql_params", "dbt_commands", "pipeline_params"} {
		if v, ok := p[k]; ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// scheduleRun decides when a new run of job may start: now when fewer than
// maxRuns runs are active; when queueing is on, as soon as enough active
// runs have ended (QUEUED meanwhile); otherwise the run is skipped
// (MAXIMUM_CONCURRENT_RUNS_REACHED). max_concurrent_runs 0 skips every run
// ([SDK] JobSettings.max_concurrent_runs). A queued run keeps the start
// computed here even if an earlier run is cancelled (simplification).
func (st *store) scheduleRun(jobID, maxRuns int64, queue bool, now int64) (int64, bool) {
	if maxRuns <= 0 {
		return now, true
	}
	var ends []int64
	for _, r := range st.runs {
		if r.JobID == jobID && r.Type == runTypeJob && !r.Skipped {
			if e := r.end(); e > now {
				ends = append(ends, e)
			}
		}
	}
	if int64(len(ends)) < maxRuns {
		return now, false
	}
	if !queue {
		return now, true
	}
	slices.Sort(ends)
	return ends[int64(len(ends))-maxRuns], false
}

// newRun creates a run of tasks (not yet stored) starting at start.
func (s *Server) newRun(rq *request, start int64, settings map[string]any, tasks []map[string]any) *run {
	r := &run{
		ID:        rq.st.newRunID(),
		Creator:   rq.who.name,
		Created:   rq.now,
		PendingMs: s.opts.RunPending.Milliseconds(),
		RunningMs: max(s.opts.RunRunning.Milliseconds(), 1),
		Settings:  settings,
	}
	ep := &epoch{Start: start}
	for _, t := range tasks {
		key := getString(t, "task_key")
		ep.Keys = append(ep.Keys, key)
		r.Tasks = append(r.Tasks, &taskRun{Key: key, Attempts: []*attempt{{RunID: rq.st.newRunID(), Def: t}}})
	}
	r.Epochs = []*epoch{ep}
	return r
}

func (st *store) addRun(r *run) {
	st.runs[r.ID] = r
	for _, t := range r.Tasks {
		for _, a := range t.Attempts {
			st.taskRuns[a.RunID] = r.ID
		}
	}
	if r.Token != "" {
		st.tokens[r.Token] = r.ID
	}
}

// submitRun: POST jobs/runs/submit (§3.2.8): a one-time run, not a saved job.
func (s *Server) submitRun(rq *request) (any, *apiError) {
	st := rq.st
	p := rq.params
	settings := map[string]any{}
	for _, k := range []string{"tasks", "git_source", "environments", "timeout_seconds", "run_as", "queue", "email_notifications", "webhook_notifications", "notification_settings", "health", "performance_target", "budget_policy_id"} {
		if v, ok := p[k]; ok {
			settings[k] = v
		}
	}
	normalizeSettings(settings)
	tasks := objects(settings, "tasks")
	if len(tasks) == 0 {
		return nil, invalidParam("A run must have at least one task.")
	}
	if err := validateSettings(settings); err != nil {
		return nil, err
	}
	name := getString(p, "run_name")
	if name == "" {
		name = "Untitled" // [ts] libs/testserver/jobs.go JobsSubmit "Jobs API behavior"
	}
	if len(name) > maxNameBytes {
		return nil, invalidParam("run_name must be at most %d bytes long.", maxNameBytes)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if r, done, err := st.replay(getString(p, "idempotency_token")); done || err != nil {
		if r == nil {
			return nil, err
		}
		return map[string]any{"run_id": num(r.ID)}, nil
	}
	r := s.newRun(rq, rq.now, settings, tasks)
	r.Type, r.Name, r.Token = runTypeSubmit, name, getString(p, "idempotency_token")
	st.addRun(r)
	return map[string]any{"run_id": num(r.ID)}, nil
}

// findRun resolves a job run id or a task run id.
func (st *store) findRun(id int64) (*run, *attempt) {
	if r := st.runs[id]; r != nil {
		return r, nil
	}
	if rid, ok := st.taskRuns[id]; ok {
		r := st.runs[rid]
		for _, t := range r.Tasks {
			for _, a := range t.Attempts {
				if a.RunID == id {
					return r, a
				}
			}
		}
	}
	return nil, nil
}

// cancelRun: POST jobs/runs/cancel (§3.2.13). Cancelling is asynchronous on
// the service; here the run is TERMINATED/CANCELED at once. Cancelling a
// finished run does nothing. A task run id cancels its job run (assumed).
func (s *Server) cancelRun(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "run_id")
	st.mu.Lock()
	defer st.mu.Unlock()
	r, _ := st.findRun(id)
	if r == nil {
		return nil, runNotFound(id)
	}
	cancel(r, rq.now)
	return nil, nil
}

func cancel(r *run, now int64) {
	if r.eval(now).active() {
		r.Epochs[len(r.Epochs)-1].Canceled = now
	}
}

// cancelAllRuns: POST jobs/runs/cancel-all (§3.2.14): the active runs of
// job_id, or with all_queued_runs and no job_id every queued run.
func (s *Server) cancelAllRuns(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "job_id")
	queued := getBool(rq.params, "all_queued_runs")
	st.mu.Lock()
	defer st.mu.Unlock()
	if id == 0 && !queued {
		return nil, invalidParam("Either job_id or all_queued_runs must be set.")
	}
	if id != 0 && st.jobs[id] == nil {
		return nil, jobNotFound(id)
	}
	for _, r := range st.runs {
		if id != 0 && (r.JobID != id || r.Type != runTypeJob) {
			continue
		}
		if id == 0 && r.eval(rq.now).life != lcQueued {
			continue
		}
		cancel(r, rq.now)
	}
	return nil, nil
}

// deleteRun: POST jobs/runs/delete (§3.2.15): "Deletes a non-active run.
// Returns an error if the run is active." (error code assumed).
func (s *Server) deleteRun(rq *request) (any, *apiError) {
	st := rq.st
	id := getInt(rq.params, "run_id")
	st.mu.Lock()
	defer st.mu.Unlock()
	r := st.runs[id]
	if r == nil {
		return nil, runNotFound(id)
	}
	if r.eval(rq.now).active() {
		return nil, invalidState("Run %d is active and cannot be deleted; cancel it first.", id)
	}
	st.deleteRun(id)
	return nil, nil
}

// repairRun: POST jobs/runs/repair (§3.2.16). The run must have finished;
// latest_repair_id is not needed for the first repair and must name the
// latest repair afterwards ([SDK] RepairRun); the rerun tasks use the current
// job settings ([SDK] interface doc). rerun_all_failed_tasks reruns every
// task that did not succeed; rerun_dependent_tasks adds their downstream
// tasks. Error messages are assumed.
func (s *Server) repairRun(rq *request) (any, *apiError) {
	st := rq.st
	p := rq.params
	id := getInt(p, "run_id")
	st.mu.Lock()
	defer st.mu.Unlock()
	r := st.runs[id]
	if r == nil {
		return nil, runNotFound(id)
	}
	rs := r.eval(rq.now)
	if rs.active() {
		return nil, invalidState("Run %d is still in progress; only finished runs can be repaired.", id)
	}
	latest := r.Epochs[len(r.Epochs)-1].RepairID
	if got := getInt(p, "latest_repair_id"); got != latest {
		if latest == 0 {
			return nil, invalidParam("Run %d has not been repaired yet: latest_repair_id must not be set.", id)
		}
		return nil, invalidParam("latest_repair_id must be %d, the ID of the latest repair of run %d.", latest, id)
	}
	settings := r.Settings
	if r.Type == runTypeJob {
		j := st.jobs[r.JobID]
		if j == nil {
			return nil, jobNotFound(r.JobID)
		}
		settings = j.settings
	}
	rerun := map[string]bool{}
	for _, k := range getList(p, "rerun_tasks") {
		key, _ := k.(string)
		if !slices.ContainsFunc(r.Tasks, func(t *taskRun) bool { return t.Key == key }) {
			return nil, invalidParam("Task %s is not a task of run %d.", key, id)
		}
		rerun[key] = true
	}
	if getBool(p, "rerun_all_failed_tasks") {
		for _, ts := range rs.current {
			if ts.result != resSuccess && ts.result != resDisabled && ts.result != resExcluded {
				rerun[ts.key] = true
			}
		}
	}
	if len(getList(p, "rerun_tasks")) == 0 && !getBool(p, "rerun_all_failed_tasks") {
		return nil, invalidParam("Either rerun_tasks or rerun_all_failed_tasks must be set.")
	}
	if getBool(p, "rerun_dependent_tasks") {
		addDependents(r, rerun)
	}
	if len(rerun) == 0 {
		return nil, invalidParam("Run %d has no tasks to repair.", id)
	}
	defs := map[string]map[string]any{}
	for _, t := range objects(settings, "tasks") {
		defs[getString(t, "task_key")] = t
	}
	ep := &epoch{RepairID: st.newRunID(), Start: rq.now}
	for _, t := range r.Tasks {
		if !rerun[t.Key] {
			continue
		}
		def := defs[t.Key]
		if def == nil {
			return nil, invalidParam("Task %s no longer exists in job %d and cannot be repaired.", t.Key, r.JobID)
		}
		ep.Keys = append(ep.Keys, t.Key)
	}
	// Commit only after every check passed.
	for _, t := range r.Tasks {
		if rerun[t.Key] {
			a := &attempt{RunID: st.newRunID(), Epoch: len(r.Epochs), Def: defs[t.Key]}
			t.Attempts = append(t.Attempts, a)
			st.taskRuns[a.RunID] = r.ID
		}
	}
	r.Skipped = false
	r.Epochs = append(r.Epochs, ep)
	if jp := getMap(p, "job_parameters"); jp != nil {
		r.Params = resolveParams(settings, jp)
	}
	if o := overriding(p); o != nil {
		r.Overriding = o
	}
	return map[string]any{"repair_id": num(ep.RepairID)}, nil
}

// addDependents adds every task downstream of the tasks in set.
func addDependents(r *run, set map[string]bool) {
	for changed := true; changed; {
		changed = false
		for _, t := range r.Tasks {
			if set[t.Key] {
				continue
			}
			for _, d := range objects(t.last().Def, "depends_on") {
				if set[getString(d, "task_key")] {
					set[t.Key] = true
					changed = true
					break
				}
			}
		}
	}
}
