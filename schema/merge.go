package schema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// mergeKeys are the keyed arrays of a job that overrides merge element by
// element: an override element replaces the fields it sets in the job's
// element with the same key, and is appended when the job has none. Every
// other list is replaced whole. (Permissions are merged by principal, see
// mergePermissions.)
var mergeKeys = map[string]string{
	"tasks":        "task_key",
	"job_clusters": "job_cluster_key",
	"parameters":   "name",
	"environments": "environment_key",
}

// Selection is what jobs are resolved with: a project file, the chosen
// target and the values of the variables. Select makes one.
type Selection struct {
	Project *Project
	// Target is nil for the base configuration (no target chosen and none
	// marked default).
	Target *Target
	// Values holds every declared variable that has a value.
	Values map[string]Value

	// lookups are a bundle's variables whose value is a lookup: (a name
	// to be resolved through workspace APIs), by name, where it is written.
	lookups map[string]Pos
	// clusterEnv is $DATABRICKS_CLUSTER_ID, which overrides a bundle's
	// cluster_id in development mode (bundleLoad.sections).
	clusterEnv string

	defaults *fragment // the project-wide permissions
	allJobs  *fragment // the target's overrides.all_jobs
	jobs     map[string]*fragment
}

// Value is a variable's value and where it came from: "default",
// "target <name>", "JOBSYNC_VAR_<name>" or "--var".
type Value struct {
	Value any
	From  string
}

// fragment is a piece of the project file merged into jobs, with its
// variables substituted and its permissions split out.
type fragment struct {
	value map[string]any
	base  string             // its pointer in the project file
	pos   map[string]lineCol // positions, relative to value
	float []string           // numbers written with a fraction, relative
	// hasPerms is true when it sets permissions: grants (a list) and
	// mode ("" when it sets none); grantsRel is where the grants list is.
	hasPerms  bool
	grants    []any
	grantsRel string
	mode      string
	// secrets are the strings made with sensitive variables.
	secrets []string
}

// Select chooses a target of p (target "" means the one marked default,
// else none) and works out the value of every variable: --var (vars, by
// name, as text) over JOBSYNC_VAR_<name> over the target's variables over
// the default. A nil p (no project file) allows neither a target nor
// variables. Problems inside the project file come back as Diagnostics;
// the others (an unknown target or variable, a value of the wrong type)
// as plain errors that name the offending input.
func Select(p *Project, target string, vars map[string]string, getenv func(string) string) (*Selection, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if p == nil {
		if target != "" {
			return nil, fmt.Errorf("target %q: there is no project file (jobsync.yaml) to define targets in", target)
		}
		if names := sortedNames(vars); len(names) > 0 {
			return nil, fmt.Errorf("variable %q: there is no project file (jobsync.yaml) to declare variables in", names[0])
		}
		return nil, nil
	}
	if p.bundle != nil {
		return selectBundle(p, target, vars, getenv)
	}
	sel := &Selection{Project: p, Values: map[string]Value{}, jobs: map[string]*fragment{}}
	switch {
	case target != "":
		sel.Target = p.Target(target)
		if sel.Target == nil {
			if len(p.Targets) == 0 {
				return nil, fmt.Errorf("target %q: %s defines no targets", target, p.File)
			}
			return nil, fmt.Errorf("no target %q in %s%s; its targets are %s", target, p.File, didYouMean(target, p.TargetNames()), strings.Join(p.TargetNames(), ", "))
		}
	default:
		sel.Target = p.Default
	}
	for _, name := range sortedNames(vars) {
		if p.Variable(name) == nil {
			return nil, fmt.Errorf("variable %q is not declared in %s%s", name, p.File, didYouMean(name, p.variableNames()))
		}
	}
	var targetVars map[string]any
	if sel.Target != nil {
		targetVars, _ = lookup(p.value, sel.Target.ptr+"/variables").(map[string]any)
	}
	for _, v := range p.Variables {
		if v.Default != nil {
			sel.Values[v.Name] = Value{Value: v.Default, From: "default"}
		}
		if tv, ok := targetVars[v.Name]; ok {
			sel.Values[v.Name] = Value{Value: tv, From: "target " + sel.Target.Name}
		}
		if text := getenv("JOBSYNC_VAR_" + v.Name); text != "" {
			val, err := ParseVariable(v, text)
			if err != nil {
				return nil, fmt.Errorf("JOBSYNC_VAR_%s: %w", v.Name, err)
			}
			sel.Values[v.Name] = Value{Value: val, From: "JOBSYNC_VAR_" + v.Name}
		}
		if text, ok := vars[v.Name]; ok {
			val, err := ParseVariable(v, text)
			if err != nil {
				return nil, fmt.Errorf("--var %s: %w", v.Name, err)
			}
			sel.Values[v.Name] = Value{Value: val, From: "--var"}
		}
	}
	var ds Diagnostics
	if _, ok := p.value["permissions"]; ok {
		sel.defaults = sel.fragment(&ds, "", map[string]bool{"permissions": true})
	}
	if t := sel.Target; t != nil {
		if _, ok := lookup(p.value, t.ptr+"/overrides/all_jobs").(map[string]any); ok {
			sel.allJobs = sel.fragment(&ds, t.ptr+"/overrides/all_jobs", nil)
		}
		jobs, _ := lookup(p.value, t.ptr+"/overrides/jobs").(map[string]any)
		for _, k := range sortedKeys(jobs) {
			if _, ok := jobs[k].(map[string]any); ok {
				sel.jobs[k] = sel.fragment(&ds, t.ptr+"/overrides/jobs/"+escapePtr(k), nil)
			}
		}
	}
	if len(ds) > 0 {
		ds.Sort()
		return nil, ds
	}
	return sel, nil
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fragment copies the mapping at base out of the project file, with its
// variables substituted and its permissions split out. only, when not
// nil, keeps just those fields.
func (sel *Selection) fragment(ds *Diagnostics, base string, only map[string]bool) *fragment {
	p := sel.Project
	src, _ := lookup(p.value, base).(map[string]any)
	f := &fragment{value: map[string]any{}, base: base, pos: map[string]lineCol{}}
	for k, v := range src {
		if only == nil || only[k] {
			f.value[k] = deepCopy(v)
		}
	}
	for ptr, lc := range p.positions {
		if ptr == base || strings.HasPrefix(ptr, base+"/") {
			f.pos[ptr[len(base):]] = lc
		}
	}
	var rel []string
	for _, ptr := range p.vars {
		if strings.HasPrefix(ptr, base+"/") {
			rel = append(rel, ptr[len(base):])
		}
	}
	sel.substitute(f.value, rel,
		func(ptr, msg string) { p.diag(ds, base+ptr, "%s", msg) },
		func(d substituted) {
			f.secrets = append(f.secrets, d.secrets...)
			if d.float {
				f.float = append(f.float, d.ptr)
			}
		})
	if pv, ok := f.value["permissions"]; ok {
		grants, grantsRel, mode, problems := splitPermissions(pv)
		for _, pr := range problems {
			p.diag(ds, base+"/permissions"+pr.ptr, "%s", pr.msg)
		}
		f.hasPerms, f.grants, f.grantsRel, f.mode = true, grants, "/permissions"+grantsRel, mode
		delete(f.value, "permissions")
	}
	return f
}

// relProblem is a problem at a pointer relative to some value.
type relProblem struct{ ptr, msg string }

// splitPermissions reads the two ways of writing permissions: a list of
// grants, or a mapping {mode, grants}. grantsRel is where the grants list
// is relative to the permissions value ("" or "/grants").
func splitPermissions(v any) (grants []any, grantsRel, mode string, problems []relProblem) {
	switch x := v.(type) {
	case []any:
		return x, "", "", nil
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if k != "mode" && k != "grants" {
				problems = append(problems, relProblem{"/" + escapePtr(k), fmt.Sprintf("unknown field %q%s: permissions written as a mapping has mode and grants", k, didYouMean(k, []string{"mode", "grants"}))})
			}
		}
		if m, ok := x["mode"]; ok {
			s, _ := m.(string)
			if s != PermissionsAuthoritative && s != PermissionsAdditive {
				msg := fmt.Sprintf("must be authoritative or additive, got %s", describe(m))
				if sug := suggest(s, []string{PermissionsAuthoritative, PermissionsAdditive}); sug != "" && s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				problems = append(problems, relProblem{"/mode", msg})
			} else {
				mode = s
			}
		}
		switch g := x["grants"].(type) {
		case nil:
			if _, ok := x["grants"]; ok {
				problems = append(problems, relProblem{"/grants", "grants is empty: write [] for no grants, or leave it out"})
			}
			return []any{}, "/grants", mode, problems
		case []any:
			return g, "/grants", mode, problems
		default:
			problems = append(problems, relProblem{"/grants", fmt.Sprintf("expected a list of grants, got %s", typeName(g))})
			return []any{}, "/grants", mode, problems
		}
	case nil:
		return nil, "", "", []relProblem{{"", "permissions is empty: write [] for no grants (in authoritative mode that removes every grant but the owner's), or leave it out"}}
	}
	return nil, "", "", []relProblem{{"", fmt.Sprintf("expected a list of grants, or a mapping with mode and grants; got %s", typeName(v))}}
}

// movePositions renames the positions under from to be under to (from
// itself is dropped, to keeps its own).
func movePositions(pos map[string]lineCol, from, to string) {
	if from == to {
		return
	}
	moved := map[string]lineCol{}
	for ptr, lc := range pos {
		if ptr == from {
			delete(pos, ptr)
		} else if strings.HasPrefix(ptr, from+"/") {
			moved[to+ptr[len(from):]] = lc
			delete(pos, ptr)
		}
	}
	for ptr, lc := range moved {
		pos[ptr] = lc
	}
}

// apply resolves one job: project-wide permissions, the target's presets
// (pause_triggers, name_prefix), then its overrides: all_jobs, then the
// job's own. Variables of the job's YAML are already substituted.
func (sel *Selection) apply(lj *loadedJob) {
	m, ok := lj.value.(map[string]any)
	if !ok || sel == nil || sel.Project.bundle != nil {
		return // (a bundle's jobs are resolved in bundle_jobs.go)
	}
	jobFrag := sel.jobs[lj.job.Key]
	if t := sel.Target; t != nil {
		if t.PauseTriggers {
			at := sel.Project.positions[t.ptr+"/pause_triggers"]
			pause := func(ptr string, v any) {
				if c, ok := v.(map[string]any); ok {
					c["pause_status"] = "PAUSED"
					sel.place(lj, ptr+"/pause_status", at)
				}
			}
			for _, f := range []string{"schedule", "trigger", "continuous"} {
				pause("/"+f, m[f])
			}
			for i, tr := range asSlice(m["triggers"]) {
				pause("/triggers/"+strconv.Itoa(i), tr)
			}
		}
		if name, ok := m["name"].(string); ok && t.NamePrefix != "" {
			m["name"] = t.NamePrefix + name
		}
	}
	for _, f := range []*fragment{sel.allJobs, jobFrag} {
		if f != nil {
			sel.mergeMap(lj, f, m, f.value, "", "")
		}
	}
	sel.mergePermissions(lj, m, jobFrag)
	// Every secret a fragment merged into the job may bring (more than
	// needed at worst: a secret is kept from view, never shown).
	for _, f := range []*fragment{sel.defaults, sel.allJobs, jobFrag} {
		if f != nil {
			lj.secrets = append(lj.secrets, f.secrets...)
		}
	}
}

// place records that the value at ptr of the job comes from the project
// file, at lc.
func (sel *Selection) place(lj *loadedJob, ptr string, lc lineCol) {
	j := lj.job
	if j.foreign == nil {
		j.foreign = map[string]lineCol{}
		j.foreignFile = sel.Project.File
	}
	j.foreign[ptr] = lc
}

// copied records the positions of a subtree copied from f (at rel) into
// the job (at ptr), and the numbers in it written with a fraction.
func (sel *Selection) copied(lj *loadedJob, f *fragment, rel, ptr string) {
	for r, lc := range f.pos {
		if r == rel || strings.HasPrefix(r, rel+"/") {
			sel.place(lj, ptr+r[len(rel):], lc)
		}
	}
	for _, r := range f.float {
		if r == rel || strings.HasPrefix(r, rel+"/") {
			lj.floats = append(lj.floats, ptr+r[len(rel):])
		}
	}
}

// mergeMap merges src (of fragment f, at rel) into dst (of the job, at
// ptr): a null removes the field; a mapping merges into a mapping; a keyed
// array at the top of the job merges by key; anything else replaces.
func (sel *Selection) mergeMap(lj *loadedJob, f *fragment, dst, src map[string]any, ptr, rel string) {
	for _, k := range sortedKeys(src) {
		sv := src[k]
		cp, cr := ptr+"/"+escapePtr(k), rel+"/"+escapePtr(k)
		if sv == nil {
			delete(dst, k)
			continue
		}
		dv, exists := dst[k]
		dm, dIsMap := dv.(map[string]any)
		sm, sIsMap := sv.(map[string]any)
		dl, dIsList := dv.([]any)
		sl, sIsList := sv.([]any)
		switch keyField := mergeKeys[k]; {
		case exists && dIsMap && sIsMap:
			sel.mergeMap(lj, f, dm, sm, cp, cr)
		case exists && dIsList && sIsList && ptr == "" && keyField != "":
			dst[k] = sel.mergeKeyed(lj, f, dl, sl, keyField, cp, cr)
		default:
			dst[k] = deepCopy(sv)
			sel.copied(lj, f, cr, cp)
		}
	}
}

func (sel *Selection) mergeKeyed(lj *loadedJob, f *fragment, dst, src []any, keyField, ptr, rel string) []any {
	index := map[string]int{}
	for i, e := range dst {
		if m, ok := e.(map[string]any); ok {
			if k, ok := m[keyField].(string); ok {
				if _, dup := index[k]; !dup {
					index[k] = i
				}
			}
		}
	}
	for j, e := range src {
		sm, _ := e.(map[string]any)
		k, _ := sm[keyField].(string)
		er := rel + "/" + strconv.Itoa(j)
		if i, ok := index[k]; ok && sm != nil {
			if dm, ok := dst[i].(map[string]any); ok {
				sel.mergeMap(lj, f, dm, sm, ptr+"/"+strconv.Itoa(i), er)
				continue
			}
		}
		dst = append(dst, deepCopy(e))
		sel.copied(lj, f, er, ptr+"/"+strconv.Itoa(len(dst)-1))
	}
	return dst
}

// grantKey is a grant's principal ("user_name=x"), "" when it names none.
func grantKey(g any) string {
	m, _ := g.(map[string]any)
	for _, f := range []string{"user_name", "group_name", "service_principal_name"} {
		if s, ok := m[f].(string); ok && s != "" {
			return f + "=" + s
		}
	}
	return ""
}

func isOwnerGrant(g any) bool {
	m, _ := g.(map[string]any)
	return m["permission_level"] == "IS_OWNER"
}

// mergePermissions combines the job's grants with the project-wide ones
// (under the job's: the job's grant of a principal wins, and a project
// IS_OWNER is left out when the job names an owner) and the target's
// overrides (over the job's: all_jobs, then the job's own; an override's
// grant replaces the same principal's, and an override IS_OWNER removes
// any other). The mode is the last one set in that order.
func (sel *Selection) mergePermissions(lj *loadedJob, m map[string]any, jobFrag *fragment) {
	layers := []*fragment{sel.allJobs, jobFrag}
	touched := sel.defaults != nil && sel.defaults.hasPerms
	for _, f := range layers {
		touched = touched || f != nil && f.hasPerms
	}
	if !touched {
		return
	}
	type grant struct {
		v     any
		frag  *fragment // nil: the job's own
		at    string    // its pointer in the job (own) or relative to frag
		owner bool
	}
	var list []grant
	own, hasOwn := m["permissions"].([]any)
	_, declared := m["permissions"]
	for i, g := range own {
		list = append(list, grant{v: g, at: "/permissions/" + strconv.Itoa(i), owner: isOwnerGrant(g)})
	}
	find := func(k string) int {
		for i, g := range list {
			if k != "" && grantKey(g.v) == k {
				return i
			}
		}
		return -1
	}
	hasOwner := func() bool {
		for _, g := range list {
			if g.owner {
				return true
			}
		}
		return false
	}
	mode := ""
	if d := sel.defaults; d != nil && d.hasPerms {
		ownerNamed := hasOwner()
		for j, g := range d.grants {
			if find(grantKey(g)) >= 0 || isOwnerGrant(g) && ownerNamed {
				continue
			}
			list = append(list, grant{v: g, frag: d, at: d.grantsRel + "/" + strconv.Itoa(j), owner: isOwnerGrant(g)})
		}
		mode = d.mode
	}
	if lj.mode != "" {
		mode = lj.mode
	}
	for _, f := range layers {
		if f == nil || !f.hasPerms {
			continue
		}
		for j, g := range f.grants {
			ng := grant{v: g, frag: f, at: f.grantsRel + "/" + strconv.Itoa(j), owner: isOwnerGrant(g)}
			k := grantKey(g)
			if ng.owner {
				kept := list[:0]
				for _, e := range list {
					if !e.owner || grantKey(e.v) == k {
						kept = append(kept, e)
					}
				}
				list = kept
			}
			if i := find(k); i >= 0 {
				list[i] = ng
			} else {
				list = append(list, ng)
			}
		}
		if f.mode != "" {
			mode = f.mode
		}
	}
	lj.mode = mode
	// Rebuild the list and its positions.
	j := lj.job
	old := map[string]lineCol{}
	for ptr, lc := range j.positions {
		if strings.HasPrefix(ptr, "/permissions/") {
			old[ptr] = lc
			delete(j.positions, ptr)
		}
	}
	out := make([]any, len(list))
	for i, g := range list {
		to := "/permissions/" + strconv.Itoa(i)
		if g.frag == nil {
			out[i] = g.v
			for ptr, lc := range old {
				if ptr == g.at || strings.HasPrefix(ptr, g.at+"/") {
					j.positions[to+ptr[len(g.at):]] = lc
				}
			}
			continue
		}
		out[i] = deepCopy(g.v)
		sel.copied(lj, g.frag, g.at, to)
	}
	m["permissions"] = out
	if !hasOwn && !declared {
		// The job declares none: the list is where the project file says.
		for _, f := range []*fragment{jobFrag, sel.allJobs, sel.defaults} {
			if f != nil && f.hasPerms {
				if lc, ok := f.pos["/permissions"]; ok {
					sel.place(lj, "/permissions", lc)
				}
				break
			}
		}
	}
}
