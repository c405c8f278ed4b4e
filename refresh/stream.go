package refresh

import (
	"context"
	"fmt"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
)

// streamList lists the workspace into b, page by page, planning each page
// while the next one is in flight (the listing is 100 sequential round
// trips for 10,000 jobs: everything else fits in their shadow). While it
// lists, it reads with jobs/get the jobs the list cut short (managed ones
// whose arrays had more than 100 entries) and those whose plan, as far as
// b can tell from the page, writes to them; and the permissions of the
// jobs whose YAML declares some. It makes the requests the same reads one
// after the other would make (readByList, readPermissions, then the
// confirmations of Plan), only sooner, and returns the jobs it read
// whole.
func streamList(ctx context.Context, c *jobsapi.Client, b *planner.Builder, in planner.Input, parallelism int, lst *listing) (map[int64]bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	managed := map[int64]bool{}
	if in.Lock != nil {
		for _, j := range in.Lock.Jobs {
			managed[j.JobID] = true
		}
	}
	// Permissions are read for each key whose YAML declares them, of the
	// job the lockfile names for it, or else of the first job listed with
	// its tag (as readPermissions picks them).
	wantPerms := map[string]bool{}
	for _, j := range in.Desired {
		if j.Permissions != nil {
			wantPerms[j.Key] = true
		}
	}
	permKeysOf := map[int64][]string{}
	permTarget := map[string]bool{} // keys whose job is chosen
	permRead := map[string]bool{}   // keys whose permissions are read
	if in.Lock != nil {
		for k, j := range in.Lock.Jobs {
			if wantPerms[k] {
				permKeysOf[j.JobID] = append(permKeysOf[j.JobID], k)
				permTarget[k] = true
			}
		}
	}

	if lst == nil {
		lst = startListing(ctx, c)
	}
	defer lst.stop()
	pages := lst.pages

	// Reads run in their own goroutines, at most parallelism at once; the
	// results come back to this one, which alone touches b.
	type result struct {
		full  *planner.Live // a job read with jobs/get; nil when it is gone
		id    int64
		perms bool // a permissions read of id
		grant []schema.Permission
		found bool // the permissions read found the job
		err   error
	}
	results := make(chan result)
	sem := make(chan struct{}, parallelism)
	pending := 0
	spawn := func(f func() result) {
		pending++
		go func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results <- result{err: ctx.Err()}
				return
			}
			r := f()
			<-sem
			results <- r
		}()
	}
	fullyRead := map[int64]bool{}
	requested := map[int64]bool{}
	permPending := map[int64]int{}
	get := func(id int64) {
		if requested[id] || fullyRead[id] {
			return
		}
		requested[id] = true
		spawn(func() result {
			j, err := c.GetJob(ctx, id)
			if jobsapi.IsNotFound(err) {
				return result{id: id}
			}
			if err != nil {
				return result{id: id, err: fmt.Errorf("reading job %d: %w", id, err)}
			}
			l := toLive(j)
			return result{id: id, full: &l}
		})
	}
	readPerms := func(id int64, key string) {
		if permRead[key] {
			return
		}
		permRead[key] = true
		permPending[id]++
		spawn(func() result {
			p, err := c.GetPermissions(ctx, id)
			if jobsapi.IsNotFound(err) {
				return result{id: id, perms: true}
			}
			if err != nil {
				return result{id: id, perms: true, err: fmt.Errorf("reading permissions of job %d (%s): %w", id, key, err)}
			}
			return result{id: id, perms: true, grant: directGrants(p), found: true}
		})
	}
	confirm := func(writes []int64) {
		for _, id := range writes {
			if permPending[id] == 0 {
				get(id)
			}
		}
	}

	var firstErr error
	listDone := false
	for !listDone || pending > 0 {
		select {
		case p, ok := <-pages:
			if !ok {
				pages, listDone = nil, true
				if err := <-lst.err; err != nil && firstErr == nil {
					firstErr = fmt.Errorf("reading the workspace's jobs: %w", err)
					cancel()
				}
				continue
			}
			if firstErr != nil {
				continue
			}
			for _, l := range p {
				key, owned := l.OwnedKey(in.Project)
				if l.Partial && (owned || managed[l.JobID]) {
					get(l.JobID)
				}
				for _, k := range permKeysOf[l.JobID] {
					readPerms(l.JobID, k)
				}
				if owned && wantPerms[key] && !permTarget[key] {
					permTarget[key] = true
					readPerms(l.JobID, key)
				}
			}
			confirm(b.Add(p))
		case r := <-results:
			pending--
			if r.err != nil {
				if firstErr == nil {
					firstErr = r.err
					cancel()
				}
				continue
			}
			if firstErr != nil {
				continue
			}
			switch {
			case r.perms:
				permPending[r.id]--
				var writes []int64
				if r.found {
					writes = b.SetPermissions(r.id, r.grant)
				}
				if permPending[r.id] == 0 {
					// Its plan waited for them (it may have said "write"
					// before they were known).
					writes = append(writes, b.Writes(r.id)...)
				}
				confirm(writes)
			default:
				fullyRead[r.id] = true
				if r.full != nil {
					confirm(b.Replace([]planner.Live{*r.full}))
				}
			}
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return fullyRead, nil
}

// listing is a jobs/list under way: its pages, as planner.Live with the
// settings left as JSON, in order, and its outcome once pages is closed.
type listing struct {
	pages  chan []planner.Live
	err    chan error
	cancel context.CancelFunc
}

// startListing starts listing the workspace. Pages wait in the channel for
// whoever reads them, however late (a plan starts listing before the
// YAML is loaded): the listing never waits for its reader.
func startListing(ctx context.Context, c *jobsapi.Client) *listing {
	ctx, cancel := context.WithCancel(ctx)
	l := &listing{pages: make(chan []planner.Live, 1<<14), err: make(chan error, 1), cancel: cancel}
	go func() {
		defer close(l.pages)
		l.err <- c.ListJobsPages(ctx, jobsapi.ListJobsOptions{ExpandTasks: true}, func(p []jobsapi.ListedJob) error {
			live := make([]planner.Live, len(p))
			for i, j := range p {
				live[i] = planner.Live{
					JobID:           j.JobID,
					CreatorUserName: j.CreatorUserName,
					RunAsUserName:   j.RunAsUserName,
					RawSettings:     settingsOf(j.Settings),
					Partial:         j.HasMore,
				}
			}
			select {
			case l.pages <- live:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return l
}

// stop ends the listing (if it is still going) and waits for it.
func (l *listing) stop() {
	l.cancel()
	for range l.pages {
	}
}
