package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// keyedArrays names, for arrays that the Jobs API identifies by key, the
// field that holds each element's key. Keyed paths use it so that a message
// about the fourth task says tasks[task_key="ingest"], which survives
// reordering and is what plans print. permissions (and its grants, when
// written as {mode, grants}) is jobsync's own list, keyed by whichever
// principal an entry names.
var keyedArrays = map[string][]string{
	"tasks":                                  {"task_key"},
	"job_clusters":                           {"job_cluster_key"},
	"parameters":                             {"name"},
	"environments":                           {"environment_key"},
	"depends_on":                             {"task_key"},
	"on_start":                               {"id"},
	"on_success":                             {"id"},
	"on_failure":                             {"id"},
	"on_duration_warning_threshold_exceeded": {"id"},
	"on_streaming_backlog_exceeded":          {"id"},
	"permissions":                            {"user_name", "group_name", "service_principal_name"},
	"grants":                                 {"user_name", "group_name", "service_principal_name"},
}

// identRE matches a field name written as .name in a keyed path; anything
// else (spark_conf keys with dots, tag keys with spaces) is written
// ["name"].
func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// refRE matches a whole-value reference to another job's id.
var refRE = regexp.MustCompile(`^\$\{jobs\.([a-z0-9_-]+)\.id\}$`)

// KeyedPath renders the JSON pointer ptr (relative to settings) as a keyed
// path: "/tasks/3/timeout_seconds" becomes
// `tasks[task_key="ingest"].timeout_seconds` when the fourth task's key is
// "ingest". Elements of keyed arrays without a usable key, and of other
// arrays, are written by index ([3]). The empty pointer gives "".
func KeyedPath(settings map[string]any, ptr string) string {
	return keyedPath(settings, ptr)
}

func keyedPath(root any, ptr string) string {
	if ptr == "" {
		return ""
	}
	var b strings.Builder
	cur := root
	parent := ""
	for _, raw := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		seg := unescapePtr(raw)
		switch c := cur.(type) {
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				b.WriteString("[" + seg + "]")
				cur = nil
				continue
			}
			b.WriteString(elementLabel(parent, c[i], i))
			cur = c[i]
		case map[string]any:
			writeField(&b, seg)
			cur = c[seg]
			parent = seg
		default:
			if _, err := strconv.Atoi(seg); err == nil {
				b.WriteString("[" + seg + "]")
			} else {
				writeField(&b, seg)
			}
			cur = nil
		}
	}
	return b.String()
}

func elementLabel(array string, elem any, i int) string {
	if m, ok := elem.(map[string]any); ok {
		for _, f := range keyedArrays[array] {
			if s, ok := m[f].(string); ok && s != "" {
				return "[" + f + "=" + quote(s) + "]"
			}
		}
	}
	return "[" + strconv.Itoa(i) + "]"
}

func writeField(b *strings.Builder, name string) {
	if isIdent(name) && len(name) <= maxShown {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
		return
	}
	b.WriteString("[" + quote(name) + "]")
}

// maxShown is how much of a key or value a message shows: a 200 KB task
// key is named by its start and its length, once.
const maxShown = 64

// quote is strconv.Quote of s, shortened past maxShown bytes.
func quote(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	return strconv.Quote(cutText(s, maxShown-16)+"...") + fmt.Sprintf(" (%d bytes)", len(s))
}

// shortText is s shortened past maxShown bytes, unquoted (for numbers).
func shortText(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return cutText(s, maxShown-16) + fmt.Sprintf("... (%d characters)", len(s))
}

// cutText is the longest prefix of s of at most n bytes that ends on a
// character boundary.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// jobPath is the keyed path of a job, "jobs.<key>", prefixed to every
// diagnostic about it.
func jobPath(key string) string {
	var b strings.Builder
	b.WriteString("jobs")
	writeField(&b, key)
	return b.String()
}

// joinPath appends a keyed path relative to a job to the job's path.
func joinPath(job, rel string) string {
	switch {
	case rel == "":
		return job
	case rel[0] == '[':
		return job + rel
	}
	return job + "." + rel
}

// References returns the sorted, unique keys of the jobs that j's settings
// refer to with "${jobs.<key>.id}" values.
func (j *Job) References() []string {
	seen := map[string]bool{}
	walkStrings(j.Settings, "", func(_ string, s string) {
		if m := refRE.FindStringSubmatch(s); m != nil {
			seen[m[1]] = true
		}
	})
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// walkStrings calls fn for every string value under v, with its pointer,
// in a deterministic order.
// walkMatching calls fn for each string under v that match accepts, with
// its pointer, in walkStrings's order. Only those pointers are made: the
// walk over a whole job costs no allocation per value.
func walkMatching(v any, match func(string) bool, fn func(ptr, s string)) {
	var segs []string
	var walk func(v any)
	walk = func(v any) {
		switch c := v.(type) {
		case string:
			if match(c) {
				ptr := ""
				if len(segs) > 0 {
					ptr = "/" + strings.Join(segs, "/")
				}
				fn(ptr, c)
			}
		case []any:
			for i, e := range c {
				segs = append(segs, strconv.Itoa(i))
				walk(e)
				segs = segs[:len(segs)-1]
			}
		case map[string]any:
			keys := make([]string, 0, len(c))
			for k := range c {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				segs = append(segs, escapePtr(k))
				walk(c[k])
				segs = segs[:len(segs)-1]
			}
		}
	}
	walk(v)
}

func walkStrings(v any, ptr string, fn func(ptr, s string)) {
	switch c := v.(type) {
	case string:
		fn(ptr, c)
	case []any:
		for i, e := range c {
			walkStrings(e, ptr+"/"+strconv.Itoa(i), fn)
		}
	case map[string]any:
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkStrings(c[k], ptr+"/"+escapePtr(k), fn)
		}
	}
}
