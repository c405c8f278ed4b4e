package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Step is one step of a keyed path inside a job: a mapping key (Field), or
// the element of a list of mappings whose KeyField is KeyValue
// (tasks[task_key="ingest"]).
type Step struct {
	Field    string `json:"field,omitempty"`
	KeyField string `json:"key_field,omitempty"`
	KeyValue string `json:"key_value,omitempty"`
}

func (s Step) String() string {
	if s.KeyField != "" {
		return "[" + s.KeyField + "=" + strconv.Quote(s.KeyValue) + "]"
	}
	return "." + s.Field
}

// Edit is one change to one job of a file: the value at Path becomes Value
// (a JSON value: map[string]any, []any, string, bool, json.Number, nil), or
// is removed when Delete is set. Missing parents are created; a keyed
// element that is missing is appended to its list.
type Edit struct {
	Job    string
	Path   []Step
	Delete bool
	Value  any
	// Zero, when not nil, is a value that means the same as no value (a
	// field's default). A removal that cannot be written — the field comes
	// through a merge key — sets the field to Zero locally instead.
	Zero any
	// ID is the caller's, to tell its edits apart in a Result.
	ID int
}

// PathString renders the path the way plans do.
func (e Edit) PathString() string {
	var b strings.Builder
	for i, s := range e.Path {
		str := s.String()
		if i == 0 {
			str = strings.TrimPrefix(str, ".")
		}
		b.WriteString(str)
	}
	return b.String()
}

// Decision is an edit yamledit did not make because the YAML does not
// write the value literally there (a variable, an anchor shared with other
// places, a merge key), with the place a person should look at.
type Decision struct {
	Edit   Edit
	File   string
	Line   int
	Col    int
	Reason string
}

// Pos is the decision's file:line:col.
func (d Decision) Pos() string { return fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Col) }

// Result is what Apply made of one file.
type Result struct {
	File      string
	Old, New  []byte
	Applied   []Edit
	Decisions []Decision

	path string // the OS path, when ApplyFiles read the file
}

// Changed says whether the file's text changed.
func (r *Result) Changed() bool { return !bytes.Equal(r.Old, r.New) }

// Apply makes the edits in src, the text of the job file named file, one
// after the other, and returns the new text. Each edit is the smallest
// change of text that gives the job its new value: a changed scalar is
// rewritten in place, a changed mapping or list is edited entry by entry
// (a list by its longest common subsequence, so that kept elements keep
// their comments), new entries are appended after the last one, removed
// ones take their comment lines with them. A mapping that an edit empties
// is removed from its parent in turn (tags: {team: x} minus team is no
// tags at all), except at the job itself or inside a list element.
//
// Anchors and aliases: an anchor is never edited when anything else uses
// it, since that would change other jobs or tasks silently. A value reached
// through an alias of a mapping gets a local override instead: the alias
// becomes a mapping that merges it (<<: *anchor) and adds the changed
// fields, which YAML lets win over merged ones; a field that comes from a
// merge key is overridden the same way. An anchor used by exactly one alias
// and written outside every job (under an x- key) is edited in place, since
// nothing else sees it. Anything else reached through an alias (a list, a
// scalar, removing a merged field) is a Decision, as is a value that uses
// ${var.NAME}.
//
// Every edit is checked by parsing the new text and comparing it, as JSON
// values, with the old text plus the edit; an edit that does not compare
// equal is undone and reported as a Decision. Apply fails only when src
// itself cannot be parsed or does not hold an edited job.
func Apply(file string, src []byte, edits []Edit) (*Result, error) {
	res := &Result{File: file, Old: src, New: src}
	d, err := parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	for _, e := range edits {
		if _, err := d.findJob(e.Job); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
	}
	for _, e := range edits {
		next, dec, err := d.edit(e)
		if err != nil {
			res.Decisions = append(res.Decisions, Decision{Edit: e, File: file, Line: 1, Col: 1,
				Reason: fmt.Sprintf("jobsync cannot edit this YAML safely (%v): make this change by hand", err)})
			continue
		}
		if dec != nil {
			dec.Edit, dec.File = e, file
			res.Decisions = append(res.Decisions, *dec)
			continue
		}
		d = next
		res.Applied = append(res.Applied, e)
	}
	res.New = d.t.src
	return res, nil
}

// elem is one step of an internal path: a field, a keyed element, or a
// list position (the latter only in the edits Apply derives itself).
type elem struct {
	field    string
	keyField string
	keyValue string
	index    int // a position when >= 0
}

func (e elem) isField() bool { return e.keyField == "" && e.index < 0 }

func fieldElem(f string) elem { return elem{field: f, index: -1} }
func indexElem(i int) elem    { return elem{index: i} }
func fromStep(s Step) elem {
	return elem{field: s.Field, keyField: s.KeyField, keyValue: s.KeyValue, index: -1}
}
func pathOf(ps []elem, e elem) []elem {
	return append(append([]elem(nil), ps...), e)
}

type opKind int

const (
	opSet    opKind = iota
	opDelete        // remove the value at path
	opInsert        // insert value into a list at path's last (index) element
)

// op is one primitive change, at a path from the document root. base is
// the length of the job's own path (jobs.<key>), above which nothing is
// ever pruned.
type op struct {
	doc   int
	path  []elem
	base  int
	kind  opKind
	value any
	zero  any // for opDelete: see Edit.Zero
}

// doc is a parsed file.
type doc struct {
	t      *text
	docs   []*yaml.Node
	values []any
	lay    layout
	// uses counts the aliases of each anchored node (merge sources too).
	uses map[*yaml.Node]int
	// inJob holds the nodes written inside a job (not reached by alias).
	inJob map[*yaml.Node]bool
	// inFlow holds the nodes inside a flow collection.
	inFlow map[*yaml.Node]bool
}

func parse(src []byte) (*doc, error) {
	d := &doc{t: newText(src), uses: map[*yaml.Node]int{}, inJob: map[*yaml.Node]bool{}, inFlow: map[*yaml.Node]bool{}}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := decodeSafely(dec, &n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		v, err := jsonValue(&n)
		if err != nil {
			return nil, err
		}
		d.docs = append(d.docs, &n)
		d.values = append(d.values, v)
	}
	var walk func(n *yaml.Node, flow bool)
	walk = func(n *yaml.Node, flow bool) {
		if flow {
			d.inFlow[n] = true
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			d.uses[n.Alias]++
		}
		for _, c := range n.Content {
			walk(c, flow || n.Style&yaml.FlowStyle != 0 && n.Kind != yaml.DocumentNode)
		}
	}
	for _, n := range d.docs {
		walk(n, false)
		for _, j := range jobNodes(n) {
			markAll(j, d.inJob)
		}
	}
	d.lay = learnLayout(d.t, d.docs)
	return d, nil
}

func decodeSafely(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML parser failed (%v)", r)
		}
	}()
	return dec.Decode(n)
}

func markAll(n *yaml.Node, set map[*yaml.Node]bool) {
	set[n] = true
	for _, c := range n.Content {
		markAll(c, set)
	}
}

// jobSections are where a job file keeps its jobs.
var jobSections = [][]string{{"jobs"}, {"resources", "jobs"}}

// jobNodes are the job value nodes of a document.
func jobNodes(docNode *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for _, sec := range jobSections {
		m := sectionNode(docNode, sec)
		if m == nil {
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			out = append(out, m.Content[i+1])
		}
	}
	return out
}

func sectionNode(docNode *yaml.Node, sec []string) *yaml.Node {
	if len(docNode.Content) == 0 {
		return nil
	}
	n := resolve(docNode.Content[0])
	for _, f := range sec {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		i := ownKey(n, f)
		if i < 0 {
			return nil
		}
		n = resolve(n.Content[i+1])
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

// findJob returns the document and the path of job key.
func (d *doc) findJob(key string) (jobLoc, error) {
	for i, n := range d.docs {
		for _, sec := range jobSections {
			m := sectionNode(n, sec)
			if m != nil && ownKey(m, key) >= 0 {
				var p []elem
				for _, f := range sec {
					p = append(p, fieldElem(f))
				}
				return jobLoc{doc: i, path: append(p, fieldElem(key))}, nil
			}
		}
	}
	return jobLoc{}, fmt.Errorf("job %q is not in this file", key)
}

type jobLoc struct {
	doc  int
	path []elem
}

// ownKey is the index in m.Content of key k written in m itself, or -1.
func ownKey(m *yaml.Node, k string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		key := m.Content[i]
		if key.ShortTag() != "!!merge" && resolve(key).Value == k {
			return i
		}
	}
	return -1
}

// mergeSource is the node of the merge key (<<) of m through which field k
// comes in, nil when none does.
func mergeSource(m *yaml.Node, k string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].ShortTag() != "!!merge" {
			continue
		}
		v := m.Content[i+1]
		srcs := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, s := range srcs {
			if c := child(s, k); c != nil {
				return s
			}
		}
	}
	return nil
}

// edit applies one Edit: derives its primitive ops and applies them one by
// one, each checked. It returns the new doc, or a decision, or an error
// (which Apply reports as a decision too).
func (d *doc) edit(e Edit) (*doc, *Decision, error) {
	loc, err := d.findJob(e.Job)
	if err != nil {
		return nil, nil, err
	}
	path := append([]elem(nil), loc.path...)
	for _, s := range e.Path {
		path = append(path, fromStep(s))
	}
	base := len(loc.path)
	e.Value = escapeVars(e.Value)
	var ops []op
	switch old, ok := lookup(d.values[loc.doc], path); {
	case e.Delete:
		ops = []op{{doc: loc.doc, path: path, base: base, kind: opDelete, zero: e.Zero}}
	case ok:
		ops = diffOps(loc.doc, base, path, old, e.Value, nil)
	default:
		ops = []op{{doc: loc.doc, path: path, base: base, kind: opSet, value: e.Value}}
	}
	cur := d
	for _, o := range ops {
		next, dec, err := cur.apply(o)
		if err != nil || dec != nil {
			return nil, dec, err
		}
		cur = next
	}
	return cur, nil, nil
}

// apply makes one primitive op, retrying after a rewrite that prepares it
// (an alias turned into a merge), and checks the result.
func (d *doc) apply(o op) (*doc, *Decision, error) {
	cur := d
	var also []elem
	for attempt := 0; ; attempt++ {
		sp, again, dec, err := cur.splice(o)
		if err != nil || dec != nil {
			return nil, dec, err
		}
		if sp == nil {
			break // already so
		}
		also = sp.also
		if sp.zeroed {
			o.kind, o.value = opSet, o.zero
		}
		src := make([]byte, 0, len(cur.t.src)+len(sp.text))
		src = append(src, cur.t.src[:sp.start]...)
		src = append(src, sp.text...)
		src = append(src, cur.t.src[sp.end:]...)
		next, err := parse(src)
		if err != nil {
			return nil, nil, fmt.Errorf("the edited text does not parse: %v", err)
		}
		cur = next
		if !again {
			break
		}
		if attempt > 3 {
			return nil, nil, errors.New("an edit that does not settle")
		}
	}
	// What the text must read back as: the old values with the op made at
	// its path, and at the anchor it went through, if it edited one.
	want := append([]any(nil), d.values...)
	for _, p := range [][]elem{o.path, also} {
		if p == nil {
			continue
		}
		q := o
		q.path = p
		v, err := applyOp(want[o.doc], q)
		if err != nil {
			return nil, nil, err
		}
		want[o.doc] = v
	}
	if len(cur.values) != len(want) {
		return nil, nil, errors.New("the edit changed the number of documents")
	}
	for i := range want {
		if !equal(cur.values[i], want[i]) {
			return nil, nil, errors.New("the edited text does not read back as the intended value")
		}
	}
	return cur, nil, nil
}

// lookup is the JSON value at path.
func lookup(root any, path []elem) (any, bool) {
	cur := root
	for _, e := range path {
		switch {
		case e.index >= 0:
			l, ok := cur.([]any)
			if !ok || e.index >= len(l) {
				return nil, false
			}
			cur = l[e.index]
		case e.keyField != "":
			l, _ := cur.([]any)
			i := lookupKeyed(l, e.keyField, e.keyValue)
			if i < 0 {
				return nil, false
			}
			cur = l[i]
		default:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			v, ok := m[e.field]
			if !ok {
				return nil, false
			}
			cur = v
		}
	}
	return cur, true
}

// diffOps are the primitive ops that turn old (the value at path) into
// new: mappings key by key, lists by their longest common subsequence,
// anything else replaced.
func diffOps(docIdx, base int, path []elem, old, new any, out []op) []op {
	if equal(old, new) {
		return out
	}
	om, oIsMap := old.(map[string]any)
	nm, nIsMap := new.(map[string]any)
	if oIsMap && nIsMap {
		keys := make([]string, 0, len(om))
		for k := range om {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			nv, ok := nm[k]
			if !ok {
				out = append(out, op{doc: docIdx, path: pathOf(path, fieldElem(k)), base: base, kind: opDelete})
				continue
			}
			out = diffOps(docIdx, base, pathOf(path, fieldElem(k)), om[k], nv, out)
		}
		added := map[string]any{}
		for k, v := range nm {
			if _, ok := om[k]; !ok {
				added[k] = v
			}
		}
		for _, k := range orderKeys(added, nil) {
			out = append(out, op{doc: docIdx, path: pathOf(path, fieldElem(k)), base: base, kind: opSet, value: added[k]})
		}
		return out
	}
	ol, oIsList := old.([]any)
	nl, nIsList := new.([]any)
	if oIsList && nIsList && len(ol) > 0 && len(nl) > 0 {
		return listOps(docIdx, base, path, ol, nl, out)
	}
	return append(out, op{doc: docIdx, path: path, base: base, kind: opSet, value: new})
}

// listOps edits list old into new around their longest common subsequence.
// Indices are those of the list as it is when each op runs (ops run in
// order). A removed element next to an added one of the same kind of
// container is edited in place instead, so that its comments stay.
func listOps(docIdx, base int, path []elem, old, new []any, out []op) []op {
	n, m := len(old), len(new)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if equal(old[i], new[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	pos := 0
	i, j := 0, 0
	var dels []any
	var ins []any
	flush := func() {
		k := 0
		for ; k < len(dels) && k < len(ins) && sameKind(dels[k], ins[k]); k++ {
			out = diffOps(docIdx, base, pathOf(path, indexElem(pos)), dels[k], ins[k], out)
			pos++
		}
		for range dels[k:] {
			out = append(out, op{doc: docIdx, path: pathOf(path, indexElem(pos)), base: base, kind: opDelete})
		}
		if k < len(ins) {
			for _, v := range ins[k:] {
				out = append(out, op{doc: docIdx, path: pathOf(path, indexElem(pos)), base: base, kind: opInsert, value: v})
				pos++
			}
		}
		dels, ins = nil, nil
	}
	for i < n || j < m {
		switch {
		case i < n && j < m && equal(old[i], new[j]):
			flush()
			pos++
			i++
			j++
		case j >= m || i < n && lcs[i+1][j] >= lcs[i][j+1]:
			dels = append(dels, old[i])
			i++
		default:
			ins = append(ins, new[j])
			j++
		}
	}
	flush()
	return out
}

func sameKind(a, b any) bool {
	switch a.(type) {
	case map[string]any:
		_, ok := b.(map[string]any)
		return ok
	case []any:
		_, ok := b.([]any)
		return ok
	}
	return false
}

// applyOp is op on the JSON value root (a document): the expectation the
// edited text is checked against.
func applyOp(root any, o op) (any, error) {
	return applyAt(root, o, 0)
}

func applyAt(cur any, o op, depth int) (any, error) {
	if depth == len(o.path) {
		return nest(nil, o.value), nil
	}
	e := o.path[depth]
	last := depth == len(o.path)-1
	switch {
	case e.index >= 0:
		l, ok := cur.([]any)
		if !ok {
			return nil, fmt.Errorf("not a list at %s", pathText(o.path[:depth+1]))
		}
		out := append([]any(nil), l...)
		if last {
			switch o.kind {
			case opInsert:
				if e.index > len(out) {
					return nil, fmt.Errorf("position %d is past the end of the list", e.index)
				}
				out = append(out[:e.index], append([]any{o.value}, out[e.index:]...)...)
				return out, nil
			case opDelete:
				if e.index >= len(out) {
					return cur, nil
				}
				return append(out[:e.index], out[e.index+1:]...), nil
			}
		}
		if e.index >= len(out) {
			return nil, fmt.Errorf("position %d is past the end of the list", e.index)
		}
		c, err := applyAt(out[e.index], o, depth+1)
		if err != nil {
			return nil, err
		}
		out[e.index] = c
		return out, nil
	case e.keyField != "":
		l, ok := cur.([]any)
		if !ok && cur != nil {
			return nil, fmt.Errorf("not a list at %s", pathText(o.path[:depth+1]))
		}
		i := lookupKeyed(l, e.keyField, e.keyValue)
		out := append([]any(nil), l...)
		if i < 0 {
			if o.kind == opDelete {
				return cur, nil
			}
			return append(out, nest(o.path[depth:], o.value).([]any)...), nil
		}
		if last && o.kind == opDelete {
			return append(out[:i], out[i+1:]...), nil
		}
		c, err := applyAt(out[i], o, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = c
		return out, nil
	default:
		m, ok := cur.(map[string]any)
		if !ok && cur != nil {
			return nil, fmt.Errorf("not a mapping at %s", pathText(o.path[:depth+1]))
		}
		out := make(map[string]any, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		v, exists := out[e.field]
		if o.kind == opDelete && (last || !exists) {
			delete(out, e.field)
			return out, nil
		}
		if !exists {
			out[e.field] = nest(o.path[depth+1:], o.value)
			return out, nil
		}
		c, err := applyAt(v, o, depth+1)
		if err != nil {
			return nil, err
		}
		if cm, ok := c.(map[string]any); ok && len(cm) == 0 && o.kind == opDelete && depth+1 > o.base {
			// An edit that empties a mapping removes it (see Apply).
			if vm, ok := v.(map[string]any); ok && len(vm) > 0 {
				delete(out, e.field)
				return out, nil
			}
		}
		out[e.field] = c
		return out, nil
	}
}

// nest builds the value that a missing path holds: v wrapped in the
// mappings and keyed elements the path names.
func nest(path []elem, v any) any {
	if len(path) == 0 {
		return v
	}
	e := path[0]
	inner := nest(path[1:], v)
	switch {
	case e.keyField != "":
		el := map[string]any{}
		if m, ok := inner.(map[string]any); ok {
			for k, x := range m {
				el[k] = x
			}
		}
		el[e.keyField] = e.keyValue
		return []any{el}
	case e.index >= 0:
		return []any{inner}
	}
	return map[string]any{e.field: inner}
}

func pathText(p []elem) string {
	var b strings.Builder
	for _, e := range p {
		switch {
		case e.index >= 0:
			fmt.Fprintf(&b, "[%d]", e.index)
		case e.keyField != "":
			fmt.Fprintf(&b, "[%s=%q]", e.keyField, e.keyValue)
		default:
			b.WriteString("." + e.field)
		}
	}
	return b.String()
}

// escapeVars writes the text ${var. of a value as $${var., so that jobsync
// reads it back as itself and not as a variable.
func escapeVars(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "${var.", "$${var.")
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = escapeVars(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = escapeVars(e)
		}
		return out
	}
	return v
}
