package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as a job file. Load must never
// panic or hang; it returns either a config whose settings are JSON the API
// can take, or Diagnostics that each point at a place in the file (an I/O
// error is tolerated, though the file always exists). The seed corpus is
// every example plus inputs that broke YAML loaders before: tabs, unclosed
// flows, alias bombs, self-referencing anchors, merges, big numbers, odd
// tags, several documents.
func FuzzLoad(f *testing.F) {
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		// The README's first command leaves its state in examples/jobs/.jobsync;
		// the seeds are the files git tracks.
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(examplesDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"---\n---\n",
		"jobs:\n  a:\n\tname: x\n",
		"jobs:\n  a: [1, 2\n",
		"jobs:\n  a:\n    name: 'x\n",
		"jobs:\n  a:\n    name: x\n   tags: {}\n",
		"jobs:\n  a:\n    tags: *nope\n",
		"jobs:\n  a: &a\n    tags: *a\n",
		"x-a: &a [*a]\njobs: {a: {tags: *a}}\n",
		"x-a: &a [x, x, x, x, x, x, x, x, x]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nx-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\njobs: {a: {tags: [*c, *c, *c, *c, *c, *c, *c, *c, *c]}}\n",
		"x-base: &base {max_retries: 1}\njobs:\n  a:\n    tasks:\n      - <<: [*base, {timeout_seconds: 5}]\n        task_key: t\n        notebook_task: {notebook_path: /n}\n",
		"jobs:\n  a:\n    tags: {<<: 3}\n",
		"jobs:\n  a:\n    timeout_seconds: 123456789012345678901234567890\n    max_retries: .nan\n    min_retry_interval_millis: 0x_\n",
		"jobs:\n  a:\n    name: !!binary aGVsbG8=\n    description: !custom x\n    tags: !!set {a, b}\n",
		"jobs:\n  a:\n    ? [complex]\n    : key\n",
		"jobs:\n  a: {name: x}\n  a: {name: y}\n---\njobs:\n  a: {name: z}\n",
		"resources:\n  jobs:\n    a:\n      tasks: [{task_key: t, depends_on: [{task_key: t}], run_job_task: {job_id: '${jobs.a.id}'}}]\n",
		"jobs:\n  a:\n    tasks:\n      - {task_key: a, depends_on: [{task_key: b}], notebook_task: {notebook_path: /n}}\n      - {task_key: b, depends_on: [{task_key: a}], notebook_task: {notebook_path: /n}}\n",
		"jobs:\n  a:\n    schedule: {quartz_cron_expression: '0 0/0 L-32 ? 13 9#6 1969', timezone_id: UTC}\n",
		"jobs:\n  a:\n    lifecycle: {ignore_changes: ['tasks[task_key=\"x\"].timeout_seconds', '', '[']}\n",
		"\ufeffjobs: {}\n",
		"jobs:\n  \"a\\x00\": {name: \"\\u0000\"}\n",
		strings.Repeat("[", 200) + strings.Repeat("]", 200),
		"jobs:\n" + strings.Repeat("  ", 50) + "a: 1\n",
	} {
		f.Add([]byte(s))
	}
	// One file per worker process, rewritten for each input (a worker runs
	// its inputs one at a time): a fresh directory per input would cost
	// more than Load itself.
	path := filepath.Join(f.TempDir(), "f.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(context.Background(), []string{path})
		if err != nil {
			checkFuzzError(t, data, filepath.ToSlash(path), cfg, err)
			return
		}
		checkFuzzConfig(t, cfg)
	})
}

var yamlBreakRE = regexp.MustCompile("\r\n|[\r\n\u0085\u2028\u2029]")

func checkFuzzError(t *testing.T, data []byte, file string, cfg *Config, err error) {
	t.Helper()
	if cfg != nil {
		t.Fatalf("Load returned a config together with an error: %v", err)
	}
	var ds Diagnostics
	if !errors.As(err, &ds) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return // an I/O error
		}
		t.Fatalf("Load error is neither Diagnostics nor an I/O error: %T %v", err, err)
	}
	if len(ds) == 0 {
		t.Fatal("Load returned empty Diagnostics")
	}
	// Lines as YAML counts them; a UTF-16 file (which the parser decodes)
	// has no bound that is simple to count.
	lines := len(yamlBreakRE.FindAllIndex(data, -1)) + 1
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		lines = math.MaxInt
	}
	for _, d := range ds {
		if d.Pos.File != file || d.Pos.Line < 1 || d.Pos.Line > lines || d.Pos.Col < 1 || d.Msg == "" {
			t.Errorf("diagnostic without a proper place or message (file has %d lines): %+v", lines, d)
		}
	}
	if !sort.SliceIsSorted(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	}) {
		t.Errorf("diagnostics are not sorted: %v", ds)
	}
	_ = ds.Error()
}

func checkFuzzConfig(t *testing.T, cfg *Config) {
	t.Helper()
	if !sort.SliceIsSorted(cfg.Jobs, func(i, j int) bool { return cfg.Jobs[i].Key < cfg.Jobs[j].Key }) {
		t.Error("jobs are not sorted by key")
	}
	for _, j := range cfg.Jobs {
		if j.Settings == nil {
			t.Fatalf("job %s has nil settings", j.Key)
		}
		if _, err := json.Marshal(j.Settings); err != nil {
			t.Fatalf("job %s: settings are not JSON: %v", j.Key, err)
		}
		for _, r := range j.References() {
			if cfg.Job(r) == nil {
				t.Errorf("job %s refers to unknown job %s, and Load accepted it", j.Key, r)
			}
		}
		walkPointers(j.Settings, "", func(ptr string) {
			if p := j.PosOf(ptr); p.Line < 1 {
				t.Errorf("job %s: no position for %q", j.Key, ptr)
			}
			_ = KeyedPath(j.Settings, ptr)
		})
	}
}

// walkPointers calls fn with the JSON pointer of every value under v.
func walkPointers(v any, ptr string, fn func(string)) {
	fn(ptr)
	switch c := v.(type) {
	case []any:
		for i, e := range c {
			walkPointers(e, ptr+"/"+strconv.Itoa(i), fn)
		}
	case map[string]any:
		for k, e := range c {
			walkPointers(e, ptr+"/"+escapePtr(k), fn)
		}
	}
}
