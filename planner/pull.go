package planner

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// PullOptions are the choices of Pull.
type PullOptions struct {
	// NamePrefix is the selected target's name_prefix: the workspace's job
	// names carry it, the YAML's do not.
	NamePrefix string
}

// Pulled is what it takes to write the changes made in the workspace since
// the last apply back into the configuration.
type Pulled struct {
	// Jobs are the managed jobs that differ from the configuration, by key.
	Jobs []PulledJob
	// Deleted are managed jobs deleted outside jobsync: pull leaves their
	// YAML (the next apply creates them again; removing the YAML lets them
	// go).
	Deleted []PulledJob
}

// PulledJob is one job's share of a pull.
type PulledJob struct {
	Key   string
	JobID int64
	// File is the YAML file the job is written in; Source the position of
	// its key.
	File   string
	Source string
	// Edits make the YAML say what the workspace has, one per changed path.
	Edits []PullEdit
	// Left are the differences pull does not write (see PullLeft).
	Left []PullLeft

	base     map[string]any // the last apply, normalised
	applied  []any          // per edit: the value to record (nil for a removal)
	lockPerm []any
	lockMode string
}

// PullEdit is one change to write into the YAML. Steps is the keyed path
// (a field, or the element of a keyed list whose KeyField is KeyValue).
type PullEdit struct {
	Path   string     `json:"path"`
	Steps  []PathStep `json:"-"`
	Kind   string     `json:"kind"` // add, remove or modify, as seen from the YAML
	Delete bool       `json:"-"`
	// Zero is, for a removal, the value that means the same (the field's
	// default), for where the field cannot be removed; nil when none.
	Zero any `json:"-"`
	// Value is what the YAML is to say, as jobsync reads YAML: references
	// to managed jobs as ${jobs.<key>.id}, no ownership tag, no name
	// prefix, fields the server fills in left out. It is never a
	// secret-looking value (those are Left).
	Value any `json:"-"`
	// From and To are the configuration's value and the workspace's,
	// redacted, for display.
	From   any    `json:"from,omitempty"`
	To     any    `json:"to,omitempty"`
	Source string `json:"source,omitempty"`
}

// PathStep is one step of a keyed path.
type PathStep struct {
	Field    string
	KeyField string
	KeyValue string
}

// Kinds of PullLeft.
const (
	// LeftDecision: pull cannot write this change without a person's
	// choice (a value from the project file, a secret, the ownership tag,
	// permissions, a name without the target's prefix).
	LeftDecision = "decision"
	// LeftConflict: the YAML and the workspace both changed since the last
	// apply; the YAML is kept.
	LeftConflict = "conflict"
	// LeftPending: the YAML changed since the last apply and the workspace
	// did not; apply sends it, pull has nothing to take.
	LeftPending = "pending"
)

// PullLeft is a difference pull does not write.
type PullLeft struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	Source string `json:"source,omitempty"`
}

// Pull plans what `jobsync pull` writes: for every managed job (in.Only
// ones, when given), the changes that came from the workspace since the
// last apply (origin drift), as edits of the YAML that make the next plan
// of that path empty. It plans exactly as Build does, from the same input,
// and is as pure.
//
// A change is written where the job's own file says the value; one that the
// project file puts there (a target override, pause_triggers, the
// project-wide permissions) is Left for a decision at its place, and so are
// secret-looking values, the ownership tag and permissions. Changes of the
// configuration since the last apply are kept (Left as pending, or as a
// conflict when the workspace changed the same path too). A job without a
// lockfile record has no last apply to compare with and is Left whole.
func Pull(in Input, o PullOptions) (*Pulled, error) {
	var seen []*jobPlanner
	in.observe = func(jp *jobPlanner) {
		c := *jp
		seen = append(seen, &c)
	}
	plan, err := Build(in)
	if err != nil {
		return nil, err
	}
	actions := map[string]*Action{}
	for i := range plan.Actions {
		actions[plan.Actions[i].Key] = &plan.Actions[i]
	}
	byID := map[int64]string{}
	for k, l := range idsOf(seen) {
		byID[l] = k
	}
	out := &Pulled{}
	for _, jp := range seen {
		a := actions[jp.key]
		if a == nil {
			continue
		}
		if a.Op == OpCreate {
			if jp.lock != nil {
				out.Deleted = append(out.Deleted, PulledJob{Key: jp.key, JobID: jp.lock.JobID, File: jp.job.File, Source: a.Source})
			}
			continue
		}
		pj := PulledJob{Key: jp.key, JobID: a.JobID, File: jp.job.File, Source: a.Source}
		if jp.lock != nil {
			pj.lockPerm, pj.lockMode = jp.lock.Permissions, jp.lock.PermissionsMode
		}
		for _, c := range a.Changes {
			if strings.HasPrefix(c.Path, "permissions") {
				pj.Left = append(pj.Left, PullLeft{Path: c.Path, Kind: LeftDecision, Source: c.Source,
					Reason: "permissions are not pulled: change the grants in the YAML by hand (jobsync drift lists them)"})
			}
		}
		cmp := jp.compared
		if cmp != nil && cmp.noLock {
			pj.Left = append(pj.Left, PullLeft{Path: "", Kind: LeftDecision, Source: a.Source,
				Reason: fmt.Sprintf("the lockfile has no record of the last apply of job %d, so what changed in the workspace cannot be told apart from what changed in the YAML: apply first, or edit the YAML by hand", a.JobID)})
			out.Jobs = append(out.Jobs, pj)
			continue
		}
		if cmp != nil {
			pj.base = deepCopyJSON(cmp.applied)
			for _, c := range cmp.changes {
				jp.pullChange(&pj, c, byID, o)
			}
		}
		if len(pj.Edits)+len(pj.Left) > 0 {
			out.Jobs = append(out.Jobs, pj)
		}
	}
	sort.Slice(out.Jobs, func(i, j int) bool { return out.Jobs[i].Key < out.Jobs[j].Key })
	sort.Slice(out.Deleted, func(i, j int) bool { return out.Deleted[i].Key < out.Deleted[j].Key })
	return out, nil
}

func idsOf(seen []*jobPlanner) map[string]int64 {
	out := map[string]int64{}
	for _, jp := range seen {
		for k, id := range jp.ids {
			out[k] = id
		}
	}
	return out
}

// pullChange turns one difference into an edit, or a reason not to.
func (jp *jobPlanner) pullChange(pj *PulledJob, c change, byID map[int64]string, o PullOptions) {
	cmp := jp.compared
	path := formatPath(c.segs)
	desired, _ := jp.settings() // read by the plan that made c
	ptr := jsonPointer(desired, c.segs)
	src := posString(jp.job.PosOf(ptr))
	left := func(kind, reason string) {
		pj.Left = append(pj.Left, PullLeft{Path: path, Kind: kind, Reason: reason, Source: src})
	}
	liveV, liveOK := lookupSegs(cmp.live, c.segs)
	appliedV, appliedOK := lookupSegs(cmp.applied, c.segs)
	if c.origin == OriginConfig {
		if liveOK != appliedOK || liveOK && !equalSealed(liveV, appliedV) {
			left(LeftConflict, "changed in the YAML and in the workspace since the last apply: the YAML is kept (apply sends it); take the workspace's value by hand if it should win")
		} else {
			left(LeftPending, "the YAML changed here since the last apply: apply sends it")
		}
		return
	}
	if len(c.segs) >= 2 && c.segs[0].name == "tags" && c.segs[1].name == OwnerTagKey {
		left(LeftDecision, fmt.Sprintf("the ownership tag %s was changed in the workspace: jobsync puts it back at the next apply", OwnerTagKey))
		return
	}
	if pos, foreign := jp.job.InProjectFile(ptr); foreign {
		src = posString(pos)
		left(LeftDecision, fmt.Sprintf("the project file (%s) sets this for the target, not the job's file: change it there if the workspace's value should stay", pos.File))
		return
	}
	shown := redactSecrets(c.present(""), jp.job.Secrets)
	e := PullEdit{Path: path, Steps: steps(c.segs), Source: src, From: shown.After, To: shown.Before}
	var record any
	switch {
	case !liveOK && len(c.segs) == 1 && c.segs[0].name == "queue":
		// The workspace has queueing off, which reads back as no queue;
		// a YAML without queue means on (see Build), so it must say off.
		e.Kind, e.Value = KindModify, map[string]any{"enabled": false}
	case !liveOK:
		if _, inYAML := lookupSegs(desired, c.segs); !inYAML {
			left(LeftDecision, "jobsync itself sends this value, and the workspace removed it: write the workspace's choice into the YAML by hand")
			return
		}
		e.Kind, e.Delete = KindRemove, true
		if n := nodeAt(c.segs); n != nil && n.hasDefault {
			e.Zero = canonical(n.dflt)
		}
	default:
		v := stripComputed(nodeAt(c.segs), liveV, len(c.segs) == 0)
		// A sensitive value (sealed in the lockfile) counts as a secret
		// wherever it stands.
		if r := redact(c.segs, redactLike(v, appliedV)); !deepEqual(r, v) {
			left(LeftDecision, "a secret-looking value changed in the workspace: jobsync does not write secrets into the YAML; set it by hand (better, as a secret reference such as {{secrets/scope/key}})")
			return
		}
		record = v
		yv := referencesFor(withoutOwnerTag(c.segs, v), c.segs[len(c.segs)-1].name, byID)
		if n := nodeAt(c.segs); n != nil && n.set {
			// A set (email addresses): the YAML's order stays.
			if written, ok := lookupSegs(desired, c.segs); ok {
				yv = keepOrder(written, yv)
			}
		}
		if len(c.segs) == 1 && c.segs[0].name == "name" && o.NamePrefix != "" {
			name, _ := yv.(string)
			if !strings.HasPrefix(name, o.NamePrefix) {
				left(LeftDecision, fmt.Sprintf("the workspace's name %q does not start with the target's name_prefix %q, which jobsync puts before the YAML's name: rename it by hand", name, o.NamePrefix))
				return
			}
			yv = strings.TrimPrefix(name, o.NamePrefix)
			from, _ := e.From.(string)
			e.From, e.To = strings.TrimPrefix(from, o.NamePrefix), yv
		}
		e.Value = yv
		if _, inYAML := lookupSegs(desired, c.segs); inYAML {
			e.Kind = KindModify
		} else {
			e.Kind = KindAdd
		}
	}
	pj.Edits = append(pj.Edits, e)
	pj.applied = append(pj.applied, record)
}

// Record is the lockfile entry of the job once the edits at the indices
// done are in the YAML: the last apply with those values as the workspace
// has them, so that drift no longer reports them and the next plan labels
// what is left rightly. ok is false when there is nothing to record.
func (pj *PulledJob) Record(done []int) (Record, bool) {
	if len(done) == 0 || pj.base == nil {
		return Record{}, false
	}
	applied := pj.base
	for _, i := range done {
		if i < 0 || i >= len(pj.Edits) {
			continue
		}
		e := pj.Edits[i]
		if e.Delete {
			applied = setSteps(applied, e.Steps, nil, true).(map[string]any)
			continue
		}
		v := pj.applied[i]
		if len(e.Steps) == 1 && e.Steps[0].Field == "queue" && v == nil {
			v = e.Value
		}
		applied = setSteps(applied, e.Steps, v, false).(map[string]any)
	}
	return Record{Key: pj.Key, JobID: pj.JobID, Reason: "pulled from the workspace into the YAML",
		Applied: Normalize(applied), AppliedPermissions: pj.lockPerm, AppliedPermissionsMode: pj.lockMode}, true
}

func steps(p []seg) []PathStep {
	out := make([]PathStep, len(p))
	for i, s := range p {
		if s.key != "" {
			out[i] = PathStep{KeyField: s.key, KeyValue: s.val}
		} else {
			out[i] = PathStep{Field: s.name}
		}
	}
	return out
}

// lookupSegs is the value at a keyed path of a settings tree.
func lookupSegs(root map[string]any, p []seg) (any, bool) {
	var cur any = root
	for _, s := range p {
		switch {
		case s.key != "":
			arr, _ := cur.([]any)
			found := false
			for _, e := range arr {
				if m, ok := e.(map[string]any); ok && keyString(m[s.key]) == s.val {
					cur, found = e, true
					break
				}
			}
			if !found {
				return nil, false
			}
		default:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			v, ok := m[s.name]
			if !ok {
				return nil, false
			}
			cur = v
		}
	}
	return cur, true
}

// setSteps returns root with the value at path set to v (or removed),
// creating missing mappings and keyed elements; root is not modified.
func setSteps(root any, path []PathStep, v any, del bool) any {
	if len(path) == 0 {
		return v
	}
	s := path[0]
	if s.KeyField != "" {
		arr, _ := root.([]any)
		out := append([]any(nil), arr...)
		for i, e := range out {
			if m, ok := e.(map[string]any); ok && keyString(m[s.KeyField]) == s.KeyValue {
				if del && len(path) == 1 {
					return append(out[:i], out[i+1:]...)
				}
				out[i] = setSteps(e, path[1:], v, del)
				return out
			}
		}
		if del {
			return root
		}
		el := setSteps(map[string]any{s.KeyField: s.KeyValue}, path[1:], v, del)
		if m, ok := el.(map[string]any); ok {
			if _, has := m[s.KeyField]; !has {
				m[s.KeyField] = s.KeyValue
			}
		}
		return append(out, el)
	}
	m, _ := root.(map[string]any)
	out := make(map[string]any, len(m)+1)
	for k, e := range m {
		out[k] = e
	}
	if del && len(path) == 1 {
		delete(out, s.Field)
		return out
	}
	cur, ok := out[s.Field]
	if del && !ok {
		return out
	}
	out[s.Field] = setSteps(cur, path[1:], v, del)
	return out
}

// nodeAt is the table node that stripComputed takes for the value at p: a
// field's node, or for an element of a keyed list the list's node.
func nodeAt(p []seg) *node {
	n := rules.job
	obj := rules.job
	for _, s := range p {
		if s.key != "" {
			continue // the element is read with its list's node
		}
		n = obj.child(s.name)
		obj = n.elem()
	}
	return n
}

// withoutOwnerTag drops jobsync's ownership tag from a pulled tags value.
func withoutOwnerTag(p []seg, v any) any {
	if len(p) != 1 || p[0].name != "tags" {
		return v
	}
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		if k != OwnerTagKey {
			out[k] = e
		}
	}
	return out
}

// referencesFor writes the job ids of managed jobs in run_job_task.job_id
// as references, ${jobs.<key>.id}, as the YAML writes them (job ids are
// per workspace; keys are not).
func referencesFor(v any, field string, byID map[int64]string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = referencesFor(e, k, byID)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = referencesFor(e, field, byID)
		}
		return out
	}
	if field == "job_id" {
		if k, ok := idKey(v, byID); ok {
			return "${jobs." + k + ".id}"
		}
	}
	return v
}

func idKey(v any, byID map[int64]string) (string, bool) {
	var id int64
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return "", false
		}
		id = n
	case int64:
		id = x
	default:
		return "", false
	}
	k, ok := byID[id]
	return k, ok
}

func deepCopyJSON(v map[string]any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}

// keepOrder is the set now (a list whose order means nothing) in the order
// the YAML writes it: the written elements still there, then the new ones.
func keepOrder(written, now any) any {
	w, ok1 := written.([]any)
	n, ok2 := now.([]any)
	if !ok1 || !ok2 {
		return now
	}
	out := make([]any, 0, len(n))
	used := make([]bool, len(n))
	for _, x := range w {
		for i, y := range n {
			if !used[i] && deepEqual(x, y) {
				used[i] = true
				out = append(out, y)
				break
			}
		}
	}
	for i, y := range n {
		if !used[i] {
			out = append(out, y)
		}
	}
	return out
}
