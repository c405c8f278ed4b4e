package yamledit

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// splice replaces src[start:end] with text.
type splice struct {
	start, end int
	text       string
	// also is set when the change is made inside an anchor that the path
	// reached through its only alias: the anchor's own path, plus the rest
	// of the op's path. The anchor's value changes with the job's.
	also []elem
	// zeroed says a removal was written as the field's Zero value.
	zeroed bool
}

// frame is where a node is held: the value of the key at idx of a mapping
// (idx indexes Content, the key), or item idx of a sequence.
type frame struct {
	node *yaml.Node
	idx  int
}

func (d *doc) parents() map[*yaml.Node]frame {
	out := map[*yaml.Node]frame{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				out[n.Content[i+1]] = frame{n, i}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				out[c] = frame{n, i}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, n := range d.docs {
		walk(n)
	}
	return out
}

func (d *doc) decision(n *yaml.Node, format string, args ...any) *Decision {
	return &Decision{Line: n.Line, Col: n.Column, Reason: fmt.Sprintf(format, args...)}
}

func hasVar(s string) bool {
	return strings.Contains(strings.ReplaceAll(s, "$${var.", ""), "${var.")
}

// varIn is the first string scalar of n's subtree (aliases not followed)
// that uses a variable.
func varIn(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && hasVar(n.Value) {
		return n
	}
	for _, c := range n.Content {
		if v := varIn(c); v != nil {
			return v
		}
	}
	return nil
}

func (d *doc) varDecision(n *yaml.Node) *Decision {
	return d.decision(n, "the YAML writes %s here, and jobsync does not overwrite a variable: change the variable's value for this target (jobsync.yaml, --var), or write the new value here in its place", strings.TrimSpace(n.Value))
}

// others lists where else an anchor is used, for messages.
func (d *doc) others(anchor *yaml.Node, except *yaml.Node) string {
	var lines []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode && n.Alias == anchor && n != except {
			lines = append(lines, fmt.Sprint(n.Line))
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, n := range d.docs {
		walk(n)
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) == 1 {
		return " (also used at line " + lines[0] + ")"
	}
	return " (also used at lines " + strings.Join(lines, ", ") + ")"
}

// splice works out the one text change that op needs. again says the
// change only prepares the op (an alias rewritten as a merge), which must be
// worked out again on the new text. A nil splice with no decision means
// there is nothing to change.
func (d *doc) splice(o op) (*splice, bool, *Decision, error) {
	r := renderer{d.lay}
	parent := d.parents()
	if len(d.docs[o.doc].Content) == 0 {
		return nil, false, nil, fmt.Errorf("empty document")
	}
	n := d.docs[o.doc].Content[0]
	var own *yaml.Node // an anchor entered through its only alias
	anchorAt := -1     // the index in o.path where own stands for the alias
	sp, again, dec, err := d.walk(r, parent, o, n, &own, &anchorAt)
	if sp != nil && own != nil {
		sp.also = append(d.pathTo(parent, own), o.path[anchorAt:]...)
	}
	return sp, again, dec, err
}

func (d *doc) walk(r renderer, parent map[*yaml.Node]frame, o op, n *yaml.Node, ownp **yaml.Node, anchorAtp *int) (*splice, bool, *Decision, error) {
	own, anchorAt := *ownp, *anchorAtp
	defer func() { *ownp, *anchorAtp = own, anchorAt }()
	for i, e := range o.path {
		last := i == len(o.path)-1
		if n.Kind == yaml.AliasNode {
			a := n.Alias
			switch {
			case d.uses[a] == 1 && !d.inJob[a]:
				n, own = a, a // the anchor is this value's alone: edit it
				anchorAt = i
			case resolve(a).Kind == yaml.MappingNode && e.isField():
				// A local override: the alias becomes a merge of it.
				sp, err := d.aliasToMerge(parent, n)
				return sp, true, nil, err
			default:
				// A list or scalar has no merge: this job gets a copy.
				sp, err := d.materialize(r, parent, n)
				return sp, true, nil, err
			}
		}
		if n.Anchor != "" && d.uses[n] > 0 && n != own {
			return nil, false, d.decision(n, "the value is the anchor &%s, which other places use too%s: editing it here would change them as well; change it by hand, or give this job a value of its own", n.Anchor, d.others(n, nil)), nil
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && hasVar(n.Value) {
			return nil, false, d.varDecision(n), nil
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			if o.kind == opDelete {
				return nil, false, nil, nil
			}
			sp, dec, err := d.replace(r, parent, n, nest(o.path[i:], o.value))
			return sp, false, dec, err
		}
		switch {
		case e.isField():
			if n.Kind != yaml.MappingNode {
				return nil, false, nil, fmt.Errorf("%s is not a mapping", pathText(o.path[:i]))
			}
			ki := ownKey(n, e.field)
			if ki < 0 {
				if src := mergeSource(n, e.field); src != nil {
					if last && o.kind == opDelete && o.zero != nil {
						// The removal, said as the value that means none.
						sp, err := d.addEntry(r, n, e.field, o.zero)
						if sp != nil {
							sp.zeroed = true
						}
						return sp, false, nil, err
					}
					if last && o.kind == opDelete {
						return nil, false, d.decision(src, "%s comes from the merge key <<: %s and cannot be removed here: remove it where the anchor is written, or stop merging it", e.field, mergeName(src)), nil
					}
					cv, err := jsonValue(child(src, e.field))
					if err != nil {
						return nil, false, nil, err
					}
					// A local entry overrides the merged one.
					nv, err := applyAt(cv, op{path: o.path[i+1:], kind: o.kind, value: o.value}, 0)
					if err != nil {
						return nil, false, nil, err
					}
					sp, err := d.addEntry(r, n, e.field, nv)
					return sp, false, nil, err
				}
				if o.kind == opDelete {
					return nil, false, nil, nil
				}
				sp, err := d.addEntry(r, n, e.field, nest(o.path[i+1:], o.value))
				return sp, false, nil, err
			}
			v := n.Content[ki+1]
			if last {
				switch o.kind {
				case opDelete:
					sp, dec, err := d.deleteEntry(parent, n, ki, i, o.base)
					return sp, false, dec, err
				case opSet:
					sp, dec, err := d.replace(r, parent, v, o.value)
					return sp, false, dec, err
				}
				return nil, false, nil, fmt.Errorf("cannot insert into a mapping")
			}
			n = v
		case e.keyField != "":
			if n.Kind != yaml.SequenceNode {
				return nil, false, nil, fmt.Errorf("%s is not a list", pathText(o.path[:i]))
			}
			ii := findItem(n, e)
			if ii < 0 {
				if o.kind == opDelete {
					return nil, false, nil, nil
				}
				el := nest(o.path[i:], o.value).([]any)[0]
				sp, err := d.insertItem(r, n, len(n.Content), el)
				return sp, false, nil, err
			}
			if last {
				switch o.kind {
				case opDelete:
					sp, dec, err := d.deleteItem(parent, n, ii)
					return sp, false, dec, err
				case opSet:
					sp, dec, err := d.replace(r, parent, n.Content[ii], o.value)
					return sp, false, dec, err
				}
				return nil, false, nil, fmt.Errorf("cannot insert at a keyed element")
			}
			n = n.Content[ii]
		default:
			if n.Kind != yaml.SequenceNode {
				return nil, false, nil, fmt.Errorf("%s is not a list", pathText(o.path[:i]))
			}
			if last && o.kind == opInsert {
				sp, err := d.insertItem(r, n, e.index, o.value)
				return sp, false, nil, err
			}
			if e.index >= len(n.Content) {
				return nil, false, nil, fmt.Errorf("%s: no element %d", pathText(o.path[:i]), e.index)
			}
			if last {
				if o.kind == opDelete {
					sp, dec, err := d.deleteItem(parent, n, e.index)
					return sp, false, dec, err
				}
				sp, dec, err := d.replace(r, parent, n.Content[e.index], o.value)
				return sp, false, dec, err
			}
			n = n.Content[e.index]
		}
	}
	return nil, false, nil, fmt.Errorf("empty path")
}

func mergeName(src *yaml.Node) string {
	if src.Kind == yaml.AliasNode {
		return "*" + src.Value
	}
	return fmt.Sprintf("(the mapping at line %d)", src.Line)
}

// findItem is the index of the element of seq whose e.keyField is
// e.keyValue, or -1.
func findItem(seq *yaml.Node, e elem) int {
	for i, c := range seq.Content {
		c = resolve(c)
		if c.Kind != yaml.MappingNode {
			continue
		}
		k := child(c, e.keyField)
		if k = resolve(k); k != nil && k.Kind == yaml.ScalarNode && k.Value == e.keyValue {
			return i
		}
	}
	return -1
}

// keyColon is the offset of the ':' after the key of a mapping entry.
func (d *doc) keyColon(m *yaml.Node, ki int) (int, error) {
	k := m.Content[ki]
	ks, err := d.t.extent(k, d.inFlow[k])
	if err != nil {
		return 0, err
	}
	return d.t.colonAfter(ks.end)
}

// hasProps says whether a node starts with an anchor or a tag.
func (d *doc) hasProps(n *yaml.Node, start int) bool { return d.t.skipProps(start) != start }

func isContainer(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return false
}

// replace writes value in place of node v.
func (d *doc) replace(r renderer, parent map[*yaml.Node]frame, v *yaml.Node, value any) (*splice, *Decision, error) {
	if x := varIn(v); x != nil {
		return nil, d.varDecision(x), nil
	}
	if dec := d.sharedAnchorIn(v); dec != nil {
		return nil, dec, nil
	}
	f, ok := parent[v]
	if !ok {
		return nil, nil, fmt.Errorf("the document itself cannot be replaced")
	}
	flow := d.inFlow[v]
	vs, err := d.t.extent(v, flow)
	if err != nil {
		return nil, nil, err
	}
	emptyNull := v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" && v.Value == ""
	if flow && !emptyNull {
		return &splice{start: vs.start, end: vs.end, text: r.flow(value, nil, true, scalarLike(v))}, nil, nil
	}
	scalarValue := !isContainer(value)
	switch f.node.Kind {
	case yaml.MappingNode:
		key := f.node.Content[f.idx]
		ind := key.Column - 1
		if emptyNull {
			colon, err := d.keyColon(f.node, f.idx)
			if err != nil {
				return nil, nil, err
			}
			text := r.afterKey(value, ind, nil)
			if flow {
				text = " " + r.flow(value, nil, true, nil)
			}
			return &splice{start: colon + 1, end: colon + 1, text: text}, nil, nil
		}
		if v.Kind == yaml.ScalarNode && scalarValue {
			cs := d.t.skipProps(vs.start)
			return &splice{start: cs, end: vs.end, text: d.scalarText(r, value, ind+r.l.step, v)}, nil, nil
		}
		if v.Kind != yaml.ScalarNode && v.Kind != yaml.AliasNode && v.Line > key.Line && !d.hasProps(v, vs.start) && !scalarValue {
			// A block collection under its key: the new one takes its place
			// and its indentation.
			switch x := value.(type) {
			case map[string]any:
				return &splice{start: vs.start, end: vs.end, text: r.mapping(x, v.Column-1, v, true)}, nil, nil
			case []any:
				return &splice{start: vs.start, end: vs.end, text: r.sequence(x, v.Column-1, v, true)}, nil, nil
			}
		}
		colon, err := d.keyColon(f.node, f.idx)
		if err != nil {
			return nil, nil, err
		}
		return &splice{start: colon + 1, end: vs.end, text: r.afterKey(value, ind, v)}, nil, nil
	case yaml.SequenceNode:
		ind := v.Column - 1
		if v.Kind == yaml.ScalarNode && scalarValue && !emptyNull {
			cs := d.t.skipProps(vs.start)
			return &splice{start: cs, end: vs.end, text: d.scalarText(r, value, ind, v)}, nil, nil
		}
		if emptyNull {
			return nil, nil, fmt.Errorf("an empty list element")
		}
		return &splice{start: vs.start, end: vs.end, text: r.item(value, ind, v)}, nil, nil
	}
	return nil, nil, fmt.Errorf("unsupported place")
}

// scalarText writes a scalar that replaces like: a multi-line string as a
// literal block with its content indented by ind, anything else on one
// line in like's quoting.
func (d *doc) scalarText(r renderer, value any, ind int, like *yaml.Node) string {
	if s, ok := value.(string); ok {
		if lit, ok := literal(s, ind, r.l.eol); ok {
			return lit
		}
	}
	return scalar(value, false, like)
}

// addEntry appends key: value to mapping m.
func (d *doc) addEntry(r renderer, m *yaml.Node, key string, value any) (*splice, error) {
	if m.Style&yaml.FlowStyle != 0 {
		text := renderKey(key, true) + ": " + r.flow(value, nil, true, nil)
		if len(m.Content) == 0 {
			ms, err := d.t.nodeOff(m)
			if err != nil {
				return nil, err
			}
			p := d.t.skipProps(ms) + 1
			return &splice{start: p, end: p, text: text}, nil
		}
		ls, err := d.t.extent(m.Content[len(m.Content)-1], true)
		if err != nil {
			return nil, err
		}
		return &splice{start: ls.end, end: ls.end, text: ", " + text}, nil
	}
	if len(m.Content) == 0 {
		return nil, fmt.Errorf("an empty block mapping")
	}
	ls, err := d.t.extent(m.Content[len(m.Content)-1], false)
	if err != nil {
		return nil, err
	}
	p := d.t.lineEnd(ls.end)
	ind := m.Content[0].Column - 1
	text := r.l.eol + spaces(ind) + renderKey(key, false) + ":" + r.afterKey(value, ind, nil)
	return &splice{start: p, end: p, text: text}, nil
}

// deleteEntry removes the entry at ki of mapping m, which is at depth (the
// length of its path). A mapping left empty is removed from its own
// mapping in turn, below the job (base) and where it is not an anchor.
func (d *doc) deleteEntry(parent map[*yaml.Node]frame, m *yaml.Node, ki, depth, base int) (*splice, *Decision, error) {
	if v := m.Content[ki+1]; v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && hasVar(v.Value) {
		return nil, d.varDecision(v), nil
	}
	for len(m.Content) == 2 && depth > base && m.Anchor == "" {
		f, ok := parent[m]
		if !ok || f.node.Kind != yaml.MappingNode {
			break
		}
		m, ki, depth = f.node, f.idx, depth-1
	}
	key, val := m.Content[ki], m.Content[ki+1]
	if dec := d.sharedAnchorIn(val); dec != nil {
		return nil, dec, nil
	}
	flow := m.Style&yaml.FlowStyle != 0
	ks, err := d.t.nodeOff(key)
	if err != nil {
		return nil, nil, err
	}
	vs, err := d.t.extent(val, d.inFlow[val])
	if err != nil {
		return nil, nil, err
	}
	if len(m.Content) == 2 {
		ms, err := d.t.extent(m, d.inFlow[m])
		if err != nil {
			return nil, nil, err
		}
		if flow {
			return &splice{start: d.t.skipProps(ms.start), end: ms.end, text: "{}"}, nil, nil
		}
		return &splice{start: ms.start, end: ms.end, text: "{}"}, nil, nil
	}
	if flow {
		if ki+2 < len(m.Content) {
			next, err := d.t.nodeOff(m.Content[ki+2])
			if err != nil {
				return nil, nil, err
			}
			return &splice{start: ks, end: next, text: ""}, nil, nil
		}
		prev, err := d.t.extent(m.Content[ki-1], true)
		if err != nil {
			return nil, nil, err
		}
		return &splice{start: prev.end, end: vs.end, text: ""}, nil, nil
	}
	if d.t.onlySpaceBefore(ks) {
		s := d.t.commentsAbove(d.t.lineStart(ks))
		return &splice{start: s, end: d.t.blankAfter(s, d.t.nextLine(vs.end)), text: ""}, nil, nil
	}
	// The first entry of a list element ("- key: value"): the next entry
	// moves up after the dash.
	if ki+2 < len(m.Content) {
		next, err := d.t.nodeOff(m.Content[ki+2])
		if err != nil {
			return nil, nil, err
		}
		return &splice{start: ks, end: next, text: ""}, nil, nil
	}
	return nil, nil, fmt.Errorf("cannot remove the last entry written after a dash")
}

// insertItem inserts value into seq before element idx (at the end when
// idx is its length), in the style of its neighbour.
func (d *doc) insertItem(r renderer, seq *yaml.Node, idx int, value any) (*splice, error) {
	if idx > len(seq.Content) {
		return nil, fmt.Errorf("position %d is past the end of the list", idx)
	}
	var tmpl *yaml.Node
	switch {
	case idx < len(seq.Content):
		tmpl = seq.Content[idx]
	case len(seq.Content) > 0:
		tmpl = seq.Content[len(seq.Content)-1]
	}
	if seq.Style&yaml.FlowStyle != 0 {
		text := r.flow(value, tmpl, true, scalarLike(resolve(tmpl)))
		switch {
		case len(seq.Content) == 0:
			s, err := d.t.nodeOff(seq)
			if err != nil {
				return nil, err
			}
			p := d.t.skipProps(s) + 1
			return &splice{start: p, end: p, text: text}, nil
		case idx == len(seq.Content):
			ls, err := d.t.extent(seq.Content[idx-1], true)
			if err != nil {
				return nil, err
			}
			return &splice{start: ls.end, end: ls.end, text: ", " + text}, nil
		}
		p, err := d.t.nodeOff(seq.Content[idx])
		if err != nil {
			return nil, err
		}
		return &splice{start: p, end: p, text: text + ", "}, nil
	}
	if len(seq.Content) == 0 {
		return nil, fmt.Errorf("an empty block list")
	}
	first, err := d.t.nodeOff(seq.Content[0])
	if err != nil {
		return nil, err
	}
	d0, err := d.t.dashBefore(first)
	if err != nil {
		return nil, err
	}
	if !d.t.onlySpaceBefore(d0) {
		return nil, fmt.Errorf("a list that starts after other text on its line")
	}
	ind := d0 - d.t.lineStart(d0)
	// Elements set apart by blank lines get one before the new one too.
	sep := ""
	if len(seq.Content) >= 2 {
		if lp, err := d.t.nodeOff(seq.Content[len(seq.Content)-1]); err == nil {
			if ld, err := d.t.dashBefore(lp); err == nil {
				if s := d.t.commentsAbove(d.t.lineStart(ld)); s > 0 && d.t.isBlank(d.t.lineStart(s-1)) {
					sep = r.l.eol
				}
			}
		}
	}
	gap := first - d0 // the dash and the spaces after it, as the first element has them
	if gap < 2 || d.t.lineOf(first) != d.t.lineOf(d0) {
		gap = 2
	}
	item := spaces(ind) + "-" + spaces(gap-1) + r.item(value, ind+gap, tmpl)
	if idx == len(seq.Content) {
		ls, err := d.t.extent(seq.Content[idx-1], false)
		if err != nil {
			return nil, err
		}
		p := d.t.lineEnd(ls.end)
		return &splice{start: p, end: p, text: r.l.eol + sep + item}, nil
	}
	at, err := d.t.nodeOff(seq.Content[idx])
	if err != nil {
		return nil, err
	}
	dk, err := d.t.dashBefore(at)
	if err != nil {
		return nil, err
	}
	p := d.t.commentsAbove(d.t.lineStart(dk))
	return &splice{start: p, end: p, text: item + r.l.eol + sep}, nil
}

// deleteItem removes element ii of seq, with the comment lines above it.
func (d *doc) deleteItem(parent map[*yaml.Node]frame, seq *yaml.Node, ii int) (*splice, *Decision, error) {
	it := seq.Content[ii]
	if it.Kind == yaml.ScalarNode && it.ShortTag() == "!!str" && hasVar(it.Value) {
		return nil, d.varDecision(it), nil
	}
	if dec := d.sharedAnchorIn(it); dec != nil {
		return nil, dec, nil
	}
	flow := seq.Style&yaml.FlowStyle != 0
	is, err := d.t.extent(it, d.inFlow[it])
	if err != nil {
		return nil, nil, err
	}
	if len(seq.Content) == 1 {
		ss, err := d.t.extent(seq, d.inFlow[seq])
		if err != nil {
			return nil, nil, err
		}
		if flow {
			return &splice{start: d.t.skipProps(ss.start), end: ss.end, text: "[]"}, nil, nil
		}
		if f, ok := parent[seq]; ok && f.node.Kind == yaml.MappingNode {
			colon, err := d.keyColon(f.node, f.idx)
			if err != nil {
				return nil, nil, err
			}
			return &splice{start: colon + 1, end: ss.end, text: " []"}, nil, nil
		}
		return &splice{start: ss.start, end: ss.end, text: "[]"}, nil, nil
	}
	if flow {
		if ii+1 < len(seq.Content) {
			next, err := d.t.nodeOff(seq.Content[ii+1])
			if err != nil {
				return nil, nil, err
			}
			return &splice{start: is.start, end: next, text: ""}, nil, nil
		}
		prev, err := d.t.extent(seq.Content[ii-1], true)
		if err != nil {
			return nil, nil, err
		}
		return &splice{start: prev.end, end: is.end, text: ""}, nil, nil
	}
	dk, err := d.t.dashBefore(is.start)
	if err != nil {
		return nil, nil, err
	}
	if !d.t.onlySpaceBefore(dk) {
		return nil, nil, fmt.Errorf("a list element that starts after other text on its line")
	}
	s := d.t.commentsAbove(d.t.lineStart(dk))
	return &splice{start: s, end: d.t.blankAfter(s, d.t.nextLine(is.end)), text: ""}, nil, nil
}

// aliasToMerge rewrites the alias *a of a mapping as a mapping that merges
// it (<<: *a), which then takes local entries. The value does not change.
func (d *doc) aliasToMerge(parent map[*yaml.Node]frame, alias *yaml.Node) (*splice, error) {
	as, err := d.t.extent(alias, d.inFlow[alias])
	if err != nil {
		return nil, err
	}
	merge := "<<: *" + alias.Value
	if d.inFlow[alias] {
		return &splice{start: as.start, end: as.end, text: "{" + merge + "}"}, nil
	}
	f, ok := parent[alias]
	if !ok {
		return nil, fmt.Errorf("an alias at the top of a document")
	}
	if f.node.Kind == yaml.SequenceNode {
		return &splice{start: as.start, end: as.end, text: merge}, nil
	}
	key := f.node.Content[f.idx]
	colon, err := d.keyColon(f.node, f.idx)
	if err != nil {
		return nil, err
	}
	ind := key.Column - 1 + d.lay.step
	return &splice{start: colon + 1, end: as.end, text: d.lay.eol + spaces(ind) + merge}, nil
}

// sharedAnchorIn is a decision when n's subtree defines an anchor that is
// used outside it: replacing or removing n would leave those aliases
// without their anchor.
func (d *doc) sharedAnchorIn(n *yaml.Node) *Decision {
	inside := map[*yaml.Node]bool{}
	markAll(n, inside)
	for a := range inside {
		if a.Anchor == "" || d.uses[a] == 0 {
			continue
		}
		var outside []string
		var walk func(x *yaml.Node)
		walk = func(x *yaml.Node) {
			if x.Kind == yaml.AliasNode && x.Alias == a && !inside[x] {
				outside = append(outside, fmt.Sprint(x.Line))
			}
			for _, c := range x.Content {
				walk(c)
			}
		}
		for _, doc := range d.docs {
			walk(doc)
		}
		if len(outside) > 0 {
			return d.decision(a, "this value defines the anchor &%s, which is also used at line %s: changing it here would change those too (or leave them without it); change it by hand", a.Anchor, strings.Join(outside, ", "))
		}
	}
	return nil
}

// materialize writes the value of alias in its place, so that this one
// use can change on its own. The value does not change.
func (d *doc) materialize(r renderer, parent map[*yaml.Node]frame, alias *yaml.Node) (*splice, error) {
	v, err := jsonValue(alias)
	if err != nil {
		return nil, err
	}
	as, err := d.t.extent(alias, d.inFlow[alias])
	if err != nil {
		return nil, err
	}
	if d.inFlow[alias] {
		return &splice{start: as.start, end: as.end, text: r.flow(v, alias.Alias, true, nil)}, nil
	}
	f, ok := parent[alias]
	if !ok {
		return nil, fmt.Errorf("an alias at the top of a document")
	}
	if f.node.Kind == yaml.SequenceNode {
		return &splice{start: as.start, end: as.end, text: r.item(v, alias.Column-1, alias.Alias)}, nil
	}
	colon, err := d.keyColon(f.node, f.idx)
	if err != nil {
		return nil, err
	}
	return &splice{start: colon + 1, end: as.end, text: r.afterKey(v, f.node.Content[f.idx].Column-1, alias.Alias)}, nil
}

// pathTo is the path of node n from its document's root.
func (d *doc) pathTo(parent map[*yaml.Node]frame, n *yaml.Node) []elem {
	var rev []elem
	for {
		f, ok := parent[n]
		if !ok {
			break
		}
		switch f.node.Kind {
		case yaml.MappingNode:
			rev = append(rev, fieldElem(resolve(f.node.Content[f.idx]).Value))
		case yaml.SequenceNode:
			rev = append(rev, indexElem(f.idx))
		}
		n = f.node
	}
	out := make([]elem, 0, len(rev))
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
	}
	return out
}
