package applier

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

// maxTags is the number of tags the Jobs API allows on a job (jobs-api.md
// §6.4: ≤25 tags).
const maxTags = 25

// ImportInput says which job to adopt under which key.
type ImportInput struct {
	// Workspace names the workspace in messages and in a new lockfile.
	Workspace string
	Project   string
	Key       string
	JobID     int64
	// Configured says whether Key is a job of the YAML; a key without YAML
	// would be deleted by the next apply --prune, so it is refused.
	Configured bool
}

// Imported is what Import did.
type Imported struct {
	JobID int64
	// Tag is the ownership tag value the job carries now.
	Tag string
	// Tagged is true when Import wrote the tag, false when the job carried
	// it already.
	Tagged bool
}

// Import adopts an existing job under a key on purpose: the one way a job
// that jobsync did not create becomes its to write. It reads the job,
// refuses one that carries another project's or key's ownership tag, adds
// the key's tag to the job itself (a jobs/update whose new_settings holds
// only tags: the job's own tags plus jobsync's, since update replaces a
// top-level object such as tags wholesale, jobs-api.md §4.1; nothing else
// of the job is touched), reads it back to confirm
// the tag is there, and only then records the job in the lockfile and
// commits it. A crash between the tag and the record leaves a tagged job
// that the next plan adopts by its tag, never a lockfile entry for an
// untagged job.
//
// What the lockfile records as last applied is the job as an export of it
// would read (server-filled fields left out), with the tag: a YAML made by
// `jobsync export` then plans as no change.
func Import(ctx context.Context, c *jobsapi.Client, st *state.Store, in ImportInput) (*Imported, error) {
	if c == nil || st == nil || in.Project == "" || in.Key == "" || in.JobID <= 0 {
		return nil, fmt.Errorf("applier: Import needs a client, a store, a project, a key and a job id")
	}
	if !in.Configured {
		return nil, fmt.Errorf("no job %q in the YAML: write its YAML first (jobsync export %d prints a starting point)", in.Key, in.JobID)
	}
	want := planner.OwnerTagValue(in.Project, in.Key)
	var recorded bool
	if f := st.File(); f != nil {
		if err := f.CheckProject(in.Project); err != nil {
			return nil, err
		}
		for k, j := range f.Jobs {
			if j.JobID == in.JobID && k != in.Key {
				return nil, fmt.Errorf("job %d is already managed as %s", in.JobID, k)
			}
		}
		if j, ok := f.Jobs[in.Key]; ok {
			if j.JobID != in.JobID {
				return nil, fmt.Errorf("%s already manages job %d: run jobsync state rm %s first to adopt another job under that key", in.Key, j.JobID, in.Key)
			}
			recorded = true
		}
	}
	job, err := c.GetJob(ctx, in.JobID)
	if jobsapi.IsNotFound(err) {
		return nil, fmt.Errorf("job %d does not exist in %s", in.JobID, in.Workspace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading job %d: %w", in.JobID, err)
	}
	tag := planner.OwnerTag(job.Settings)
	switch {
	case tag == want && recorded:
		return nil, fmt.Errorf("%s already manages job %d, and the job carries its tag %s=%s: nothing to import", in.Key, in.JobID, planner.OwnerTagKey, want)
	case tag != "" && tag != want:
		return nil, fmt.Errorf("job %d carries the tag %s=%s: it is managed by another jobsync project or key, so it is not adopted", in.JobID, planner.OwnerTagKey, tag)
	}

	out := &Imported{JobID: in.JobID, Tag: want}
	if tag == "" {
		// The key may have its job already, tagged but missing from the
		// lockfile (lost, or restored from an old commit): a second job
		// with its tag would stop every plan of the key.
		owned, err := ownedByKey(ctx, c, in.Project, "")
		others := owned[in.Key]
		if err != nil {
			return nil, fmt.Errorf("looking for a job that already carries the tag %s=%s: %w", planner.OwnerTagKey, want, err)
		}
		if len(others) > 0 {
			return nil, fmt.Errorf("job %d already carries the tag %s=%s, so %s has its job and job %d is not adopted: run `jobsync plan`, which adopts job %d by its tag; to manage job %d under %s instead, remove that tag from job %d first",
				others[0], planner.OwnerTagKey, want, in.Key, in.JobID, others[0], in.JobID, in.Key, others[0])
		}
		tags, _ := job.Settings["tags"].(map[string]any)
		if len(tags) >= maxTags {
			return nil, fmt.Errorf("job %d has %d tags, the most the Jobs API allows, so jobsync cannot add its ownership tag %s=%s: remove one of its tags and import again", in.JobID, len(tags), planner.OwnerTagKey, want)
		}
		body, err := json.Marshal(map[string]any{
			"job_id":       in.JobID,
			"new_settings": map[string]any{"tags": planner.WithOwnerTag(tags, in.Project, in.Key)},
		})
		if err != nil {
			return nil, fmt.Errorf("job %d: encoding the tag update: %w", in.JobID, err)
		}
		if err := c.UpdateJob(ctx, body); err != nil {
			return nil, fmt.Errorf("adding the ownership tag %s=%s to job %d: %w", planner.OwnerTagKey, want, in.JobID, err)
		}
		out.Tagged = true
		// Read back: the lockfile must never name a job that does not
		// show the tag, and the record is made from what the job is now.
		if job, err = c.GetJob(ctx, in.JobID); err != nil {
			return nil, fmt.Errorf("reading job %d back after tagging it: %w", in.JobID, err)
		}
		if err := planner.CheckOwner(in.Project, in.Key, in.JobID, job.Settings); err != nil {
			return nil, fmt.Errorf("job %d does not show the ownership tag after it was added: %w", in.JobID, err)
		}
	}

	applied := planner.ForExport(job.Settings)
	tags, _ := applied["tags"].(map[string]any)
	applied["tags"] = planner.WithOwnerTag(tags, in.Project, in.Key)
	// The live settings may hold secrets: the lockfile keeps seals.
	raw, err := state.EncodeApplied(planner.Seal(applied, nil))
	if err != nil {
		return nil, fmt.Errorf("job %d: %w", in.JobID, err)
	}
	if st.File() == nil {
		st.Init(in.Workspace, in.Project)
	}
	if err := st.Record(ctx, in.Key, state.Job{JobID: in.JobID, Applied: raw}); err != nil {
		return nil, err
	}
	if err := st.Commit(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// ownedByKey lists the workspace's jobs (those named name, when it is not
// empty) that carry an ownership tag of project, by key, ids ascending.
// Tags cannot be searched for: this reads the whole listing.
func ownedByKey(ctx context.Context, c *jobsapi.Client, project, name string) (map[string][]int64, error) {
	jobs, err := c.ListJobs(ctx, jobsapi.ListJobsOptions{Name: name})
	if err != nil {
		return nil, err
	}
	out := map[string][]int64{}
	for _, j := range jobs {
		if k, ok := planner.OwnedKey(project, j.Settings); ok {
			out[k] = append(out[k], j.JobID)
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, nil
}

// RunNow starts a run of key's job (jobID, as the lockfile names it), once a
// fresh read shows that the job carries key's ownership tag: a lockfile
// entry alone never makes a job jobsync's to run.
func RunNow(ctx context.Context, c *jobsapi.Client, project, key string, jobID int64) (jobsapi.RunNowResponse, error) {
	job, err := c.GetJob(ctx, jobID)
	if jobsapi.IsNotFound(err) {
		return jobsapi.RunNowResponse{}, fmt.Errorf("job %d (%s) no longer exists in the workspace: run `jobsync apply` to create it again", jobID, key)
	}
	if err != nil {
		return jobsapi.RunNowResponse{}, fmt.Errorf("reading job %d (%s): %w", jobID, key, err)
	}
	if err := planner.CheckOwner(project, key, jobID, job.Settings); err != nil {
		return jobsapi.RunNowResponse{}, err
	}
	body, err := json.Marshal(map[string]any{"job_id": jobID})
	if err != nil {
		return jobsapi.RunNowResponse{}, err
	}
	return c.RunNow(ctx, body)
}
