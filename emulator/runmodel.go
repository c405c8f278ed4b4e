package emulator

import (
	"slices"
	"strconv"
	"strings"
)

// Runs are emulated without goroutines: a run stores when it was started and
// what it executes, and its state is computed from the emulated clock on
// every read. A run is QUEUED until its start (when max_concurrent_runs is
// reached and queueing is on), PENDING for Options.RunPending (cluster
// setup), then its tasks run level by level of their dependency graph within
// Options.RunRunning, then it is TERMINATED.
//
// FAILED-run convention (ours, documented in `jobsync emulator --help`): a task fails when its task_key ends in "_fail", or when its
// notebook_task.base_parameters has "emulator_fail": "true". Repairs use the
// current job settings, so removing the parameter and repairing succeeds.

const (
	runTypeJob    = "JOB_RUN"
	runTypeSubmit = "SUBMIT_RUN"
)

// Life-cycle and result states (§8.5).
const (
	lcQueued     = "QUEUED"
	lcPending    = "PENDING"
	lcBlocked    = "BLOCKED"
	lcRunning    = "RUNNING"
	lcTerminated = "TERMINATED"
	lcSkipped    = "SKIPPED"
	// lcInternalError is how the service ends a failed run (runView).
	lcInternalError = "INTERNAL_ERROR"
	resSuccess      = "SUCCESS"
	resFailed       = "FAILED"
	resCanceled     = "CANCELED"
	resUpFailed     = "UPSTREAM_FAILED"
	resUpCanceled   = "UPSTREAM_CANCELED"
	resExcluded     = "EXCLUDED"
	resDisabled     = "DISABLED"
	resWithFail     = "SUCCESS_WITH_FAILURES"
	resMaxRuns      = "MAXIMUM_CONCURRENT_RUNS_REACHED"
)

// run is a job run or a one-time (submitted) run. Its fields are persisted.
type run struct {
	ID        int64  `json:"run_id"`
	JobID     int64  `json:"job_id,omitempty"`
	Type      string `json:"run_type"`
	Name      string `json:"run_name"`
	Creator   string `json:"creator_user_name"`
	Created   int64  `json:"created"` // epoch ms of the request (start_time)
	PendingMs int64  `json:"pending_ms"`
	RunningMs int64  `json:"running_ms"`
	// Skipped: max_concurrent_runs was reached and queueing is off.
	Skipped    bool             `json:"skipped,omitempty"`
	Token      string           `json:"idempotency_token,omitempty"`
	Settings   map[string]any   `json:"settings"` // job settings the run started with
	Params     []map[string]any `json:"job_parameters,omitempty"`
	Overriding map[string]any   `json:"overriding_parameters,omitempty"`
	Epochs     []*epoch         `json:"epochs"` // the original run, then each repair
	Tasks      []*taskRun       `json:"tasks"`
}

// epoch is the original execution of a run or one repair of it.
type epoch struct {
	RepairID int64    `json:"repair_id,omitempty"` // 0 for the original execution
	Start    int64    `json:"start"`               // epoch ms its tasks may start (after any queueing)
	Canceled int64    `json:"canceled,omitempty"`  // epoch ms of runs/cancel, 0 = not cancelled
	Keys     []string `json:"task_keys"`
}

// taskRun is one task of a run with every attempt at it (the original and
// one per repair that reran it).
type taskRun struct {
	Key      string     `json:"task_key"`
	Attempts []*attempt `json:"attempts"`
}

type attempt struct {
	RunID int64          `json:"run_id"`
	Epoch int            `json:"epoch"`
	Def   map[string]any `json:"task"` // the task settings it ran with
}

func (t *taskRun) last() *attempt { return t.Attempts[len(t.Attempts)-1] }

// end is when the latest execution of r ends (or ended) at the latest.
func (r *run) end() int64 {
	ep := r.Epochs[len(r.Epochs)-1]
	if ep.Canceled > 0 {
		return min(ep.Canceled, ep.Start+r.PendingMs+r.RunningMs)
	}
	return ep.Start + r.PendingMs + r.RunningMs
}

// taskState is the computed state of one task attempt.
type taskState struct {
	att          *attempt
	key          string
	life, result string
	message      string
	outcome      string // condition_task result, "true" or "false"
	start, end   int64  // epoch ms; end 0 while not ended
}

func (ts *taskState) terminal() bool { return ts.life == lcTerminated || ts.life == lcSkipped }

// runState is the computed state of a run at one instant.
type runState struct {
	life, result, message string
	cancelled             bool
	end                   int64                // 0 while active
	current               []*taskState         // latest attempt of each task, in run order
	byRunID               map[int64]*taskState // every attempt
	epochEnds             []int64
	epochResults          []string
}

func (rs *runState) active() bool { return rs.life != lcTerminated && rs.life != lcSkipped }

// eval computes the state of r at now (epoch ms).
func (r *run) eval(now int64) *runState {
	rs := &runState{byRunID: map[int64]*taskState{}}
	latest := map[string]*taskState{} // final states of earlier epochs, then this one
	for ei, ep := range r.Epochs {
		atts := map[string]*attempt{}
		for _, t := range r.Tasks {
			for _, a := range t.Attempts {
				if a.Epoch == ei {
					atts[t.Key] = a
				}
			}
		}
		keys := ep.Keys
		levels, n := levelsOf(keys, atts)
		d := r.RunningMs / int64(n)
		base := ep.Start + r.PendingMs
		order := slices.Clone(keys)
		slices.SortStableFunc(order, func(a, b string) int { return levels[a] - levels[b] })
		epochEnd, epochDone := int64(0), true
		for _, key := range order {
			a := atts[key]
			lvl := int64(levels[key])
			s, t := base+lvl*d, base+(lvl+1)*d
			ts := &taskState{att: a, key: key, start: s}
			result, runs := decide(a.Def, latest)
			if c := getMap(a.Def, "condition_task"); c != nil && runs {
				ts.outcome = conditionOutcome(c)
			}
			done := s
			if runs {
				done = t
			}
			switch {
			case r.Skipped:
				ts.life, ts.result, ts.end = lcSkipped, resMaxRuns, r.Created
			case ep.Canceled > 0 && ep.Canceled < done:
				ts.life, ts.end, ts.result = lcTerminated, ep.Canceled, resUpCanceled
				if ep.Canceled >= s || lvl == 0 {
					ts.result = resCanceled
				}
				if ep.Canceled < s {
					ts.start = 0
				}
				ts.outcome = ""
			case now < s:
				ts.start = 0
				ts.life = lcPending
				if lvl > 0 && now >= base {
					ts.life = lcBlocked
				}
				if now < ep.Start {
					ts.life = lcQueued
				}
				ts.outcome = ""
			case now < done:
				ts.life = lcRunning
				ts.outcome = ""
			default:
				ts.life, ts.result, ts.end = lcTerminated, result, done
			}
			if ts.result == resFailed {
				ts.message = "Workload failed, see run output for details."
			}
			latest[key] = ts
			rs.byRunID[a.RunID] = ts
			epochEnd = max(epochEnd, ts.end)
			epochDone = epochDone && ts.terminal()
		}
		if !epochDone {
			epochEnd = 0
		}
		rs.epochEnds = append(rs.epochEnds, epochEnd)
		var sofar []*taskState
		for _, t := range r.Tasks {
			if ts := latest[t.Key]; ts != nil {
				sofar = append(sofar, ts)
			}
		}
		res := leafResult(sofar)
		if ep.Canceled > 0 && ep.Canceled <= epochEnd {
			res = resCanceled
		}
		rs.epochResults = append(rs.epochResults, res)
	}
	for _, t := range r.Tasks {
		rs.current = append(rs.current, latest[t.Key])
	}
	r.summarize(rs, now)
	return rs
}

// summarize sets the run-level state from the task states.
func (r *run) summarize(rs *runState, now int64) {
	ep := r.Epochs[len(r.Epochs)-1]
	allDone := true
	for _, ts := range rs.current {
		allDone = allDone && ts.terminal()
		rs.end = max(rs.end, ts.end)
	}
	switch {
	case r.Skipped:
		rs.life, rs.result, rs.end = lcSkipped, resMaxRuns, r.Created
		rs.message = "Skipped: the maximum number of concurrent runs of this job was reached."
	case !allDone:
		rs.end = 0
		switch {
		case now < ep.Start:
			rs.life = lcQueued
			rs.message = "Queued: waiting for an active run of this job to finish (max_concurrent_runs)."
		case now < ep.Start+r.PendingMs:
			rs.life = lcPending
			rs.message = "Waiting for cluster"
		default:
			rs.life = lcRunning
			rs.message = "In run"
		}
	case ep.Canceled > 0 && ep.Canceled <= rs.end:
		rs.life, rs.result, rs.cancelled = lcTerminated, resCanceled, true
		rs.message = "Run cancelled."
	default:
		rs.life, rs.result = lcTerminated, leafResult(rs.current)
		if rs.result != resSuccess {
			for _, ts := range rs.current {
				if ts.result == resFailed {
					rs.message = "Task " + ts.key + " failed with message: Workload failed, see run output for details."
					break
				}
			}
		}
	}
	rs.epochResults[len(rs.epochResults)-1] = rs.result
}

// leafResult: a job run FAILED when one of its leaf tasks failed (or was
// skipped for an upstream failure); SUCCESS_WITH_FAILURES when tasks failed
// but every leaf succeeded ([SDK] RunResultState docs).
func leafResult(tasks []*taskState) string {
	dependedOn := map[string]bool{}
	anyFailed := false
	for _, ts := range tasks {
		for _, d := range objects(ts.att.Def, "depends_on") {
			dependedOn[getString(d, "task_key")] = true
		}
		anyFailed = anyFailed || isFailure(ts.result)
	}
	for _, ts := range tasks {
		if !dependedOn[ts.key] && isFailure(ts.result) {
			return resFailed
		}
	}
	if anyFailed {
		return resWithFail
	}
	return resSuccess
}

func isFailure(result string) bool {
	return result == resFailed || result == resUpFailed || result == "TIMEDOUT"
}

// decide returns the result a task will have and whether it executes, given
// the final states of the tasks it depends on, its run_if condition
// (§8.3 RunIf; skipped tasks per [SDK] RunResultState: UPSTREAM_FAILED,
// UPSTREAM_CANCELED, EXCLUDED) and the FAILED-run convention.
func decide(def map[string]any, states map[string]*taskState) (string, bool) {
	if getBool(def, "disabled") {
		return resDisabled, false
	}
	deps := objects(def, "depends_on")
	var success, failed, cancelled int
	for _, d := range deps {
		ds := states[getString(d, "task_key")]
		if ds == nil {
			success++ // not part of this run (run-now "only"): satisfied
			continue
		}
		switch ds.result {
		case resSuccess, resWithFail, resDisabled:
			// A dependency on a condition_task outcome is met only by that
			// outcome ([SDK] TaskDependency.outcome).
			if want := getString(d, "outcome"); want == "" || want == ds.outcome {
				success++
			}
		case resFailed, resUpFailed, "TIMEDOUT":
			failed++
		case resCanceled, resUpCanceled:
			cancelled++
		}
	}
	if len(deps) > 0 {
		var ok bool
		switch getString(def, "run_if") {
		case "ALL_DONE":
			ok = true
		case "NONE_FAILED":
			ok = failed == 0 && cancelled == 0
		case "AT_LEAST_ONE_SUCCESS":
			ok = success > 0
		case "ALL_FAILED":
			if failed != len(deps) {
				return resExcluded, false
			}
			ok = true
		case "AT_LEAST_ONE_FAILED":
			if failed == 0 {
				return resExcluded, false
			}
			ok = true
		default: // ALL_SUCCESS
			ok = success == len(deps)
		}
		if !ok {
			switch {
			case failed > 0:
				return resUpFailed, false
			case cancelled > 0:
				return resUpCanceled, false
			}
			return resExcluded, false
		}
	}
	if taskFails(def) {
		return resFailed, true
	}
	return resSuccess, true
}

// taskFails applies the FAILED-run convention (see the top of this file).
func taskFails(def map[string]any) bool {
	if strings.HasSuffix(getString(def, "task_key"), "_fail") {
		return true
	}
	nb := getMap(def, "notebook_task")
	return getString(getMap(nb, "base_parameters"), "emulator_fail") == "true"
}

// conditionOutcome evaluates a condition_task: EQUAL_TO and NOT_EQUAL compare
// strings, the others numbers ([SDK] ConditionTask.op).
func conditionOutcome(c map[string]any) string {
	l, r := getString(c, "left"), getString(c, "right")
	var res bool
	switch op := getString(c, "op"); op {
	case "EQUAL_TO":
		res = l == r
	case "NOT_EQUAL":
		res = l != r
	default:
		lf, err1 := strconv.ParseFloat(l, 64)
		rf, err2 := strconv.ParseFloat(r, 64)
		if err1 != nil || err2 != nil {
			return "false"
		}
		switch op {
		case "GREATER_THAN":
			res = lf > rf
		case "GREATER_THAN_OR_EQUAL":
			res = lf >= rf
		case "LESS_THAN":
			res = lf < rf
		case "LESS_THAN_OR_EQUAL":
			res = lf <= rf
		}
	}
	return strconv.FormatBool(res)
}

// levelsOf computes the depth of each task in the dependency graph restricted
// to keys (dependencies outside keys are already satisfied), and the number
// of levels.
func levelsOf(keys []string, atts map[string]*attempt) (map[string]int, int) {
	in := make(map[string]bool, len(keys))
	for _, k := range keys {
		in[k] = true
	}
	levels := make(map[string]int, len(keys))
	var depth func(k string, seen int) int
	depth = func(k string, seen int) int {
		if l, ok := levels[k]; ok {
			return l
		}
		l := 0
		if seen <= len(keys) { // cycles are refused on write; stay finite anyway
			for _, d := range objects(atts[k].Def, "depends_on") {
				if dk := getString(d, "task_key"); in[dk] {
					l = max(l, depth(dk, seen+1)+1)
				}
			}
		}
		levels[k] = l
		return l
	}
	n := 1
	for _, k := range keys {
		n = max(n, depth(k, 0)+1)
	}
	return levels, n
}
