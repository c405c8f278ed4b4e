package yamledit

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// layout is how a file indents, learnt from the file itself, so that new
// lines look like their neighbours.
type layout struct {
	// step is how much deeper a nested block mapping is than its key.
	step int
	// seq is how much deeper a block sequence is than its key: 0 for the
	// "indentless" style (tasks:\n- task_key: a), usually step otherwise.
	seq int
	eol string
}

// learnLayout takes the most common indentation of each kind in the file
// (ties to the smaller), 2 and 2 when it has none.
func learnLayout(t *text, docs []*yaml.Node) layout {
	steps, seqs := map[int]int{}, map[int]int{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0 || v.Content[0].Line <= k.Line {
					continue
				}
				switch v.Kind {
				case yaml.MappingNode:
					steps[v.Content[0].Column-k.Column]++
				case yaml.SequenceNode:
					if p, err := t.nodeOff(v.Content[0]); err == nil {
						if d, err := t.dashBefore(p); err == nil {
							seqs[d-t.lineStart(d)+1-k.Column]++
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, d := range docs {
		walk(d)
	}
	l := layout{step: mostCommon(steps, 2), eol: t.eol}
	l.seq = mostCommon(seqs, l.step)
	if l.step <= 0 {
		l.step = 2
	}
	if l.seq < 0 {
		l.seq = l.step
	}
	return l
}

func mostCommon(m map[int]int, dflt int) int {
	best, n := dflt, 0
	for k, c := range m {
		if c > n || c == n && k < best {
			best, n = k, c
		}
	}
	return best
}

// renderer writes new values in the file's layout. A template is an
// existing node the new value should look like (the last sibling of a new
// list element): its field order and its flow or block style are copied.
type renderer struct{ l layout }

func spaces(n int) string { return strings.Repeat(" ", n) }

// afterKey renders v as the value of a mapping key indented by ind spaces:
// the text that follows "key:", either " value" or a line break and an
// indented block.
func (r renderer) afterKey(v any, ind int, tmpl *yaml.Node) string {
	tmpl = resolve(tmpl)
	switch x := v.(type) {
	case map[string]any:
		if len(x) > 0 && !isFlow(tmpl) {
			return r.l.eol + r.mapping(x, ind+r.l.step, tmpl, false)
		}
	case []any:
		if len(x) > 0 && !isFlow(tmpl) {
			return r.l.eol + r.sequence(x, ind+r.l.seq, tmpl, false)
		}
	case string:
		if lit, ok := literal(x, ind+r.l.step, r.l.eol); ok {
			return " " + lit
		}
	}
	return " " + r.flow(v, tmpl, false, scalarLike(tmpl))
}

// item renders v as the content of a block sequence item whose "- " ends
// at column ind (ind spaces precede the content).
func (r renderer) item(v any, ind int, tmpl *yaml.Node) string {
	tmpl = resolve(tmpl)
	switch x := v.(type) {
	case map[string]any:
		if len(x) > 0 && !isFlow(tmpl) {
			return r.mapping(x, ind, tmpl, true)
		}
	case []any:
		if len(x) > 0 && !isFlow(tmpl) {
			return r.sequence(x, ind, tmpl, true)
		}
	case string:
		if lit, ok := literal(x, ind, r.l.eol); ok {
			return lit
		}
	}
	return r.flow(v, tmpl, false, scalarLike(tmpl))
}

// mapping renders a block mapping whose keys are indented by ind; with
// inline, the first key is not indented (the cursor is already there).
func (r renderer) mapping(m map[string]any, ind int, tmpl *yaml.Node, inline bool) string {
	var b strings.Builder
	for i, k := range orderKeys(m, tmpl) {
		if i > 0 {
			b.WriteString(r.l.eol)
		}
		if i > 0 || !inline {
			b.WriteString(spaces(ind))
		}
		b.WriteString(renderKey(k, false))
		b.WriteString(":")
		b.WriteString(r.afterKey(m[k], ind, child(tmpl, k)))
	}
	return b.String()
}

func (r renderer) sequence(list []any, ind int, tmpl *yaml.Node, inline bool) string {
	var b strings.Builder
	for i, e := range list {
		if i > 0 {
			b.WriteString(r.l.eol)
		}
		if i > 0 || !inline {
			b.WriteString(spaces(ind))
		}
		b.WriteString("- ")
		b.WriteString(r.item(e, ind+2, itemTemplate(tmpl)))
	}
	return b.String()
}

// flow renders v on one line. inFlow says it is inside a flow collection,
// where plain scalars may not hold flow indicators.
func (r renderer) flow(v any, tmpl *yaml.Node, inFlow bool, like *yaml.Node) string {
	tmpl = resolve(tmpl)
	switch x := v.(type) {
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range orderKeys(x, tmpl) {
			c := child(tmpl, k)
			parts = append(parts, renderKey(k, true)+": "+r.flow(x[k], c, true, scalarLike(c)))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, 0, len(x))
		it := itemTemplate(tmpl)
		for _, e := range x {
			parts = append(parts, r.flow(e, it, true, scalarLike(it)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return scalar(v, inFlow, like)
}

func isFlow(n *yaml.Node) bool {
	return n != nil && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && n.Style&yaml.FlowStyle != 0
}

func scalarLike(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.ScalarNode {
		return n
	}
	return nil
}

// child is the value node of key k in the mapping tmpl (merged mappings
// included), nil when there is none.
func child(tmpl *yaml.Node, k string) *yaml.Node {
	tmpl = resolve(tmpl)
	if tmpl == nil || tmpl.Kind != yaml.MappingNode {
		return nil
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(tmpl.Content); i += 2 {
		key, v := tmpl.Content[i], tmpl.Content[i+1]
		if key.ShortTag() == "!!merge" {
			merged = append(merged, v)
			continue
		}
		if resolve(key).Value == k {
			return v
		}
	}
	for _, m := range merged {
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			if c := child(s, k); c != nil {
				return c
			}
		}
	}
	return nil
}

func itemTemplate(tmpl *yaml.Node) *yaml.Node {
	tmpl = resolve(tmpl)
	if tmpl == nil || tmpl.Kind != yaml.SequenceNode || len(tmpl.Content) == 0 {
		return nil
	}
	return tmpl.Content[len(tmpl.Content)-1]
}

// leadKeys come first in a new mapping that has them: the identity of a
// list element, then its name.
var leadKeys = []string{"task_key", "job_cluster_key", "environment_key", "name"}

// orderKeys orders a new mapping's keys like tmpl's (merged keys
// included), then the lead keys, then the rest alphabetically.
func orderKeys(m map[string]any, tmpl *yaml.Node) []string {
	rank := map[string]int{}
	var add func(n *yaml.Node)
	add = func(n *yaml.Node) {
		n = resolve(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.ShortTag() == "!!merge" {
				v := n.Content[i+1]
				if v.Kind == yaml.SequenceNode {
					for _, s := range v.Content {
						add(s)
					}
				} else {
					add(v)
				}
				continue
			}
			if _, ok := rank[resolve(k).Value]; !ok {
				rank[resolve(k).Value] = len(rank)
			}
		}
	}
	add(tmpl)
	for _, k := range leadKeys {
		if _, ok := rank[k]; !ok {
			rank[k] = len(rank)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, iok := rank[keys[i]]
		rj, jok := rank[keys[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return keys[i] < keys[j]
	})
	return keys
}

// renderKey writes a mapping key: plain when YAML reads it back as the
// same string, else double-quoted.
func renderKey(k string, inFlow bool) string {
	if plainOK(k, inFlow) {
		return k
	}
	return strconv.Quote(k)
}

// scalar writes a scalar value. A string keeps the quoting of like (the
// value it replaces, or the same field of a sibling) where that can hold
// it; otherwise it is plain when YAML reads it back as the same string, and
// double-quoted when not.
func scalar(v any, inFlow bool, like *yaml.Node) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return string(x)
	case string:
		if like != nil {
			switch {
			case like.Style&yaml.DoubleQuotedStyle != 0:
				return strconv.Quote(x)
			case like.Style&yaml.SingleQuotedStyle != 0 && singleOK(x):
				return "'" + strings.ReplaceAll(x, "'", "''") + "'"
			}
		}
		if plainOK(x, inFlow) {
			return x
		}
		return strconv.Quote(x)
	}
	return strconv.Quote(fmt.Sprint(v))
}

// plainOK says whether s can be written without quotes: yaml.v3 would write
// it so (it reads back as the same string, not a number, boolean, null or
// timestamp), and, inside a flow collection, it holds no flow indicator.
func plainOK(s string, inFlow bool) bool {
	if s == "" || strings.ContainsAny(s, "\n\r") {
		return false
	}
	if inFlow && strings.ContainsAny(s, ",[]{}") {
		return false
	}
	b, err := yaml.Marshal(s)
	return err == nil && string(b) == s+"\n"
}

func singleOK(s string) bool {
	for _, r := range s {
		if r == '\n' || r == '\r' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// literal writes a multi-line string as a literal block scalar (|) with
// its content indented by ind, when one can say it exactly.
func literal(s string, ind int, eol string) (string, bool) {
	if !strings.Contains(s, "\n") || strings.ContainsRune(s, '\r') {
		return "", false
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			return "", false
		}
	}
	body := strings.TrimRight(s, "\n")
	trailing := len(s) - len(body)
	header := "|"
	switch {
	case trailing == 0:
		header = "|-"
	case trailing > 1:
		header = "|+"
	}
	if body == "" || body[0] == ' ' || body[0] == '\t' {
		return "", false // needs an indentation indicator
	}
	var b strings.Builder
	b.WriteString(header)
	lines := strings.Split(body, "\n")
	for _, l := range lines {
		b.WriteString(eol)
		if l != "" {
			b.WriteString(spaces(ind))
			b.WriteString(l)
		}
	}
	for i := 1; i < trailing; i++ {
		b.WriteString(eol)
	}
	return b.String(), true
}
