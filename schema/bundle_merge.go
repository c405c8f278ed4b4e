package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// ptree is a piece of bundle configuration with the place of every value
// in it: at maps a JSON pointer relative to v to where it is written. A
// bundle's values come from several files (databricks.yml, its includes,
// target overrides), so a place carries its file.
type ptree struct {
	v  any
	at map[string]Pos
}

// each calls fn for every place at or under prefix, with the pointer
// relative to prefix.
func (t ptree) each(prefix string, fn func(rel string, p Pos)) {
	for ptr, p := range t.at {
		if ptr == prefix || strings.HasPrefix(ptr, prefix+"/") {
			fn(ptr[len(prefix):], p)
		}
	}
}

// pos is where the value at ptr is written, or its nearest ancestor.
func (t ptree) pos(ptr string) Pos {
	for {
		if p, ok := t.at[ptr]; ok {
			return p
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return Pos{}
		}
		ptr = ptr[:i]
	}
}

// sub is the part of t at ptr, with its places relative to it.
func (t ptree) sub(ptr string) ptree {
	out := ptree{v: lookup(t.v, ptr), at: map[string]Pos{}}
	t.each(ptr, func(rel string, p Pos) { out.at[rel] = p })
	return out
}

// bundleKeyed are the lists of a job that the bundle CLI merges element by
// element once a target's overrides are in: elements with the same key
// are merged, the others appended (databricks/cli
// bundle/config/mutator/resourcemutator/merge_job_tasks.go,
// merge_job_clusters.go, merge_job_parameters.go at 7bbe285). Every other
// list is concatenated.
var bundleKeyed = map[string]string{
	"tasks":        "task_key",
	"job_clusters": "job_cluster_key",
	"parameters":   "name",
}

// merger merges configuration the way the bundle CLI does
// (databricks/cli libs/dyn/merge/merge.go at 7bbe285): mappings merge key
// by key, lists are concatenated, a null changes nothing, and any other
// value replaces what was there. place records where a copied value is
// written; problems collects merges that cannot be done (a mapping
// meeting a list), at the incoming value.
type merger struct {
	src      ptree
	place    func(ptr string, p Pos)
	problems []relProblem
	// jobTop is the pointer of a job inside the destination, when the
	// destination is a job: its keyed lists merge by key.
	jobTop string
	keyed  bool
}

// copyIn records the places of src's subtree at sptr as being at dptr.
func (m *merger) copyIn(dptr, sptr string) {
	m.src.each(sptr, func(rel string, p Pos) { m.place(dptr+rel, p) })
}

// merge merges sv (at sptr of m.src) into dv (at dptr) and returns the
// result; dv may be modified in place.
func (m *merger) merge(dv any, dptr string, sv any, sptr string) any {
	if sv == nil {
		return dv
	}
	if dv == nil {
		m.copyIn(dptr, sptr)
		return deepCopy(sv)
	}
	switch d := dv.(type) {
	case map[string]any:
		s, ok := sv.(map[string]any)
		if !ok {
			m.problems = append(m.problems, relProblem{sptr, fmt.Sprintf("cannot merge %s into a mapping", article(typeName(sv)))})
			return dv
		}
		for _, k := range sortedKeys(s) {
			d[k] = m.merge(d[k], dptr+"/"+escapePtr(k), s[k], sptr+"/"+escapePtr(k))
		}
		return d
	case []any:
		s, ok := sv.([]any)
		if !ok {
			m.problems = append(m.problems, relProblem{sptr, fmt.Sprintf("cannot merge %s into a list", article(typeName(sv)))})
			return dv
		}
		field := dptr[strings.LastIndexByte(dptr, '/')+1:]
		if keyField := bundleKeyed[field]; m.keyed && keyField != "" && dptr == m.jobTop+"/"+field {
			return m.mergeKeyed(d, dptr, s, sptr, keyField)
		}
		for j, e := range s {
			m.copyIn(dptr+"/"+strconv.Itoa(len(d)), sptr+"/"+strconv.Itoa(j))
			d = append(d, deepCopy(e))
		}
		return d
	}
	switch sv.(type) {
	case map[string]any, []any:
		m.problems = append(m.problems, relProblem{sptr, fmt.Sprintf("cannot replace %s with %s", describeValue(dv), article(typeName(sv)))})
		return dv
	}
	m.copyIn(dptr, sptr)
	return sv
}

// mergeKeyed merges a keyed list: an incoming element whose key an
// element of d has merges into it; the others are appended.
func (m *merger) mergeKeyed(d []any, dptr string, s []any, sptr, keyField string) []any {
	index := map[string]int{}
	for i, e := range d {
		if em, ok := e.(map[string]any); ok {
			if k, ok := em[keyField].(string); ok {
				if _, dup := index[k]; !dup {
					index[k] = i
				}
			}
		}
	}
	for j, e := range s {
		ep := sptr + "/" + strconv.Itoa(j)
		em, _ := e.(map[string]any)
		if k, ok := em[keyField].(string); ok {
			if i, found := index[k]; found {
				d[i] = m.merge(d[i], dptr+"/"+strconv.Itoa(i), e, ep)
				continue
			}
			index[k] = len(d)
		}
		m.copyIn(dptr+"/"+strconv.Itoa(len(d)), ep)
		d = append(d, deepCopy(e))
	}
	return d
}
