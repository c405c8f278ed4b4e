package applier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

// DefaultParallelism is how many actions run at once unless told otherwise.
const DefaultParallelism = 16

// DefaultGrace is how long in-flight actions may keep running after the
// apply's context is cancelled before their requests are abandoned.
const DefaultGrace = 10 * time.Second

// Options tune Apply.
type Options struct {
	// Parallelism bounds the actions in flight at once (default 16).
	Parallelism int
	// CheckLive re-reads every job an update, reset, delete or permissions
	// action touches and refuses it when the job changed since the plan
	// (its digest differs from Action.LiveDigest). Set it for saved plans.
	// It also refuses a create when a job with the key's ownership tag
	// appeared since the plan.
	CheckLive bool
	// Progress, when set, is told when each action starts and ends. Calls
	// come from one goroutine at a time, in order.
	Progress func(Event)
	// Grace is how long in-flight actions may run on after ctx is
	// cancelled (default DefaultGrace); past it their requests are
	// abandoned and the actions reported failed. A create abandoned that
	// way may still have happened: the next plan adopts it by its
	// ownership tag.
	Grace time.Duration
	// Settle is how long an ambiguous create whose request got no answer
	// from the workspace (a timeout, a dropped connection, a gateway's
	// 502/504) is given to show up before the action fails (default
	// DefaultSettle). Such a request may still be executing on the
	// server, so it is never sent again in the same apply: a second
	// create racing the first is exactly the duplicate the ownership tag
	// exists to prevent.
	Settle time.Duration
}

// DefaultSettle is Options.Settle's default: a few seconds covers a
// request queued behind a slow workspace without holding an apply long.
const DefaultSettle = 3 * time.Second

// Event reports the progress of one action.
type Event struct {
	Key   string
	Op    planner.Op
	Phase string // "start", "done" or "failed"
	Err   error  // set when Phase is "failed"
	// Done counts the actions finished so far (applied or failed), Total
	// the actions of the plan.
	Done, Total int
	// JobID is the job the action wrote, once known.
	JobID int64
	// Note says something unusual happened, such as an ambiguous create
	// that was resolved by adopting the job it had made. A PhaseNotice
	// event carries only a Note (and the action that caused it): something
	// the user should know about the whole apply.
	Note string
}

// Result says what happened to every action of the plan. Keys appear in
// plan order.
type Result struct {
	Applied    []string
	Failed     []Failure
	NotStarted []string
	// Recorded are the plan's lockfile-only records that were written.
	Recorded []string
}

// Failure is an action that did not complete.
type Failure struct {
	Key string
	Err error
}

// Phases of an Event.
const (
	PhaseStart  = "start"
	PhaseDone   = "done"
	PhaseFailed = "failed"
	// PhaseNotice is said once per apply, before the done or failed event
	// of the action that caused it: the workspace does not implement
	// jobs/update, so updates are sent as resets from then on.
	PhaseNotice = "notice"
)

// Apply executes p against the workspace behind c, recording each completed
// action in st before counting it done, and commits st at the end, also
// after a failure or a cancellation.
//
// Order: an action waits for the creates of the jobs its request refers to
// (Action.Needs), and deletes wait until every other action is done (a job
// may still refer to the one being deleted until its own update lands).
// Everything else runs in parallel, at most Options.Parallelism at a time.
//
// The first failure stops new actions from starting; those in flight finish
// and are recorded. Cancelling ctx does the same, and Apply then returns an
// error matching context.Canceled. The Result is non-nil whenever the plan
// was valid, even with an error.
func Apply(ctx context.Context, p *planner.Plan, c *jobsapi.Client, st *state.Store, o Options) (*Result, error) {
	if p == nil || c == nil || st == nil {
		return nil, errors.New("applier: Apply needs a plan, a client and a store")
	}
	if st.File() == nil {
		st.Init(p.Workspace, p.Project)
	}
	f := st.File()
	if p.Workspace != "" {
		if err := f.CheckWorkspace(p.Workspace); err != nil {
			return nil, err
		}
	}
	if p.Project != "" {
		if err := f.CheckProject(p.Project); err != nil {
			return nil, err
		}
	}
	g, err := newGraph(p.Actions)
	if err != nil {
		return nil, err
	}
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	a := &applier{plan: p, client: c, store: st, opts: o, g: g, ids: map[string]int64{}}
	for _, k := range st.File().Keys() {
		if j, ok := st.Job(k); ok {
			a.ids[k] = j.JobID
		}
	}
	for _, act := range p.Actions {
		if act.Op != planner.OpCreate && act.Op != planner.OpDelete && act.Op != planner.OpUpload && act.Op != planner.OpDeleteFile && act.JobID != 0 {
			a.ids[act.Key] = act.JobID
		}
	}

	res := &Result{}
	var runErr error
	if err := ctx.Err(); err != nil {
		runErr = err
	} else {
		res.Recorded, runErr = a.writeRecords(ctx)
	}
	if runErr == nil {
		a.run(ctx)
	}
	a.fill(res)

	// Save whatever happened, even when ctx is done: this is what makes
	// an interrupted apply resumable.
	commitErr := st.Commit(context.WithoutCancel(ctx))
	switch {
	case runErr != nil:
	case ctx.Err() != nil:
		runErr = fmt.Errorf("apply interrupted: %d applied, %d failed, %d not started: %w",
			len(res.Applied), len(res.Failed), len(res.NotStarted), context.Canceled)
	case len(res.Failed) > 0:
		runErr = failedError(res)
	}
	if commitErr != nil {
		if runErr == nil {
			return res, commitErr
		}
		return res, errors.Join(runErr, commitErr)
	}
	return res, runErr
}

// failedError summarises the failures; it wraps the first one, so that
// errors.As finds a *StaleError or *jobsapi.APIError in it.
func failedError(res *Result) error {
	f := res.Failed[0]
	var more string
	if n := len(res.Failed) - 1; n > 0 {
		more += fmt.Sprintf(" (and %d more failed actions)", n)
	}
	if n := len(res.NotStarted); n > 0 {
		more += fmt.Sprintf("; %d actions were not started", n)
	}
	return fmt.Errorf("apply failed: %s: %w%s", f.Key, f.Err, more)
}

// applier is the state of one Apply.
type applier struct {
	plan   *planner.Plan
	client *jobsapi.Client
	store  *state.Store
	opts   Options
	g      *graph

	idsMu sync.Mutex
	ids   map[string]int64 // job id of every key known so far

	// dirs are the workspace folders made in this apply.
	dirs sync.Map

	// tagged is the listing a saved plan's creates are checked against.
	tagged struct {
		once sync.Once
		ids  map[string][]int64
		err  error
	}

	// outcome per action index; written by the coordinator only.
	status []status
	errs   []error

	// resetOnly is set once jobs/update answered 404 or 501: every later
	// update of this apply is sent as a reset (see update).
	resetOnly atomic.Bool
}

type status int

const (
	pending status = iota
	running
	applied
	failed
)

// writeRecords applies the plan's lockfile-only changes.
func (a *applier) writeRecords(ctx context.Context) ([]string, error) {
	var done []string
	for _, r := range a.plan.Records {
		var err error
		if r.Forget {
			err = a.store.Forget(ctx, r.Key)
		} else {
			var applied json.RawMessage
			if applied, err = state.EncodeApplied(r.Applied); err == nil {
				err = a.store.Record(ctx, r.Key, state.Job{JobID: r.JobID, Applied: applied, Permissions: r.AppliedPermissions, PermissionsMode: r.AppliedPermissionsMode})
			}
			a.setID(r.Key, r.JobID)
		}
		if err != nil {
			return done, fmt.Errorf("recording %s in the lockfile: %w", r.Key, err)
		}
		done = append(done, r.Key)
	}
	return done, nil
}

// outcome is what a worker reports back.
type outcome struct {
	i      int
	jobID  int64
	note   string
	notice string // for a PhaseNotice event
	err    error
}

// run is the coordinator: it alone starts actions, collects their
// outcomes, releases dependents and talks to Progress, so none of that
// needs locking. At most Parallelism worker goroutines exist at a time.
func (a *applier) run(ctx context.Context) {
	n := len(a.plan.Actions)
	a.status = make([]status, n)
	a.errs = make([]error, n)
	if n == 0 {
		return
	}
	// In-flight actions run on a context that survives ctx's cancellation
	// (a request cut off mid-way leaves the workspace in an unknown state)
	// but is cancelled Grace after it.
	actx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	results := make(chan outcome, a.opts.Parallelism)
	ready := a.g.initial()
	inflight, finished := 0, 0
	stopping := false
	ctxDone := ctx.Done()
	var grace <-chan time.Time

	for {
		// ctx.Err is checked here too: Progress may have cancelled it
		// before the select below had a chance to see that.
		for !stopping && ctx.Err() == nil && inflight < a.opts.Parallelism && len(ready) > 0 {
			i := ready[0]
			ready = ready[1:]
			a.status[i] = running
			inflight++
			a.emit(Event{Key: a.plan.Actions[i].Key, Op: a.plan.Actions[i].Op, Phase: PhaseStart, Done: finished, Total: n})
			go func(i int) {
				var notice string
				jobID, note, err := a.do(actx, i, &notice)
				results <- outcome{i: i, jobID: jobID, note: note, notice: notice, err: err}
			}(i)
		}
		if inflight == 0 {
			return
		}
		select {
		case r := <-results:
			inflight--
			finished++
			act := a.plan.Actions[r.i]
			if r.notice != "" {
				a.emit(Event{Key: act.Key, Op: act.Op, Phase: PhaseNotice, Note: r.notice, Done: finished - 1, Total: n, JobID: r.jobID})
			}
			if r.err != nil {
				a.status[r.i], a.errs[r.i] = failed, r.err
				stopping = true
				a.emit(Event{Key: act.Key, Op: act.Op, Phase: PhaseFailed, Err: r.err, Done: finished, Total: n, JobID: r.jobID, Note: r.note})
				continue
			}
			a.status[r.i] = applied
			a.emit(Event{Key: act.Key, Op: act.Op, Phase: PhaseDone, Done: finished, Total: n, JobID: r.jobID, Note: r.note})
			ready = append(ready, a.g.complete(r.i)...)
		case <-ctxDone:
			stopping = true
			ctxDone = nil
			grace = time.After(a.opts.Grace)
		case <-grace:
			abandon()
			grace = nil
		}
	}
}

func (a *applier) emit(e Event) {
	if a.opts.Progress != nil {
		a.opts.Progress(e)
	}
}

// fill sorts the outcome of every action into the result, in plan order.
func (a *applier) fill(res *Result) {
	for i, act := range a.plan.Actions {
		st := pending
		if i < len(a.status) {
			st = a.status[i]
		}
		switch st {
		case applied:
			res.Applied = append(res.Applied, act.Key)
		case failed:
			res.Failed = append(res.Failed, Failure{Key: act.Key, Err: a.errs[i]})
		default:
			res.NotStarted = append(res.NotStarted, act.Key)
		}
	}
}

func (a *applier) setID(key string, id int64) {
	a.idsMu.Lock()
	a.ids[key] = id
	a.idsMu.Unlock()
}

func (a *applier) id(key string) int64 {
	a.idsMu.Lock()
	defer a.idsMu.Unlock()
	return a.ids[key]
}

// resolve replaces the references in an action's request and recorded
// settings with the ids known now. It works on the shared map under the
// lock rather than on a copy: copying 10,000 ids for each of 10,000
// actions would cost more than the walks themselves.
func (a *applier) resolve(act *planner.Action) (body, perms json.RawMessage, applied map[string]any, err error) {
	a.idsMu.Lock()
	defer a.idsMu.Unlock()
	if body, err = planner.Resolve(act.Request, a.ids); err != nil {
		return nil, nil, nil, err
	}
	if perms, err = planner.Resolve(act.Permissions, a.ids); err != nil {
		return nil, nil, nil, err
	}
	if act.Applied != nil {
		if applied, err = planner.ResolveSettings(act.Applied, a.ids); err != nil {
			return nil, nil, nil, err
		}
	}
	return body, perms, applied, nil
}

// do performs action i and records it. It returns the job id it wrote;
// notice is set when the action makes the apply change how it writes.
func (a *applier) do(ctx context.Context, i int, notice *string) (int64, string, error) {
	act := &a.plan.Actions[i]
	switch act.Op {
	case planner.OpUpload:
		note, err := a.upload(ctx, act)
		return 0, note, err
	case planner.OpDeleteFile:
		note, err := a.deleteFile(ctx, act)
		return 0, note, err
	}
	jobID := act.JobID
	if jobID == 0 && act.Op != planner.OpCreate {
		jobID = a.id(act.Key)
	}
	if jobID == 0 && act.Op != planner.OpCreate {
		return 0, "", fmt.Errorf("the plan gives no job id for %s %s", act.Op, act.Key)
	}
	body, perms, appliedSettings, err := a.resolve(act)
	if err != nil {
		return 0, "", err
	}
	if act.Op == planner.OpUpdate || act.Op == planner.OpReset {
		// The request names its job itself: it must be the job that was
		// checked, or an edited plan file could aim a write elsewhere.
		if id, err := requestJobID(body); err != nil || id != jobID {
			return jobID, "", fmt.Errorf("the plan's %s of %s is for job %d but its request body names job %s: the plan file is damaged or was edited; make the plan again with `jobsync plan`", act.Op, act.Key, jobID, orUnreadable(id, err))
		}
	}

	if a.opts.CheckLive && act.Op != planner.OpCreate {
		gone, err := a.checkLive(ctx, act, jobID, appliedSettings)
		if err != nil {
			return jobID, "", err
		}
		if gone && act.Op == planner.OpDelete {
			return jobID, "already deleted", a.forget(ctx, act.Key)
		}
	}

	var note string
	switch act.Op {
	case planner.OpCreate:
		if jobID, note, err = a.create(ctx, act, body); err != nil {
			return jobID, note, err
		}
		a.setID(act.Key, jobID)
	case planner.OpUpdate:
		err = a.update(ctx, act, jobID, body, notice)
	case planner.OpReset:
		err = a.client.ResetJob(ctx, body)
	case planner.OpDelete:
		err = a.client.DeleteJob(ctx, jobID)
		if jobsapi.IsNotFound(err) {
			note, err = "already deleted", nil
		}
		if err != nil {
			return jobID, note, fmt.Errorf("deleting job %d: %w", jobID, err)
		}
		return jobID, note, a.forget(ctx, act.Key)
	case planner.OpPermissions:
	case planner.OpNoop:
		return jobID, "", nil
	default:
		return jobID, "", fmt.Errorf("unknown action %q", act.Op)
	}
	if err != nil {
		if jobsapi.IsNotFound(err) {
			return jobID, "", fmt.Errorf("job %d (%s) no longer exists in the workspace: run `jobsync plan` again, which plans to create it", jobID, act.Key)
		}
		return jobID, "", err
	}

	// A permissions-only action leaves the recorded settings alone.
	var recorded json.RawMessage
	if appliedSettings != nil {
		// Encoding a tree the plan holds cannot fail after the request
		// body made from it was encoded; were it to, the write did
		// happen, so it is still recorded, with the settings unknown.
		recorded, _ = state.EncodeApplied(appliedSettings)
	} else if j, ok := a.store.Job(act.Key); ok {
		recorded = j.Applied
	}
	rec := state.Job{JobID: jobID, Applied: recorded, Permissions: act.AppliedPermissions, PermissionsMode: act.AppliedPermissionsMode}
	if len(perms) > 0 {
		if _, err := a.client.SetPermissions(ctx, jobID, perms); err != nil {
			// The job write happened: record it (with the permissions it
			// had before), so the next plan only retries the permissions.
			if j, ok := a.store.Job(act.Key); ok {
				rec.Permissions = j.Permissions
			} else {
				rec.Permissions = nil
			}
			if rerr := a.record(ctx, act.Key, rec); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return jobID, note, fmt.Errorf("setting the permissions of job %d: %w", jobID, err)
		}
	}
	if err := a.record(ctx, act.Key, rec); err != nil {
		return jobID, note, err
	}
	if act.MovedFrom != "" {
		// A rename: the old key's entry is now the new key's. (Recorded
		// first, so the job is never missing from the lockfile; an entry
		// of the old key left by a crash here is forgotten by the next
		// plan.)
		if err := a.store.Forget(ctx, act.MovedFrom); err != nil {
			return jobID, note, fmt.Errorf("job %d was renamed to %s, but forgetting %s in the lockfile failed: %w", jobID, act.Key, act.MovedFrom, err)
		}
	}
	return jobID, note, nil
}

// update sends a jobs/update. Some servers (test servers, proxies of older
// APIs) do not implement it: they answer 404 (the real service says a
// missing job with 400 INVALID_PARAMETER_VALUE, jobs-api.md §6.2, so a 404
// means the endpoint) or 501. Then this and every later update of the apply
// is sent as a jobs/reset of the job's current settings with the update
// applied to them (planner.ResetFromUpdate), which leaves the job as the
// update would have; notice says so, once. A reset writes every field,
// the tags included, from that read: it is sent only when the read shows
// the action's ownership tag, like every other write.
func (a *applier) update(ctx context.Context, act *planner.Action, jobID int64, body json.RawMessage, notice *string) error {
	if !a.resetOnly.Load() {
		err := a.client.UpdateJob(ctx, body)
		var apiErr *jobsapi.APIError
		if !errors.As(err, &apiErr) || (apiErr.StatusCode != http.StatusNotFound && apiErr.StatusCode != http.StatusNotImplemented) {
			return err
		}
		if a.resetOnly.CompareAndSwap(false, true) {
			answer := fmt.Sprintf("HTTP %d", apiErr.StatusCode)
			if apiErr.ErrorCode != "" {
				answer += " " + apiErr.ErrorCode
			}
			*notice = "the workspace does not implement jobs/update (" + answer + "): updates are sent as jobs/reset with the full settings for the rest of this apply"
		}
	}
	job, err := a.client.GetJob(ctx, jobID)
	if err != nil {
		return fmt.Errorf("reading job %d to send its update as a reset: %w", jobID, err)
	}
	if err := planner.CheckRenameOwner(a.plan.Project, act.Key, act.MovedFrom, jobID, job.Settings); err != nil {
		return fmt.Errorf("job %d (%s) does not carry the ownership tag %s=%s any more (it changed in the workspace after the plan), so its update was not sent as a reset; run `jobsync plan` again: %w",
			jobID, act.Key, planner.OwnerTagKey, planner.OwnerTagValue(a.plan.Project, act.Key), err)
	}
	reset, err := planner.ResetFromUpdate(job.Settings, body)
	if err != nil {
		return fmt.Errorf("sending the update of job %d as a reset: %w", jobID, err)
	}
	return a.client.ResetJob(ctx, reset)
}

func (a *applier) record(ctx context.Context, key string, j state.Job) error {
	if err := a.store.Record(ctx, key, j); err != nil {
		return fmt.Errorf("job %d was written, but recording it in the lockfile failed: %w", j.JobID, err)
	}
	return nil
}

func (a *applier) forget(ctx context.Context, key string) error {
	if err := a.store.Forget(ctx, key); err != nil {
		return fmt.Errorf("the job was deleted, but recording that in the lockfile failed: %w", err)
	}
	return nil
}

// create makes the job, never twice. jobs/create has no idempotency token,
// so when its answer is lost (the client reports ErrMaybeCommitted) the job
// may exist: look for it by name and ownership tag and adopt it. It is sent
// again only when an answer came back (a 500, an unreadable 2xx: the
// exchange is over, and the lookup is the truth). When none did (timeout,
// dropped connection, a gateway's 502 or 504) the request may still be
// running in the workspace; the lookup is
// repeated after Options.Settle, and if the job has not appeared the
// action fails, so that the next apply adopts it or creates it.
func (a *applier) create(ctx context.Context, act *planner.Action, body json.RawMessage) (int64, string, error) {
	name := settingsName(body)
	if a.opts.CheckLive {
		// A saved plan may be older than a create made meanwhile (by a
		// run with another lockfile, or by hand from a plan's request),
		// under any name: a later version of the YAML may have renamed
		// it. So the whole workspace is looked at, once per apply.
		ids, err := a.taggedSincePlan(ctx, act.Key)
		if err != nil {
			return 0, "", fmt.Errorf("checking that %s does not exist yet: %w", act.Key, err)
		}
		if len(ids) > 0 {
			return 0, "", fmt.Errorf("job %d already carries the ownership tag of %s (created after the plan was made): run `jobsync plan` again", ids[0], act.Key)
		}
	}
	for attempt := 1; ; attempt++ {
		id, err := a.client.CreateJob(ctx, body)
		if err == nil {
			return id, "", nil
		}
		if !errors.Is(err, jobsapi.ErrMaybeCommitted) {
			return 0, "", fmt.Errorf("creating the job: %w", err)
		}
		ids, lerr := a.findOwned(ctx, act.Key, name)
		var amb *jobsapi.AmbiguousError
		unsettled := !errors.As(err, &amb) || !amb.Settled
		if lerr == nil && len(ids) == 0 && unsettled {
			if serr := sleepCtx(ctx, a.settle()); serr != nil {
				return 0, "", fmt.Errorf("creating the job: %w; interrupted while waiting for it to appear (run `jobsync plan`: "+
					"it adopts the job by its ownership tag if the create happened)", err)
			}
			ids, lerr = a.findOwned(ctx, act.Key, name)
		}
		switch {
		case lerr != nil:
			return 0, "", fmt.Errorf("creating the job: %w; then looking for it failed: %v (run `jobsync plan`: "+
				"it adopts the job by its ownership tag if the create happened)", err, lerr)
		case len(ids) == 1:
			return ids[0], fmt.Sprintf("adopted job %d after the create's answer was lost", ids[0]), nil
		case len(ids) > 1:
			return 0, "", fmt.Errorf("creating the job: %w; and now %d jobs carry its ownership tag (%s): "+
				"delete all but one and run `jobsync plan`", err, len(ids), joinIDs(ids))
		case unsettled:
			return 0, "", fmt.Errorf("creating the job: %w; no job with its ownership tag appeared within %s, but the request "+
				"may still be running in the workspace, so it is not sent again: run `jobsync apply` again, which adopts the job "+
				"if it was created and creates it if not", err, a.settle())
		case attempt >= 2:
			return 0, "", fmt.Errorf("creating the job: %w (twice; no job with its ownership tag exists)", err)
		}
		// The workspace answered with an error and holds no such job:
		// safe to send again.
	}
}

func (a *applier) settle() time.Duration {
	if a.opts.Settle > 0 {
		return a.opts.Settle
	}
	return DefaultSettle
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// taggedSincePlan lists the jobs that carry key's ownership tag, from one
// listing of the workspace made at the first create of the apply (the
// workspace lease keeps other runs from creating any after it; this
// apply's own creates are of other keys).
func (a *applier) taggedSincePlan(ctx context.Context, key string) ([]int64, error) {
	a.tagged.once.Do(func() {
		a.tagged.ids, a.tagged.err = ownedByKey(ctx, a.client, a.plan.Project, "")
	})
	return a.tagged.ids[key], a.tagged.err
}

// findOwned lists the jobs named name that carry key's ownership tag.
func (a *applier) findOwned(ctx context.Context, key, name string) ([]int64, error) {
	owned, err := ownedByKey(ctx, a.client, a.plan.Project, name)
	return owned[key], err
}

// requestJobID is the job_id of an update or reset body.
func requestJobID(body json.RawMessage) (int64, error) {
	var b struct {
		JobID int64 `json:"job_id"`
	}
	err := json.Unmarshal(body, &b)
	return b.JobID, err
}

func orUnreadable(id int64, err error) string {
	if err != nil {
		return "(unreadable)"
	}
	return fmt.Sprint(id)
}

func settingsName(body json.RawMessage) string {
	var b struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &b)
	return b.Name
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}
