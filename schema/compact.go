package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RawSettings is the job's settings as compact JSON when it was loaded with
// Options.Compact and Settings is nil; nil otherwise. Numbers are written as
// they were read (json.Number), so decoding with UseNumber gives back the
// tree exactly.
func (j *Job) RawSettings() []byte { return j.raw }

// Tree is the job's settings as a tree: Settings itself (which callers must
// not change), or, for a compacted job, a fresh decoding of RawSettings.
func (j *Job) Tree() (map[string]any, error) {
	if j.raw == nil {
		return j.Settings, nil
	}
	dec := json.NewDecoder(bytes.NewReader(j.raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("job %q: its compacted settings do not decode: %v", j.Key, err)
	}
	return m, nil
}

// appendJSON appends v as compact JSON. ok is false for a value the trees
// of Load do not hold (anything but maps, slices, strings, bools,
// json.Number and nil) or a string that is not UTF-8: those jobs keep
// their tree, so that decoding gives back exactly what was loaded. Not
// encoding/json, which writes an int as a number that decodes as
// json.Number and turns bytes that are not UTF-8 into U+FFFD (the tree
// would not come back as it was), and sorts every map's keys, which no
// reader here needs.
func appendJSON(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case json.Number:
		if !isJSONNumber(string(x)) {
			return dst, false
		}
		return append(dst, x...), true
	case string:
		return appendJSONString(dst, x)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendJSON(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		dst = append(dst, '{')
		first := true
		for k, e := range x {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			var ok bool
			if dst, ok = appendJSONString(dst, k); !ok {
				return dst, false
			}
			dst = append(dst, ':')
			if dst, ok = appendJSON(dst, e); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}

func appendJSONString(dst []byte, s string) ([]byte, bool) {
	if !utf8.ValidString(s) {
		return dst, false
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			const hex = "0123456789abcdef"
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}

// isJSONNumber: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// posTable is a job's positions map in a sixth of its memory: the
// pointers sorted and front-coded (each written as the length it shares
// with the one before and the rest), found by a scan. A map of 10,000 jobs'
// positions (half a million pointers) held ~36 MB; lookups are rare (a
// plan asks for the positions of what changes).
type posTable struct {
	rest   string   // the pointers' rests, end to end
	ends   []uint32 // rest[ends[i-1]:ends[i]] is the i-th pointer's rest
	shared []uint16 // the i-th pointer is the first shared[i] bytes of the one before, then its rest
	at     []lineCol
}

func newPosTable(m map[string]lineCol) *posTable {
	ptrs := make([]string, 0, len(m))
	for p := range m {
		if len(p) > 1<<16-1 {
			return nil // (no such pointer in a real job; the map stays)
		}
		ptrs = append(ptrs, p)
	}
	slices.Sort(ptrs)
	var b strings.Builder
	t := &posTable{ends: make([]uint32, len(ptrs)), shared: make([]uint16, len(ptrs)), at: make([]lineCol, len(ptrs))}
	prev := ""
	for i, p := range ptrs {
		n := 0
		for n < len(p) && n < len(prev) && p[n] == prev[n] {
			n++
		}
		b.WriteString(p[n:])
		t.ends[i], t.shared[i], t.at[i] = uint32(b.Len()), uint16(n), m[p]
		prev = p
	}
	t.rest = strings.Clone(b.String()) // without the builder's spare capacity
	return t
}

// each calls fn with every pointer in order (in a buffer fn must not keep)
// until fn returns false.
func (t *posTable) each(fn func(i int, ptr []byte) bool) {
	var buf [256]byte
	cur := buf[:0]
	start := uint32(0)
	for i, end := range t.ends {
		cur = append(cur[:t.shared[i]], t.rest[start:end]...)
		start = end
		if !fn(i, cur) {
			return
		}
	}
}

// find is the position at ptr; false when the table has none (or is nil).
func (t *posTable) find(ptr string) (lineCol, bool) {
	if t == nil {
		return lineCol{}, false
	}
	var at lineCol
	found := false
	t.each(func(i int, p []byte) bool {
		switch c := strings.Compare(string(p), ptr); {
		case c == 0:
			at, found = t.at[i], true
			return false
		case c > 0:
			return false // sorted: ptr is not further on
		}
		return true
	})
	return at, found
}
