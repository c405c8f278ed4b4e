package yamledit

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzApply edits arbitrary YAML: Apply must never panic, and an edit it
// reports as applied must read back as the old document plus the edit (it
// checks that itself; the fuzzer checks that the result parses and that a
// second look finds the value there).
func FuzzApply(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range ar.Files {
			if s.Name == "in.yaml" {
				f.Add(s.Data, "etl", "max_concurrent_runs", `5`, false)
				f.Add(s.Data, "etl", `tasks[task_key="t"].timeout_seconds`, `60`, false)
				f.Add(s.Data, "etl", `tasks[task_key="t"]`, ``, true)
				f.Add(s.Data, "etl", "tags.team", `"x"`, false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, job, path, value string, del bool) {
		if len(src) > 1<<16 {
			return
		}
		steps := fuzzPath(path)
		if steps == nil {
			return
		}
		var v any
		if !del {
			if json.Unmarshal([]byte(value), &v) != nil {
				return
			}
			v = numbers(v)
		}
		e := Edit{Job: job, Path: steps, Delete: del, Value: v}
		res, err := Apply("f.yaml", src, []Edit{e})
		if err != nil || len(res.Applied) == 0 {
			return
		}
		d, err := parse(res.New)
		if err != nil {
			t.Fatalf("applied, but the result does not parse: %v\n%s", err, res.New)
		}
		loc, err := d.findJob(job)
		if err != nil {
			t.Fatalf("applied, but the job is gone: %v\n%s", err, res.New)
		}
		full := append([]elem(nil), loc.path...)
		for _, s := range steps {
			full = append(full, fromStep(s))
		}
		got, ok := lookup(d.values[loc.doc], full)
		if !del && (!ok || !equal(got, escapeVars(v))) {
			t.Fatalf("applied, but %s reads %v (%v), want %v\n%s", e.PathString(), got, ok, v, res.New)
		}
	})
}

func fuzzPath(s string) []Step {
	var out []Step
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return nil
		}
		if i := strings.Index(part, "[task_key=\""); i >= 0 && strings.HasSuffix(part, "\"]") {
			if i > 0 {
				out = append(out, Step{Field: part[:i]})
			}
			out = append(out, Step{KeyField: "task_key", KeyValue: part[i+len("[task_key=\"") : len(part)-2]})
			continue
		}
		out = append(out, Step{Field: part})
	}
	return out
}

// numbers turns float64 from encoding/json into json.Number.
func numbers(v any) any {
	switch x := v.(type) {
	case float64:
		b, _ := json.Marshal(x)
		return json.Number(b)
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}
