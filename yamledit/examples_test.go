package yamledit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestEveryLeafOfTheExamples edits, one at a time, every scalar of every
// job in the repository's example files (written the way Databricks'
// own examples are: comments, flow and block styles, anchors, variables)
// and checks that each edit either lands changing exactly one line, or is
// a decision about a variable or an anchor; never an edit yamledit gets
// wrong. Then it removes each task, and appends a copy of each task under
// a new key.
func TestEveryLeafOfTheExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/jobs/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example files: %v", err)
	}
	total := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		d, err := parse(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range d.values {
			jobs := jobsOf(doc)
			for _, key := range sortedKeys(jobs) {
				job, _ := jobs[key].(map[string]any)
				leaves(job, nil, func(path []Step, v any) {
					total++
					e := Edit{Job: key, Path: path, Value: changed(v)}
					res, err := Apply(file, src, []Edit{e})
					if err != nil {
						t.Fatalf("%s %s: %v", file, e.PathString(), err)
					}
					checkOne(t, file, e, res, src, 1)
				})
				tasks, _ := job["tasks"].([]any)
				for i, tk := range tasks {
					if i >= 6 && i < len(tasks)-1 {
						continue
					}
					tm, _ := tk.(map[string]any)
					tkey, _ := tm["task_key"].(string)
					if tkey == "" || len(tasks) < 2 {
						continue
					}
					step := Step{KeyField: "task_key", KeyValue: tkey}
					del := Edit{Job: key, Path: []Step{{Field: "tasks"}, step}, Delete: true}
					res, err := Apply(file, src, []Edit{del})
					if err != nil {
						t.Fatal(err)
					}
					checkOne(t, file, del, res, src, -1)
					cp := map[string]any{}
					for k, v := range tm {
						cp[k] = v
					}
					cp["task_key"] = tkey + "_copy"
					delete(cp, "depends_on")
					add := Edit{Job: key, Path: []Step{{Field: "tasks"}, {KeyField: "task_key", KeyValue: tkey + "_copy"}}, Value: cp}
					res, err = Apply(file, src, []Edit{add})
					if err != nil {
						t.Fatal(err)
					}
					checkOne(t, file, add, res, src, 0)
				}
			}
		}
	}
	t.Logf("%d leaves", total)
	if total < 150 {
		t.Fatalf("only %d leaves: the examples changed?", total)
	}
}

// checkOne checks the outcome of one edit: applied and changing at most
// maxLines old lines (-1: any number), or a decision about a variable or a
// shared anchor.
func checkOne(t *testing.T, file string, e Edit, res *Result, src []byte, maxLines int) {
	t.Helper()
	if len(res.Decisions) > 0 {
		r := res.Decisions[0].Reason
		if !strings.Contains(r, "${var.") && !strings.Contains(r, "anchor") {
			t.Errorf("%s %s: %s", file, e.PathString(), r)
		}
		return
	}
	if !res.Changed() {
		t.Errorf("%s %s: applied, but the text did not change", file, e.PathString())
		return
	}
	if maxLines < 0 {
		return
	}
	old, new := strings.SplitAfter(string(src), "\n"), strings.SplitAfter(string(res.New), "\n")
	oldSet := map[string]int{}
	for _, l := range old {
		oldSet[l]++
	}
	gone := 0
	for _, l := range new {
		if oldSet[l] > 0 {
			oldSet[l]--
		}
	}
	for _, n := range oldSet {
		gone += n
	}
	if gone > maxLines {
		t.Errorf("%s %s: %d old lines changed, want at most %d:\n%s", file, e.PathString(), gone, maxLines, res.New)
	}
}

func jobsOf(doc any) map[string]any {
	m, _ := doc.(map[string]any)
	if j, ok := m["jobs"].(map[string]any); ok {
		return j
	}
	r, _ := m["resources"].(map[string]any)
	j, _ := r["jobs"].(map[string]any)
	return j
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keyFields name the elements of the keyed lists of a job.
var keyFields = []string{"task_key", "job_cluster_key", "environment_key", "name"}

// leaves calls fn with the path of every scalar under v that a keyed path
// can name (elements of keyed lists by their key; other lists are left
// out).
func leaves(v any, path []Step, fn func([]Step, any)) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if k == "permissions" || k == "lifecycle" {
				continue
			}
			leaves(x[k], append(append([]Step(nil), path...), Step{Field: k}), fn)
		}
	case []any:
		for i, e := range x {
			if i >= 6 && i < len(x)-1 {
				continue // a generated file's hundred tasks: the first few and the last
			}
			m, ok := e.(map[string]any)
			if !ok {
				return
			}
			kf := ""
			for _, f := range keyFields {
				if s, ok := m[f].(string); ok && s != "" {
					kf = f
					break
				}
			}
			if kf == "" {
				return
			}
			step := Step{KeyField: kf, KeyValue: m[kf].(string)}
			for _, k := range sortedKeys(m) {
				if k == kf {
					continue
				}
				leaves(m[k], append(append([]Step(nil), path...), step, Step{Field: k}), fn)
			}
		}
	default:
		fn(path, v)
	}
}

func changed(v any) any {
	switch x := v.(type) {
	case string:
		return x + "_x"
	case bool:
		return !x
	case json.Number:
		return json.Number(string(x) + "1")
	}
	return "x"
}
