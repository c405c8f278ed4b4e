package schema

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// parseFast reads a job file written in the YAML most job files are
// written in, into the very nodes yaml.v3 makes of it (comments aside,
// which nothing here reads): block mappings and sequences, flow ones on
// one line, plain scalars and quoted ones on one line, comments, one
// document. For 10,000 jobs, yaml.v3 took most of a Load (its scanner and
// event machinery, and a heap object per node and per string); this reads
// a file line by line, makes its nodes in blocks, and its strings are
// pieces of one copy of the file.
//
// It does not decide anything yaml.v3 would decide otherwise: ok is false
// for anything else (anchors, aliases, tags, block scalars, multi-line
// scalars, several documents, tabs, CR, unusual characters, anything it
// finds wrong), and the caller parses the file with yaml.v3, whose answer
// (and every message about a file that is not valid YAML) stays the
// reference. A test compares the two on the repository's YAML and on
// mutations of it.
//
// The nodes are the parser's (p.release gives them back for the next
// file): the caller must be done with them, and keep none, before.
func parseFast(p *fastParser, text string) (docs []*yaml.Node, ok bool) {
	p.reset(text)
	if !p.lines() {
		return nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			if _, give := r.(giveUp); !give {
				panic(r)
			}
			docs, ok = nil, false
		}
	}()
	return p.document(), true
}

// fastParsers keeps parsers, with their node blocks, between files: a
// Load parses files on a few goroutines, and the nodes of a file are
// garbage once its jobs are built.
var fastParsers = sync.Pool{New: func() any { return &fastParser{} }}

// nodeBlock is how many nodes a parser allocates at once.
const nodeBlock = 1024

func (p *fastParser) reset(text string) {
	p.text, p.depth = text, 0
	p.lns = p.lns[:0]
	p.used, p.filled, p.room = 0, 0, nil
}

// release zeroes the nodes handed out (so that they hold nothing of the
// file) and makes them available again.
func (p *fastParser) release() {
	for i := 0; i*nodeBlock < p.used; i++ {
		clear(p.blocks[i][:min(nodeBlock, p.used-i*nodeBlock)])
	}
	p.used, p.text = 0, ""
	for _, b := range p.ptrs[:p.filled] {
		clear(b)
	}
	p.filled, p.room = 0, nil
	clear(p.kids)
	p.kids = p.kids[:0]
}

// giveUp is panicked (and recovered by parseFast) where the input leaves
// the subset.
type giveUp struct{}

func fail() { panic(giveUp{}) }

type fastParser struct {
	text  string
	lns   []fline
	kids  []*yaml.Node
	depth int
	// blocks of nodes; the first used of them (in order) are handed out.
	blocks [][]yaml.Node
	used   int
	// ptrs are blocks of children for content: the first filled of
	// them are in use, room is what is left of the last.
	ptrs   [][]*yaml.Node
	filled int
	room   []*yaml.Node
}

// fline is one line of the file: text[start:end] without its break;
// indent leading spaces; blank when it holds nothing but spaces or a
// comment; ascii when all its bytes are.
type fline struct {
	start, end, indent int
	blank, ascii       bool
}

// maxFastDepth bounds nesting: deeper files are yaml.v3's (and its limits').
const maxFastDepth = 64

// lines splits the text into lines, checking every character: only
// printable ones, no tab, no CR, none of the characters YAML reads as line
// breaks or byte order marks, valid UTF-8; one optional "---" first, no
// directive or document marker after it.
func (p *fastParser) lines() bool {
	t := p.text
	if n := strings.Count(t, "\n") + 1; cap(p.lns) < n {
		p.lns = make([]fline, 0, n)
	}
	start := 0
	for start <= len(t) {
		end := strings.IndexByte(t[start:], '\n')
		if end < 0 {
			end = len(t)
		} else {
			end += start
		}
		l := fline{start: start, end: end, ascii: true}
		for i := start; i < end; {
			c := t[i]
			if c < 0x80 {
				if c < 0x20 || c == 0x7f {
					return false
				}
				i++
				continue
			}
			l.ascii = false
			r, size := utf8.DecodeRuneInString(t[i:])
			if r == utf8.RuneError && size <= 1 || r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF ||
				r >= 0xD800 && r <= 0xDFFF || r == 0xFFFE || r == 0xFFFF {
				return false
			}
			i += size
		}
		for l.indent = 0; start+l.indent < end && t[start+l.indent] == ' '; l.indent++ {
		}
		l.blank = start+l.indent == end || t[start+l.indent] == '#'
		if !l.blank && l.indent == 0 {
			rest := t[start:end]
			if rest[0] == '%' {
				return false // a directive
			}
			if marker(rest) {
				// Only "---" first, alone on its line.
				if rest[0] != '-' || !isBlankRest(rest[3:]) {
					return false
				}
				for _, prev := range p.lns {
					if !prev.blank {
						return false
					}
				}
			}
		}
		p.lns = append(p.lns, l)
		if end == len(t) {
			break
		}
		start = end + 1
	}
	return true
}

// marker: a line that starts with a document marker ("---" or "...").
func marker(line string) bool {
	return (strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...")) && (len(line) == 3 || line[3] == ' ')
}

// isBlankRest: s, what follows a token on its line, holds nothing but
// spaces, or spaces and a comment (a "#" after a space).
func isBlankRest(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
		case '#':
			return i > 0
		default:
			return false
		}
	}
	return true
}

func (p *fastParser) node() *yaml.Node {
	b, i := p.used/nodeBlock, p.used%nodeBlock
	if b == len(p.blocks) {
		p.blocks = append(p.blocks, make([]yaml.Node, nodeBlock))
	}
	p.used++
	return &p.blocks[b][i]
}

// content returns room for the n children of a collection, cut from the
// parser's blocks (one allocation for many collections, given back with
// the nodes by release).
func (p *fastParser) content(n int) []*yaml.Node {
	if n > nodeBlock/4 {
		return make([]*yaml.Node, n)
	}
	if len(p.room) < n {
		if p.filled == len(p.ptrs) {
			p.ptrs = append(p.ptrs, make([]*yaml.Node, nodeBlock))
		}
		p.room = p.ptrs[p.filled]
		p.filled++
	}
	c := p.room[:n:n]
	p.room = p.room[n:]
	return c
}

// at sets n's position: line li, byte offset off in it.
func (p *fastParser) at(n *yaml.Node, li, off int) {
	l := p.lns[li]
	n.Line = li + 1
	if l.ascii {
		n.Column = off - l.start + 1
	} else {
		n.Column = utf8.RuneCountInString(p.text[l.start:off]) + 1
	}
}

// next is the index of the first line from li on that is not blank, or
// len(lines).
func (p *fastParser) next(li int) int {
	for li < len(p.lns) && p.lns[li].blank {
		li++
	}
	return li
}

// collect makes the children pushed since base the content of n.
func (p *fastParser) collect(n *yaml.Node, base int) {
	if len(p.kids) == base {
		return // yaml.v3 leaves the content of an empty collection nil
	}
	n.Content = p.content(len(p.kids) - base)
	copy(n.Content, p.kids[base:])
	clear(p.kids[base:])
	p.kids = p.kids[:base]
}

func (p *fastParser) document() []*yaml.Node {
	li := p.next(0)
	if li == len(p.lns) {
		return nil
	}
	doc := p.node()
	doc.Kind = yaml.DocumentNode
	l := p.lns[li]
	if l.indent == 0 && marker(p.text[l.start:l.end]) {
		p.at(doc, li, l.start)
		if li = p.next(li + 1); li == len(p.lns) {
			fail() // an empty explicit document
		}
		l = p.lns[li]
	}
	root, after := p.block(li, l.start+l.indent, -1)
	if after != len(p.lns) {
		fail()
	}
	if doc.Line == 0 {
		doc.Line, doc.Column = root.Line, root.Column
	}
	doc.Content = []*yaml.Node{root}
	return []*yaml.Node{doc}
}

// block reads the block node that starts at byte offset off of line li,
// inside a parent whose entries are at column parent (-1 at the top), and
// returns it with the index of the next line that is not blank.
func (p *fastParser) block(li, off, parent int) (*yaml.Node, int) {
	if p.depth++; p.depth > maxFastDepth {
		fail()
	}
	defer func() { p.depth-- }()
	t := p.text
	l := p.lns[li]
	col := off - l.start
	if t[off] == '-' && (off+1 == l.end || t[off+1] == ' ') {
		return p.sequence(li, col)
	}
	if k, after, isKey := p.key(li, off); isKey {
		return p.mapping(li, off, k, after)
	}
	v, end := p.inline(li, off)
	if !isBlankRest(t[end:l.end]) {
		fail()
	}
	nl := p.next(li + 1)
	if nl < len(p.lns) && p.lns[nl].indent > parent {
		fail() // more of a multi-line scalar, or bad indentation
	}
	return v, nl
}

// mapping reads a block mapping whose first key is at byte offset off of
// line li; its other keys start lines at the same column.
// k and after are its first key and the offset after that key's ":".
func (p *fastParser) mapping(li, off int, k *yaml.Node, after int) (*yaml.Node, int) {
	t := p.text
	ind := off - p.lns[li].start
	m := p.node()
	m.Kind, m.Tag = yaml.MappingNode, "!!map"
	m.Line, m.Column = k.Line, k.Column
	base := len(p.kids)
	for {
		if k == nil {
			var isKey bool
			if k, after, isKey = p.key(li, off); !isKey {
				fail()
			}
		}
		p.kids = append(p.kids, k)
		k = nil
		l := p.lns[li]
		v := after
		for v < l.end && t[v] == ' ' {
			v++
		}
		var val *yaml.Node
		var nl int
		if isBlankRest(t[after:l.end]) {
			nl = p.next(li + 1)
			switch {
			case nl < len(p.lns) && p.lns[nl].indent > ind:
				nll := p.lns[nl]
				val, nl = p.block(nl, nll.start+nll.indent, ind)
			case nl < len(p.lns) && p.lns[nl].indent == ind && p.dash(nl, ind):
				val, nl = p.sequence(nl, ind)
			default:
				val = p.node()
				val.Kind, val.Tag = yaml.ScalarNode, "!!null"
				p.at(val, li, after)
			}
		} else {
			if t[v] == '-' && (v+1 == l.end || t[v+1] == ' ') {
				fail()
			}
			var end int
			val, end = p.inline(li, v)
			if !isBlankRest(t[end:l.end]) {
				fail()
			}
			nl = p.next(li + 1)
			if nl < len(p.lns) && p.lns[nl].indent > ind {
				fail()
			}
		}
		p.kids = append(p.kids, val)
		if nl == len(p.lns) || p.lns[nl].indent < ind {
			p.collect(m, base)
			return m, nl
		}
		if p.lns[nl].indent > ind || p.dash(nl, ind) {
			fail()
		}
		li, off = nl, p.lns[nl].start+ind
	}
}

// dash: line li has a sequence entry's "-" at column ind.
func (p *fastParser) dash(li, ind int) bool {
	l := p.lns[li]
	o := l.start + ind
	return o < l.end && p.text[o] == '-' && (o+1 == l.end || p.text[o+1] == ' ')
}

// sequence reads a block sequence whose "-" are at column ind, from line li.
func (p *fastParser) sequence(li, ind int) (*yaml.Node, int) {
	t := p.text
	s := p.node()
	s.Kind, s.Tag = yaml.SequenceNode, "!!seq"
	p.at(s, li, p.lns[li].start+ind)
	base := len(p.kids)
	for {
		l := p.lns[li]
		if !p.dash(li, ind) {
			fail()
		}
		v := l.start + ind + 1
		for v < l.end && t[v] == ' ' {
			v++
		}
		var item *yaml.Node
		var nl int
		switch {
		case isBlankRest(t[l.start+ind+1 : l.end]):
			fail() // an entry on the lines below, or an empty one
		case t[v] == '-' && (v+1 == l.end || t[v+1] == ' '):
			fail() // "- - x"
		default:
			if k, after, isKey := p.key(li, v); isKey {
				item, nl = p.mapping(li, v, k, after)
				if nl < len(p.lns) && p.lns[nl].indent > ind {
					fail()
				}
			} else {
				var end int
				item, end = p.inline(li, v)
				if !isBlankRest(t[end:l.end]) {
					fail()
				}
				nl = p.next(li + 1)
				if nl < len(p.lns) && p.lns[nl].indent > ind {
					fail()
				}
			}
		}
		p.kids = append(p.kids, item)
		if nl == len(p.lns) || p.lns[nl].indent < ind || !p.dash(nl, ind) {
			p.collect(s, base)
			return s, nl
		}
		li = nl
	}
}

// key reads a mapping key at byte offset off of line li: a plain scalar,
// or a quoted one, followed by ":" and a space or the end of the line. It
// returns the key's node and the offset just after the ":".
func (p *fastParser) key(li, off int) (*yaml.Node, int, bool) {
	t := p.text
	l := p.lns[li]
	switch t[off] {
	case '"', '\'':
		k, end, ok := p.quoted(li, off)
		if !ok || end >= l.end || t[end] != ':' || end+1 < l.end && t[end+1] != ' ' {
			return nil, 0, false
		}
		return k, end + 1, true
	}
	if !plainStart(t, off, l.end, false) {
		return nil, 0, false
	}
	for i := off; i < l.end; i++ {
		switch c := t[i]; c {
		case ':':
			if i+1 == l.end || t[i+1] == ' ' {
				if i-off > 1000 {
					fail() // an implicit key's limit: yaml.v3's to word
				}
				end := i
				for end > off && t[end-1] == ' ' {
					end--
				}
				if end != i {
					fail() // "key :"
				}
				return p.plain(li, off, end), i + 1, true
			}
		case '#':
			if t[i-1] == ' ' {
				return nil, 0, false
			}
		case '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// plainStart: a plain scalar may start at off, as yaml.v3's scanner
// decides it: not at an indicator, but at "-" followed by a character
// that is not a space, and in block context at "?" and ":" so followed
// too (in flow context those two are always indicators).
func plainStart(t string, off, end int, flow bool) bool {
	switch t[off] {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '?', ':':
		if flow {
			return false
		}
		fallthrough
	case '-':
		if off+1 == end || t[off+1] == ' ' {
			return false
		}
	}
	return true
}

// plain makes the node of the plain scalar text[off:end] on line li.
func (p *fastParser) plain(li, off, end int) *yaml.Node {
	n := p.node()
	n.Kind, n.Value = yaml.ScalarNode, p.text[off:end]
	// Resolved as yaml.v3 resolves a plain scalar (its ShortTag of an
	// untagged node is that resolution); its parser makes "<<" a merge.
	// It looks further only at scalars that start with one of these.
	// Of the letters it looks further at, only its table's words are not
	// text (yaml.v3's resolveMap: no YAML 1.1 yes, on, ...).
	switch c := n.Value[0]; {
	case c == '<' && n.Value == "<<":
		n.Tag = "!!merge"
	case c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.':
		if beyondNumbers(n.Value) {
			n.Tag = "!!str" // 15.4.x-scala2.12: no need to try strconv on it
		} else {
			n.Tag = n.ShortTag()
		}
	case strings.IndexByte("~yYnNtTfFoO", c) >= 0:
		switch n.Value {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			n.Tag = "!!bool"
		case "~", "null", "Null", "NULL":
			n.Tag = "!!null"
		default:
			n.Tag = "!!str"
		}
	default:
		n.Tag = "!!str"
	}
	p.at(n, li, off)
	return n
}

// beyondNumbers says whether s has a byte that none of yaml.v3's
// resolutions of a plain scalar other than text can hold: its integers
// (0x1F, 0o17, 0b101, 1_000), floats (1.5e3, .inf, -.NaN) and timestamps
// (2024-01-02t10:00:00.5Z, 2024-01-02 10:00:00 -5). yaml.v3 tries
// strconv on such a scalar, and each failure allocates its error.
func beyondNumbers(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		case strings.IndexByte("+-._: xXoOiInNtTzZ", c) >= 0:
		default:
			return true
		}
	}
	return false
}

// inline reads a value that ends on its line: a flow collection, a quoted
// scalar, or a plain scalar (up to a comment). It returns the offset after
// it.
func (p *fastParser) inline(li, off int) (*yaml.Node, int) {
	t := p.text
	l := p.lns[li]
	switch t[off] {
	case '[', '{':
		return p.flow(li, off)
	case '"', '\'':
		n, end, ok := p.quoted(li, off)
		if !ok {
			fail()
		}
		return n, end
	}
	if !plainStart(t, off, l.end, false) {
		fail()
	}
	end := l.end
	for i := off; i < l.end; i++ {
		if t[i] == '#' && t[i-1] == ' ' {
			end = i
			break
		}
		if t[i] == ':' && (i+1 == l.end || t[i+1] == ' ') {
			fail() // mapping values are not allowed here
		}
	}
	for end > off && t[end-1] == ' ' {
		end--
	}
	return p.plain(li, off, end), end
}

// quoted reads a quoted scalar that closes on its line, returning the
// offset after its closing quote.
func (p *fastParser) quoted(li, off int) (*yaml.Node, int, bool) {
	t := p.text
	l := p.lns[li]
	q := t[off]
	var b *strings.Builder
	from := off + 1
	i := from
	for i < l.end {
		c := t[i]
		switch {
		case c == q && q == '\'':
			if i+1 < l.end && t[i+1] == '\'' {
				if b == nil {
					b = &strings.Builder{}
				}
				b.WriteString(t[from : i+1])
				i += 2
				from = i
				continue
			}
		case c == q:
		case c == '\\' && q == '"':
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(t[from:i])
			n, ok := unescape(b, t[i+1:l.end])
			if !ok {
				return nil, 0, false
			}
			i += 1 + n
			from = i
			continue
		default:
			i++
			continue
		}
		// The closing quote.
		v := t[from:i]
		if b != nil {
			b.WriteString(v)
			v = b.String()
		}
		n := p.node()
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!str", v
		n.Style = yaml.DoubleQuotedStyle
		if q == '\'' {
			n.Style = yaml.SingleQuotedStyle
		}
		p.at(n, li, off)
		return n, i + 1, true
	}
	return nil, 0, false
}

var (
	simpleEscapes = map[byte]byte{'0': 0, 'a': 7, 'b': 8, 't': 9, 'n': 10, 'v': 11, 'f': 12, 'r': 13, 'e': 0x1b, ' ': ' ', '"': '"', '\'': '\'', '\\': '\\'}
	escapeWidths  = map[byte]int{'x': 2, 'u': 4, 'U': 8}
)

// unescape writes the escape at the start of s (after its backslash) and
// returns its length; ok is false for the escapes left to yaml.v3.
func unescape(b *strings.Builder, s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if c, ok := simpleEscapes[s[0]]; ok {
		b.WriteByte(c)
		return 1, true
	}
	width := escapeWidths[s[0]]
	if width == 0 || len(s) < 1+width {
		return 0, false
	}
	v, err := strconv.ParseUint(s[1:1+width], 16, 32)
	if err != nil || v >= 0xD800 && v <= 0xDFFF || v > 0x10FFFF {
		return 0, false
	}
	b.WriteRune(rune(v))
	return 1 + width, true
}

// flow reads a flow collection that closes on its line.
func (p *fastParser) flow(li, off int) (*yaml.Node, int) {
	if p.depth++; p.depth > maxFastDepth {
		fail()
	}
	defer func() { p.depth-- }()
	t := p.text
	l := p.lns[li]
	n := p.node()
	closer := byte(']')
	n.Kind, n.Tag, n.Style = yaml.SequenceNode, "!!seq", yaml.FlowStyle
	if t[off] == '{' {
		n.Kind, n.Tag, closer = yaml.MappingNode, "!!map", '}'
	}
	p.at(n, li, off)
	base := len(p.kids)
	i := skipSpaces(t, off+1, l.end)
	if i < l.end && t[i] == closer {
		p.collect(n, base)
		return n, i + 1
	}
	for {
		if i >= l.end {
			fail()
		}
		if n.Kind == yaml.MappingNode {
			k, end := p.flowScalar(li, i)
			if end >= l.end || t[end] != ':' || end+1 >= l.end || t[end+1] != ' ' {
				fail()
			}
			p.kids = append(p.kids, k)
			i = skipSpaces(t, end+1, l.end)
			if i >= l.end || t[i] == ',' || t[i] == '}' {
				fail() // an empty value
			}
		}
		var v *yaml.Node
		var end int
		if t[i] == '[' || t[i] == '{' {
			v, end = p.flow(li, i)
		} else {
			v, end = p.flowScalar(li, i)
		}
		p.kids = append(p.kids, v)
		i = skipSpaces(t, end, l.end)
		if i >= l.end {
			fail()
		}
		switch t[i] {
		case closer:
			p.collect(n, base)
			return n, i + 1
		case ',':
			i = skipSpaces(t, i+1, l.end)
			if i < l.end && (t[i] == closer || t[i] == ',') {
				fail() // a trailing or doubled comma
			}
		default:
			fail()
		}
	}
}

// flowScalar reads a quoted or plain scalar inside a flow collection.
func (p *fastParser) flowScalar(li, off int) (*yaml.Node, int) {
	t := p.text
	l := p.lns[li]
	if t[off] == '"' || t[off] == '\'' {
		n, end, ok := p.quoted(li, off)
		if !ok {
			fail()
		}
		return n, end
	}
	if !plainStart(t, off, l.end, true) {
		fail()
	}
	i := off
	for ; i < l.end; i++ {
		// yaml.v3 ends a plain scalar in flow context at these, and at
		// ":" followed by a space.
		c := t[i]
		if c == ',' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}' {
			break
		}
		if c == ':' && (i+1 == l.end || t[i+1] == ' ') {
			break
		}
		if c == '#' && t[i-1] == ' ' {
			fail()
		}
	}
	end := i
	for end > off && t[end-1] == ' ' {
		end--
	}
	if end == off {
		fail()
	}
	return p.plain(li, off, end), i
}

func skipSpaces(t string, i, end int) int {
	for i < end && t[i] == ' ' {
		i++
	}
	return i
}
