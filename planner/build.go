package planner

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Build computes the plan that converges the workspace to the desired jobs.
// It is pure and deterministic: the same Input gives the same Plan.
//
// Identity. A key's job is the one the lockfile names, confirmed by its
// ownership tag (OwnerTagKey), or — when the lockfile does not name one, or
// names one that is gone — the single live job carrying the key's tag
// (adopted, never duplicated). Two live jobs with the same key's tag are an
// error naming the ids, and so is a lockfile id whose job carries no tag or
// another key's or project's (an *OwnershipError): guessing would mean
// writing to the wrong job. So every action on an existing job is planned
// against a live read showing this project's tag for that key; a job
// without it is never touched, whatever the lockfile says.
//
// Op choice, per job:
//
//	no job                          create (full desired settings, + access_control_list)
//	no managed difference           no-op (left out of Actions)
//	differences jobs/update can say update: changed top-level fields and whole changed
//	                                tasks/job_clusters in new_settings, removed ones in
//	                                fields_to_remove ("x", "tasks/<k>", "job_clusters/<k>")
//	otherwise                       reset (full settings): parameters or environments change
//	                                (their update merge is undocumented, jobs-api.md §4.1),
//	                                git_source appears or disappears (every task source
//	                                follows it), or the update body would be the larger one
//	only permissions differ         permissions (a PUT keeping exactly one IS_OWNER)
//	key gone from the configuration delete, when Prune (or Destroy); else listed in Skipped
//
// Order: creates in reference order (a job whose settings refer to
// ${jobs.k.id} comes after k's create), then updates, resets and
// permissions, then deletes; ties by key.
func Build(in Input) (*Plan, error) {
	b, err := NewBuilder(in)
	if err != nil {
		return nil, err
	}
	b.Add(in.Live)
	return b.Plan()
}

// keyResult is what planning one key adds to a plan.
type keyResult struct {
	action, skipped *Action
	record          *Record
	err             error
}

// planKey plans one key against its live job (nil: none), as Build's
// loop over the keys does. ids and creating are the keys matched to live
// jobs and the keys whose jobs this plan creates.
func (b *Builder) planKey(key string, match *Live, adopted, movedFrom string, ids map[string]int64, creating map[string]bool) keyResult {
	in := &b.in
	b.planned++
	// List reads keep settings raw; each job's tree lives only while that
	// job is planned.
	live, err := decodedLive(match, &b.texts)
	if err != nil {
		return keyResult{err: fmt.Errorf("job %q: %v", key, err)}
	}
	if live != nil {
		// identify matched only jobs that carry the key's tag (or, for a
		// rename, its old key's); this is the last point before a request
		// is made for one, so the rule is stated here too, where no
		// refactoring of identity (or of speculation, builder.go) can
		// lose it.
		if err := CheckRenameOwner(in.Project, key, movedFrom, live.JobID, live.Settings); err != nil {
			return keyResult{err: err}
		}
	}
	var lockEntry *state.Job
	if e, ok := b.lockJobs[key]; ok {
		lockEntry = &e
	} else if movedFrom != "" {
		// The rename's baseline is the old key's last apply.
		if e, ok := b.lockJobs[movedFrom]; ok {
			lockEntry = &e
		}
	}
	job := b.desired[key]
	if job == nil || in.Destroy {
		if job != nil && job.Lifecycle.PreventDestroy {
			return keyResult{err: fmt.Errorf("job %q (%s) has lifecycle.prevent_destroy set and this plan would delete it; remove prevent_destroy first if you really mean to delete it", key, job.Pos)}
		}
		if live == nil {
			if lockEntry != nil {
				return keyResult{record: &Record{Key: key, JobID: lockEntry.JobID, Forget: true,
					Reason: fmt.Sprintf("job %d is gone from the workspace and %q from the configuration", lockEntry.JobID, key)}}
			}
			return keyResult{}
		}
		a := deleteAction(key, live, lockEntry, in.Project, in.Destroy)
		if in.Prune || in.Destroy {
			return keyResult{action: &a}
		}
		return keyResult{skipped: &a}
	}
	jp := jobPlanner{in: in, key: key, job: job, live: live, lock: lockEntry, ids: ids, creating: creating, adopted: adopted, movedFrom: movedFrom, texts: &b.texts,
		names: &b.names, liveOwned: live != match}
	a, rec, err := jp.plan()
	if err != nil {
		return keyResult{err: err}
	}
	if in.observe != nil {
		in.observe(&jp)
	}
	return keyResult{action: a, record: rec}
}

// identity is the outcome of matching keys to live jobs.
type identity struct {
	keys    []string         // every key to consider: desired ∪ lockfile ∪ tagged live jobs, sorted
	match   map[string]*Live // key -> its live job
	adopted map[string]string
	// moved maps a key renamed with lifecycle.moved_from to its old key,
	// when its job is the old key's (the rename is still to be applied).
	moved map[string]string
	// forget holds old keys whose lockfile entry a rename made stale,
	// with the reason.
	forget map[string]string
}

func identify(in *Input, desired map[string]*schema.Job, only map[string]bool, live []Live, tags []string) (*identity, error) {
	byID := make(map[int64]*Live, len(live))
	tagged := map[string][]*Live{}
	// Each job's ownership tag, read once (by the Builder, as the job
	// came): for list reads it is parsed out of the JSON settings.
	owner := make(map[*Live]string, len(live))
	for i := range live {
		l := &live[i]
		byID[l.JobID] = l
		owner[l] = tags[i]
		if k, ok := ownedKey(in.Project, tags[i]); ok {
			tagged[k] = append(tagged[k], l)
		}
	}
	keySet := make(map[string]bool, len(desired))
	for k := range desired {
		keySet[k] = true
	}
	var lockJobs map[string]state.Job
	if in.Lock != nil {
		lockJobs = in.Lock.Jobs
		for k := range lockJobs {
			keySet[k] = true
		}
	}
	for k := range tagged {
		keySet[k] = true
	}
	// A renamed key stands for its old key, which is no key of its own.
	moves := movesOf(desired)
	for _, old := range moves {
		delete(keySet, old)
	}
	id := &identity{match: map[string]*Live{}, adopted: map[string]string{}, moved: map[string]string{}, forget: map[string]string{}}
	for k := range keySet {
		id.keys = append(id.keys, k)
	}
	sort.Strings(id.keys)

	tag := func(k string) string { return OwnerTagKey + "=" + OwnerTagValue(in.Project, k) }
	// A job carries one ownership tag, and a key matches only a job with
	// its own tag, so no two keys can resolve to one job (a lockfile that
	// names one job for two keys fails the tag check of one of them).
	for _, k := range id.keys {
		var l *Live
		var err error
		if old, ok := moves[k]; ok {
			l, err = id.matchMoved(k, old, tagged, lockJobs, byID, owner, in.Project, tag)
		} else {
			l, err = matchKey(k, tagged[k], lockJobs, byID, owner, in.Project, tag, id.adopted)
		}
		if err != nil {
			if only != nil && !only[k] {
				// Not this plan's business (--only); the key stays unmatched.
				delete(id.adopted, k)
				continue
			}
			return nil, err
		}
		if l == nil {
			continue
		}
		id.match[k] = l
	}
	return id, nil
}

// matchKey finds key's live job: the lockfile's, confirmed by its tag, or
// the single job carrying the key's tag.
func matchKey(k string, ts []*Live, lockJobs map[string]state.Job, byID map[int64]*Live, owner map[*Live]string,
	project string, tag func(string) string, adopted map[string]string) (*Live, error) {
	if len(ts) > 1 {
		ids := make([]string, len(ts))
		for i, l := range ts {
			ids[i] = fmt.Sprint(l.JobID)
		}
		sort.Strings(ids)
		return nil, fmt.Errorf("jobs %s carry the same tag %s: only one job may own key %q; delete the duplicate in the workspace (or remove its tag) and plan again", strings.Join(ids, " and "), tag(k), k)
	}
	e, inLock := lockJobs[k]
	var l *Live
	switch {
	case inLock && byID[e.JobID] != nil:
		l = byID[e.JobID]
		// The lockfile alone never makes a job ours: a hand-edited entry,
		// a journal replayed from elsewhere or a job whose tag was removed
		// would otherwise be reset or deleted (issue 12).
		if err := checkOwnerTag(project, k, l.JobID, owner[l]); err != nil {
			oe := err.(*OwnershipError)
			if len(ts) == 1 {
				oe.Tagged = ts[0].JobID
			}
			return nil, oe
		}
		if len(ts) == 1 && ts[0].JobID != e.JobID {
			return nil, fmt.Errorf("key %q has two jobs: %d (recorded in the lockfile) and %d (tagged %s); delete the duplicate in the workspace and plan again", k, e.JobID, ts[0].JobID, tag(k))
		}
	case len(ts) == 1:
		l = ts[0]
		if inLock {
			adopted[k] = fmt.Sprintf("adopted job %d by its tag %s (job %d recorded in the lockfile no longer exists)", l.JobID, tag(k), e.JobID)
		} else {
			adopted[k] = fmt.Sprintf("adopted job %d by its tag %s (not in the lockfile)", l.JobID, tag(k))
		}
	}
	if l != nil && l.Partial {
		return nil, fmt.Errorf("job %d (%s) was read from a jobs/list page that cut its arrays at 100 entries; it must be read in full with jobs/get before it is planned", l.JobID, k)
	}
	return l, nil
}

func deleteAction(key string, live *Live, lockEntry *state.Job, project string, destroy bool) Action {
	reason := "removed from the configuration"
	switch {
	case destroy:
		reason = "destroy"
	case lockEntry == nil:
		reason = fmt.Sprintf("tagged %s=%s but not in the configuration", OwnerTagKey, OwnerTagValue(project, key))
	}
	body, _ := marshal(map[string]any{"job_id": live.JobID})
	return Action{
		Op:         OpDelete,
		Key:        key,
		JobID:      live.JobID,
		Reason:     reason,
		Request:    body,
		LiveDigest: Digest(live.Settings),
	}
}

// jobPlanner plans one configured key.
type jobPlanner struct {
	// liveOwned: live.Settings was decoded for this job alone (from the
	// list's raw JSON), so plan may normalise it in place.
	liveOwned bool
	// tree is the job's desired settings once read (settings).
	tree     map[string]any
	in       *Input
	key      string
	job      *schema.Job
	live     *Live
	lock     *state.Job
	ids      map[string]int64
	creating map[string]bool
	adopted  string
	// movedFrom is the old key of a rename to apply (lifecycle.moved_from).
	movedFrom string
	// renamed are the task renames (lifecycle.moved_tasks) this plan
	// makes, old task key -> new.
	renamed [][2]string

	ignore      [][]seg
	runAsFilled bool
	notes       []string
	// compared is what plan compared, for Pull.
	compared *compared
	// texts shares the strings decoded for the plan (jsonfast.go).
	texts *textCache
	names *secretNames
}

// compared is one job's comparison: the normalised live, desired and
// last-applied settings and their differences.
type compared struct {
	live, want, applied map[string]any
	noLock              bool
	changes             []change
}

func (jp *jobPlanner) plan() (*Action, *Record, error) {
	for _, s := range jp.job.Lifecycle.IgnoreChanges {
		p, err := parsePath(s)
		if err != nil {
			return nil, nil, fmt.Errorf("job %q (%s): lifecycle.ignore_changes: %v", jp.key, jp.job.Pos, err)
		}
		jp.ignore = append(jp.ignore, p)
	}
	send, needs, err := jp.sendForm()
	if err != nil {
		return nil, nil, err
	}
	want := Normalize(send)
	perm, err := jp.permissions()
	if err != nil {
		return nil, nil, err
	}

	if jp.live == nil {
		return jp.create(send, want, needs, perm)
	}

	var live map[string]any
	if jp.liveOwned {
		// Decoded for this job alone: normalised where it is. The
		// settings of the workspace are not read again below but for
		// what normalising keeps (git_source).
		live = NormalizeOwned(jp.live.Settings)
	} else {
		live = Normalize(jp.live.Settings)
	}
	noLock := jp.lock == nil || jp.lock.JobID != jp.live.JobID
	// What the lockfile records: secrets sealed (redact.go). Compared
	// strictly, so that a lockfile written before sealing, with a secret
	// in clear, is rewritten.
	record, sealedAny := sealed(want, jp.secrets(), jp.names)
	var applied map[string]any
	// sameRecord: the lockfile already records exactly this, as it does
	// for every job of a no-change plan.
	sameRecord := false
	if !noLock && !sealedAny && equalJSON(jp.lock.Applied, record) {
		// Nothing sealed, so the record is want, which is normalised
		// (Normalize is idempotent): it is what decoding and normalising
		// the lockfile's record would give, without either.
		applied, sameRecord = want, true
		if jp.runAsFilled && applied["run_as"] == nil {
			// As below; it leaves a record of its own to compare.
			applied, sameRecord = shallowWith(applied, "run_as", want["run_as"]), false
		}
	} else if !noLock {
		// Normalised again: a lockfile written by an older table (or edited
		// by hand) still labels origins right; canonical input costs nothing.
		// The lockfile keeps applied settings as JSON; each job's tree
		// is decoded here, for this job only, and dropped with it.
		recorded, err := appliedOf(jp.lock, jp.texts)
		if err != nil {
			return nil, nil, fmt.Errorf("job %q: lockfile: %v; remove the entry (jobsync state rm %s) and plan again", jp.key, err, jp.key)
		}
		applied = Normalize(recorded)
		if jp.runAsFilled && applied != nil && applied["run_as"] == nil {
			// The lockfile never records a run_as jobsync did not set; for
			// labelling, the last apply meant "the owner" too.
			applied = shallowWith(applied, "run_as", want["run_as"])
		}
	}
	// Renamed tasks are compared under their new keys, and the rename is
	// a change of its own.
	seen := live
	live, applied = jp.renameTasks(live, applied, want)
	d := differ{ignore: jp.ignore, noLock: noLock}
	d.object(nil, rules.job, live, want, applied, false)
	changes := append(jp.renameChanges(), d.out...)
	jp.compared = &compared{live: live, want: want, applied: applied, noLock: noLock, changes: changes}

	if len(changes) == 0 && len(perm.changes) == 0 {
		if noLock || !sameRecord && !deepEqual(applied, record) || !equalPerms(jp.lock.Permissions, perm.applied) || jp.lock.PermissionsMode != jp.permMode() {
			reason := jp.adopted
			if reason == "" {
				reason = "the workspace already matches; the lockfile record is refreshed"
			}
			return nil, &Record{Key: jp.key, JobID: jp.live.JobID, Reason: reason, Applied: record, AppliedPermissions: perm.applied, AppliedPermissionsMode: jp.permMode()}, nil
		}
		return nil, nil, nil
	}

	a := &Action{
		Key:                    jp.key,
		JobID:                  jp.live.JobID,
		Source:                 posString(jp.job.Pos),
		Applied:                record,
		AppliedPermissions:     perm.applied,
		AppliedPermissionsMode: jp.permMode(),
		LiveDigest:             digestNormalized(seen),
		Needs:                  jp.needsCreating(needs),
		MovedFrom:              jp.movedFrom,
		secrets:                jp.secrets(),
	}
	a.Changes = jp.present(changes)
	a.Changes = append(a.Changes, perm.present(jp.job)...)
	if len(perm.changes) > 0 {
		a.Permissions = perm.body
	}
	reasons := []string{}
	if jp.movedFrom != "" {
		reasons = append(reasons, fmt.Sprintf("renamed from %s (lifecycle.moved_from): the job, its id and its run history are kept", jp.movedFrom))
	}
	if jp.adopted != "" {
		reasons = append(reasons, jp.adopted)
	}
	if len(changes) == 0 {
		a.Op = OpPermissions
		reasons = append(reasons, originReason(perm.changes))
		a.Reason = strings.Join(reasons, "; ")
		return a, nil, nil
	}
	reasons = append(reasons, originReason(slices.Concat(changes, perm.changes)))
	reasons = append(reasons, jp.notes...)
	op, body, why, err := jp.chooseWrite(send, changes)
	if err != nil {
		return nil, nil, err
	}
	if why != "" {
		reasons = append(reasons, why)
	}
	a.Op, a.Request, a.Reason = op, body, strings.Join(reasons, "; ")
	return a, nil, nil
}

func (jp *jobPlanner) create(send, want map[string]any, needs []string, perm *permPlan) (*Action, *Record, error) {
	body := send
	if perm.create != nil {
		body = shallowWith(send, "access_control_list", perm.create)
	}
	req, err := marshal(body)
	if err != nil {
		return nil, nil, fmt.Errorf("job %q: encoding the create request: %v", jp.key, err)
	}
	reason := "new job"
	if jp.lock != nil {
		reason = fmt.Sprintf("deleted outside jobsync (job %d recorded in the lockfile no longer exists)", jp.lock.JobID)
	}
	reason = strings.Join(append([]string{reason}, jp.notes...), "; ")
	// A new job's changes are what its request sends, field by field.
	d := differ{noLock: true, create: true}
	d.object(nil, rules.job, nil, send, nil, false)
	a := &Action{
		Op:                     OpCreate,
		Key:                    jp.key,
		Reason:                 reason,
		Source:                 posString(jp.job.Pos),
		Changes:                jp.present(d.out),
		Request:                req,
		Applied:                jp.seal(want),
		AppliedPermissions:     perm.applied,
		AppliedPermissionsMode: jp.permMode(),
		Needs:                  jp.needsCreating(needs),
		secrets:                jp.secrets(),
	}
	a.Changes = append(a.Changes, perm.present(jp.job)...)
	return a, nil, nil
}

func (jp *jobPlanner) needsCreating(needs []string) []string {
	var out []string
	for _, k := range needs {
		if jp.creating[k] {
			out = append(out, k)
		}
	}
	return out
}

// sendForm is the settings jobsync sends for this job: the YAML, plus the
// ownership tag, the queue default, references resolved where the id is
// known, and — for an existing job — the live values at ignore_changes
// paths and an explicit run_as where the workspace has one. It shares
// unchanged subtrees with the YAML and never modifies it.
func (jp *jobPlanner) sendForm() (map[string]any, []string, error) {
	src, err := jp.settings()
	if err != nil {
		return nil, nil, err
	}
	send := make(map[string]any, len(src)+2)
	for k, v := range src {
		send[k] = v
	}

	// queue: always sent. When the YAML leaves it out, jobsync sends
	// {"enabled": true}: that is what API 2.2 itself does with a job whose
	// request omits queue (jobs-api.md §4.2 quirk 2, §7.1, §12.4), and what
	// Asset Bundles default to (peers.md §3 F, cli PR #1385). So an omitted
	// queue means the same in jobsync as in the API and the UI, a job created
	// by hand from the same settings plans as no change, and no request ever
	// depends on the server's version-specific default. queue.enabled false
	// is sent as written (a meaningful zero, §12.5).
	if !hasValue(send["queue"]) {
		send["queue"] = map[string]any{"enabled": omittedQueueEnabled}
	}

	// References.
	var unknown []string
	needSet := map[string]bool{}
	r, _ := substitute(send, "", jp.ids, func(k string) {
		if !needSet[k] {
			needSet[k] = true
		}
	})
	send = r.(map[string]any)
	needs := make([]string, 0, len(needSet))
	for k := range needSet {
		needs = append(needs, k)
		if !jp.creating[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(needs)
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, nil, fmt.Errorf("job %q (%s) refers to ${jobs.%s.id}, but %q has no job and none is created by this plan (is it missing from the configuration or excluded by --only?)", jp.key, jp.job.Pos, unknown[0], unknown[0])
	}

	if jp.live != nil {
		for _, p := range jp.ignore {
			send = overlay(send, jp.live.Settings, p, rules.job)
		}
		if !jp.ignoredTop("run_as") {
			jp.runAs(send)
		}
		send = keepToolFields(send, jp.live.Settings)
	}
	// Requests the service would refuse are fixed as both public tools do
	// (sendfix.go); each left-out field is said in the reason.
	var fixes []string
	send, fixes = fixClusters(send)
	jp.notes = append(jp.notes, fixes...)

	// The ownership tag goes on last so that an ignored `tags` keeps it.
	tags := map[string]any{}
	if t, ok := send["tags"].(map[string]any); ok {
		for k, v := range t {
			tags[k] = v
		}
	}
	tags[OwnerTagKey] = OwnerTagValue(jp.in.Project, jp.key)
	send["tags"] = tags
	return send, needs, nil
}

func (jp *jobPlanner) ignoredTop(name string) bool {
	for _, p := range jp.ignore {
		if len(p) == 1 && p[0].name == name {
			return true
		}
	}
	return false
}

// runAs handles run_as stickiness (jobs-api.md §4.2 quirk 1, §12.3): a job
// whose YAML sets no run_as runs as its owner, but neither jobs/reset nor
// jobs/update can clear a run_as by leaving it out. So where the workspace
// has one, jobsync sends one: unchanged when it already names the owner
// (which is what "no run_as" means), else the owner's identity, which shows
// as a change. When the owner is unknown (no permissions read, no creator)
// the live run_as is kept as it is.
func (jp *jobPlanner) runAs(send map[string]any) {
	if hasValue(send["run_as"]) {
		return
	}
	cur, ok := jp.live.Settings["run_as"].(map[string]any)
	if !ok || len(cur) == 0 {
		return
	}
	kind, name := ownerOf(jp.live)
	jp.runAsFilled = true
	if kind == "" || cur[kind] == name && len(cur) == 1 {
		send["run_as"] = cur
		return
	}
	send["run_as"] = map[string]any{kind: name}
	jp.notes = append(jp.notes, fmt.Sprintf("run_as goes back to the owner %s (the YAML sets none; the API keeps a run_as left out)", name))
}

// ownerOf is the job's owner: its IS_OWNER grant when permissions were read,
// else its creator (a service principal's creator name is its application
// id, which has no '@').
func ownerOf(l *Live) (kind, name string) {
	for _, p := range l.Permissions {
		if p.PermissionLevel == "IS_OWNER" {
			switch {
			case p.UserName != "":
				return "user_name", p.UserName
			case p.ServicePrincipalName != "":
				return "service_principal_name", p.ServicePrincipalName
			}
		}
	}
	switch c := l.CreatorUserName; {
	case c == "":
		return "", ""
	case strings.Contains(c, "@"):
		return "user_name", c
	default:
		return "service_principal_name", c
	}
}

// chooseWrite builds the request of an existing job: a jobs/update when it
// can express the changes and is the smaller body, else a jobs/reset.
func (jp *jobPlanner) chooseWrite(send map[string]any, changes []change) (Op, json.RawMessage, string, error) {
	jobID := jp.live.JobID
	resetBody, err := marshal(map[string]any{"job_id": jobID, "new_settings": send})
	if err != nil {
		return "", nil, "", fmt.Errorf("job %q: encoding the reset request: %v", jp.key, err)
	}

	top := map[string]bool{}
	elems := map[string]map[string]bool{"tasks": {}, "job_clusters": {}}
	why := ""
	for _, c := range changes {
		f := c.segs[0].name
		top[f] = true
		switch f {
		case "tasks", "job_clusters":
			if len(c.segs) < 2 || c.segs[1].key == "" {
				why = f + " is not a list of keyed objects in the workspace: a full reset rewrites it"
				continue
			}
			elems[f][c.segs[1].val] = true
		case "parameters", "environments":
			// jobs-api.md §4.1: the merge rule of update covers tasks
			// and job_clusters only. The reason is read by users, who
			// do not have that document: it says what, not where.
			why = f + " change: jobs/update has no documented way to change them, so the whole job is reset"
		case "git_source":
			if hasValue(send["git_source"]) != hasValue(jp.live.Settings["git_source"]) {
				why = "git_source is added or removed and every task's source follows it, so the whole job is reset"
			}
		}
	}
	if why != "" {
		return OpReset, resetBody, why, nil
	}

	newSettings := map[string]any{}
	var remove []string
	for f := range top {
		if f == "tasks" || f == "job_clusters" {
			continue
		}
		if v, ok := send[f]; ok {
			newSettings[f] = v
		} else {
			remove = append(remove, f)
		}
	}
	for _, f := range []string{"job_clusters", "tasks"} {
		if len(elems[f]) == 0 {
			continue
		}
		keyField := rules.job.child(f).key
		var list []any
		arr, _ := send[f].([]any)
		sent := map[string]bool{}
		for _, e := range arr {
			k := keyOf(e, keyField)
			if elems[f][k] && !sent[k] {
				list = append(list, e)
				sent[k] = true
			}
		}
		for k := range elems[f] {
			if !sent[k] {
				remove = append(remove, f+"/"+k)
			}
		}
		if len(list) > 0 {
			newSettings[f] = list
		}
	}
	for _, r := range jp.renamed {
		// The old key goes in the same request that adds the new one.
		remove = append(remove, "tasks/"+r[0])
	}
	sort.Strings(remove)
	ub := map[string]any{"job_id": jobID}
	if len(newSettings) > 0 {
		ub["new_settings"] = newSettings
	}
	if len(remove) > 0 {
		ub["fields_to_remove"] = remove
	}
	updateBody, err := marshal(ub)
	if err != nil {
		return "", nil, "", fmt.Errorf("job %q: encoding the update request: %v", jp.key, err)
	}
	if len(updateBody) > len(resetBody) {
		return OpReset, resetBody, "a full reset is a smaller request than the partial update", nil
	}
	return OpUpdate, updateBody, "", nil
}

func originReason(cs []change) string {
	var config, drift bool
	for _, c := range cs {
		if c.origin == OriginDrift {
			drift = true
		} else {
			config = true
		}
	}
	switch {
	case config && drift:
		return "configuration changed and changed outside jobsync"
	case drift:
		return "changed outside jobsync"
	}
	return "configuration changed"
}

// present makes changes presentable: keyed path text, YAML position,
// redacted values.
func (jp *jobPlanner) present(cs []change) []Change {
	out := make([]Change, len(cs))
	for i, c := range cs {
		// The YAML position of the value, or of its nearest ancestor below
		// the job (a task, for a field removed from it); none for what is
		// not in the YAML at all (the ownership tag, the queue default, a
		// field added in the UI).
		src := ""
		if jp.job != nil {
			tree, _ := jp.settings() // (read already, or the plan had failed)
			if ptr := jsonPointer(tree, c.segs); ptr != "" {
				src = posString(jp.job.PosOf(ptr))
			}
		}
		out[i] = c.present(src)
		if jp.job != nil {
			out[i] = redactSecrets(out[i], jp.job.Secrets)
		}
	}
	return out
}

// seal is settings as the lockfile records them (Seal).
func (jp *jobPlanner) seal(settings map[string]any) map[string]any {
	return Seal(settings, jp.secrets())
}

// secrets are the job's strings made with sensitive variables.
func (jp *jobPlanner) secrets() []string {
	if jp.job == nil {
		return nil
	}
	return jp.job.Secrets
}

// appliedOf is lock.AppliedSettings(), decoded by decodeObject where it
// can be (jsonfast.go).
func appliedOf(lock *state.Job, texts *textCache) (map[string]any, error) {
	if len(lock.Applied) > 0 {
		if m, ok := decodeObjectWith(lock.Applied, texts); ok {
			return m, nil
		}
	}
	return lock.AppliedSettings()
}

func posString(p schema.Pos) string {
	if p.File == "" {
		return ""
	}
	return p.String()
}

func shallowWith(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k2, e := range m {
		out[k2] = e
	}
	out[k] = v
	return out
}

// overlay returns dst with the value at path p replaced by src's value
// there (or removed when src has none), copying only along the path. It is
// how lifecycle.ignore_changes keeps the workspace's value in requests.
func overlay(dst, src map[string]any, p []seg, n *node) map[string]any {
	s := p[0]
	if s.key != "" {
		return dst // a path cannot start with an array element
	}
	c := n.child(s.name)
	sv, sok := src[s.name]
	if len(p) == 1 {
		if sok {
			return shallowWith(dst, s.name, sv)
		}
		if _, ok := dst[s.name]; !ok {
			return dst
		}
		out := shallowWith(dst, s.name, nil)
		delete(out, s.name)
		return out
	}
	dv, dok := dst[s.name]
	if !dok {
		return dst
	}
	switch x := dv.(type) {
	case map[string]any:
		sm, _ := sv.(map[string]any)
		return shallowWith(dst, s.name, overlay(x, sm, p[1:], c.elem()))
	case []any:
		next := p[1]
		if next.key == "" || c == nil || c.key == "" {
			return dst
		}
		sa, _ := sv.([]any)
		return shallowWith(dst, s.name, overlayElems(x, sa, next, p[2:], c))
	}
	return dst
}

func overlayElems(dst, src []any, s seg, rest []seg, n *node) []any {
	key := n.key
	match := func(e any) bool { return s.key == "*" || keyOf(e, key) == s.val }
	srcBy := map[string]any{}
	for _, e := range src {
		if match(e) {
			srcBy[keyOf(e, key)] = e
		}
	}
	out := make([]any, 0, len(dst))
	seen := map[string]bool{}
	for _, e := range dst {
		if !match(e) {
			out = append(out, e)
			continue
		}
		k := keyOf(e, key)
		seen[k] = true
		se, sok := srcBy[k]
		if len(rest) == 0 {
			if sok {
				out = append(out, se)
			}
			continue
		}
		dm, _ := e.(map[string]any)
		sm, _ := se.(map[string]any)
		if dm == nil {
			out = append(out, e)
			continue
		}
		out = append(out, overlay(dm, sm, rest, n.elem()))
	}
	if len(rest) == 0 {
		// An ignored element that only the workspace has stays.
		for _, e := range src {
			if k := keyOf(e, key); match(e) && !seen[k] {
				out = append(out, e)
			}
		}
	}
	return out
}

// order sorts the actions into apply order and checks that every reference
// to a job being created can be satisfied.
func order(p *Plan) error {
	rank := map[Op]int{OpCreate: 0, OpUpdate: 1, OpReset: 1, OpPermissions: 1, OpDelete: 2}
	var creates, rest []Action
	for _, a := range p.Actions {
		if a.Op == OpCreate {
			creates = append(creates, a)
		} else {
			rest = append(rest, a)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool {
		if rank[rest[i].Op] != rank[rest[j].Op] {
			return rank[rest[i].Op] < rank[rest[j].Op]
		}
		return rest[i].Key < rest[j].Key
	})
	sorted, err := topoCreates(creates)
	if err != nil {
		return err
	}
	p.Actions = append(sorted, rest...)
	sort.SliceStable(p.Skipped, func(i, j int) bool { return p.Skipped[i].Key < p.Skipped[j].Key })
	sort.Slice(p.Records, func(i, j int) bool { return p.Records[i].Key < p.Records[j].Key })
	return nil
}

// readyCreates is a min-heap of indexes of cs by key.
type readyCreates struct {
	cs  []Action
	idx []int
}

func (h *readyCreates) Len() int           { return len(h.idx) }
func (h *readyCreates) Less(a, b int) bool { return h.cs[h.idx[a]].Key < h.cs[h.idx[b]].Key }
func (h *readyCreates) Swap(a, b int)      { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *readyCreates) Push(x any)         { h.idx = append(h.idx, x.(int)) }
func (h *readyCreates) Pop() any {
	i := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return i
}

// topoCreates orders creates so that each comes after the creates it needs,
// picking the smallest ready key first (Kahn's algorithm).
func topoCreates(cs []Action) ([]Action, error) {
	byKey := make(map[string]int, len(cs))
	for i, a := range cs {
		byKey[a.Key] = i
	}
	indeg := make([]int, len(cs))
	users := make([][]int, len(cs))
	for i, a := range cs {
		for _, n := range a.Needs {
			if j, ok := byKey[n]; ok {
				indeg[i]++
				users[j] = append(users[j], i)
			}
		}
	}
	// A heap of the ready creates: sorting them at every step cost O(n² log n)
	// for a first apply of 10,000 jobs (~0.9 s).
	ready := &readyCreates{cs: cs}
	for i := range cs {
		if indeg[i] == 0 {
			ready.idx = append(ready.idx, i)
		}
	}
	heap.Init(ready)
	out := make([]Action, 0, len(cs))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		out = append(out, cs[i])
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(out) < len(cs) {
		var cyc []string
		for i := range cs {
			if indeg[i] > 0 {
				cyc = append(cyc, cs[i].Key)
			}
		}
		sort.Strings(cyc)
		return nil, fmt.Errorf("jobs %s are all new and refer to each other's ids (${jobs.<key>.id}), so none can be created first; create one without the reference, apply, then add it back", strings.Join(cyc, ", "))
	}
	return out, nil
}
