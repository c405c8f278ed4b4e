package planner

import (
	"fmt"
	"strings"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Builder makes the plan Build makes, from live jobs that arrive in parts:
// the pages of a jobs/list as they come, then the jobs/get reads that
// confirm or complete some of them. Plan returns exactly what Build
// returns for the same Input with Live set to every job added (Add), with
// the replacements (Replace) and permissions (SetPermissions) applied.
//
// It plans each job as soon as it arrives (a speculation), against what
// it knows of the rest so far: its own key's lockfile entry, and the
// lockfile's or already listed ids of the jobs its settings refer to. Plan
// then decides identity over every live job, as Build does, and keeps a
// job's speculation only where everything it assumed holds (the same live
// read, the same adoption reason and reference ids, no rename); every
// other key is planned then. So a plan of 10,000 listed jobs costs, after
// the last page, the identity pass and the few jobs whose speculation did
// not hold; and a replaced job (a jobs/get confirmation) is planned again
// alone.
//
// Like Build it is pure: no I/O, no clock. It is not safe for concurrent
// use.
type Builder struct {
	in       Input
	desired  map[string]*schema.Job
	only     map[string]bool
	lockJobs map[string]state.Job
	// moved holds the keys a rename involves, new and old (movesOf):
	// their identity depends on other keys, so they are not speculated.
	moved map[string]bool

	live   []Live
	tags   []string // each live job's ownership tag value
	serial []uint64 // changes whenever the entry does
	next   uint64
	spec   map[string]*speculation
	noSpec bool
	// firstTagged is the first live job seen with each key's tag, refs
	// the keys each configured job refers to: what speculations assume.
	firstTagged map[string]int64
	refs        map[string][]string
	// planned counts planKey calls (tests check that speculations hold).
	planned int
	// texts are the strings decoded so far, shared (jsonfast.go).
	texts textCache
	// names remembers which names look secret (redact.go).
	names secretNames
}

// speculation is one key planned against one live read.
type speculation struct {
	serial  uint64
	adopted string
	// refs are the keys the job's settings refer to (${jobs.k.id}), with
	// what was assumed of each.
	refs map[string]refGuess
	res  keyResult
	// write: the outcome writes to the job and assumed nothing but its
	// read (what Add reports).
	write bool
}

type refGuess struct {
	id       int64 // 0: not matched to a live job
	creating bool
}

// NewBuilder checks in as Build does and returns a Builder for it;
// in.Live is ignored (Add the live jobs).
func NewBuilder(in Input) (*Builder, error) {
	if in.Project == "" {
		return nil, fmt.Errorf("planner: no project: the ownership tag %q needs a project name", OwnerTagKey)
	}
	in.Live = nil
	if in.Lock != nil {
		// Job ids only mean something in their workspace, and ownership tags
		// only within their project: a lockfile of another one would send
		// writes to the wrong jobs.
		if in.Lock.Workspace != "" && in.Workspace != "" && in.Lock.Workspace != in.Workspace {
			return nil, fmt.Errorf("the lockfile is for workspace %s, not %s; use that workspace's lockfile (or another lockfile path)", in.Lock.Workspace, in.Workspace)
		}
		if in.Lock.Project != "" && in.Lock.Project != in.Project {
			return nil, fmt.Errorf("the lockfile is for project %q, not %q; use that project's lockfile (or another lockfile path)", in.Lock.Project, in.Project)
		}
	}
	b := &Builder{in: in, desired: make(map[string]*schema.Job, len(in.Desired)), spec: map[string]*speculation{},
		firstTagged: map[string]int64{}, refs: map[string][]string{}}
	for _, j := range in.Desired {
		if j == nil {
			continue
		}
		if prev, dup := b.desired[j.Key]; dup {
			return nil, fmt.Errorf("job key %q is defined twice (%s and %s); keys must be unique", j.Key, prev.Pos, j.Pos)
		}
		b.desired[j.Key] = j
	}
	if len(in.Only) > 0 {
		b.only = make(map[string]bool, len(in.Only))
		for _, k := range in.Only {
			b.only[k] = true
		}
	}
	if in.Lock != nil {
		b.lockJobs = in.Lock.Jobs
	}
	b.moved = map[string]bool{}
	for k, j := range b.desired {
		if old := j.Lifecycle.MovedFrom; old != "" {
			b.moved[k], b.moved[old] = true, true
		}
	}
	// Pull watches every job as Build plans it, in key order; a destroy
	// deletes, which costs nothing to plan.
	b.noSpec = in.observe != nil || in.Destroy
	return b, nil
}

// Add adds live jobs (a page of a listing, in order) and plans those it
// can. It returns the ids of the jobs among them whose plan, as far as the
// Builder can tell, writes to them (update, reset or permissions): a caller
// that read them from a list view confirms them with jobs/get while the
// listing goes on. It names only jobs whose plan assumed nothing but this
// read: the lockfile names the job for its key, and its settings refer to
// no other job.
func (b *Builder) Add(live []Live) []int64 {
	var writes []int64
	for _, l := range live {
		b.live = append(b.live, l)
		b.tags = append(b.tags, l.ownerTag())
		b.serial = append(b.serial, b.bump())
		if k, ok := ownedKey(b.in.Project, b.tags[len(b.tags)-1]); ok {
			if _, seen := b.firstTagged[k]; !seen {
				b.firstTagged[k] = l.JobID
			}
		}
		if b.speculate(len(b.live) - 1) {
			writes = append(writes, l.JobID)
		}
	}
	return writes
}

// Replace puts fresh reads in place of the live jobs with the same ids,
// keeping the permissions already read when a fresh read has none, and
// adds those that were not there (a listing raced a create); it returns
// the writes among them, as Add does.
func (b *Builder) Replace(fresh []Live) []int64 {
	byID := make(map[int64]Live, len(fresh))
	for _, f := range fresh {
		byID[f.JobID] = f
	}
	var writes []int64
	for i := range b.live {
		f, ok := byID[b.live[i].JobID]
		if !ok {
			continue
		}
		if f.Permissions == nil {
			f.Permissions = b.live[i].Permissions
		}
		delete(byID, f.JobID)
		b.live[i], b.tags[i], b.serial[i] = f, f.ownerTag(), b.bump()
		if b.speculate(i) {
			writes = append(writes, f.JobID)
		}
	}
	var added []Live
	for _, f := range fresh {
		if _, ok := byID[f.JobID]; ok {
			added = append(added, f)
		}
	}
	return append(writes, b.Add(added)...)
}

// SetPermissions records the direct grants read for job id (its last
// entry, as read permissions are matched to jobs by id), and returns it
// when its plan then writes to it (as Add).
func (b *Builder) SetPermissions(id int64, perms []schema.Permission) []int64 {
	for i := len(b.live) - 1; i >= 0; i-- {
		if b.live[i].JobID == id {
			b.live[i].Permissions = perms
			b.serial[i] = b.bump()
			if b.speculate(i) {
				return []int64{id}
			}
			return nil
		}
	}
	return nil
}

// SetLiveFiles sets Input.LiveFiles.
func (b *Builder) SetLiveFiles(files map[string]string) { b.in.LiveFiles = files }

// Live returns the live jobs as they stand (the Input.Live of Plan).
func (b *Builder) Live() []Live { return b.live }

func (b *Builder) bump() uint64 {
	b.next++
	return b.next
}

// speculate plans the live job at i for the key it is tagged with, when
// that can be done before the rest of the workspace is known, and reports
// whether the outcome is a write that depends on nothing but this read.
func (b *Builder) speculate(i int) bool {
	if b.noSpec {
		return false
	}
	l := &b.live[i]
	key, ok := ownedKey(b.in.Project, b.tags[i])
	if !ok || l.Partial || b.desired[key] == nil || b.moved[key] || b.only != nil && !b.only[key] {
		return false
	}
	tag := OwnerTagKey + "=" + OwnerTagValue(b.in.Project, key)
	adopted := ""
	if e, inLock := b.lockJobs[key]; !inLock {
		adopted = fmt.Sprintf("adopted job %d by its tag %s (not in the lockfile)", l.JobID, tag)
	} else if e.JobID != l.JobID {
		adopted = fmt.Sprintf("adopted job %d by its tag %s (job %d recorded in the lockfile no longer exists)", l.JobID, tag, e.JobID)
	}
	s := &speculation{serial: b.serial[i], adopted: adopted}
	var ids map[string]int64
	var creating map[string]bool
	refs, ok := b.refs[key]
	if !ok {
		var err error
		if refs, err = desiredRefs(b.desired[key], &b.texts); err != nil {
			return false // the final Build plans the job, and reports it
		}
		b.refs[key] = refs
	}
	for _, r := range refs {
		g := b.guess(r)
		if s.refs == nil {
			s.refs, ids, creating = map[string]refGuess{}, map[string]int64{}, map[string]bool{}
		}
		s.refs[r] = g
		if g.id != 0 {
			ids[r] = g.id
		}
		if g.creating {
			creating[r] = true
		}
	}
	s.res = b.planKey(key, l, adopted, "", ids, creating)
	b.spec[key] = s
	a := s.res.action
	s.write = s.res.err == nil && a != nil && a.Op != OpCreate && a.Op != OpDelete && adopted == "" && s.refs == nil
	return s.write
}

// Writes returns id when the plan made for job id's current read (its
// last entry) writes to it, as Add reports it.
func (b *Builder) Writes(id int64) []int64 {
	for i := len(b.live) - 1; i >= 0; i-- {
		if b.live[i].JobID != id {
			continue
		}
		key, ok := ownedKey(b.in.Project, b.tags[i])
		if s := b.spec[key]; ok && s != nil && s.serial == b.serial[i] && s.write {
			return []int64{id}
		}
		return nil
	}
	return nil
}

// guess is what a speculation assumes of a key its job refers to: the job
// the lockfile names (or else one already seen with its tag), or a create
// when it is configured.
func (b *Builder) guess(k string) refGuess {
	if e, ok := b.lockJobs[k]; ok {
		return refGuess{id: e.JobID}
	}
	if id, ok := b.firstTagged[k]; ok {
		return refGuess{id: id}
	}
	return refGuess{creating: b.desired[k] != nil && (b.only == nil || b.only[k])}
}

// refsOf are the keys settings refer to with ${jobs.<key>.id}.
func refsOf(settings map[string]any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if len(x) >= 12 && strings.Contains(x, "${jobs.") {
				for _, m := range refPattern.FindAllStringSubmatch(x, -1) {
					out = append(out, m[1])
				}
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(settings)
	return out
}

// Plan is Build of the Input with the live jobs as they stand.
func (b *Builder) Plan() (*Plan, error) {
	in := &b.in
	p := &Plan{
		FormatVersion: FormatVersion,
		ToolVersion:   in.ToolVersion,
		CreatedAt:     in.Now.UTC(),
		Workspace:     in.Workspace,
		Project:       in.Project,
		Target:        in.Target,
		Actions:       []Action{},
	}
	if in.Lock != nil {
		p.State = StateRef{Lineage: in.Lock.Lineage, Serial: in.Lock.Serial}
	}
	id, err := identify(in, b.desired, b.only, b.live, b.tags)
	if err != nil {
		return nil, err
	}
	// Ids known before apply: every key matched to a live job.
	ids := make(map[string]int64, len(id.match))
	for k, l := range id.match {
		ids[k] = l.JobID
	}
	creating := map[string]bool{}
	if !in.Destroy {
		for k := range b.desired {
			if id.match[k] == nil && (b.only == nil || b.only[k]) {
				creating[k] = true
			}
		}
	}
	index := make(map[*Live]int, len(b.live))
	for i := range b.live {
		index[&b.live[i]] = i
	}
	for _, key := range id.keys {
		if b.only != nil && !b.only[key] {
			continue
		}
		m := id.match[key]
		var res keyResult
		if s := b.spec[key]; s != nil && m != nil && b.holds(s, index[m], id.adopted[key], id.moved[key], ids, creating) {
			res = s.res
		} else {
			res = b.planKey(key, m, id.adopted[key], id.moved[key], ids, creating)
		}
		if res.err != nil {
			return nil, res.err
		}
		if res.action != nil {
			p.Actions = append(p.Actions, *res.action)
		}
		if res.skipped != nil {
			p.Skipped = append(p.Skipped, *res.skipped)
		}
		if res.record != nil {
			p.Records = append(p.Records, *res.record)
		}
	}
	for old, reason := range id.forget {
		p.Records = append(p.Records, Record{Key: old, JobID: b.lockJobs[old].JobID, Forget: true, Reason: reason})
	}
	if err := order(p); err != nil {
		return nil, err
	}
	if err := planFiles(in, p, b.desired, b.only); err != nil {
		return nil, err
	}
	return p, nil
}

// holds tells whether speculation s was made with what identity decided:
// the same read of the matched job, the same adoption, no rename, and the
// same ids (or creates) of the keys it refers to.
func (b *Builder) holds(s *speculation, i int, adopted, movedFrom string, ids map[string]int64, creating map[string]bool) bool {
	if s.serial != b.serial[i] || s.adopted != adopted || movedFrom != "" {
		return false
	}
	for k, g := range s.refs {
		if ids[k] != g.id || creating[k] != g.creating {
			return false
		}
	}
	return true
}
