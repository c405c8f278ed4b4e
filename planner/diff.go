package planner

import (
	"encoding/json"
	"slices"
	"sort"
)

// Change kinds.
const (
	KindAdd    = "add"
	KindRemove = "remove"
	KindModify = "modify"
	// KindRename: a task renamed (lifecycle.moved_tasks); Before and After
	// are its old and new task_key.
	KindRename = "rename"
)

// Change origins.
const (
	OriginConfig = "config"
	OriginDrift  = "drift"
)

// change is a Change before it is made presentable: it keeps the path as
// segments (for YAML positions, redaction and request building).
type change struct {
	segs          []seg
	kind          string
	before, after any
	origin        string
	// applied is the lockfile's value at the path: where it holds seals,
	// before and after are shown as (sensitive) there (redactLike).
	applied any
}

// differ walks two normalised settings trees side by side with the
// compiled table, so that it knows at every field whether it is keyed,
// server-filled or defaulted.
//
// In a plan, live is the workspace, want the desired settings and applied
// what the lockfile recorded at the last apply (nil without one). The
// rule for server-filled (computed) fields is asymmetric: a value only
// the workspace has is left alone unless the configuration sets it now or
// did at the last apply. With symmetric set (the exported Diff), a
// server-filled field present on one side only is never a difference.
type differ struct {
	ignore    [][]seg
	symmetric bool
	noLock    bool // no lockfile entry: every change is a config change
	// create lists a new job's settings as additions of what is sent
	// (live is empty; no defaults to compare with).
	create bool
	out    []change
}

type side struct {
	v  any
	ok bool
}

func (d *differ) ignored(p []seg) bool {
	for _, pat := range d.ignore {
		if hasPrefix(p, pat) {
			return true
		}
	}
	return false
}

func (d *differ) emit(p []seg, kind string, before, after any, want, applied side) {
	origin := OriginDrift
	if d.noLock || want.ok != applied.ok || (want.ok && !equalSealed(want.v, applied.v)) {
		origin = OriginConfig
	}
	d.out = append(d.out, change{
		segs:    append([]seg(nil), p...),
		kind:    kind,
		before:  before,
		after:   after,
		origin:  origin,
		applied: applied.v,
	})
}

func asMap(s side) map[string]any {
	m, _ := s.v.(map[string]any)
	return m
}

func (d *differ) object(p []seg, n *node, live, want, applied map[string]any, comp bool) {
	if len(d.ignore) == 0 && equalSealed(live, want) && !d.walkWriteOnly(n, applied) {
		return // the common case; comparing is cheaper than walking
	}
	// Only the fields whose values differ are sorted and walked: a field
	// equal on both sides gives no change, as value would find (the same
	// test its object and keyed start with), unless it is write-only or
	// the last apply holds a write-only field under it.
	fast := len(d.ignore) == 0
	var keys []string
	for k, lv := range live {
		if wv, ok := want[k]; ok && fast && equalSealed(lv, wv) {
			// (Both nodes: value walks an object below c.elem(), an
			// array below c.)
			if c := n.child(k); c == nil || !c.writeOnly && !d.walkWriteOnly(c, applied[k]) && !d.walkWriteOnly(c.elem(), applied[k]) {
				continue
			}
		}
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := live[k]; !ok {
			keys = append(keys, k)
		}
	}
	for k := range applied {
		// A write-only field only the last apply had was removed from the
		// configuration (the workspace never shows it).
		if c := n.child(k); c != nil && c.writeOnly {
			if _, ok := live[k]; !ok {
				if _, ok := want[k]; !ok {
					keys = append(keys, k)
				}
			}
		}
	}
	sort.Strings(keys)
	if n != nil && n.computedWhen != "" && (hasValue(live[n.computedWhen]) || hasValue(want[n.computedWhen])) {
		// A cluster policy fills in any field of this object (kindComputedIf).
		comp = true
	}
	entries := n != nil && n.freeMap
	for _, k := range keys {
		c := n.child(k)
		q := append(p, seg{name: k})
		if len(d.ignore) > 0 && d.ignored(q) {
			continue
		}
		lv, lok := live[k]
		wv, wok := want[k]
		av, aok := applied[k]
		if c != nil && c.writeOnly {
			d.writeOnly(q, side{wv, wok}, side{av, aok})
			continue
		}
		if !entries && !d.create && (c == nil || (!c.hasDefault && !c.source)) &&
			isEmpty(lv, lok) && isEmpty(wv, wok) && isEmpty(av, aok) {
			continue // the all-empty rule (generalRules)
		}
		d.value(q, c, side{lv, lok}, side{wv, wok}, side{av, aok}, comp || (c != nil && c.computed))
	}
}

// isEmpty: absent, null, "", false or 0. Empty objects and arrays never
// reach the differ (Normalize drops them).
func isEmpty(v any, ok bool) bool {
	if !ok {
		return true
	}
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		return x == "0"
	}
	return false
}

// writeOnly compares a field the service never returns (kindWriteOnly) with
// the lockfile's record of the last apply: the workspace's side says
// nothing. Without a record there is nothing to compare, so no change (the
// next apply records the configuration's value); a drift comparison
// (symmetric) never sees one.
func (d *differ) writeOnly(p []seg, want, applied side) {
	if d.symmetric || d.noLock || d.create {
		return
	}
	if want.ok == applied.ok && (!want.ok || equalSealed(want.v, applied.v)) {
		return
	}
	switch {
	case !applied.ok:
		d.emit(p, KindAdd, nil, want.v, want, applied)
	case !want.ok:
		d.emit(p, KindRemove, applied.v, nil, want, applied)
	default:
		d.emit(p, KindModify, applied.v, want.v, want, applied)
	}
}

// liveOnlyMatters says whether a value only the workspace has is worth a
// removal: not when every field in it is server-filled or read-only (a
// spark_conf holding only the legacy delta preview key the service adds).
func liveOnlyMatters(n *node, v any) bool {
	m, ok := v.(map[string]any)
	if !ok || n == nil {
		return true
	}
	base := n.elem()
	for k, e := range m {
		c := base.child(k)
		if c != nil && (c.computed || c.readOnly || c.writeOnly) {
			continue
		}
		if c != nil && !liveOnlyMatters(c, e) {
			continue
		}
		return true
	}
	return false
}

// accepted says whether one value is what the service reads the other back
// as (kindAccepts): requested a, live b, or (symmetric) the other way round.
func (d *differ) accepted(n *node, live, want any) bool {
	if n == nil || n.accepts == nil {
		return false
	}
	in := func(req, got any) bool {
		r, _ := req.(string)
		g, _ := got.(string)
		return slices.Contains(n.accepts[r], g)
	}
	return in(want, live) || (d.symmetric && in(live, want))
}

func (d *differ) value(p []seg, n *node, live, want, applied side, comp bool) {
	switch {
	case !live.ok && !want.ok:
		return
	case live.ok && !want.ok:
		if comp && (d.symmetric || !applied.ok) {
			return
		}
		switch {
		case n != nil && n.hasDefault:
			d.emit(p, KindModify, live.v, n.dflt, want, applied)
		case n != nil && n.key != "":
			d.keyed(p, n, live.v, nil, applied.v, comp)
		case !liveOnlyMatters(n, live.v):
		default:
			d.emit(p, KindRemove, live.v, nil, want, applied)
		}
	case !live.ok && want.ok:
		if comp && d.symmetric {
			return
		}
		switch {
		case n != nil && n.hasDefault && !d.create:
			d.emit(p, KindModify, n.dflt, want.v, want, applied)
		case n != nil && n.key != "":
			d.keyed(p, n, nil, want.v, applied.v, comp)
		default:
			d.emit(p, KindAdd, nil, want.v, want, applied)
		}
	default:
		lm, lIsMap := live.v.(map[string]any)
		wm, wIsMap := want.v.(map[string]any)
		switch {
		case lIsMap && wIsMap && (n == nil || !n.atomic):
			d.object(p, n.elem(), lm, wm, asMap(applied), comp)
		case n != nil && n.key != "":
			if _, ok := live.v.([]any); ok {
				if _, ok := want.v.([]any); ok {
					d.keyed(p, n, live.v, want.v, applied.v, comp)
					return
				}
			}
			fallthrough
		default:
			if !equalSealed(live.v, want.v) && !d.accepted(n, live.v, want.v) {
				d.emit(p, KindModify, live.v, want.v, want, applied)
			}
		}
	}
}

// walkWriteOnly: equal live and desired subtrees still need a walk when the
// last apply holds a write-only field in them (one the configuration no
// longer has: were it there, live and desired would differ).
func (d *differ) walkWriteOnly(n *node, applied any) bool {
	return !d.symmetric && !d.noLock && holdsWriteOnly(n, applied)
}

// holdsWriteOnly says whether v, below n, has a write-only field. It follows
// only the nodes that may lead to one, and allocates nothing.
func holdsWriteOnly(n *node, v any) bool {
	if n == nil || !n.mayWriteOnly {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		base := n.elem()
		for k, e := range x {
			c := base.child(k)
			if c != nil && (c.writeOnly || holdsWriteOnly(c, e)) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if holdsWriteOnly(n, e) {
				return true
			}
		}
	}
	return false
}

// keyed compares two arrays of objects element by element, by key.
func (d *differ) keyed(p []seg, n *node, live, want, applied any, comp bool) {
	if len(d.ignore) == 0 && equalSealed(live, want) && !d.walkWriteOnly(n, applied) {
		return
	}
	if !d.keyedSorted(p, n, live, want, applied, comp) {
		d.keyedByMap(p, n, live, want, applied, comp)
	}
}

// keyedByMap is keyed for arrays in any order: each side indexed by key.
func (d *differ) keyedByMap(p []seg, n *node, live, want, applied any, comp bool) {
	lx, wx, ax := index(live, n.key), index(want, n.key), index(applied, n.key)
	keys := make([]string, 0, len(lx)+len(wx))
	for k := range lx {
		keys = append(keys, k)
	}
	for k := range wx {
		if _, ok := lx[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	en := n.elem()
	for _, k := range keys {
		q := append(p, seg{key: n.key, val: k})
		if len(d.ignore) > 0 && d.ignored(q) {
			continue
		}
		le, lok := lx[k]
		we, wok := wx[k]
		ae, aok := ax[k]
		d.element(q, en, side{le, lok}, side{we, wok}, side{ae, aok}, comp)
	}
}

// element compares one element of a keyed array on the three sides.
func (d *differ) element(q []seg, en *node, l, w, a side, comp bool) {
	switch {
	case l.ok && !w.ok:
		d.emit(q, KindRemove, l.v, nil, w, a)
	case !l.ok && w.ok:
		d.emit(q, KindAdd, nil, w.v, w, a)
	default:
		lm, _ := l.v.(map[string]any)
		wm, _ := w.v.(map[string]any)
		am, _ := a.v.(map[string]any)
		d.object(q, en, lm, wm, am, comp)
	}
}

// keyedSorted is keyed by a merge of the three arrays when each is
// strictly sorted by its key, as Normalize leaves them: the same elements
// compared in the same order, without indexing the sides in maps and
// sorting their keys (the differ's largest cost in a no-change plan, where
// a job cluster the server filled in is walked on every job). It reports
// false, having done nothing, when a side is not sorted (a rename of
// tasks rewrote keys) or repeats a key.
func (d *differ) keyedSorted(p []seg, n *node, live, want, applied any, comp bool) bool {
	la, _ := live.([]any)
	wa, _ := want.([]any)
	aa, _ := applied.([]any)
	if !strictlyKeyed(la, n.key) || !strictlyKeyed(wa, n.key) || !strictlyKeyed(aa, n.key) {
		return false
	}
	en := n.elem()
	i, j, k := 0, 0, 0
	for i < len(la) || j < len(wa) {
		var key string
		switch {
		case j >= len(wa):
			key = keyOf(la[i], n.key)
		case i >= len(la):
			key = keyOf(wa[j], n.key)
		default:
			key = min(keyOf(la[i], n.key), keyOf(wa[j], n.key))
		}
		var l, w, a side
		if i < len(la) && keyOf(la[i], n.key) == key {
			l = side{la[i], true}
			i++
		}
		if j < len(wa) && keyOf(wa[j], n.key) == key {
			w = side{wa[j], true}
			j++
		}
		for k < len(aa) && keyOf(aa[k], n.key) < key {
			k++
		}
		if k < len(aa) && keyOf(aa[k], n.key) == key {
			a = side{aa[k], true}
		}
		q := append(p, seg{key: n.key, val: key})
		if len(d.ignore) > 0 && d.ignored(q) {
			continue
		}
		d.element(q, en, l, w, a, comp)
	}
	return true
}

// strictlyKeyed: every element's key greater than the one before.
func strictlyKeyed(a []any, key string) bool {
	for i := 1; i < len(a); i++ {
		if keyOf(a[i-1], key) >= keyOf(a[i], key) {
			return false
		}
	}
	return true
}

func index(v any, key string) map[string]any {
	a, _ := v.([]any)
	if len(a) == 0 {
		return nil
	}
	m := make(map[string]any, len(a))
	for _, e := range a {
		m[keyOf(e, key)] = e
	}
	return m
}

// Diff is the keyed difference between two normalised settings trees
// (Normalize both first): one Change per changed keyed path, in path order,
// with Origin left empty and secret-looking values redacted. A field the
// server fills in (table kindComputed) that is present on one side only is
// not a difference, so Diff(lastApplied, Normalize(live)) reports what was
// changed in the workspace without server noise; drift uses it that way.
func Diff(before, after map[string]any) []Change {
	d := differ{symmetric: true, noLock: true}
	d.object(nil, rules.job, before, after, nil, false)
	out := make([]Change, len(d.out))
	for i, c := range d.out {
		out[i] = c.present("")
		out[i].Origin = ""
	}
	return out
}

// present turns an internal change into a redacted Change.
func (c change) present(source string) Change {
	return Change{
		Path:   formatPath(c.segs),
		Kind:   c.kind,
		Before: redact(c.segs, redactLike(c.before, c.applied)),
		After:  redact(c.segs, redactLike(c.after, c.applied)),
		Origin: c.origin,
		Source: source,
	}
}
