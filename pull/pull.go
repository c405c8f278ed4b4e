// Package pull writes changes made in a workspace outside jobsync back into
// the YAML that defines the jobs (jobsync pull): it reads the workspace,
// asks the planner which differences came from the workspace since the last
// apply and how the YAML must change for each, has yamledit make those
// edits as text splices, and — unless it is a dry run — writes the files,
// checks that a fresh plan of them no longer shows what was pulled, and
// records the pulled values in the lockfile, so that drift is clean too.
//
// It never writes to the workspace, and never leaves a file half-written:
// the files are replaced atomically, and put back as they were when the
// check after writing fails.
package pull

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
	"github.com/jobsync/jobsync/yamledit"
)

// Options tune a pull.
type Options struct {
	Parallelism int
	Strategy    refresh.Strategy
	// NamePrefix is the selected target's name_prefix.
	NamePrefix string
}

// Report is a pull worked out: what goes into which file, and what does
// not.
type Report struct {
	Workspace string
	Project   string
	Jobs      []Job
	// Deleted are managed jobs deleted outside jobsync (their YAML stays).
	Deleted []planner.PulledJob
	// Files are the job files with their old and new text.
	Files   []*yamledit.Result
	Refresh *planner.RefreshReport

	in     planner.Input
	pulled map[string]*planner.PulledJob
}

// Job is one job's part of the report.
type Job struct {
	Key   string
	JobID int64
	File  string
	// Written are the edits that are in the new text of File.
	Written []planner.PullEdit
	// Left are the differences not pulled, each with its reason.
	Left []planner.PullLeft

	done []int // indices of Written in the planner's edits
}

// Plan reads the workspace and works out the pull; nothing is written. in
// is the input of a plan of the configuration (in.Only selects jobs).
func Plan(ctx context.Context, c *jobsapi.Client, in planner.Input, o Options) (*Report, error) {
	strategy := o.Strategy
	if strategy == "" {
		strategy = refresh.Auto
	}
	plan, live, err := refresh.Plan(ctx, c, in, refresh.Options{Strategy: strategy, Parallelism: o.Parallelism})
	if err != nil {
		return nil, err
	}
	in.Live = live
	pulled, err := planner.Pull(in, planner.PullOptions{NamePrefix: o.NamePrefix})
	if err != nil {
		return nil, err
	}
	r := &Report{Workspace: in.Workspace, Project: in.Project, Deleted: pulled.Deleted, Refresh: plan.Refresh,
		in: in, pulled: map[string]*planner.PulledJob{}}

	edits := map[string][]yamledit.Edit{}
	type ref struct{ job, edit int }
	refs := map[int]ref{}
	for ji := range pulled.Jobs {
		pj := &pulled.Jobs[ji]
		r.pulled[pj.Key] = pj
		r.Jobs = append(r.Jobs, Job{Key: pj.Key, JobID: pj.JobID, File: pj.File, Left: pj.Left})
		for ei, e := range pj.Edits {
			id := len(refs)
			refs[id] = ref{ji, ei}
			edits[pj.File] = append(edits[pj.File], yamledit.Edit{Job: pj.Key, Path: yamlPath(e.Steps), Delete: e.Delete, Zero: e.Zero, Value: e.Value, ID: id})
		}
	}
	files, err := yamledit.ApplyFiles(ctx, edits)
	if err != nil {
		return nil, err
	}
	r.Files = files
	for _, f := range files {
		for _, e := range f.Applied {
			x := refs[e.ID]
			j := &r.Jobs[x.job]
			j.Written = append(j.Written, pulled.Jobs[x.job].Edits[x.edit])
			j.done = append(j.done, x.edit)
		}
		for _, d := range f.Decisions {
			x := refs[d.Edit.ID]
			j := &r.Jobs[x.job]
			j.Left = append(j.Left, planner.PullLeft{Path: pulled.Jobs[x.job].Edits[x.edit].Path,
				Kind: planner.LeftDecision, Reason: d.Reason, Source: d.Pos()})
		}
	}
	for i := range r.Jobs {
		j := &r.Jobs[i]
		sort.Slice(j.Left, func(a, b int) bool { return j.Left[a].Path < j.Left[b].Path })
	}
	return r, nil
}

func yamlPath(steps []planner.PathStep) []yamledit.Step {
	out := make([]yamledit.Step, len(steps))
	for i, s := range steps {
		out[i] = yamledit.Step{Field: s.Field, KeyField: s.KeyField, KeyValue: s.KeyValue}
	}
	return out
}

// Changed says whether any file changes.
func (r *Report) Changed() bool {
	for _, f := range r.Files {
		if f.Changed() {
			return true
		}
	}
	return false
}

// ChangedFiles are the names of the files that change.
func (r *Report) ChangedFiles() []string {
	var out []string
	for _, f := range r.Files {
		if f.Changed() {
			out = append(out, f.File)
		}
	}
	return out
}

// Unresolved counts the differences pull leaves that are still drift: the
// ones that need a decision and the conflicts (changes the YAML has and
// apply sends are not).
func (r *Report) Unresolved() int {
	n := len(r.Deleted)
	for _, j := range r.Jobs {
		for _, l := range j.Left {
			if l.Kind != planner.LeftPending {
				n++
			}
		}
	}
	return n
}

// Written counts the changes that go into the YAML.
func (r *Report) Written() int {
	n := 0
	for _, j := range r.Jobs {
		n += len(j.Written)
	}
	return n
}

// Diff is the unified diff of every changed file.
func (r *Report) Diff() string {
	var b strings.Builder
	for _, f := range r.Files {
		b.WriteString(f.Diff())
	}
	return b.String()
}

// Reload loads the configuration again, from the files as they are now.
type Reload func(context.Context) ([]*schema.Job, error)

// Write writes the changed files, checks them, and records the pulled
// values in the lockfile. The check loads the configuration again and plans
// it against the workspace as it was read: a pulled path that still shows
// as a change, or a configuration that no longer loads, puts every file back
// as it was and fails. Only then is the lockfile written (through st, which
// the caller holds locked), with an entry per job that got edits: its last
// apply plus the pulled values.
func (r *Report) Write(ctx context.Context, reload Reload, c *jobsapi.Client, st *state.Store) error {
	if !r.Changed() {
		return nil
	}
	if err := yamledit.Write(ctx, r.Files); err != nil {
		return err
	}
	undo := func(cause error) error {
		if err := yamledit.Restore(r.Files); err != nil {
			return errors.Join(cause, fmt.Errorf("putting the files back failed too: %w (git checkout restores them)", err))
		}
		return cause
	}
	jobs, err := reload(ctx)
	if err != nil {
		return undo(fmt.Errorf("the pulled YAML does not load (%v); the files are as they were, nothing was pulled", err))
	}
	in := r.in
	in.Desired = jobs
	in.Only = nil
	for _, j := range r.Jobs {
		if len(j.Written) > 0 {
			in.Only = append(in.Only, j.Key)
		}
	}
	if len(in.Only) == 0 {
		return nil
	}
	plan, err := planner.Build(in)
	if err != nil {
		return undo(fmt.Errorf("planning the pulled YAML: %v; the files are as they were, nothing was pulled", err))
	}
	if left := stillDifferent(plan, r.Jobs); len(left) > 0 {
		return undo(fmt.Errorf("after writing, a plan of the YAML still shows %s; the files are as they were, nothing was pulled (this is a jobsync bug: please report it)", strings.Join(left, ", ")))
	}
	var recs []planner.Record
	for _, j := range r.Jobs {
		if rec, ok := r.pulled[j.Key].Record(j.done); ok {
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if st.File() == nil {
		st.Init(r.Workspace, r.Project)
	}
	_, err = applier.Apply(ctx, &planner.Plan{Workspace: r.Workspace, Project: r.Project, Records: recs}, c, st, applier.Options{})
	if err != nil {
		return fmt.Errorf("the YAML is written, but the lockfile could not record the pulled values (%w): the next apply records them", err)
	}
	return nil
}

// stillDifferent lists the pulled paths that a plan still changes.
func stillDifferent(p *planner.Plan, jobs []Job) []string {
	written := map[string][]string{}
	for _, j := range jobs {
		for _, e := range j.Written {
			written[j.Key] = append(written[j.Key], e.Path)
		}
	}
	var out []string
	for _, a := range p.Actions {
		for _, c := range a.Changes {
			for _, w := range written[a.Key] {
				if related(c.Path, w) {
					out = append(out, a.Key+" "+c.Path)
					break
				}
			}
		}
	}
	return out
}

// related says whether two keyed paths are one, or one is inside the other.
func related(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	return a == b || strings.HasPrefix(a, b) && (a[len(b)] == '.' || a[len(b)] == '[')
}
