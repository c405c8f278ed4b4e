package jobsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// ListJobsOptions filter and shape jobs/list.
type ListJobsOptions struct {
	// ExpandTasks includes settings.tasks and settings.job_clusters (at most
	// 100 of each per job; such jobs carry HasMore).
	ExpandTasks bool
	// Name keeps jobs whose name equals it, case-insensitively.
	Name string
	// Limit is the page size, 1..100; 0 means 100, the 2.2 maximum.
	Limit int
}

// pagedArrays are the JobSettings arrays that jobs/get returns 100 at a time
// (jobs-api.md §5.1).
var pagedArrays = []string{"tasks", "job_clusters", "parameters", "environments"}

// maxPages stops a server that keeps handing out tokens. 10,000 jobs are 100
// list pages and 1,000 tasks 10 get pages; this is far beyond both.
const maxPages = 100000

// ListJobs returns every job of the workspace, following next_page_token
// with the largest page size (100). Jobs whose arrays were cut keep HasMore:
// the caller decides whether to read them whole with GetJob.
func (c *Client) ListJobs(ctx context.Context, o ListJobsOptions) ([]Job, error) {
	var all []Job
	err := listPages(ctx, c, o, func(page []Job) error {
		if all == nil {
			all = make([]Job, 0, len(page))
		}
		all = append(all, page...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// ListedJob is a jobs/list item whose settings stay JSON: decoded, the
// settings of a 10,000-job workspace take ~110 MB of heap, as bytes ~12 MB.
type ListedJob struct {
	JobID           int64  `json:"job_id"`
	CreatorUserName string `json:"creator_user_name,omitempty"`
	RunAsUserName   string `json:"run_as_user_name,omitempty"`
	CreatedTime     int64  `json:"created_time,omitempty"`
	// Settings is the JobSettings object exactly as the server sent it
	// (nil when absent); decode it with UseNumber to keep int64 ids exact.
	Settings json.RawMessage `json:"settings,omitempty"`
	// HasMore is as in Job.
	HasMore bool `json:"has_more,omitempty"`
}

// ListJobsPages pages through jobs/list like ListJobs, handing each page to
// fn as soon as it is decoded, with settings left as JSON. Nothing of a page
// is kept after fn returns, so a caller that keeps only what it needs holds
// one page at a time. An error from fn stops the listing and is returned.
func (c *Client) ListJobsPages(ctx context.Context, o ListJobsOptions, fn func(page []ListedJob) error) error {
	return listPages(ctx, c, o, fn)
}

// listPages follows next_page_token, decoding each page's jobs as T.
func listPages[T any](ctx context.Context, c *Client, o ListJobsOptions, fn func([]T) error) error {
	limit := o.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if o.ExpandTasks {
		q.Set("expand_tasks", "true")
	}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	seen := map[string]bool{}
	for page := 0; ; page++ {
		var resp listResponse[T]
		if _, err := c.do(ctx, c.get("jobs/list", q), &resp); err != nil {
			return err
		}
		if err := fn(resp.Jobs); err != nil {
			return err
		}
		tok := resp.NextPageToken
		if tok == "" {
			return nil
		}
		if seen[tok] || page >= maxPages {
			return fmt.Errorf("GET %s/list: the workspace returned page token %q again after %d pages; stopping to avoid an endless loop", c.jobsBase, tok, page+1)
		}
		seen[tok] = true
		q = cloneValues(q)
		q.Set("page_token", tok)
	}
}

// GetJob reads one job completely: in 2.2 jobs/get returns at most 100
// elements of tasks, job_clusters, parameters and environments per page, so
// it follows next_page_token and appends each page's arrays to the first
// page's. An array that is exhausted comes back empty on later pages; that
// is not a deletion.
func (c *Client) GetJob(ctx context.Context, jobID int64) (*Job, error) {
	q := url.Values{"job_id": {strconv.FormatInt(jobID, 10)}}
	var job *Job
	seen := map[string]bool{}
	for page := 0; ; page++ {
		var resp struct {
			Job
			NextPageToken string `json:"next_page_token"`
		}
		if _, err := c.do(ctx, c.get("jobs/get", q), &resp); err != nil {
			return nil, err
		}
		if job == nil {
			j := resp.Job
			job = &j
			if job.Settings == nil {
				job.Settings = map[string]any{}
			}
		} else {
			for _, k := range pagedArrays {
				more, _ := resp.Settings[k].([]any)
				if len(more) == 0 {
					continue
				}
				have, _ := job.Settings[k].([]any)
				job.Settings[k] = append(have, more...)
			}
		}
		tok := resp.NextPageToken
		if tok == "" {
			// has_more only means something on list items; a merged job
			// is complete.
			job.HasMore = false
			return job, nil
		}
		if seen[tok] || page >= maxPages {
			return nil, fmt.Errorf("GET %s/get (job %d): the workspace returned page token %q again after %d pages; stopping to avoid an endless loop", c.jobsBase, jobID, tok, page+1)
		}
		seen[tok] = true
		q = cloneValues(q)
		q.Set("page_token", tok)
	}
}

// CreateJob creates a job from a CreateJob body (JobSettings plus an optional
// access_control_list) and returns its id. A create is never repeated after
// it may have reached the workspace: if its answer is lost the error matches
// ErrMaybeCommitted, and the caller must look for the job before retrying.
func (c *Client) CreateJob(ctx context.Context, body json.RawMessage) (int64, error) {
	cl, err := c.post("jobs/create", body, false)
	if err != nil {
		return 0, err
	}
	var resp struct {
		JobID int64 `json:"job_id"`
	}
	if _, err := c.do(ctx, cl, &resp); err != nil {
		return 0, err
	}
	if resp.JobID == 0 {
		return 0, &AmbiguousError{Method: cl.method, Path: cl.path, Err: errors.New("the answer carries no job_id"), Settled: true}
	}
	return resp.JobID, nil
}

// ResetJob replaces a job's settings; body is {"job_id":N,"new_settings":{…}}.
// Reset is idempotent, so it is retried like a read.
func (c *Client) ResetJob(ctx context.Context, body json.RawMessage) error {
	_, err := c.write(ctx, "jobs/reset", body, true, nil)
	return err
}

// UpdateJob changes part of a job; body is
// {"job_id":N,"new_settings":{…},"fields_to_remove":[…]}. Sending the same
// update twice has the same effect as once, so it is retried.
func (c *Client) UpdateJob(ctx context.Context, body json.RawMessage) error {
	_, err := c.write(ctx, "jobs/update", body, true, nil)
	return err
}

// DeleteJob deletes a job. When an earlier attempt may have reached the
// workspace and a retry then finds the job gone, the delete is taken as done.
func (c *Client) DeleteJob(ctx context.Context, jobID int64) error {
	return c.remove(ctx, "jobs/delete", idBody("job_id", jobID))
}

func (c *Client) get(endpoint string, q url.Values) *call {
	return &call{method: http.MethodGet, path: c.jobsBase + "/" + endpoint[len("jobs/"):], endpoint: endpoint, query: q, idempotent: true}
}

// post prepares a jobs write. The body is checked to be one JSON object, so
// that a broken body fails here with a clear message instead of as a
// MALFORMED_REQUEST from the server.
func (c *Client) post(endpoint string, body json.RawMessage, idempotent bool) (*call, error) {
	path := c.jobsBase + "/" + endpoint[len("jobs/"):]
	if err := checkObject(body); err != nil {
		return nil, fmt.Errorf("POST %s: request body %v", path, err)
	}
	return &call{method: http.MethodPost, path: path, endpoint: endpoint, body: body, idempotent: idempotent}, nil
}

// write sends one POST and decodes its answer into out (unless nil).
func (c *Client) write(ctx context.Context, endpoint string, body json.RawMessage, idempotent bool, out any) (outcome, error) {
	cl, err := c.post(endpoint, body, idempotent)
	if err != nil {
		return outcome{}, err
	}
	return c.do(ctx, cl, out)
}

// remove sends a delete. When an earlier attempt may have reached the
// workspace and a retry then finds the object gone, that attempt did the
// delete: it counts as done.
func (c *Client) remove(ctx context.Context, endpoint string, body json.RawMessage) error {
	oc, err := c.write(ctx, endpoint, body, true, nil)
	if err != nil && oc.maybeSentBefore && IsNotFound(err) {
		return nil
	}
	return err
}

func checkObject(body []byte) error {
	if !json.Valid(body) {
		return errors.New("is not valid JSON")
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("is not a JSON object")
	}
	return nil
}

func idBody(name string, id int64) json.RawMessage {
	return json.RawMessage(`{"` + name + `":` + strconv.FormatInt(id, 10) + `}`)
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q)+1)
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
