package emulator

import (
	"slices"
	"sync"
	"sync/atomic"
)

// store is the state of one emulated workspace: its jobs, runs, permissions
// and workspace files. It is guarded by its own mu, so that per-token
// workspaces (Options.Workspaces) never contend with each other.
//
// Stored values are copy-on-write: a job's settings map (and everything
// reachable from it) is never modified once stored; every change stores a new
// *job. Readers can therefore render and cache without copying the tree.
type store struct {
	mu sync.RWMutex

	nextJobID int64
	nextRunID int64
	jobs      map[int64]*job
	order     []int64 // job ids, ascending
	perms     map[int64][]ace
	runs      map[int64]*run
	taskRuns  map[int64]int64 // task run id -> job run id
	tokens    map[string]int64
	creates   []int64 // emulated ms of recent jobs/create calls (hourly limit)

	// The workspace tree (workspace_tree.go), by canonical path.
	objects      map[string]*object
	children     map[string]map[string]bool // directory path -> names in it
	nextObjectID int64
	objectPerms  map[int64][]ace // direct ACL of a workspace object, by object id (workspace_permissions.go)
}

func newStore(firstJobID, firstRunID int64) *store {
	return &store{
		nextJobID: firstJobID,
		nextRunID: firstRunID,
		jobs:      map[int64]*job{},
		perms:     map[int64][]ace{},
		runs:      map[int64]*run{},
		taskRuns:  map[int64]int64{},
		tokens:    map[string]int64{},
		objects:   map[string]*object{},
		children:  map[string]map[string]bool{},

		objectPerms: map[int64][]ace{},
	}
}

// job is one stored job. Its fields never change after it is stored.
type job struct {
	id       int64
	created  int64 // epoch ms
	creator  string
	settings map[string]any // as sent, validated and normalised at write time

	// views caches rendered jobs/list items (see listView); raw caches the
	// persisted form. Both are computed on first use by concurrent readers.
	views [8]atomic.Pointer[[]byte]
	raw   atomic.Pointer[[]byte]
}

func newJob(id, created int64, creator string, settings map[string]any) *job {
	return &job{id: id, created: created, creator: creator, settings: settings}
}

func (st *store) newJobID() int64 {
	id := st.nextJobID
	st.nextJobID += jobIDStep
	return id
}

func (st *store) newRunID() int64 {
	id := st.nextRunID
	st.nextRunID += runIDStep
	return id
}

// putJob stores j, replacing the job with the same id.
func (st *store) putJob(j *job) {
	if _, ok := st.jobs[j.id]; !ok {
		i, _ := slices.BinarySearch(st.order, j.id)
		st.order = slices.Insert(st.order, i, j.id)
	}
	st.jobs[j.id] = j
}

func (st *store) deleteJob(id int64) {
	delete(st.jobs, id)
	delete(st.perms, id)
	if i, ok := slices.BinarySearch(st.order, id); ok {
		st.order = slices.Delete(st.order, i, i+1)
	}
	// Runs of a deleted job go with it (assumed; their idempotency tokens
	// keep pointing at the deleted run, see runNow).
	for rid, r := range st.runs {
		if r.JobID == id && r.Type == runTypeJob {
			st.deleteRun(rid)
		}
	}
}

func (st *store) deleteRun(id int64) {
	r := st.runs[id]
	if r == nil {
		return
	}
	for _, t := range r.Tasks {
		for _, a := range t.Attempts {
			delete(st.taskRuns, a.RunID)
		}
	}
	delete(st.runs, id)
}
