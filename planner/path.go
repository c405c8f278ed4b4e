package planner

import (
	"fmt"
	"strconv"
	"strings"
)

// seg is one step of a keyed path. Exactly one form is used:
//
//	name != "" && key == ""   a field or map key:          .timeout_seconds  ["spark.conf.key"]
//	key != ""                 an element of a keyed array: [task_key="load"]
//	key == "*"                any element (ignore_changes patterns only): [*]
type seg struct {
	name string
	key  string
	val  string
}

// formatPath renders segments in the one path syntax used in plans, errors,
// JSON and lifecycle.ignore_changes:
// `tasks[task_key="load"].new_cluster.spark_conf["spark.sql.shuffle.partitions"]`.
func formatPath(p []seg) string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.key == "*":
			b.WriteString("[*]")
		case s.key != "":
			b.WriteByte('[')
			b.WriteString(s.key)
			b.WriteByte('=')
			b.WriteString(strconv.Quote(s.val))
			b.WriteByte(']')
		case isIdent(s.name):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.name))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// isIdent says whether a field name is written bare (.name) rather than
// quoted (["spark.sql.shuffle.partitions"]); the same rule as
// schema.KeyedPath, so validation messages and plans agree.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_', c == '-', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// parsePath reads the syntax formatPath writes, plus `[*]` for any element of
// a keyed array. It is used for lifecycle.ignore_changes entries.
func parsePath(s string) ([]seg, error) {
	var out []seg
	i := 0
	bad := func(msg string) ([]seg, error) {
		return nil, fmt.Errorf("path %q: %s at offset %d (paths look like tasks[task_key=\"load\"].timeout_seconds)", s, msg, i)
	}
	for i < len(s) {
		switch c := s[i]; {
		case c == '.':
			if i == 0 || i == len(s)-1 {
				return bad("misplaced '.'")
			}
			i++
			if s[i] == '.' || s[i] == '[' {
				return bad("expected a field name")
			}
		case c == '[':
			end := i + 1
			switch {
			case strings.HasPrefix(s[end:], "*]"):
				out = append(out, seg{key: "*"})
				i = end + 2
				continue
			case end < len(s) && s[end] == '"':
				q, rest, err := unquotePrefix(s[end:])
				if err != nil || !strings.HasPrefix(rest, "]") {
					return bad("bad quoted key")
				}
				out = append(out, seg{name: q})
				i = len(s) - len(rest) + 1
				continue
			}
			eq := strings.IndexByte(s[end:], '=')
			if eq <= 0 {
				return bad(`expected [key="value"], ["map key"] or [*]`)
			}
			key := s[end : end+eq]
			if !isIdent(key) {
				return bad("bad key field name")
			}
			q, rest, err := unquotePrefix(s[end+eq+1:])
			if err != nil || !strings.HasPrefix(rest, "]") {
				return bad("bad quoted key value")
			}
			out = append(out, seg{key: key, val: q})
			i = len(s) - len(rest) + 1
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			name := s[i:j]
			if !isIdent(name) {
				return bad(fmt.Sprintf("%q is not a field name; quote it as [%q]", name, name))
			}
			out = append(out, seg{name: name})
			i = j
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty path")
	}
	return out, nil
}

// unquotePrefix reads a Go/JSON double-quoted string at the start of s.
func unquotePrefix(s string) (string, string, error) {
	if s == "" || s[0] != '"' {
		return "", s, fmt.Errorf("not quoted")
	}
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			u, err := strconv.Unquote(s[:j+1])
			return u, s[j+1:], err
		}
	}
	return "", s, fmt.Errorf("unterminated")
}

// hasPrefix reports whether pattern (possibly with [*]) is a prefix of p.
func hasPrefix(p, pattern []seg) bool {
	if len(pattern) > len(p) {
		return false
	}
	for i, ps := range pattern {
		s := p[i]
		switch {
		case ps.key == "*":
			if s.key == "" {
				return false
			}
		case ps != s:
			return false
		}
	}
	return true
}

// keyString renders a keyed-array element's key value for paths and
// fields_to_remove ("tasks/<key>").
func keyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// jsonPointer renders p as an RFC 6901 pointer into the original (unsorted)
// YAML settings, turning keyed segments into indices; it stops at the first
// segment it cannot follow, which gives the nearest ancestor.
// ptrEscaper escapes a JSON pointer reference token (RFC 6901). Built
// once: building it per token was most of what a 10,000-job create plan
// allocated.
var ptrEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func jsonPointer(settings map[string]any, p []seg) string {
	var b strings.Builder
	var cur any = settings
	for _, s := range p {
		switch {
		case s.key != "":
			arr, ok := cur.([]any)
			if !ok {
				return b.String()
			}
			idx := -1
			for i, e := range arr {
				if m, ok := e.(map[string]any); ok && keyString(m[s.key]) == s.val {
					idx = i
					break
				}
			}
			if idx < 0 {
				return b.String()
			}
			b.WriteByte('/')
			b.WriteString(strconv.Itoa(idx))
			cur = arr[idx]
		default:
			m, ok := cur.(map[string]any)
			if !ok {
				return b.String()
			}
			v, ok := m[s.name]
			if !ok {
				return b.String()
			}
			b.WriteByte('/')
			b.WriteString(ptrEscaper.Replace(s.name))
			cur = v
		}
	}
	return b.String()
}
