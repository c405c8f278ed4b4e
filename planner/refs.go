package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// refPattern is a reference to another job's id: "${jobs.<key>.id}".
var refPattern = regexp.MustCompile(`\$\{jobs\.([A-Za-z0-9_-]+)\.id\}`)

// substitute returns v with every reference whose key is in ids replaced by
// the id, and calls missing for each reference it leaves in place. A string
// that is exactly one reference under a "job_id" field becomes a number (as
// run_job_task.job_id must be); everywhere else the id is spliced into the
// string as decimal text. v is not modified; unchanged subtrees are shared.
func substitute(v any, field string, ids map[string]int64, missing func(key string)) (any, bool) {
	switch x := v.(type) {
	case string:
		if len(x) < 12 || !strings.Contains(x, "${jobs.") {
			return v, false // v, not x: boxing x again would allocate
		}
		if field == "job_id" {
			if m := refPattern.FindStringSubmatch(x); m != nil && m[0] == x {
				if id, ok := ids[m[1]]; ok {
					return json.Number(strconv.FormatInt(id, 10)), true
				}
				missing(m[1])
				return v, false
			}
		}
		changed := false
		out := refPattern.ReplaceAllStringFunc(x, func(ref string) string {
			k := refPattern.FindStringSubmatch(ref)[1]
			if id, ok := ids[k]; ok {
				changed = true
				return strconv.FormatInt(id, 10)
			}
			missing(k)
			return ref
		})
		return out, changed
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			ne, changed := substitute(e, k, ids, missing)
			if changed {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = ne
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range x {
			ne, changed := substitute(e, field, ids, missing)
			if changed {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = ne
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}

// Resolve replaces the "${jobs.<key>.id}" references left in a request body
// (those of jobs created by the same plan) with their ids. It fails, naming
// the key, when a reference has no id.
func Resolve(body json.RawMessage, ids map[string]int64) (json.RawMessage, error) {
	if !bytes.Contains(body, []byte("${jobs.")) {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("resolving references: request body is not JSON: %w", err)
	}
	r, err := resolveTree(v, ids)
	if err != nil {
		return nil, err
	}
	return marshal(r)
}

// ResolveSettings is Resolve for a settings tree (such as Action.Applied,
// which the lockfile records once the references are known).
func ResolveSettings(settings map[string]any, ids map[string]int64) (map[string]any, error) {
	r, err := resolveTree(settings, ids)
	if err != nil {
		return nil, err
	}
	m, _ := r.(map[string]any)
	return m, nil
}

func resolveTree(v any, ids map[string]int64) (any, error) {
	var missing []string
	r, _ := substitute(v, "", ids, func(k string) { missing = append(missing, k) })
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("reference ${jobs.%s.id} cannot be resolved: no job id is known for %q (its create must succeed first)", missing[0], missing[0])
	}
	return r, nil
}
