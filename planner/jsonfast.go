package planner

import (
	"encoding/json"
	"unicode/utf8"
)

// A plan of 10,000 listed jobs decodes every job's settings, and the
// lockfile's record of each, from JSON; with encoding/json that was more
// than half of the planning CPU. jsonScanner reads the same documents into
// the same trees (map[string]any, []any, string, json.Number, bool, nil,
// as a json.Decoder with UseNumber makes them) a few times faster. It
// handles what the workspace and the lockfile write; for anything else it
// gives up and the caller uses encoding/json, whose answers (and error
// messages) stay the reference: a string with escapes is unquoted by
// encoding/json, a syntax error makes the caller decode the document with
// encoding/json.

// decodeObject decodes data, one JSON object, as a json.Decoder with
// UseNumber decoding into a map[string]any would. ok is false when the
// caller must use encoding/json instead (invalid JSON, not an object, or
// anything this scanner leaves to it).
func decodeObject(data []byte) (m map[string]any, ok bool) {
	return decodeObjectWith(data, nil)
}

// decodeObjectWith is decodeObject sharing the short strings it reads
// through texts (nil: none): a plan decodes 10,000 jobs whose values are
// mostly the same few ("UTC", a node type, a cluster key), and a string
// allocated per value was a third of decoding.
func decodeObjectWith(data []byte, texts *textCache) (m map[string]any, ok bool) {
	s := jsonScanner{data: data, texts: texts}
	if texts != nil {
		// The stacks are empty between values (each object and array
		// clears what it used; a failed read leaves its entries, cleared
		// here): the next decode reuses them.
		s.stack, s.keys = texts.stack[:0], texts.keys[:0]
		defer func() {
			clear(s.stack)
			clear(s.keys)
			texts.stack, texts.keys = s.stack[:0], s.keys[:0]
		}()
	}
	s.space()
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return nil, false
	}
	v, ok := s.value()
	if !ok {
		return nil, false
	}
	// A json.Decoder reads one value and leaves the rest to the next
	// Decode; only whitespace follows a list item's settings, but anything
	// else is left to encoding/json.
	s.space()
	if s.i != len(s.data) {
		return nil, false
	}
	m, _ = v.(map[string]any)
	return m, true
}

type jsonScanner struct {
	data []byte
	i    int
	// stack holds the entries of the objects and arrays being read, so
	// that each map and slice is made once at its final size.
	stack []any
	keys  []string
	texts *textCache
	// spans are the keys of the objects equal is reading.
	spans [][2]int
}

// textCache holds strings read before, to hand out again.
type textCache struct {
	m map[string]any // each a string
	// stack and keys are jsonScanner's, kept for the next decode.
	stack []any
	keys  []string
}

// maxCachedText and maxCachedTexts bound what a textCache keeps: short
// strings (the repeated ones), up to a number (unique paths and names
// would otherwise fill it with what never comes again).
const (
	maxCachedText  = 48
	maxCachedTexts = 1 << 14
)

func (c *textCache) text(b []byte) string {
	if c == nil || len(b) > maxCachedText {
		return string(b)
	}
	return c.value(b).(string)
}

// value is text as an interface value, made once: a string put in an any
// is copied to the heap each time, and most of a job's values are
// strings.
func (c *textCache) value(b []byte) any {
	if c == nil || len(b) > maxCachedText {
		return string(b)
	}
	if v, ok := c.m[string(b)]; ok {
		return v
	}
	var v any = string(b)
	if c.m == nil {
		c.m = make(map[string]any, 256)
	}
	if len(c.m) < maxCachedTexts {
		c.m[v.(string)] = v
	}
	return v
}

func (s *jsonScanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) value() (any, bool) {
	if s.i >= len(s.data) {
		return nil, false
	}
	switch c := s.data[s.i]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		start, end, plain, ok := s.strSpan()
		switch {
		case !ok:
			return nil, false
		case plain:
			return s.texts.value(s.data[start:end]), true
		}
		return s.unquote(start-1, end+1)
	case c == 't':
		return true, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return nil, s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return nil, false
}

func (s *jsonScanner) literal(word string) bool {
	if len(s.data)-s.i < len(word) || string(s.data[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

func (s *jsonScanner) object() (any, bool) {
	s.i++ // {
	base := len(s.stack)
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return map[string]any{}, true
	}
	for {
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return nil, false
		}
		k, ok := s.key()
		if !ok {
			return nil, false
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return nil, false
		}
		s.i++
		s.space()
		v, ok := s.value()
		if !ok {
			return nil, false
		}
		s.keys = append(s.keys, k)
		s.stack = append(s.stack, v)
		s.space()
		if s.i >= len(s.data) {
			return nil, false
		}
		if s.data[s.i] == ',' {
			s.i++
			continue
		}
		if s.data[s.i] != '}' {
			return nil, false
		}
		s.i++
		break
	}
	n := len(s.stack) - base
	m := make(map[string]any, n)
	keys := s.keys[len(s.keys)-n:]
	for j, v := range s.stack[base:] {
		m[keys[j]] = v // a repeated key: the last one wins, as in encoding/json
	}
	clear(s.stack[base:])
	s.stack = s.stack[:base]
	s.keys = s.keys[:len(s.keys)-n]
	return m, true
}

func (s *jsonScanner) array() (any, bool) {
	s.i++ // [
	base := len(s.stack)
	s.space()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return []any{}, true
	}
	for {
		s.space()
		v, ok := s.value()
		if !ok {
			return nil, false
		}
		s.stack = append(s.stack, v)
		s.space()
		if s.i >= len(s.data) {
			return nil, false
		}
		if s.data[s.i] == ',' {
			s.i++
			continue
		}
		if s.data[s.i] != ']' {
			return nil, false
		}
		s.i++
		break
	}
	out := make([]any, len(s.stack)-base)
	copy(out, s.stack[base:])
	clear(s.stack[base:])
	s.stack = s.stack[:base]
	return out, true
}

// commonKeys are field names of job settings, shared by every tree that
// holds them instead of being allocated once per object.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"name", "tags", "tasks", "task_key", "depends_on", "job_cluster_key", "job_clusters", "new_cluster",
		"notebook_task", "notebook_path", "base_parameters", "source", "spark_python_task", "python_file",
		"parameters", "libraries", "pypi", "package", "whl", "jar", "maven", "timeout_seconds", "max_retries",
		"min_retry_interval_millis", "retry_on_timeout", "run_if", "email_notifications", "on_failure",
		"on_success", "on_start", "no_alert_for_skipped_runs", "webhook_notifications", "notification_settings",
		"schedule", "quartz_cron_expression", "timezone_id", "pause_status", "max_concurrent_runs", "format",
		"queue", "enabled", "run_as", "user_name", "service_principal_name", "spark_version", "node_type_id",
		"num_workers", "spark_conf", "spark_env_vars", "custom_tags", "aws_attributes", "azure_attributes",
		"gcp_attributes", "autoscale", "min_workers", "max_workers", "data_security_mode", "runtime_engine",
		"enable_elastic_disk", "policy_id", "driver_node_type_id", "edit_mode", "deployment", "kind",
		"description", "environments", "environment_key", "spec", "client", "dependencies", "git_source",
		"health", "rules", "metric", "op", "value", "trigger", "continuous", "existing_cluster_id",
		"sql_task", "warehouse_id", "file", "path", "query", "query_id", "run_job_task", "job_id",
		"python_wheel_task", "package_name", "entry_point", "named_parameters", "condition_task", "left",
		"right", "for_each_task", "inputs", "task", "concurrency", "dbt_task", "commands", "pipeline_task",
		"pipeline_id", "full_refresh", "spark_jar_task", "main_class_name", "spark_submit_task",
		"performance_target", "budget_policy_id", "usage_policy_id", "default", "availability",
		"zone_id", "first_on_demand", "spot_bid_price_percent", "ebs_volume_count", "ebs_volume_type",
		"ebs_volume_size", "init_scripts", "workspace", "destination", "volumes", "cluster_log_conf",
		"single_user_name", "disable_auto_optimization", "environment_version", "outcome",
	} {
		m[k] = k
	}
	return m
}()

func (s *jsonScanner) key() (string, bool) {
	start, end, plain, ok := s.strSpan()
	if !ok {
		return "", false
	}
	if plain {
		if k, ok := commonKeys[string(s.data[start:end])]; ok {
			return k, true
		}
		return s.texts.text(s.data[start:end]), true
	}
	return s.unquote(start-1, end+1)
}

func (s *jsonScanner) str() (string, bool) {
	start, end, plain, ok := s.strSpan()
	if !ok {
		return "", false
	}
	if plain {
		return s.texts.text(s.data[start:end]), true
	}
	return s.unquote(start-1, end+1)
}

// unquote leaves a string with escapes or bytes that are not UTF-8 to
// encoding/json, which decides how they read.
func (s *jsonScanner) unquote(from, to int) (string, bool) {
	var out string
	if err := json.Unmarshal(s.data[from:to], &out); err != nil {
		return "", false
	}
	return out, true
}

// strSpan reads a string token at s.i (a '"'), checking it as JSON does,
// and returns the bounds of its content; plain says it has no escape and
// is valid UTF-8, so its bytes are its text.
// plainASCII is the bytes a JSON string holds as they are: printable
// ASCII but the quote and the backslash. (Built once; never modified.)
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *jsonScanner) strSpan() (start, end int, plain, ok bool) {
	s.i++ // "
	start = s.i
	plain = true
	ascii := true
	for s.i < len(s.data) {
		// Most of a string is a run of printable ASCII: one load and one
		// test a byte.
		for s.i < len(s.data) && plainASCII[s.data[s.i]] {
			s.i++
		}
		if s.i >= len(s.data) {
			break
		}
		c := s.data[s.i]
		switch {
		case c == '"':
			end = s.i
			s.i++
			if plain && !ascii && !utf8.Valid(s.data[start:end]) {
				plain = false
			}
			return start, end, plain, true
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.data) {
				return 0, 0, false, false
			}
			switch s.data[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.data)-s.i < 5 {
					return 0, 0, false, false
				}
				for _, h := range s.data[s.i+1 : s.i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return 0, 0, false, false
					}
				}
				s.i += 5
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		default:
			if c >= 0x80 {
				ascii = false
			}
			s.i++
		}
	}
	return 0, 0, false, false
}

func (s *jsonScanner) number() (any, bool) {
	start := s.i
	if s.data[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i >= len(s.data) {
		return nil, false
	}
	if s.data[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, false
	}
	if s.i < len(s.data) && s.data[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if s.i < len(s.data) && (s.data[s.i] == 'e' || s.data[s.i] == 'E') {
		s.i++
		if s.i < len(s.data) && (s.data[s.i] == '+' || s.data[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	return json.Number(s.data[start:s.i]), true
}

// skip passes over one value, checking its syntax.
func (s *jsonScanner) skip() bool {
	if s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.i++
		s.space()
		if s.i < len(s.data) && s.data[s.i] == closer {
			s.i++
			return true
		}
		for {
			s.space()
			if c == '{' {
				if s.i >= len(s.data) || s.data[s.i] != '"' {
					return false
				}
				if _, _, _, ok := s.strSpan(); !ok {
					return false
				}
				s.space()
				if s.i >= len(s.data) || s.data[s.i] != ':' {
					return false
				}
				s.i++
				s.space()
			}
			if !s.skip() {
				return false
			}
			s.space()
			if s.i >= len(s.data) {
				return false
			}
			if s.data[s.i] == ',' {
				s.i++
				continue
			}
			if s.data[s.i] != closer {
				return false
			}
			s.i++
			return true
		}
	case c == '"':
		_, _, _, ok := s.strSpan()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, ok := s.number()
		return ok
	}
	return false
}

// member finds the value of key in the object at s.i, which it passes
// over whole (checking its syntax): the bounds of the last such member's
// value, as encoding/json keeps the last of repeated keys. found is false
// when there is none; ok is false when the caller must use encoding/json
// (a key with escapes could be key, invalid syntax).
func (s *jsonScanner) member(key string) (from, to int, found, ok bool) {
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return 0, 0, false, false
	}
	s.i++
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return 0, 0, false, true
	}
	for {
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return 0, 0, false, false
		}
		ks, ke, plain, ok := s.strSpan()
		if !ok || !plain {
			return 0, 0, false, false
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return 0, 0, false, false
		}
		s.i++
		s.space()
		vs := s.i
		if !s.skip() {
			return 0, 0, false, false
		}
		if string(s.data[ks:ke]) == key {
			from, to, found = vs, s.i, true
		}
		s.space()
		if s.i >= len(s.data) {
			return 0, 0, false, false
		}
		if s.data[s.i] == ',' {
			s.i++
			continue
		}
		if s.data[s.i] != '}' {
			return 0, 0, false, false
		}
		s.i++
		return from, to, found, true
	}
}

// ownerTagOf is the value of the ownership tag in settings as JSON, as
// ownerTag reads it from the tree ("" when there is none, or when it is
// not a string); ok is false when the caller must use encoding/json.
func ownerTagOf(data []byte) (tag string, ok bool) {
	s := jsonScanner{data: data}
	s.space()
	from, to, found, ok := s.member("tags")
	if !ok {
		return "", false
	}
	s.space()
	if s.i != len(s.data) {
		return "", false
	}
	if !found {
		return "", true
	}
	t := jsonScanner{data: data[:to], i: from}
	if t.data[t.i] != '{' {
		return "", true // tags that are not an object hold no tag
	}
	from, to, found, ok = t.member(OwnerTagKey)
	if !ok {
		return "", false
	}
	if !found || data[from] != '"' {
		return "", true
	}
	v := jsonScanner{data: data[:to], i: from}
	str, ok := v.str()
	return str, ok
}

// equalJSON says whether data, one JSON document, decodes (as
// decodeObject would) to a tree deepEqual to v, without making the tree. A
// no-change plan compares every lockfile record with the settings it
// would record again; decoding each record only to find it equal was a
// fifth of planning. false means "not known to be equal": a string with
// escapes, a repeated key or a value of a type decoding never makes all
// answer false, and the caller compares the slow way.
func equalJSON(data []byte, v any) bool {
	s := jsonScanner{data: data}
	s.space()
	if !s.equal(v) {
		return false
	}
	s.space()
	return s.i == len(s.data)
}

func (s *jsonScanner) equal(v any) bool {
	if s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '{':
		m, ok := v.(map[string]any)
		return ok && s.equalObject(m)
	case c == '[':
		a, ok := v.([]any)
		return ok && s.equalArray(a)
	case c == '"':
		str, ok := v.(string)
		if !ok {
			return false
		}
		start, end, plain, ok := s.strSpan()
		return ok && plain && string(s.data[start:end]) == str
	case c == 't':
		b, ok := v.(bool)
		return ok && b && s.literal("true")
	case c == 'f':
		b, ok := v.(bool)
		return ok && !b && s.literal("false")
	case c == 'n':
		return v == nil && s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		start := s.i
		if _, ok := s.number(); !ok {
			return false
		}
		return string(s.data[start:s.i]) == string(n)
	}
	return false
}

func (s *jsonScanner) equalObject(m map[string]any) bool {
	s.i++ // {
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return len(m) == 0
	}
	// The members read are m's keys only if there are len(m) of them
	// and none is repeated (decoding keeps the last of repeated keys, so
	// {"a":1,"a":1} is not {"a":1,"b":2}); spans holds this object's.
	base := len(s.spans)
	defer func() { s.spans = s.spans[:base] }()
	for {
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return false
		}
		ks, ke, plain, ok := s.strSpan()
		if !ok || !plain {
			return false
		}
		w, ok := m[string(s.data[ks:ke])]
		if !ok {
			return false
		}
		for _, sp := range s.spans[base:] {
			if string(s.data[sp[0]:sp[1]]) == string(s.data[ks:ke]) {
				return false
			}
		}
		s.spans = append(s.spans, [2]int{ks, ke})
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		if !s.equal(w) {
			return false
		}
		s.space()
		if s.i >= len(s.data) {
			return false
		}
		if s.data[s.i] == ',' {
			s.i++
			continue
		}
		if s.data[s.i] != '}' {
			return false
		}
		s.i++
		return len(s.spans)-base == len(m)
	}
}

func (s *jsonScanner) equalArray(a []any) bool {
	s.i++ // [
	s.space()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return len(a) == 0
	}
	n := 0
	for {
		s.space()
		if n >= len(a) || !s.equal(a[n]) {
			return false
		}
		n++
		s.space()
		if s.i >= len(s.data) {
			return false
		}
		if s.data[s.i] == ',' {
			s.i++
			continue
		}
		if s.data[s.i] != ']' {
			return false
		}
		s.i++
		return n == len(a)
	}
}
