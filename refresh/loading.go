package refresh

import (
	"context"
	"time"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Sources are the parts of a plan's input that are still to be read when
// the plan starts: the configuration (the YAML) and the lockfile. A plan
// of 10,000 jobs spends about as long loading and validating them as the
// listing of the workspace takes; PlanLoading does both at once.
type Sources struct {
	// Config loads the configuration. It runs concurrently with Lock.
	Config func(ctx context.Context) (*schema.Config, error)
	// Lock opens the lockfile: nil when there is none.
	Lock func(ctx context.Context) (*state.File, error)
	// LockJobs, when set, says before Lock is done how many jobs the
	// lockfile names, up to limit (state.CountJobs; limit+1 when there are
	// more): exists false for no lockfile, ok false when it cannot tell.
	LockJobs func(limit int) (n int, exists, ok bool)
	// Check looks at both once they are loaded, before the plan is made
	// (that --only names known keys); its error is returned as it is.
	Check func(*schema.Config, *state.File) error
}

// PlanLoading is Plan of in completed from src (Desired and the uploads
// from the configuration, Lock from the lockfile): it starts listing the
// workspace at once when the plan will list it whatever the two hold (the
// list strategy, --prune, destroy, or a lockfile that is missing or names
// more jobs than Auto reads one by one), and plans the pages as they come
// once both are loaded. Otherwise it reads the workspace once they are, as
// Plan does.
//
// Errors come in the order the steps would give them one after the other:
// the configuration's, then the lockfile's, then Check's, then the
// workspace's.
func PlanLoading(ctx context.Context, c *jobsapi.Client, in planner.Input, src Sources, o Options) (*planner.Plan, []planner.Live, *schema.Config, *state.File, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	start, before := now(), c.Stats().Requests
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type cfgResult struct {
		cfg *schema.Config
		err error
	}
	type lockResult struct {
		lock *state.File
		err  error
	}
	cfgCh, lockCh := make(chan cfgResult, 1), make(chan lockResult, 1)
	go func() {
		cfg, err := src.Config(ctx)
		cfgCh <- cfgResult{cfg, err}
	}()
	go func() {
		lock, err := src.Lock(ctx)
		lockCh <- lockResult{lock, err}
	}()

	var lst *listing
	if listsAnyway(in, o, src) {
		lst = startListing(ctx, c)
	}
	cr, lr := <-cfgCh, <-lockCh
	err := cr.err
	if err == nil {
		err = lr.err
	}
	if err == nil && src.Check != nil {
		err = src.Check(cr.cfg, lr.lock)
	}
	if err != nil {
		if lst != nil {
			lst.stop()
		}
		return nil, nil, nil, nil, err
	}
	in.Desired, in.Lock = cr.cfg.Jobs, lr.lock
	in.Uploads = cr.cfg.Uploads
	if cr.cfg.Paths != nil {
		in.FilesRoot = cr.cfg.Paths.Files
	}
	if lst != nil && o.Strategy != List && chooseStrategy(in) != List {
		// CountJobs counted what Open refuses, or the two disagree:
		// nothing is planned from a listing the plan would not make.
		lst.stop()
		lst = nil
	}
	p, live, err := plan(ctx, c, in, o, start, before, lst)
	return p, live, cr.cfg, lr.lock, err
}

// listsAnyway tells whether a plan of in will list the workspace whatever
// the configuration and the lockfile hold (chooseStrategy).
func listsAnyway(in planner.Input, o Options, src Sources) bool {
	switch o.Strategy {
	case List:
		return true
	case "", Auto:
	default:
		return false
	}
	if in.Prune || in.Destroy {
		return true
	}
	if src.LockJobs == nil {
		return false
	}
	n, exists, ok := src.LockJobs(getThreshold)
	return ok && (!exists || n > getThreshold)
}
