// Package refresh reads the live side of a plan from a workspace as cheaply
// as it can: one paged jobs/list for the whole workspace, then jobs/get only
// where the list view is not enough (truncated arrays, or a job whose action
// is not a no-op, which is always planned from a complete read).
//
// For a bundle's uploads it lists each folder of the files the lockfile
// records, once (files.go), and reads nothing else of them.
//
// It is the only place where planning meets the network. It must not write to
// the workspace, and it must not print.
package refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
)

// Strategy says how the workspace is read.
type Strategy string

const (
	// Auto picks Get when the lockfile already names every job the plan
	// needs and there are few of them, List otherwise.
	Auto Strategy = "auto"
	// List pages through jobs/list?expand_tasks=true (100 jobs a request).
	List Strategy = "list"
	// Get reads each job the lockfile names with jobs/get, in parallel. It
	// cannot find jobs that carry our tag but are missing from the lockfile,
	// so Auto only picks it when the lockfile is complete, and when the
	// gets show the lockfile stale (a job gone, or without its key's tag)
	// the workspace is listed as well before the plan is made.
	Get Strategy = "get"
	// GetThenList is reported (never chosen) when a Get read found the
	// lockfile stale for some key and the workspace was listed too, so
	// that a job re-created under our tag with another id is adopted
	// rather than created a second time.
	GetThenList Strategy = "get+list"
)

// getThreshold is the number of managed jobs up to which Auto prefers
// parallel gets: at 16-way parallelism, 48 gets cost three round trips, about
// what listing a small workspace costs, and far less than listing a big one.
const getThreshold = 48

// Options tune a refresh.
type Options struct {
	Strategy    Strategy
	Parallelism int
	// Now is the clock used to time the refresh; the planner gets none.
	Now func() time.Time
}

// Plan reads the workspace and builds the plan, confirming with jobs/get
// every job that the list view says must change. in.Live is filled here; the
// live jobs read are returned too (drift inventories the unmanaged ones).
//
// With the list strategy the plan is made while the workspace is read
// (stream.go): each page of jobs/list is planned as it comes, and the
// jobs/get reads of what it shows must change (or of truncated jobs) go
// out while the listing continues; after the last page only the jobs
// whose plan depended on the rest of the workspace are planned again.
func Plan(ctx context.Context, c *jobsapi.Client, in planner.Input, o Options) (*planner.Plan, []planner.Live, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return plan(ctx, c, in, o, now(), c.Stats().Requests, nil)
}

// plan is Plan, with the listing already started when lst is not nil (the
// strategy is then list), counting time and requests from start and
// before.
func plan(ctx context.Context, c *jobsapi.Client, in planner.Input, o Options, start time.Time, before int64, lst *listing) (*planner.Plan, []planner.Live, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 16
	}

	strategy := o.Strategy
	if strategy == "" || strategy == Auto {
		strategy = chooseStrategy(in)
	}
	if lst != nil && strategy != List {
		lst.stop()
		return nil, nil, fmt.Errorf("refresh: the workspace was listed early, but the plan reads it with %s", strategy)
	}
	if strategy != List && strategy != Get {
		return nil, nil, fmt.Errorf("unknown refresh strategy %q: want auto, list or get", strategy)
	}
	b, err := planner.NewBuilder(in)
	if err != nil {
		if lst != nil {
			lst.stop()
		}
		return nil, nil, err
	}
	fullyRead := map[int64]bool{} // jobs already read with jobs/get
	switch strategy {
	case List:
		fullyRead, err = streamList(ctx, c, b, in, o.Parallelism, lst)
	case Get:
		var live []planner.Live
		live, err = readByGet(ctx, c, lockedIDs(in), o.Parallelism)
		if err == nil && !lockConfirmed(in, live) {
			strategy = GetThenList
			live, fullyRead, err = listAfterGet(ctx, c, in, live, o.Parallelism)
		}
		if err == nil {
			err = readPermissions(ctx, c, in, live, o.Parallelism)
		}
		b.Add(live)
	}
	if err != nil {
		return nil, nil, err
	}
	folders, err := readFiles(ctx, c, &in, o.Parallelism)
	if err != nil {
		return nil, nil, err
	}
	b.SetLiveFiles(in.LiveFiles)
	plan, err := b.Plan()
	if err != nil {
		return nil, nil, err
	}
	if strategy == Get && hasCreate(plan) {
		// Gets see only the ids the lockfile names; a create planned from
		// them may duplicate a job that carries the key's tag under an id
		// the lockfile never saw. lockConfirmed predicts every create of a
		// configured key, so this is the rule stated once more, not a
		// path taken in practice.
		strategy = GetThenList
		live, read, err := listAfterGet(ctx, c, in, b.Live(), o.Parallelism)
		if err != nil {
			return nil, nil, err
		}
		fullyRead = read
		if err := readPermissions(ctx, c, in, live, o.Parallelism); err != nil {
			return nil, nil, err
		}
		if b, err = planner.NewBuilder(in); err != nil {
			return nil, nil, err
		}
		b.Add(live)
		if plan, err = b.Plan(); err != nil {
			return nil, nil, err
		}
	}

	// A list view can hide a difference (it is complete but it is still a
	// different endpoint); everything that will be written is planned from
	// a full jobs/get, as DESIGN.md §3 asks. Most of these were read while
	// the listing went on; the rest are the jobs whose plan depended on
	// others (a reference, an adoption).
	if strategy == List || strategy == GetThenList {
		var confirm []int64
		for _, a := range plan.Actions {
			if a.JobID != 0 && a.Op != planner.OpCreate && a.Op != planner.OpDelete && !fullyRead[a.JobID] {
				confirm = append(confirm, a.JobID)
			}
		}
		if len(confirm) > 0 {
			fresh, err := readByGet(ctx, c, confirm, o.Parallelism)
			if err != nil {
				return nil, nil, err
			}
			b.Replace(fresh)
			if plan, err = b.Plan(); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := checkPrincipals(ctx, c, plan, o.Parallelism); err != nil { // principals.go
		return nil, nil, err
	}
	if err := checkCreator(ctx, c, plan); err != nil { // principals.go
		return nil, nil, err
	}
	live := b.Live()
	plan.Refresh = &planner.RefreshReport{
		Requests:   c.Stats().Requests - before,
		JobsRead:   len(live),
		Folders:    folders,
		DurationMS: now().Sub(start).Milliseconds(),
		Strategy:   string(strategy),
	}
	return plan, live, nil
}

// lockConfirmed tells whether a per-job read confirms the lockfile: every
// key the plan covers that the lockfile names was found, carrying that
// key's tag, and every configured key has an entry. Otherwise the lockfile
// is stale for some key (its job deleted and perhaps re-created under our
// tag with another id, or its tag gone), and only a list can tell adoption
// from creation, or name the tagged job in the refusal.
func lockConfirmed(in planner.Input, live []planner.Live) bool {
	if in.Lock == nil {
		return false
	}
	var only map[string]bool
	if len(in.Only) > 0 {
		only = make(map[string]bool, len(in.Only))
		for _, k := range in.Only {
			only[k] = true
		}
	}
	byID := make(map[int64]*planner.Live, len(live))
	for i := range live {
		byID[live[i].JobID] = &live[i]
	}
	for k, e := range in.Lock.Jobs {
		if only != nil && !only[k] {
			continue
		}
		l := byID[e.JobID]
		if l == nil {
			return false
		}
		if owned, ok := l.OwnedKey(in.Project); !ok || owned != k {
			return false
		}
	}
	if in.Destroy {
		return true
	}
	for _, j := range in.Desired {
		if _, ok := in.Lock.Jobs[j.Key]; !ok && (only == nil || only[j.Key]) {
			return false
		}
	}
	return true
}

func hasCreate(p *planner.Plan) bool {
	for _, a := range p.Actions {
		if a.Op == planner.OpCreate {
			return true
		}
	}
	return false
}

// listAfterGet lists the workspace after a per-job read found the lockfile
// stale; the jobs already read whole with jobs/get are kept as read.
func listAfterGet(ctx context.Context, c *jobsapi.Client, in planner.Input, got []planner.Live, parallelism int) ([]planner.Live, map[int64]bool, error) {
	listed, read, err := readByList(ctx, c, in, parallelism)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range got {
		read[l.JobID] = true
	}
	return replace(listed, got), read, nil
}

func chooseStrategy(in planner.Input) Strategy {
	// Get sees only the jobs the lockfile names; pruning and destroying are
	// about jobs the YAML does not name, and a job that carries our tag
	// but fell out of the lockfile (a lockfile restored from git, a crash
	// between delete and record) is only found by listing.
	if in.Lock == nil || in.Prune || in.Destroy {
		return List
	}
	for _, j := range in.Desired {
		if _, ok := in.Lock.Jobs[j.Key]; !ok {
			return List
		}
	}
	if len(in.Lock.Jobs) > getThreshold {
		return List
	}
	return Get
}

func lockedIDs(in planner.Input) []int64 {
	if in.Lock == nil {
		return nil
	}
	ids := make([]int64, 0, len(in.Lock.Jobs))
	for _, j := range in.Lock.Jobs {
		ids = append(ids, j.JobID)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	return ids
}

// readByList lists the whole workspace and completes, with jobs/get, the
// jobs we manage whose arrays the list cut at 100 entries.
//
// Settings stay JSON (Live.RawSettings), decoded by the planner one
// job at a time: as trees, the list view of 10,000 jobs held ~110 MB while
// the YAML and the lockfile were also in memory, and made the plan's peak.
func readByList(ctx context.Context, c *jobsapi.Client, in planner.Input, parallelism int) ([]planner.Live, map[int64]bool, error) {
	managed := map[int64]bool{}
	if in.Lock != nil {
		for _, j := range in.Lock.Jobs {
			managed[j.JobID] = true
		}
	}
	var live []planner.Live
	var incomplete []int64
	err := c.ListJobsPages(ctx, jobsapi.ListJobsOptions{ExpandTasks: true}, func(page []jobsapi.ListedJob) error {
		if live == nil {
			live = make([]planner.Live, 0, len(page))
		}
		for _, j := range page {
			l := planner.Live{
				JobID:           j.JobID,
				CreatorUserName: j.CreatorUserName,
				RunAsUserName:   j.RunAsUserName,
				RawSettings:     settingsOf(j.Settings),
				Partial:         j.HasMore,
			}
			if j.HasMore {
				if _, owned := l.OwnedKey(in.Project); owned || managed[j.JobID] {
					incomplete = append(incomplete, j.JobID)
				}
			}
			live = append(live, l)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the workspace's jobs: %w", err)
	}
	if live == nil {
		live = []planner.Live{}
	}
	read := make(map[int64]bool, len(incomplete))
	if len(incomplete) == 0 {
		return live, read, nil
	}
	full, err := readByGet(ctx, c, incomplete, parallelism)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range full {
		read[l.JobID] = true
	}
	return replace(live, full), read, nil
}

// settingsOf is a list item's settings as Live.RawSettings: nil when
// absent or null. The decoder already copied them out of the page, so
// keeping them keeps nothing else of the page alive; a server that indents
// its answers costs only the spaces.
func settingsOf(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// readByGet reads the given jobs in parallel; a job that no longer exists is
// left out, which the planner reads as "deleted outside jobsync".
func readByGet(ctx context.Context, c *jobsapi.Client, ids []int64, parallelism int) ([]planner.Live, error) {
	out := make([]*planner.Live, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i, id := range ids {
		g.Go(func() error {
			j, err := c.GetJob(gctx, id)
			if jobsapi.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading job %d: %w", id, err)
			}
			l := toLive(j)
			out[i] = &l
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	live := make([]planner.Live, 0, len(out))
	for _, l := range out {
		if l != nil {
			live = append(live, *l)
		}
	}
	return live, nil
}

func replace(live, fresh []planner.Live) []planner.Live {
	byID := make(map[int64]planner.Live, len(fresh))
	for _, f := range fresh {
		byID[f.JobID] = f
	}
	out := make([]planner.Live, 0, len(live))
	for _, l := range live {
		if f, ok := byID[l.JobID]; ok {
			if f.Permissions == nil {
				f.Permissions = l.Permissions
			}
			out = append(out, f)
			delete(byID, l.JobID)
			continue
		}
		out = append(out, l)
	}
	// A confirmed read of a job the list did not show (listing raced a
	// create) is still a fact worth planning with.
	for _, f := range fresh {
		if _, ok := byID[f.JobID]; ok {
			out = append(out, f)
		}
	}
	return out
}

func toLive(j *jobsapi.Job) planner.Live {
	return planner.Live{
		JobID:           j.JobID,
		CreatorUserName: j.CreatorUserName,
		RunAsUserName:   j.RunAsUserName,
		Settings:        j.Settings,
		Partial:         j.HasMore,
	}
}

// readPermissions fills Live.Permissions for the jobs whose YAML declares
// permissions. The permissions API has no bulk read, so this costs one
// request per such job; jobs that declare none cost nothing.
func readPermissions(ctx context.Context, c *jobsapi.Client, in planner.Input, live []planner.Live, parallelism int) error {
	want := map[string]bool{}
	for _, j := range in.Desired {
		if j.Permissions != nil {
			want[j.Key] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	idOf := map[string]int64{}
	if in.Lock != nil {
		for k, j := range in.Lock.Jobs {
			idOf[k] = j.JobID
		}
	}
	for _, l := range live {
		if k, ok := l.OwnedKey(in.Project); ok {
			if _, known := idOf[k]; !known {
				idOf[k] = l.JobID
			}
		}
	}
	index := make(map[int64]int, len(live))
	for i, l := range live {
		index[l.JobID] = i
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for key := range want {
		i, ok := index[idOf[key]]
		if !ok {
			continue
		}
		g.Go(func() error {
			p, err := c.GetPermissions(gctx, live[i].JobID)
			if jobsapi.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading permissions of job %d (%s): %w", live[i].JobID, key, err)
			}
			live[i].Permissions = directGrants(p)
			return nil
		})
	}
	return g.Wait()
}

// directGrants keeps the permissions set on the job itself; inherited ones
// (workspace admins) are not the job's to change.
func directGrants(p *jobsapi.JobPermissions) []schema.Permission {
	out := []schema.Permission{}
	for _, ace := range p.AccessControlList {
		for _, perm := range ace.AllPermissions {
			if perm.Inherited {
				continue
			}
			out = append(out, schema.Permission{
				UserName:             ace.UserName,
				GroupName:            ace.GroupName,
				ServicePrincipalName: ace.ServicePrincipalName,
				PermissionLevel:      perm.PermissionLevel,
			})
		}
	}
	return out
}

// Drift compares the workspace with the last apply that in.Lock records
// (planner.DriftDesired) and inventories the jobs the project does not
// manage. It always lists the whole workspace: the inventory needs every
// job. lockPath names the lockfile in messages.
func Drift(ctx context.Context, c *jobsapi.Client, in planner.Input, lockPath string, o Options) (*planner.DriftReport, error) {
	if in.Lock == nil || len(in.Lock.Jobs) == 0 {
		return nil, fmt.Errorf("no lockfile at %s (or it manages no jobs): drift compares the workspace with the last apply, so run jobsync apply first", lockPath)
	}
	desired, err := planner.DriftDesired(in.Lock, lockPath)
	if err != nil {
		return nil, err
	}
	in.Desired, in.Prune, in.Destroy, in.Only = desired, false, false, nil
	o.Strategy = List
	plan, live, err := Plan(ctx, c, in, o)
	if err != nil {
		return nil, err
	}
	return planner.Drift(plan, live), nil
}

// Export reads the jobs to export, ids or (all) every job of the
// workspace, each with a full jobs/get, and turns them into a job file's
// content for project (planner.Export). workspace names it in messages.
func Export(ctx context.Context, c *jobsapi.Client, project, workspace string, ids []int64, all bool, o Options) (*planner.Exported, error) {
	if all {
		list, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{})
		if err != nil {
			return nil, err
		}
		for _, j := range list {
			ids = append(ids, j.JobID)
		}
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 16
	}
	live := make([]planner.Live, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallelism)
	for i, id := range ids {
		g.Go(func() error {
			j, err := c.GetJob(gctx, id)
			if jobsapi.IsNotFound(err) {
				return fmt.Errorf("job %d does not exist in %s", id, workspace)
			}
			if err != nil {
				return err
			}
			live[i] = planner.Live{JobID: id, Settings: j.Settings}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return planner.Export(project, live), nil
}
