package planner

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// DriftReport is what `jobsync drift` finds: the workspace compared with
// what jobsync last applied (not with the YAML, which may have moved on).
type DriftReport struct {
	Workspace string      `json:"workspace"`
	Project   string      `json:"project"`
	Changed   []DriftJob  `json:"changed"`
	Deleted   []DriftJob  `json:"deleted_outside"`
	Unmanaged []Unmanaged `json:"unmanaged"`
	// OtherProjects are jobs that carry another jobsync project's (or
	// target's) ownership tag: managed, just not by this project.
	OtherProjects []Unmanaged    `json:"other_projects"`
	Refresh       *RefreshReport `json:"refresh,omitempty"`
}

// DriftJob is a managed job that changed (or went) outside jobsync.
type DriftJob struct {
	Key     string        `json:"key"`
	JobID   int64         `json:"job_id"`
	Changes []DriftChange `json:"changes,omitempty"`
}

// DriftChange is one keyed path whose live value differs from the applied
// one.
type DriftChange struct {
	Path    string `json:"path"`
	Applied any    `json:"applied,omitempty"`
	Live    any    `json:"live,omitempty"`
}

// Unmanaged is a job of the workspace that this project does not manage.
type Unmanaged struct {
	JobID int64  `json:"job_id"`
	Name  string `json:"name"`
	// Owner is the ownership tag of the other jobsync project that
	// manages it, "" for a job no jobsync project manages.
	Owner string `json:"owner,omitempty"`
}

// Found tells whether the report holds drift: a managed job changed or
// deleted outside jobsync. Unmanaged jobs are an inventory, not drift.
func (r *DriftReport) Found() bool { return len(r.Changed)+len(r.Deleted) > 0 }

// DriftDesired is the last apply recorded in lock, as a configuration:
// planned against the workspace, it yields exactly the drift. Each job
// carries the grants jobsync last set, in the mode it set them, so that
// in additive mode grants made by others are not drift. lockPath names
// the lockfile in messages.
func DriftDesired(lock *state.File, lockPath string) ([]*schema.Job, error) {
	keys := make([]string, 0, len(lock.Jobs))
	for k := range lock.Jobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var desired []*schema.Job
	for _, key := range keys {
		j := lock.Jobs[key]
		applied, err := j.AppliedSettings()
		if err != nil {
			return nil, fmt.Errorf("%s: job %q: %v; remove the entry (jobsync state rm %s) and apply again", lockPath, key, err, key)
		}
		dj := schema.NewJob(key, lockPath, AsConfiguration(applied), nil)
		if j.Permissions != nil {
			perms, err := recordedGrants(j.Permissions)
			if err != nil {
				return nil, fmt.Errorf("%s: job %q: permissions: %v; remove the entry (jobsync state rm %s) and apply again", lockPath, key, err, key)
			}
			dj.Permissions, dj.PermissionsMode = perms, j.PermissionsMode
		}
		desired = append(desired, dj)
	}
	return desired, nil
}

// recordedGrants reads the grants a lockfile entry records (entries of the
// permissions API's request form).
func recordedGrants(entries []any) ([]schema.Permission, error) {
	b, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	perms := []schema.Permission{}
	if err := json.Unmarshal(b, &perms); err != nil {
		return nil, err
	}
	return perms, nil
}

// Drift reads the report off a plan from the last apply (DriftDesired) to
// the workspace, and inventories the live jobs the project does not
// manage. Values are as read: Redacted hides secrets for display.
func Drift(plan *Plan, live []Live) *DriftReport {
	rep := &DriftReport{Workspace: plan.Workspace, Project: plan.Project, Refresh: plan.Refresh,
		Changed: []DriftJob{}, Deleted: []DriftJob{}, Unmanaged: []Unmanaged{}, OtherProjects: []Unmanaged{}}
	for _, a := range plan.Actions {
		switch a.Op {
		case OpCreate:
			rep.Deleted = append(rep.Deleted, DriftJob{Key: a.Key, JobID: a.JobID})
		case OpNoop:
		default:
			dj := DriftJob{Key: a.Key, JobID: a.JobID}
			for _, ch := range a.Changes {
				// The plan goes from live to applied, drift from
				// applied to live.
				dj.Changes = append(dj.Changes, DriftChange{Path: ch.Path, Applied: ch.After, Live: ch.Before})
			}
			rep.Changed = append(rep.Changed, dj)
		}
	}
	for i := range live {
		l := &live[i]
		if _, ours := l.OwnedKey(plan.Project); ours {
			continue
		}
		u := Unmanaged{JobID: l.JobID, Owner: l.ownerTag()}
		// List reads keep settings as JSON; unreadable ones still list
		// the job, by id.
		settings, _ := l.Decoded()
		if n, ok := settings["name"].(string); ok {
			u.Name = n
		}
		if u.Owner != "" {
			rep.OtherProjects = append(rep.OtherProjects, u)
		} else {
			rep.Unmanaged = append(rep.Unmanaged, u)
		}
	}
	byID := func(s []Unmanaged) {
		sort.Slice(s, func(i, j int) bool { return s[i].JobID < s[j].JobID })
	}
	byID(rep.Unmanaged)
	byID(rep.OtherProjects)
	return rep
}

// Redacted is the report with secret-looking values replaced by
// Sensitive, as plans show them.
func (r *DriftReport) Redacted() *DriftReport {
	q := *r
	q.Changed = make([]DriftJob, len(r.Changed))
	for i, j := range r.Changed {
		cs := make([]DriftChange, len(j.Changes))
		for k, ch := range j.Changes {
			red := Redacted(Change{Path: ch.Path, Before: ch.Applied, After: ch.Live})
			cs[k] = DriftChange{Path: ch.Path, Applied: red.Before, Live: red.After}
		}
		j.Changes = cs
		q.Changed[i] = j
	}
	return &q
}
