package jobsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// RunNowResponse is the answer of jobs/run-now. NumberInJob is deprecated
// and equals RunID.
type RunNowResponse struct {
	RunID       int64 `json:"run_id"`
	NumberInJob int64 `json:"number_in_job,omitempty"`
}

// RunState is the (deprecated but universally sent) state of a run or task
// run.
type RunState struct {
	LifeCycleState string `json:"life_cycle_state,omitempty"`
	ResultState    string `json:"result_state,omitempty"`
	StateMessage   string `json:"state_message,omitempty"`
}

// Terminal reports whether the life cycle has ended (TERMINATED, SKIPPED or
// INTERNAL_ERROR; jobs-api.md §3.2.10).
func (s RunState) Terminal() bool {
	switch s.LifeCycleState {
	case "TERMINATED", "SKIPPED", "INTERNAL_ERROR":
		return true
	}
	return false
}

// RunTask is one task run of a job run.
type RunTask struct {
	RunID   int64    `json:"run_id"`
	TaskKey string   `json:"task_key"`
	State   RunState `json:"state"`
}

// Run is a run as read through runs/get or runs/list. The typed fields are
// the ones jobsync looks at; Raw holds the whole object (numbers as
// json.Number), so nothing the workspace sent is lost.
type Run struct {
	RunID       int64     `json:"run_id"`
	JobID       int64     `json:"job_id,omitempty"`
	NumberInJob int64     `json:"number_in_job,omitempty"`
	RunName     string    `json:"run_name,omitempty"`
	RunType     string    `json:"run_type,omitempty"`
	StartTime   int64     `json:"start_time,omitempty"`
	EndTime     int64     `json:"end_time,omitempty"`
	State       RunState  `json:"state"`
	Tasks       []RunTask `json:"tasks,omitempty"`
	// HasMore is set on runs/list items whose arrays were cut at 100; read
	// the run whole with GetRun.
	HasMore bool           `json:"has_more,omitempty"`
	Raw     map[string]any `json:"-"`
}

type runFields Run

// UnmarshalJSON fills the typed fields and keeps the whole object in Raw.
func (r *Run) UnmarshalJSON(b []byte) error {
	var f runFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	raw := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	*r = Run(f)
	r.Raw = raw
	return nil
}

// MarshalJSON writes Raw when present (the run as the workspace sent it).
func (r Run) MarshalJSON() ([]byte, error) {
	if r.Raw != nil {
		return json.Marshal(r.Raw)
	}
	return json.Marshal(runFields(r))
}

// ListRunsOptions filter runs/list.
type ListRunsOptions struct {
	JobID         int64  // 0: runs of every job
	ActiveOnly    bool   // QUEUED, PENDING, RUNNING, TERMINATING
	CompletedOnly bool   // cannot be combined with ActiveOnly
	RunType       string // JOB_RUN, WORKFLOW_RUN or SUBMIT_RUN
	StartTimeFrom int64  // epoch ms, inclusive
	StartTimeTo   int64  // epoch ms, inclusive
	ExpandTasks   bool
	// Limit is the page size; 0 means 25.
	Limit int
	// Max stops after this many runs (0: all). Runs lists grow without
	// bound, so callers that want "the latest few" should set it.
	Max int
}

// runsPageSize is the largest runs/list page every documented version
// accepts (2.1: 1..25; jobs-api.md §3.3).
const runsPageSize = 25

// runArrays are the Run arrays that runs/get pages at 100 (jobs-api.md §5.4).
var runArrays = []string{"tasks", "job_clusters", "job_parameters", "repair_history", "iterations"}

// RunNow triggers a run of a saved job; body is a RunNow object. Without an
// idempotency_token a run-now whose answer is lost is not repeated (it could
// start a second run): the error matches ErrMaybeCommitted. With one, the
// workspace deduplicates and the call is retried.
func (c *Client) RunNow(ctx context.Context, body json.RawMessage) (RunNowResponse, error) {
	var resp RunNowResponse
	_, err := c.write(ctx, "jobs/run-now", body, hasIdempotencyToken(body), &resp)
	return resp, err
}

// SubmitRun starts a one-time run (a SubmitRun body) and returns its run id.
// Retries follow the rule of RunNow.
func (c *Client) SubmitRun(ctx context.Context, body json.RawMessage) (int64, error) {
	var resp struct {
		RunID int64 `json:"run_id"`
	}
	_, err := c.write(ctx, "jobs/runs/submit", body, hasIdempotencyToken(body), &resp)
	return resp.RunID, err
}

// ListRuns returns runs, newest first, following page tokens.
func (c *Client) ListRuns(ctx context.Context, o ListRunsOptions) ([]Run, error) {
	limit := o.Limit
	if limit <= 0 {
		limit = runsPageSize
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if o.JobID != 0 {
		q.Set("job_id", strconv.FormatInt(o.JobID, 10))
	}
	if o.ActiveOnly {
		q.Set("active_only", "true")
	}
	if o.CompletedOnly {
		q.Set("completed_only", "true")
	}
	if o.RunType != "" {
		q.Set("run_type", o.RunType)
	}
	if o.StartTimeFrom != 0 {
		q.Set("start_time_from", strconv.FormatInt(o.StartTimeFrom, 10))
	}
	if o.StartTimeTo != 0 {
		q.Set("start_time_to", strconv.FormatInt(o.StartTimeTo, 10))
	}
	if o.ExpandTasks {
		q.Set("expand_tasks", "true")
	}
	var all []Run
	seen := map[string]bool{}
	for page := 0; ; page++ {
		var resp struct {
			Runs          []Run  `json:"runs"`
			HasMore       bool   `json:"has_more"`
			NextPageToken string `json:"next_page_token"`
		}
		if _, err := c.do(ctx, c.get("jobs/runs/list", q), &resp); err != nil {
			return nil, err
		}
		all = append(all, resp.Runs...)
		if o.Max > 0 && len(all) >= o.Max {
			return all[:o.Max], nil
		}
		tok := resp.NextPageToken
		if tok == "" {
			return all, nil
		}
		if seen[tok] || page >= maxPages {
			return nil, fmt.Errorf("GET %s/runs/list: the workspace returned page token %q again after %d pages; stopping to avoid an endless loop", c.jobsBase, tok, page+1)
		}
		seen[tok] = true
		q = cloneValues(q)
		q.Set("page_token", tok)
	}
}

// GetRun reads one run whole, following next_page_token and appending the
// paged arrays (tasks, job_clusters, job_parameters, repair_history,
// iterations) of later pages to the first page's.
func (c *Client) GetRun(ctx context.Context, runID int64) (*Run, error) {
	q := url.Values{"run_id": {strconv.FormatInt(runID, 10)}}
	var merged map[string]any
	seen := map[string]bool{}
	for page := 0; ; page++ {
		var resp map[string]any
		if _, err := c.do(ctx, c.get("jobs/runs/get", q), &resp); err != nil {
			return nil, err
		}
		tok, _ := resp["next_page_token"].(string)
		delete(resp, "next_page_token")
		if merged == nil {
			merged = resp
		} else {
			for _, k := range runArrays {
				more, _ := resp[k].([]any)
				if len(more) == 0 {
					continue
				}
				have, _ := merged[k].([]any)
				merged[k] = append(have, more...)
			}
		}
		if tok == "" {
			break
		}
		if seen[tok] || page >= maxPages {
			return nil, fmt.Errorf("GET %s/runs/get (run %d): the workspace returned page token %q again after %d pages; stopping to avoid an endless loop", c.jobsBase, runID, tok, page+1)
		}
		seen[tok] = true
		q = cloneValues(q)
		q.Set("page_token", tok)
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, fmt.Errorf("GET %s/runs/get (run %d): %w", c.jobsBase, runID, err)
	}
	var r Run
	if err := r.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("GET %s/runs/get (run %d): unexpected answer: %w", c.jobsBase, runID, err)
	}
	r.HasMore = false
	return &r, nil
}

// GetRunOutput returns the output of a task run (a multi-task job run is
// refused by the workspace with 400 INVALID_PARAMETER_VALUE).
func (c *Client) GetRunOutput(ctx context.Context, runID int64) (map[string]any, error) {
	q := url.Values{"run_id": {strconv.FormatInt(runID, 10)}}
	var out map[string]any
	if _, err := c.do(ctx, c.get("jobs/runs/get-output", q), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ExportRun exports a run's views; views is CODE (the server's default when
// empty), DASHBOARDS or ALL.
func (c *Client) ExportRun(ctx context.Context, runID int64, views string) (map[string]any, error) {
	q := url.Values{"run_id": {strconv.FormatInt(runID, 10)}}
	if views != "" {
		q.Set("views_to_export", views)
	}
	var out map[string]any
	if _, err := c.do(ctx, c.get("jobs/runs/export", q), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CancelRun asks for a run to be cancelled; the run may still be running
// when this returns.
func (c *Client) CancelRun(ctx context.Context, runID int64) error {
	_, err := c.write(ctx, "jobs/runs/cancel", idBody("run_id", runID), true, nil)
	return err
}

// CancelAllRuns cancels the active runs of a job, or with allQueuedRuns and
// jobID 0 every queued run of the workspace.
func (c *Client) CancelAllRuns(ctx context.Context, jobID int64, allQueuedRuns bool) error {
	body := map[string]any{}
	if jobID != 0 {
		body["job_id"] = jobID
	}
	if allQueuedRuns {
		body["all_queued_runs"] = true
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = c.write(ctx, "jobs/runs/cancel-all", b, true, nil)
	return err
}

// DeleteRun deletes a run that is not active. As with DeleteJob, a retry
// that finds the run gone after an earlier attempt may have deleted it
// counts as success.
func (c *Client) DeleteRun(ctx context.Context, runID int64) error {
	return c.remove(ctx, "jobs/runs/delete", idBody("run_id", runID))
}

// RepairRun re-runs tasks of a finished run (a RepairRun body) and returns
// the repair id. A repair is not idempotent: a lost answer gives an error
// matching ErrMaybeCommitted.
func (c *Client) RepairRun(ctx context.Context, body json.RawMessage) (int64, error) {
	cl, err := c.post("jobs/runs/repair", body, false)
	if err != nil {
		return 0, err
	}
	var resp struct {
		RepairID int64 `json:"repair_id"`
	}
	_, err = c.do(ctx, cl, &resp)
	return resp.RepairID, err
}

// hasIdempotencyToken reports whether a run-now or submit body carries a
// non-empty idempotency_token, which makes repeating it safe (jobs-api.md
// §3.2.7: the same token returns the same run).
func hasIdempotencyToken(body []byte) bool {
	var m struct {
		Token any `json:"idempotency_token"`
	}
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	s, ok := m.Token.(string)
	return ok && s != ""
}

// terminalStates are the life-cycle states a run does not leave.
var terminalStates = map[string]bool{"TERMINATED": true, "SKIPPED": true, "INTERNAL_ERROR": true}

// WaitRun reads the run every poll until it reaches a terminal state
// (TERMINATED, SKIPPED, INTERNAL_ERROR) and returns it; changed is called
// with the run each time its life-cycle state changes, the first read
// included. It stops when ctx ends, saying that the run goes on.
func (c *Client) WaitRun(ctx context.Context, runID int64, poll time.Duration, changed func(*Run)) (*Run, error) {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	last := ""
	for {
		run, err := c.GetRun(ctx, runID)
		if err != nil {
			return nil, err
		}
		if s := run.State.LifeCycleState; s != last {
			last = s
			if changed != nil {
				changed(run)
			}
		}
		if terminalStates[last] {
			return run, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting for run %d: %w (the run goes on; cancel it in the workspace if needed)", runID, ctx.Err())
		case <-tick.C:
		}
	}
}
