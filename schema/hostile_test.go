package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Hostile input: files a pull request can add to a repository that
// `jobsync plan` then reads on the CI runner. Each gets one clear message;
// none hangs the load or takes unbounded memory (the reliability suite
// measures the memory of the same cases with the built binary).

const okJob = "jobs:\n  a:\n    name: a\n    tasks:\n      - task_key: t\n        notebook_task: {notebook_path: /n}\n"

// loadDir loads dir (as given) and returns the diagnostics as printed; a
// load that takes more than 20 s fails (a hang guard, not a timing test).
func loadDir(t *testing.T, paths ...string) ([]string, error) {
	t.Helper()
	type result struct {
		ds  []string
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, err := Load(context.Background(), paths)
		var ds Diagnostics
		if errors.As(err, &ds) {
			out := make([]string, len(ds))
			for i, d := range ds {
				out[i] = d.Error()
			}
			done <- result{ds: out}
			return
		}
		done <- result{err: err}
	}()
	select {
	case r := <-done:
		return r.ds, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("Load %v did not finish within 20 s", paths)
	}
	return nil, nil
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sparse makes a file of size bytes without writing them (Load refuses it
// by its size, before reading).
func sparse(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHostileYAML: YAML that is valid (or nearly) but written to hurt or
// to confuse. Each case expects exactly the problems listed, in order.
func TestHostileYAML(t *testing.T) {
	bomb := func(at string) string {
		var b strings.Builder
		b.WriteString("x-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
		for i := 1; i < 9; i++ {
			b.WriteString("x-" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
			for k := range 9 {
				if k > 0 {
					b.WriteString(", ")
				}
				b.WriteString("*a" + string(rune('0'+i-1)))
			}
			b.WriteString("]\n")
		}
		return b.String() + at
	}
	long := strings.Repeat("k", 200_000)
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"!!binary", map[string]string{"a.yml": job("a", "name: !!binary aGVsbG8=\n")}, []string{
			`a.yml:3:11: jobs.a.name: unsupported YAML tag !!binary: the Jobs API takes text`,
		}},
		{"custom tag", map[string]string{"a.yml": job("a", "name: !secret x\n")}, []string{
			`a.yml:3:11: jobs.a.name: unsupported YAML tag !secret (quote the value to make it a string)`,
		}},
		{"1e400", map[string]string{"a.yml": job("a", "timeout_seconds: 1e400\n")}, []string{
			`a.yml:3:22: jobs.a.timeout_seconds: the number 1e400 is beyond the range of a 64-bit floating-point number`,
		}},
		{"200,000 digits", map[string]string{"a.yml": job("a", "max_concurrent_runs: "+strings.Repeat("9", 200_000)+"\n")}, []string{
			`a.yml:3:26: jobs.a.max_concurrent_runs: the integer 999999999999999999999999999999999999999999999999... (200000 characters) has 200000 digits; the Jobs API's integers have 64 bits`,
		}},
		{"quoted 1e400 is text", map[string]string{"a.yml": job("a", "timeout_seconds: \"1e400\"\n")}, []string{
			`a.yml:3:5: jobs.a.timeout_seconds: expected integer, got string; remove the quotes`,
		}},
		{"beyond int64", map[string]string{"a.yml": job("a", "timeout_seconds: 99999999999999999999999\nmax_concurrent_runs: -9223372036854775809\ntasks:\n  - task_key: t\n    run_job_task: {job_id: 9223372036854775808}\n")}, []string{
			`a.yml:3:5: jobs.a.timeout_seconds: must be at most 2147483647, got 99999999999999999999999`,
			`a.yml:4:5: jobs.a.max_concurrent_runs: must be at least 0, got -9223372036854775809`,
			`a.yml:7:24: jobs.a.tasks[task_key="t"].run_job_task.job_id: must be a job id (integer) or a reference to a job of this configuration, ${jobs.<key>.id}, got 9223372036854775808`,
		}},
		{"200 KB task key", map[string]string{"a.yml": job("a", "tasks:\n  - task_key: "+long+"\n    notebook_task: {notebook_path: /n}\n")}, []string{
			`a.yml:4:9: jobs.a.tasks[task_key="kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk..." (200000 bytes)].task_key: a task key must be 1 to 100 letters, digits, "_" or "-"`,
		}},
		{"200 KB job key", map[string]string{"a.yml": "jobs:\n  " + long + ":\n    name: a\n"}, []string{
			`a.yml:2:3: invalid YAML: a mapping key of 200000 characters; YAML allows at most 1024 in a key written this way`,
		}},
		{"200 KB job key, explicit", map[string]string{"a.yml": "jobs:\n  ? " + long + "\n  : {name: a}\n"}, []string{
			`a.yml:2:5: jobs["kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk..." (200000 bytes)]: the job key is 200000 characters long; a job key has at most 100`,
		}},
		{"12 MB of paths", map[string]string{"a.yml": "x-p: &p " + strings.Repeat("/p", 2<<20) + "\n" + job("a", "tasks:\n  - task_key: t\n    notebook_task: {notebook_path: *p}\n  - task_key: u\n    notebook_task: {notebook_path: *p}\n  - task_key: v\n    notebook_task: {notebook_path: *p}\n")}, []string{
			`jobs.a.tasks[task_key="t"].notebook_task.notebook_path: the job's text adds up to 12.0 MiB (this value alone is 4 MiB); the Jobs API takes requests of at most 10 MiB`,
		}},
		{"one key in two documents", map[string]string{"a.yml": okJob + "---\n" + okJob}, []string{
			`a.yml:9:3: jobs.a: job key "a" is defined twice: here and at a.yml:2:3`,
		}},
		{"keys differing in case, one file", map[string]string{"a.yml": "jobs:\n  etl: {name: a}\n  ETL: {name: b}\n"}, []string{
			`a.yml:3:3: jobs.ETL: invalid job key "ETL": use lower-case letters, digits, "_" and "-"`,
		}},
		{"keys differing in case, two files", map[string]string{"a.yml": "jobs:\n  etl: {name: a}\n", "b.yml": "jobs:\n  Etl: {name: b}\n"}, []string{
			`b.yml:2:3: jobs.Etl: invalid job key "Etl": use lower-case letters, digits, "_" and "-"`,
		}},
		{"billion laughs", map[string]string{"a.yml": bomb(job("a", "tags: *a8\n"))}, []string{
			`a.yml:12:11: jobs.a.tags: alias *a8 expands to more than`,
		}},
		{"billion laughs in a list", map[string]string{"a.yml": bomb(job("a", "tasks:\n  - task_key: t\n    notebook_task: {notebook_path: /n}\n    libraries: *a8\n"))}, []string{
			`a.yml:15:20: jobs.a.tasks[task_key="t"].libraries: alias *a8 expands to more than`,
		}},
		{"billion laughs under an x- key, unused", map[string]string{"a.yml": bomb("x-all: *a8\n" + okJob)}, nil},
		{"billion laughs under an x- key, used", map[string]string{"a.yml": bomb("x-all: &all {tags: *a8}\n" + "jobs:\n  a:\n    <<: *all\n    name: a\n")}, []string{
			`a.yml:13:9: jobs.a: the merge of *all expands to more than`,
		}},
		{"merge keys", map[string]string{"a.yml": "x-base: &base {max_concurrent_runs: 2, name: base}\njobs:\n  a:\n    <<: *base\n    name: a\n    timeout_seconds: x\n"}, []string{
			`a.yml:6:5: jobs.a.timeout_seconds: expected integer, got string`,
		}},
		{"merge of a scalar", map[string]string{"a.yml": "x-s: &s hello\njobs:\n  a:\n    <<: *s\n    name: a\n"}, []string{
			`jobs.a: a merge key (<<) takes a mapping or a list of mappings, not a scalar`,
		}},
		{"raw NUL byte", map[string]string{"a.yml": "jobs:\n  a:\n    name: a\x00b\n"}, []string{
			`a.yml:3:12: a NUL byte: YAML files are text`,
		}},
		{"control character", map[string]string{"a.yml": "jobs:\n  a:\n    name: é\x07\n"}, []string{
			`a.yml:3:12: control character U+0007`,
		}},
		{"invalid UTF-8", map[string]string{"a.yml": "jobs:\n  a:\n    name: ab\xff\xfe\n"}, []string{
			`a.yml:3:13: invalid UTF-8 (byte 0xFF): YAML files are UTF-8 text; save the file as UTF-8`,
		}},
		{"5,000-deep flow mapping", map[string]string{"a.yml": job("a", "tags: "+strings.Repeat("{a: ", 5000)+"1"+strings.Repeat("}", 5000)+"\n")}, []string{
			`a.yml:3:12: jobs.a.tags.a: expected string, got mapping`,
		}},
		{"20,000-deep flow sequence", map[string]string{"a.yml": job("a", "tags: "+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+"\n")}, []string{
			`a.yml:3:5: invalid YAML: exceeded max depth of 10000`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := loadFiles(t, c.files)
			expectDiags(t, diags, c.want)
		})
	}
}

// TestJobCountCap: more jobs than MaxJobs (lowered here) are refused with
// one message, in one file and across files, before the jobs are checked.
func TestJobCountCap(t *testing.T) {
	var one strings.Builder
	one.WriteString("jobs:\n")
	for i := range 6 {
		one.WriteString("  j" + string(rune('a'+i)) + ": {name: x}\n")
	}
	for _, files := range []map[string]string{
		{"a.yml": one.String()},
		{"a.yml": "jobs:\n  a: {name: a}\n  b: {name: b}\n  c: {name: c}\n", "b.yml": "jobs:\n  d: {name: d}\n  e: {name: e}\n  f: {name: f}\n"},
	} {
		dir := t.TempDir()
		for n, body := range files {
			writeFile(t, filepath.Join(dir, n), body)
		}
		_, err := LoadWith(context.Background(), []string{dir}, Options{maxJobs: 5})
		var ds Diagnostics
		if !errors.As(err, &ds) || len(ds) != 1 || !strings.Contains(ds[0].Msg, "jobsync manages at most 5 jobs in one project") {
			t.Errorf("%d files: got %v, want one problem about the job count", len(files), err)
		}
	}
}

func TestLockfileOutsideTheProject(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	for lockfile, want := range map[string]string{
		"/etc/jobsync.lock.json":     `the lockfile "/etc/jobsync.lock.json" is an absolute path`,
		"../jobsync.lock.json":       `the lockfile "../jobsync.lock.json" is outside the project file's directory`,
		"state/../../x.json":         `the lockfile "state/../../x.json" is outside the project file's directory`,
		"linked/state/x.json":        `the lockfile "linked/state/x.json" is in linked, a link to ` + filepath.ToSlash(outside) + ` outside the project file's directory`,
		"state/jobsync.lock.json":    "",
		"./a/../jobsync.x.lock.json": "",
	} {
		writeFile(t, filepath.Join(dir, "jobsync.yaml"), "targets:\n  prod:\n    lockfile: "+lockfile+"\n")
		_, err := LoadProject(context.Background(), filepath.Join(dir, "jobsync.yaml"))
		switch {
		case want == "" && err != nil:
			t.Errorf("lockfile %s: %v", lockfile, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "pass --lockfile")):
			t.Errorf("lockfile %s: got %v, want %q", lockfile, err, want)
		}
	}
}
