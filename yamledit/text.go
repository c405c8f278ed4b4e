package yamledit

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// text is one file's bytes with what is needed to turn yaml.v3 positions
// (1-based line, column counted in characters) into byte offsets.
type text struct {
	src []byte
	// starts[i] is the byte offset of line i+1.
	starts []int
	// eol is the file's line break, used for new lines: the first one
	// written, "\n" in a file that has none.
	eol string
}

func newText(src []byte) *text {
	t := &text{src: src, starts: []int{0}, eol: "\n"}
	seen := false
	for i := 0; i < len(src); {
		n := breakLen(src[i:])
		if n == 0 {
			i++
			continue
		}
		if !seen {
			t.eol, seen = string(src[i:i+n]), true
		}
		i += n
		t.starts = append(t.starts, i)
	}
	return t
}

// breakLen is the length of the line break at the start of b, or 0. These
// are the breaks yaml.v3 counts lines by (it follows libyaml, YAML 1.1).
func breakLen(b []byte) int {
	switch {
	case len(b) == 0:
		return 0
	case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
		return 2
	case b[0] == '\r' || b[0] == '\n':
		return 1
	case len(b) >= 2 && b[0] == 0xC2 && b[1] == 0x85: // NEL
		return 2
	case len(b) >= 3 && b[0] == 0xE2 && b[1] == 0x80 && (b[2] == 0xA8 || b[2] == 0xA9): // LS, PS
		return 3
	}
	return 0
}

// off is the byte offset of a yaml.v3 position.
func (t *text) off(line, col int) (int, error) {
	if line < 1 || line > len(t.starts) {
		return 0, fmt.Errorf("line %d is outside the file", line)
	}
	p := t.starts[line-1]
	if line == 1 && strings.HasPrefix(string(t.src), "\uFEFF") {
		p += 3 // the parser does not count a byte order mark as a character
	}
	for c := 1; c < col; c++ {
		if p >= len(t.src) || breakLen(t.src[p:]) > 0 {
			return 0, fmt.Errorf("column %d is past the end of line %d", col, line)
		}
		_, n := utf8.DecodeRune(t.src[p:])
		p += n
	}
	return p, nil
}

func (t *text) nodeOff(n *yaml.Node) (int, error) { return t.off(n.Line, n.Column) }

// lineOf is the 1-based line of offset p.
func (t *text) lineOf(p int) int {
	lo, hi := 0, len(t.starts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if t.starts[mid] <= p {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1
}

// lineStart is the offset of the start of p's line.
func (t *text) lineStart(p int) int { return t.starts[t.lineOf(p)-1] }

// lineEnd is the offset of the line break that ends p's line (len(src) on a
// last line without one).
func (t *text) lineEnd(p int) int {
	for p < len(t.src) && breakLen(t.src[p:]) == 0 {
		p++
	}
	return p
}

// nextLine is the offset just after the line break of p's line.
func (t *text) nextLine(p int) int {
	e := t.lineEnd(p)
	return e + breakLen(t.src[e:])
}

// indentOf is the number of spaces that start p's line.
func (t *text) indentOf(p int) int {
	s := t.lineStart(p)
	i := s
	for i < len(t.src) && t.src[i] == ' ' {
		i++
	}
	return i - s
}

// onlySpaceBefore says whether nothing but spaces precede p on its line.
func (t *text) onlySpaceBefore(p int) bool {
	for i := t.lineStart(p); i < p; i++ {
		if t.src[i] != ' ' && t.src[i] != '\t' {
			return false
		}
	}
	return true
}

// lineText is the text of the line that starts at s, without its break.
func (t *text) lineText(s int) string { return string(t.src[s:t.lineEnd(s)]) }

// isBlankOrComment says whether the line starting at s holds nothing but
// spaces and possibly a comment.
func (t *text) isBlankOrComment(s int) bool {
	l := strings.TrimLeft(t.lineText(s), " \t")
	return l == "" || l[0] == '#'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// skipProps skips a node's properties (&anchor, !tag) and the spaces after
// them, returning where the node's content starts.
func (t *text) skipProps(p int) int {
	for p < len(t.src) && (t.src[p] == '&' || t.src[p] == '!') {
		for p < len(t.src) && !isSpace(t.src[p]) && breakLen(t.src[p:]) == 0 {
			p++
		}
		for p < len(t.src) && isSpace(t.src[p]) {
			p++
		}
	}
	return p
}

// span is a byte range [start, end) of the source.
type span struct{ start, end int }

// extent is the byte range of n's text, properties included, comments and
// trailing spaces excluded. flow says n is inside a flow collection.
func (t *text) extent(n *yaml.Node, flow bool) (span, error) {
	start, err := t.nodeOff(n)
	if err != nil {
		return span{}, err
	}
	end, err := t.end(n, start, flow)
	if err != nil {
		return span{}, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return span{start, end}, nil
}

func (t *text) end(n *yaml.Node, start int, flow bool) (int, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return start + 1 + len(n.Value), nil
	case yaml.ScalarNode:
		return t.scalarEnd(n, start, flow)
	case yaml.MappingNode, yaml.SequenceNode:
		inFlow := flow || n.Style&yaml.FlowStyle != 0
		last := start
		if len(n.Content) > 0 {
			c := n.Content[len(n.Content)-1]
			s, err := t.nodeOff(c)
			if err != nil {
				return 0, err
			}
			if last, err = t.end(c, s, inFlow); err != nil {
				return 0, err
			}
		}
		if n.Style&yaml.FlowStyle == 0 {
			if len(n.Content) == 0 {
				return 0, fmt.Errorf("an empty block collection")
			}
			return last, nil
		}
		closer := byte('}')
		if n.Kind == yaml.SequenceNode {
			closer = ']'
		}
		p := last
		if len(n.Content) == 0 {
			p = t.skipProps(start) + 1 // past the opening bracket
		}
		for p < len(t.src) {
			switch c := t.src[p]; {
			case c == closer:
				return p + 1, nil
			case c == '#':
				p = t.lineEnd(p)
			case c == ' ' || c == '\t' || c == ',' || breakLen(t.src[p:]) > 0:
				p++
			default:
				return 0, fmt.Errorf("unexpected %q before the end of a flow collection", c)
			}
		}
		return 0, fmt.Errorf("flow collection is not closed")
	}
	return 0, fmt.Errorf("unsupported YAML node")
}

func (t *text) scalarEnd(n *yaml.Node, start int, flow bool) (int, error) {
	if n.Tag == "!!null" && n.Value == "" && n.Style == 0 {
		return start, nil // an empty value: nothing is written
	}
	p := t.skipProps(start)
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := p + 1; i < len(t.src); i++ {
			switch t.src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
		return 0, fmt.Errorf("double-quoted string is not closed")
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := p + 1; i < len(t.src); i++ {
			if t.src[i] == '\'' {
				if i+1 < len(t.src) && t.src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
		return 0, fmt.Errorf("single-quoted string is not closed")
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return t.blockScalarEnd(p)
	}
	return t.plainEnd(n, p, flow)
}

// blockScalarEnd finds the end of a literal or folded scalar whose
// indicator is at p: the end of its last non-blank content line.
func (t *text) blockScalarEnd(p int) (int, error) {
	header := t.lineText(p)
	first := t.nextLine(p)
	indent := -1
	for _, c := range strings.TrimLeft(strings.SplitN(header, "#", 2)[0], "|>") {
		if c >= '1' && c <= '9' {
			// An explicit indentation indicator is relative to the
			// parent's indentation, which the text alone does not say.
			return 0, fmt.Errorf("block scalar with an indentation indicator")
		}
	}
	end := t.lineEnd(p)
	for s := first; s < len(t.src); s = t.nextLine(s) {
		l := t.lineText(s)
		if strings.TrimLeft(l, " ") == "" {
			continue // blank lines belong to the scalar only if content follows
		}
		ind := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 {
			indent = ind
		}
		if ind < indent || indent == 0 {
			break
		}
		end = s + len(l)
		if t.nextLine(s) == s+len(l) { // last line of the file
			break
		}
	}
	return end, nil
}

// plainEnd finds the end of a plain scalar starting at p, checking the text
// against the parsed value (a plain scalar may continue on more lines).
func (t *text) plainEnd(n *yaml.Node, p int, flow bool) (int, error) {
	lineEnd := func(s int) int {
		e := s
		for e < len(t.src) && breakLen(t.src[e:]) == 0 {
			c := t.src[e]
			if c == '#' && e > s && isSpace(t.src[e-1]) {
				break
			}
			if c == ':' && (e+1 >= len(t.src) || isSpace(t.src[e+1]) || breakLen(t.src[e+1:]) > 0 || flow && strings.IndexByte(",[]{}", t.src[e+1]) >= 0) {
				break
			}
			if flow && strings.IndexByte(",[]{}", c) >= 0 {
				break
			}
			e++
		}
		for e > s && isSpace(t.src[e-1]) {
			e--
		}
		return e
	}
	end := lineEnd(p)
	got := string(t.src[p:end])
	blank := 0
	for s := t.nextLine(p); got != n.Value && s < len(t.src); s = t.nextLine(s) {
		l := strings.TrimLeft(t.lineText(s), " \t")
		if l == "" {
			blank++
			continue
		}
		if l[0] == '#' || strings.HasPrefix(l, "- ") || l == "-" || strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...") {
			break
		}
		from := s + len(t.lineText(s)) - len(l) // its first non-space
		e := lineEnd(from)
		if blank > 0 {
			got += strings.Repeat("\n", blank)
		} else {
			got += " "
		}
		got += string(t.src[from:e])
		blank = 0
		end = e
	}
	if got != n.Value {
		return 0, fmt.Errorf("cannot find the end of the plain value %q", n.Value)
	}
	return end, nil
}

// colonAfter finds the ':' that follows a mapping key ending at p.
func (t *text) colonAfter(p int) (int, error) {
	for i := p; i < len(t.src); i++ {
		switch c := t.src[i]; {
		case c == ':':
			return i, nil
		case isSpace(c):
		default:
			return 0, fmt.Errorf("expected ':' after a mapping key, found %q", c)
		}
	}
	return 0, fmt.Errorf("expected ':' after a mapping key")
}

// dashBefore finds the '-' indicator of a block sequence item starting at p.
func (t *text) dashBefore(p int) (int, error) {
	for i := p - 1; i >= 0; i-- {
		switch c := t.src[i]; {
		case c == '-':
			return i, nil
		case isSpace(c) || c == '\n' || c == '\r':
		default:
			// A comment line between the dash and the item.
			s := t.lineStart(i)
			if t.isBlankOrComment(s) {
				i = s
				continue
			}
			return 0, fmt.Errorf("expected '-' before a list item, found %q", c)
		}
	}
	return 0, fmt.Errorf("expected '-' before a list item")
}

// commentsAbove is the start of the run of comment lines directly above
// the line starting at s that are indented like it (a blank line ends the
// run): the comments that belong to what that line starts.
func (t *text) commentsAbove(s int) int {
	ind := t.indentOf(s)
	for s > 0 {
		prev := t.lineStart(s - 1)
		l := t.lineText(prev)
		trimmed := strings.TrimLeft(l, " ")
		if trimmed == "" || trimmed[0] != '#' || len(l)-len(trimmed) != ind {
			break
		}
		s = prev
	}
	return s
}

// isBlank says whether the line starting at s holds only spaces.
func (t *text) isBlank(s int) bool { return strings.TrimLeft(t.lineText(s), " \t") == "" }

// blankAfter extends the removal of the lines [s, e) over the blank line at
// e when a blank line precedes s too, so that removing a block set apart by
// blank lines leaves one blank line, not two.
func (t *text) blankAfter(s, e int) int {
	if s > 0 && e < len(t.src) && t.isBlank(t.lineStart(s-1)) && t.isBlank(e) {
		return t.nextLine(e)
	}
	return e
}
