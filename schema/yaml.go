package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// aliasAllowance bounds how many values alias expansion may produce in one
// document, so that a "billion laughs" document (aliases of lists of
// aliases) is refused instead of exhausting memory. Real job files use
// aliases for a shared cluster or a notification list, a few values per use,
// so the allowance grows with the size of the document as written.
func aliasAllowance(doc *yaml.Node) int {
	return 10_000 + 20*countNodes(doc)
}

func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// problem is a diagnostic found while building a value, before the keyed
// path (which needs the finished value) is known.
type problem struct {
	ptr string // JSON pointer relative to the value being built
	pos Pos
	msg string
}

// builder turns a yaml.Node tree into a JSON value (map[string]any, []any,
// string, bool, json.Number, nil), recording where every value is written.
// It is used once per job and once for each file's top level.
type builder struct {
	file      string
	positions map[string]lineCol
	// floats are pointers of numbers written as YAML floats (1.0, 1e3):
	// JSON Schema counts an integral float as an integer, the Jobs API does
	// not, so they are checked again against the schema.
	floats   []string
	problems []problem
	failed   []string
	// vars are the pointers of strings that use a variable (${var.x}),
	// parents before children, for substitution.
	vars []string
	// expanding holds anchors being expanded, to refuse an alias that
	// refers to a node containing itself.
	expanding map[*yaml.Node]bool
	// budget counts values produced through aliases in this document; it
	// is shared by every builder of one document.
	budget  *aliasBudget
	inAlias int
	// entries is a stack of the entries of the mappings being built.
	entries []entry
}

// expand marks n as being expanded. (The map is made for the first
// anchor: most jobs have none.)
func (b *builder) expand(n *yaml.Node) {
	if b.expanding == nil {
		b.expanding = map[*yaml.Node]bool{}
	}
	b.expanding[n] = true
}

// box returns s as an interface value, made once per document for the
// short strings its jobs repeat (a cluster key, a node type, a time
// zone): a string put in an any is copied to the heap each time.
func (a *aliasBudget) box(s string) any {
	if len(s) > 32 {
		return s
	}
	if v, ok := a.boxed[s]; ok {
		return v
	}
	var v any = s
	if a.boxed == nil {
		a.boxed = make(map[string]any, 64)
	}
	if len(a.boxed) < 4096 {
		a.boxed[s] = v
	}
	return v
}

func (b *builder) pos(n *yaml.Node) Pos {
	return Pos{File: b.file, Line: n.Line, Col: n.Column}
}

// problem records a problem at ptr. The value at ptr is then unusable, and
// schema or semantic complaints about it would only repeat the problem, so
// ptr is also marked failed.
func (b *builder) problem(ptr string, n *yaml.Node, format string, args ...any) {
	b.problems = append(b.problems, problem{ptr: ptr, pos: b.pos(n), msg: fmt.Sprintf(format, args...)})
	b.failed = append(b.failed, ptr)
}

// value converts n, recording at ptr the position at (the key's position for
// a mapping entry, the node's own otherwise). It returns ok=false when the
// value could not be built at all; a problem has then been recorded.
func (b *builder) value(n *yaml.Node, ptr string, at Pos) (any, bool) {
	b.positions[ptr] = toLineCol(at)
	if b.inAlias > 0 {
		// Past the allowance nothing more is built; the outermost alias
		// (or merge) reports it, once, where it is used.
		if b.budget.used++; b.budget.used > b.budget.limit {
			return nil, false
		}
	}
	if n.Anchor != "" && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
		// An anchored container may be the target of an alias inside
		// itself; mark it while it is being built.
		if b.expanding[n] {
			b.problem(ptr, n, "alias *%s refers to a value that contains it", n.Anchor)
			return nil, false
		}
		b.expand(n)
		defer delete(b.expanding, n)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, true
		}
		return b.value(n.Content[0], ptr, at)
	case yaml.AliasNode:
		return b.alias(n, ptr, at)
	case yaml.ScalarNode:
		return b.scalar(n, ptr)
	case yaml.SequenceNode:
		if err := b.checkTag(n, "!!seq"); err != "" {
			b.problem(ptr, n, "%s", err)
			return nil, false
		}
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, _ := b.value(c, ptr+"/"+strconv.Itoa(i), b.pos(c))
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		if err := b.checkTag(n, "!!map"); err != "" {
			b.problem(ptr, n, "%s", err)
			return nil, false
		}
		return b.mapping(n, ptr)
	}
	b.problem(ptr, n, "unsupported YAML node")
	return nil, false
}

func (b *builder) checkTag(n *yaml.Node, want string) string {
	if t := n.ShortTag(); t != want {
		return fmt.Sprintf("unsupported YAML tag %s", n.Tag)
	}
	return ""
}

func (b *builder) alias(n *yaml.Node, ptr string, at Pos) (any, bool) {
	target := n.Alias
	if target == nil {
		b.problem(ptr, n, "unknown alias *%s", n.Value)
		return nil, false
	}
	if b.expanding[target] {
		b.problem(ptr, n, "alias *%s refers to a value that contains it", n.Value)
		return nil, false
	}
	b.inAlias++
	v, ok := b.value(target, ptr, at)
	b.inAlias--
	// The alias's own use site is the better place to point at for the
	// value as a whole; its children keep the anchor's positions.
	b.positions[ptr] = toLineCol(at)
	if b.inAlias == 0 && b.overBudget(ptr, n, "alias *"+n.Value) {
		return nil, false
	}
	return v, ok
}

// overBudget reports, after an outermost alias or merge written at n
// (ptr) was expanded, whether the document's alias allowance ran out
// during it. The first time it says so at n, as the one problem of an
// alias bomb; after that the value is only marked unusable, so that
// nothing under it is reported again.
func (b *builder) overBudget(ptr string, n *yaml.Node, what string) bool {
	if b.budget.used <= b.budget.limit {
		return false
	}
	if b.budget.reported {
		b.failed = append(b.failed, ptr)
		return true
	}
	b.budget.reported = true
	b.problem(ptr, n, "%s expands to more than %d values (aliases nested in aliases?); refusing to expand it: write the values out, or use fewer levels of aliases", what, b.budget.limit)
	return true
}

// keyName returns the JSON object key for a mapping key node.
func (b *builder) keyName(k *yaml.Node, ptr string) (string, bool) {
	for k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		b.problem(ptr, k, "mapping keys must be plain strings, not a %s", kindName(k))
		return "", false
	}
	switch k.ShortTag() {
	case "!!null":
		b.problem(ptr, k, "mapping key is null")
		return "", false
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		// JSON keys are strings; a key written 2024 or true is its text.
		if strings.Contains(k.Value, varOpen) && !strings.Contains(k.Value, varEscaped) {
			b.problem(ptr, k, "variables are substituted in values only, not in mapping keys (%s)", k.Value)
			return "", false
		}
		return k.Value, true
	}
	b.problem(ptr, k, "unsupported YAML tag %s on a mapping key", k.Tag)
	return "", false
}

type entry struct {
	name string
	key  *yaml.Node
	val  *yaml.Node
}

func (b *builder) mapping(n *yaml.Node, ptr string) (any, bool) {
	out := make(map[string]any, len(n.Content)/2)
	base := len(b.entries)
	defer func() {
		clear(b.entries[base:])
		b.entries = b.entries[:base]
	}()
	var merges []*yaml.Node
	var lineOf map[string]int // of the keys so far, in a long mapping
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		name, ok := b.keyName(k, ptr)
		if !ok {
			continue
		}
		first, dup := 0, false
		if es := b.entries[base:]; lineOf == nil && len(es) < 32 {
			for _, e := range es {
				if e.name == name {
					first, dup = e.key.Line, true
					break
				}
			}
		} else {
			if lineOf == nil {
				lineOf = make(map[string]int, len(n.Content)/2)
				for _, e := range es {
					lineOf[e.name] = e.key.Line
				}
			}
			first, dup = lineOf[name]
		}
		if dup {
			b.problem(ptr+"/"+escapePtr(name), k, "duplicate key %q (first written at line %d)", name, first)
			continue
		}
		if lineOf != nil {
			lineOf[name] = k.Line
		}
		b.entries = append(b.entries, entry{name, k, v})
	}
	// (Entries are built once every key is known: a duplicate is refused
	// before its value is built.)
	for _, e := range b.entries[base:] {
		out[e.name], _ = b.value(e.val, ptr+"/"+escapePtr(e.name), b.pos(e.key))
	}
	// YAML merge keys (<<: *base or <<: [*a, *b]): keys written in the
	// mapping itself win, then earlier merged mappings over later ones.
	for _, m := range merges {
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			b.merge(out, s, ptr)
		}
	}
	return out, true
}

func (b *builder) merge(out map[string]any, s *yaml.Node, ptr string) {
	b.mergeFrom(out, s, ptr)
	if b.inAlias > 0 {
		return // the outermost alias or merge reports it
	}
	what := "the merge (<<)"
	if s.Kind == yaml.AliasNode {
		what = "the merge of *" + s.Value
	}
	b.overBudget(ptr, s, what)
}

func (b *builder) mergeFrom(out map[string]any, s *yaml.Node, ptr string) {
	if s.Kind == yaml.AliasNode {
		if s.Alias == nil || b.expanding[s.Alias] {
			b.problem(ptr, s, "merge of alias *%s that refers to a value containing it", s.Value)
			return
		}
		b.expand(s.Alias)
		defer delete(b.expanding, s.Alias)
		s = s.Alias
	}
	if s.Kind != yaml.MappingNode {
		b.problem(ptr, s, "a merge key (<<) takes a mapping or a list of mappings, not a %s", kindName(s))
		return
	}
	b.inAlias++
	defer func() { b.inAlias-- }()
	seen := map[string]bool{}
	for i := 0; i+1 < len(s.Content); i += 2 {
		k, v := s.Content[i], s.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			// Nested merge: fold the inner mapping's merges in first.
			inner := map[string]any{}
			b.mergeFrom(inner, v, ptr)
			for name, iv := range inner {
				if _, ok := out[name]; !ok {
					out[name] = iv
				}
			}
			continue
		}
		name, ok := b.keyName(k, ptr)
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		if _, ok := out[name]; ok {
			continue
		}
		child := ptr + "/" + escapePtr(name)
		out[name], _ = b.value(v, child, b.pos(k))
	}
}

var (
	specialFloats = map[string]bool{".inf": true, "-.inf": true, "+.inf": true, ".nan": true}
)

func (b *builder) scalar(n *yaml.Node, ptr string) (any, bool) {
	switch tag := n.ShortTag(); tag {
	case "!!str":
		if n.Style == 0 && n.Value != "" && strings.IndexByte("+-.0123456789", n.Value[0]) >= 0 {
			// A plain scalar that reads as a number but resolved to a
			// string: beyond what yaml.v3 parses (1e400, 200,000
			// digits). It was not quoted, so it is not text. (A number
			// starts with one of those; the regular expressions are
			// not run on every string.)
			if v, ok, isNum := b.bigNumber(n, ptr); isNum {
				return v, ok
			}
		}
		if strings.Contains(n.Value, varOpen) {
			b.vars = append(b.vars, ptr)
		}
		return b.budget.box(n.Value), true
	case "!!timestamp":
		// Dates stay the text they were written as: no timestamp parsing.
		return n.Value, true
	case "!!binary":
		b.problem(ptr, n, "unsupported YAML tag !!binary: the Jobs API takes text; write the value as a string (base64 text is a plain string)")
		return nil, false
	case "!!null":
		return nil, true
	case "!!bool":
		return strings.EqualFold(n.Value, "true"), true
	case "!!int":
		return b.integer(n, ptr)
	case "!!float":
		plain := strings.ReplaceAll(n.Value, "_", "")
		if isIntLiteral(plain) {
			// Too big for int64/uint64: YAML calls it a float, but it was
			// written as an integer; keep it exact and let the schema's
			// range check speak.
			return b.integer(n, ptr)
		}
		if specialFloats[strings.ToLower(plain)] {
			b.problem(ptr, n, "%s is not a number JSON can carry", shortText(n.Value))
			return nil, false
		}
		f, err := strconv.ParseFloat(plain, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			b.problem(ptr, n, "invalid number %s", shortText(n.Value))
			return nil, false
		}
		b.floats = append(b.floats, ptr)
		if isJSONNumber(plain) {
			return json.Number(plain), true
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
	case "!!merge":
		b.problem(ptr, n, "<< (merge key) used as a value; quote it to mean the text \"<<\"")
		return nil, false
	default:
		b.problem(ptr, n, "unsupported YAML tag %s (quote the value to make it a string)", n.Tag)
		return nil, false
	}
}

// maxIntegerDigits is the longest integer literal read exactly (hex and
// binary included, so 64 bits in base 2 fit); longer ones are refused.
const maxIntegerDigits = 80

// The forms of numbers below are scanned by hand (regexp matches were 3%
// of a Load); number_test.go holds them to the regular expressions.

// isIntLiteral: ^[-+]?[0-9][0-9_]*$
func isIntLiteral(s string) bool {
	s = trimSign(s)
	if s == "" || !isDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}

// hasLeadingZero: ^[-+]?0[0-9]+$
func hasLeadingZero(s string) bool {
	s = trimSign(s)
	if len(s) < 2 || s[0] != '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isFloatLiteral is YAML 1.2's float form, without the special values:
// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
func isFloatLiteral(s string) bool {
	s = trimSign(s)
	i, digits := 0, func(i int) int {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i
	}
	switch {
	case i < len(s) && s[i] == '.':
		j := digits(i + 1)
		if j == i+1 {
			return false
		}
		i = j
	default:
		j := digits(i)
		if j == i {
			return false
		}
		i = j
		if i < len(s) && s[i] == '.' {
			i = digits(i + 1)
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}

func trimSign(s string) string {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		return s[1:]
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// bigNumber reads a plain scalar that looks like a number yaml.v3 could not
// hold; isNum is false when it does not look like one.
func (b *builder) bigNumber(n *yaml.Node, ptr string) (v any, ok, isNum bool) {
	plain := strings.ReplaceAll(n.Value, "_", "")
	switch {
	case isIntLiteral(plain):
		v, ok = b.integer(n, ptr)
		return v, ok, true
	case isFloatLiteral(plain) && strings.ContainsAny(plain, "0123456789"):
		b.problem(ptr, n, "the number %s is beyond the range of a 64-bit floating-point number, which is what the Jobs API reads", shortText(n.Value))
		return nil, false, true
	}
	return nil, false, false
}

func (b *builder) integer(n *yaml.Node, ptr string) (any, bool) {
	plain := strings.ReplaceAll(n.Value, "_", "")
	if hasLeadingZero(plain) {
		// YAML 1.1 reads 012 as octal 10, YAML 1.2 as decimal 12; refuse
		// to guess.
		b.problem(ptr, n, "ambiguous integer %s: write it without the leading zero (or 0o%s for octal)", shortText(n.Value), shortText(strings.TrimLeft(strings.TrimLeft(plain, "+-"), "0")))
		return nil, false
	}
	if digits := len(strings.TrimLeft(plain, "+-")); digits > maxIntegerDigits {
		// Parsing (and printing) 200,000 digits exactly takes seconds;
		// no field takes more than 64 bits.
		b.problem(ptr, n, "the integer %s has %d digits; the Jobs API's integers have 64 bits (at most 19 digits)", shortText(n.Value), digits)
		return nil, false
	}
	var z big.Int
	// Base 0 reads the forms YAML resolves as integers: 0x.., 0o.., 0b..
	// and decimal, with a sign.
	if _, ok := z.SetString(plain, 0); !ok {
		b.problem(ptr, n, "invalid integer %s", shortText(n.Value))
		return nil, false
	}
	return json.Number(z.String()), true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// escapePtr escapes one JSON pointer reference token (RFC 6901).
func escapePtr(s string) string {
	// (A loop, not strings.ContainsAny: this runs for every key of every
	// job, and nearly none needs escaping.)
	for i := 0; i < len(s); i++ {
		if s[i] == '~' || s[i] == '/' {
			return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
		}
	}
	return s
}

// unescapePtr reverses escapePtr.
func unescapePtr(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
