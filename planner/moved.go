package planner

import (
	"fmt"
	"sort"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Renames. A job's lifecycle.moved_from names the key it had before: the
// plan gives the new key the old key's job (matched like any key: the
// lockfile's entry confirmed by the old key's ownership tag, or the one job
// carrying that tag), plans it as an update that keeps the job and moves the
// tag to the new key, and apply then moves the lockfile entry. This is the
// one case where jobsync writes to a job carrying another key's tag, and
// only that key's (CheckRenameOwner). Once renamed (the job carries the new
// key's tag), moved_from changes nothing; an old entry left in the lockfile
// (by an apply interrupted between the two) is forgotten.
//
// lifecycle.moved_tasks maps old task keys to new ones. The Jobs API has no
// task rename: jobs/update replaces tasks by task_key (jobs-api.md §4.1).
// So the job's update sends the task under its new key in new_settings and
// the old key in fields_to_remove, in one request: the job never lacks the
// task between two writes, and other tasks' depends_on (which the YAML
// already writes with the new key) go in the same request. The task is
// compared under its new key, so the plan shows the rename and what else
// changed in it, not a removal and an addition.

// movesOf is the renames the configuration declares, new key -> old key.
// Validation has made them unambiguous (schema.checkMoves).
func movesOf(desired map[string]*schema.Job) map[string]string {
	out := map[string]string{}
	for k, j := range desired {
		if old := j.Lifecycle.MovedFrom; old != "" && desired[old] == nil {
			out[k] = old
		}
	}
	return out
}

// matchMoved finds the job of key k, which moved from old: its own, once
// the rename is done (the old key's lockfile entry is then stale), else
// the old key's.
func (id *identity) matchMoved(k, old string, tagged map[string][]*Live, lockJobs map[string]state.Job, byID map[int64]*Live,
	owner map[*Live]string, project string, tag func(string) string) (*Live, error) {
	l, err := matchKey(k, tagged[k], lockJobs, byID, owner, project, tag, id.adopted)
	if err != nil {
		return nil, err
	}
	oe, oldInLock := lockJobs[old]
	if l != nil {
		if len(tagged[old]) > 0 || oldInLock && oe.JobID != l.JobID && byID[oe.JobID] != nil {
			other := oe.JobID
			if len(tagged[old]) > 0 {
				other = tagged[old][0].JobID
			}
			return nil, fmt.Errorf("%q moves from %q (lifecycle.moved_from), but both keys have a job: %d (%s) and %d (%q's): delete the one that should go in the workspace, or remove moved_from and plan the two keys apart", k, old, l.JobID, tag(k), other, old)
		}
		if oldInLock {
			id.forget[old] = fmt.Sprintf("renamed to %s (lifecycle.moved_from): the old key's entry is left over", k)
		}
		return l, nil
	}
	adopted := map[string]string{}
	l, err = matchKey(old, tagged[old], lockJobs, byID, owner, project, tag, adopted)
	if err != nil {
		return nil, err
	}
	if l == nil {
		if oldInLock {
			id.forget[old] = fmt.Sprintf("renamed to %s (lifecycle.moved_from), but job %d no longer exists", k, oe.JobID)
		}
		return nil, nil
	}
	id.moved[k] = old
	if msg := adopted[old]; msg != "" {
		id.adopted[k] = msg
	}
	return l, nil
}

// CheckRenameOwner is CheckOwner for an action that may rename its job: the
// job must carry key's tag, or — when movedFrom is set — movedFrom's.
func CheckRenameOwner(project, key, movedFrom string, jobID int64, settings map[string]any) error {
	err := CheckOwner(project, key, jobID, settings)
	if err != nil && movedFrom != "" && CheckOwner(project, movedFrom, jobID, settings) == nil {
		return nil
	}
	return err
}

// renameTasks returns live and applied with each task that the job's
// lifecycle.moved_tasks renames under its new key, where live has the old
// key and not the new one and the configuration has the new one. It
// records the renames it makes; live and applied are not modified.
func (jp *jobPlanner) renameTasks(live, applied, want map[string]any) (map[string]any, map[string]any) {
	moves := jp.job.Lifecycle.MovedTasks
	if len(moves) == 0 {
		return live, applied
	}
	olds := make([]string, 0, len(moves))
	for old := range moves {
		olds = append(olds, old)
	}
	sort.Strings(olds)
	wantTasks := index(want["tasks"], "task_key")
	for _, old := range olds {
		nw := moves[old]
		liveTasks := index(live["tasks"], "task_key")
		if liveTasks[old] == nil || liveTasks[nw] != nil || wantTasks[nw] == nil || wantTasks[old] != nil {
			continue
		}
		live = withTaskKey(live, old, nw)
		if applied != nil {
			if at := index(applied["tasks"], "task_key"); at[old] != nil && at[nw] == nil {
				applied = withTaskKey(applied, old, nw)
			}
		}
		jp.renamed = append(jp.renamed, [2]string{old, nw})
	}
	return live, applied
}

// withTaskKey is settings with task old's task_key set to nw.
func withTaskKey(settings map[string]any, old, nw string) map[string]any {
	tasks, _ := settings["tasks"].([]any)
	out := make([]any, len(tasks))
	for i, t := range tasks {
		m, ok := t.(map[string]any)
		if ok && keyOf(m, "task_key") == old {
			m = shallowWith(m, "task_key", nw)
			out[i] = m
			continue
		}
		out[i] = t
	}
	return shallowWith(settings, "tasks", out)
}

// renameChanges are the renames as changes: configuration changes at the
// new key's path.
func (jp *jobPlanner) renameChanges() []change {
	var out []change
	for _, r := range jp.renamed {
		out = append(out, change{segs: []seg{{name: "tasks"}, {key: "task_key", val: r[1]}}, kind: KindRename, before: r[0], after: r[1], origin: OriginConfig})
	}
	return out
}
