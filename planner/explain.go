package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/schema"
)

// Explanation says why one field of a job is or is not compared, and how:
// the rows of the normalisation table that apply to the path (with their
// kind, value and evidence), the general rules, and one verdict. It is what
// `jobsync explain KEY PATH` prints, for people who meet a diff they did not
// expect (or miss one they did).
type Explanation struct {
	Key  string `json:"key"`
	Path string `json:"path"`
	// Verdict is how the field is compared, in one sentence.
	Verdict string `json:"verdict"`
	// Rows are the table's rows that apply, outermost first: rows of an
	// enclosing field (a computed block, a policy cluster) come before the
	// field's own.
	Rows []ExplainedRow `json:"rows"`
	// General are the rules that hold for every field.
	General []ExplainedRow `json:"general"`
	// Configured and Recorded are the values at the path in the YAML and in
	// the lockfile's record of the last apply (redacted like plans); Set
	// and Applied say whether there are any.
	Configured any  `json:"configured,omitempty"`
	Set        bool `json:"set"`
	Recorded   any  `json:"recorded,omitempty"`
	Applied    bool `json:"applied"`
	HasRecord  bool `json:"has_record"`
	// Ignored names the lifecycle.ignore_changes entry that covers the path.
	Ignored string `json:"ignored,omitempty"`
}

// ExplainedRow is one row of the table (or one general rule) as it applies
// to a path.
type ExplainedRow struct {
	Scope    string `json:"scope,omitempty"`
	Path     string `json:"path"`
	Kind     string `json:"kind"`
	Value    string `json:"value,omitempty"`
	Evidence string `json:"evidence"`
	// At is the part of the explained path the row applies to.
	At string `json:"at,omitempty"`
	// Note says how the row applies here (a condition and whether it holds).
	Note string `json:"note,omitempty"`
}

var kindNames = map[ruleKind]string{
	kindDefault: "default", kindReadOnly: "read-only", kindComputed: "computed", kindKeyed: "keyed",
	kindSet: "set", kindEnumFold: "enum-fold", kindSource: "source", kindScope: "scope",
	kindKeepEmpty: "keep-empty", kindAtomic: "atomic", kindWriteOnly: "write-only",
	kindComputedIf: "computed-if", kindFreeMap: "free-map", kindAlias: "alias",
	kindAccepts: "accepts", kindRename: "rename",
}

// Explain explains path (the plan's path syntax, e.g.
// tasks[task_key="load"].new_cluster.spark_conf) of job, whose last apply
// the lockfile recorded as applied (nil without a record). It reads only its
// arguments; conditions (a cluster's policy_id, the job's git_source) are
// judged on the YAML and the record, as the workspace is not read.
func Explain(job *schema.Job, applied map[string]any, path string) (*Explanation, error) {
	segs, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 || segs[0].key != "" {
		return nil, fmt.Errorf("path %q: a path starts with a field of the job (e.g. tasks[task_key=\"load\"].timeout_seconds)", path)
	}
	for _, s := range segs {
		if s.key == "*" {
			return nil, fmt.Errorf("path %q: explain takes one field, not a pattern ([*])", path)
		}
	}
	e := &Explanation{Key: job.Key, Path: formatPath(segs), HasRecord: applied != nil}
	for _, g := range generalRules {
		e.General = append(e.General, ExplainedRow{Path: "rule:" + g.name, Kind: "general", Value: g.text, Evidence: g.evidence})
	}
	for _, ig := range job.Lifecycle.IgnoreChanges {
		if p, err := parsePath(ig); err == nil && hasPrefix(segs, p) {
			e.Ignored = ig
		}
	}

	desired, err := desiredSettings(job, nil)
	if err != nil {
		return nil, err
	}
	git := hasValue(desired["git_source"]) || hasValue(applied["git_source"])
	var (
		obj                                     = rules.job // the node whose children the next segment names
		field                                   *node       // the node of the last segment
		dv, av                                  any         = desired, any(applied)
		dok, aok                                            = true, applied != nil
		computed, readOnly, entry, keyed, known bool
	)
	for i, s := range segs {
		at := formatPath(segs[:i+1])
		if s.key != "" {
			// An element of a keyed array: the walk stays on the array's
			// node, and its values follow the element with that key.
			if field == nil || field.key != s.key {
				return nil, fmt.Errorf("path %q: %s is not an array keyed by %s", path, formatPath(segs[:i]), s.key)
			}
			dv, dok = element(dv, s.key, s.val)
			av, aok = element(av, s.key, s.val)
			keyed = false
			continue
		}
		base := obj
		if base != nil && base.computedWhen != "" {
			set := hasValue(asMapAny(dv)[base.computedWhen]) || hasValue(asMapAny(av)[base.computedWhen])
			note := fmt.Sprintf("%s is not set here in the YAML or the last apply: this row does not apply", base.computedWhen)
			if set {
				computed = true
				note = fmt.Sprintf("%s is set here: every field of this object the YAML does not set is left as the workspace has it", base.computedWhen)
			}
			e.addRows(base, formatPath(segs[:i]), note, func(r rule) bool { return r.kind == kindComputedIf })
		}
		entry = base != nil && base.freeMap
		if entry {
			e.addRows(base, formatPath(segs[:i]), "an entry of a free map: compared as written, the all-empty rule does not apply", func(r rule) bool { return r.kind == kindFreeMap })
		}
		field = base.child(s.name)
		dv, dok = member(dv, s.name)
		av, aok = member(av, s.name)
		obj = nil
		if field == nil {
			known, keyed = false, false
			continue
		}
		obj = field.elem()
		known = true
		last := i == len(segs)-1
		e.addRows(field, at, "", func(r rule) bool {
			// An ancestor's scope and keyed rows say nothing about a field
			// below it; its computed and read-only rows do.
			return last || r.kind == kindComputed || r.kind == kindReadOnly
		})
		computed = computed || field.computed
		readOnly = readOnly || field.readOnly
		keyed = field.key != ""
	}
	e.Set, e.Applied = dok, aok
	if dok {
		// Shown like a plan's change: a sensitive variable's value, and
		// what stands where the record holds a seal, are hidden too.
		e.Configured = redact(segs, redactLike(hideStrings(dv, secretSet(job.Secrets)), av))
	}
	if aok {
		e.Recorded = redact(segs, av)
	}
	e.Verdict = verdict(field, known, computed, readOnly, entry, keyed, git, e)
	return e, nil
}

func (e *Explanation) addRows(n *node, at, note string, keep func(rule) bool) {
	for _, i := range n.rows {
		r := table[i]
		if !keep(r) {
			continue
		}
		e.Rows = append(e.Rows, ExplainedRow{Scope: r.scope, Path: r.path, Kind: kindNames[r.kind], Value: valueText(r.value), Evidence: r.evidence, At: at, Note: note})
	}
}

func verdict(n *node, known, computed, readOnly, entry, keyed, git bool, e *Explanation) string {
	var v string
	switch {
	case e.Ignored != "":
		v = fmt.Sprintf("not compared and not sent: lifecycle.ignore_changes lists %s, so the workspace's value is kept", e.Ignored)
	case readOnly:
		v = "never compared: the service ignores it on write or fills it in by itself (read-only)"
	case known && n.writeOnly:
		v = "compared with the lockfile's record of the last apply, never with the workspace: the service accepts it and does not return it"
		if !e.HasRecord {
			v += "; this job has no record yet, so it is no change until the next apply records it"
		}
	case computed:
		v = "compared only where the YAML sets it or did at the last apply: the service fills it in, so a value only the workspace has is left alone"
	case known && n.hasDefault:
		v = fmt.Sprintf("absent is the same as %s (the service's default); any other value is compared", valueText(n.dflt))
	case known && keyed:
		v = fmt.Sprintf("an array compared element by element by %s, never by position", n.key)
	case known && n.set:
		v = "a set: order and duplicates mean nothing, the values are compared"
	case known && n.source:
		d := "WORKSPACE"
		if git {
			d = "GIT (the job has git_source)"
		}
		v = "absent is the same as " + d + "; the other value is compared"
	case entry:
		v = "an entry of a free map: compared as written, an empty value included"
	default:
		v = "compared as written (after the general rules: null and empty are absent, numbers canonical, and a field empty in the YAML, the last apply and the workspace alike is no change)"
	}
	if known {
		var extra []string
		if n.alias != nil {
			extra = append(extra, "spellings the service rewrites are compared as it reads them back ("+valueText(n.alias)+")")
		}
		if n.accepts != nil {
			extra = append(extra, "a requested value is satisfied by what the service resolves it to ("+valueText(n.accepts)+")")
		}
		if n.fold != nil {
			extra = append(extra, "letter case does not matter")
		}
		if n.rename != "" {
			extra = append(extra, "compared under its new name "+n.rename)
		}
		if n.keepEmpty {
			extra = append(extra, "kept even when empty (it selects the task's type)")
		}
		if n.atomic {
			extra = append(extra, "compared as one value, not field by field")
		}
		if len(extra) > 0 {
			v += "; " + strings.Join(extra, "; ")
		}
	}
	return v
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		return strings.Join(x, ", ")
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " → " + x[k]
		}
		return strings.Join(parts, ", ")
	case map[string][]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " → " + strings.Join(x[k], " or ")
		}
		return strings.Join(parts, ", ")
	}
	return canonicalJSON(canonical(v))
}

func asMapAny(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func member(v any, name string) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	x, ok := m[name]
	return x, ok
}

func element(v any, key, val string) (any, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	for _, e := range a {
		if keyOf(e, key) == val {
			return e, true
		}
	}
	return nil, false
}
