package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return dir
}

const oneJob = "jobs:\n  a:\n    name: a\n    tasks: [{task_key: t, notebook_task: {notebook_path: /a}}]\n"

// Files whose top level has neither jobs: nor resources: are other tools'
// (docker-compose, dbt, pre-commit, Helm templates): found in a directory,
// they are skipped and counted; named, or under --strict, they are errors.
func TestNotJobFilesAreSkipped(t *testing.T) {
	writeTree(t, map[string]string{
		"jobs.yaml":               oneJob,
		"docker-compose.yml":      "services:\n  db: {image: postgres}\n",
		"dbt_project.yml":         "name: shop\nversion: '1.0'\nprofile: shop\n",
		".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n",
		"playbook.yml":            "- hosts: all\n  tasks: []\n",
		"chart/templates/cm.yaml": "apiVersion: v1\ndata:\n  {{- toYaml .Values.data | nindent 2 }}\n",
		"empty.yml":               "# nothing yet\n",
		"typo.yml":                "job:\n  b: {name: b}\n",
	})
	ctx := context.Background()
	_, err := Load(ctx, []string{"."})
	var ds Diagnostics
	if !errors.As(err, &ds) || len(ds) != 1 || !strings.Contains(ds[0].Error(), `typo.yml:1:1: job: unknown top-level key "job" (did you mean "jobs"?)`) {
		t.Fatalf("a near miss of jobs: is a job file with a typo: %v", err)
	}
	if err := os.Remove("typo.yml"); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(ctx, []string{"."})
	if err != nil {
		t.Fatal(err)
	}
	wantSkipped := []string{".pre-commit-config.yaml", "chart/templates/cm.yaml", "dbt_project.yml", "docker-compose.yml", "playbook.yml"}
	if !reflect.DeepEqual(cfg.Skipped, wantSkipped) || !reflect.DeepEqual(cfg.Files, []string{"empty.yml", "jobs.yaml"}) || len(cfg.Jobs) != 1 {
		t.Errorf("skipped %v, files %v, %d jobs", cfg.Skipped, cfg.Files, len(cfg.Jobs))
	}
	// Named on the command line, a file is a job file whatever it holds.
	if _, err := Load(ctx, []string{"playbook.yml"}); !errors.As(err, &ds) || !strings.Contains(ds[0].Error(), "expected a mapping with a top-level jobs: key, found a list") {
		t.Errorf("explicit non-job file: %v", err)
	}
	// --strict: every skipped file is an error.
	_, err = LoadWith(ctx, []string{"."}, Options{Strict: true})
	if !errors.As(err, &ds) || len(ds) != len(wantSkipped) || !strings.Contains(ds[0].Error(), "not a job file") {
		t.Errorf("strict: %v", err)
	}
	// A directory of other tools' files only: no job files, and which were skipped.
	_, err = Load(ctx, []string{"chart"})
	var none *NoJobFilesError
	if !errors.As(err, &none) || !strings.Contains(err.Error(), "1 YAML file skipped, as not job files: chart/templates/cm.yaml") {
		t.Errorf("only other files: %v", err)
	}
	// A file that does not parse but starts jobs: is a broken job file.
	if err := os.WriteFile("broken.yml", []byte("jobs:\n  a: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, []string{"."}); !errors.As(err, &ds) || !strings.Contains(ds[0].Error(), "broken.yml:2:3: invalid YAML") {
		t.Errorf("broken job file: %v", err)
	}
}

func TestProjectPaths(t *testing.T) {
	writeTree(t, map[string]string{
		"jobsync.yaml":                     "paths:\n  include: [jobs, 'pipelines/**/*.job.yml']\n  exclude: ['**/scratch', jobs/old.yaml]\n",
		"jobs/a.yaml":                      oneJob,
		"jobs/old.yaml":                    "jobs:\n  old: {name: old}\n",
		"jobs/scratch/s.yaml":              "jobs:\n  s: {name: s}\n",
		"pipelines/x/y/p.job.yml":          "jobs:\n  p:\n    name: p\n    tasks: [{task_key: t, notebook_task: {notebook_path: /p}}]\n",
		"pipelines/x/notes.yml":            "jobs:\n  n: {name: n}\n",
		"tests/fixtures/broken.yml":        "jobs: [\n",
		"other/c.yaml":                     "jobs:\n  c:\n    name: c\n    tasks: [{task_key: t, notebook_task: {notebook_path: /c}}]\n",
		"other/scratch/also-excluded.yaml": "jobs: [\n",
	})
	ctx := context.Background()
	d, err := Discover(Where{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadProject(ctx, d.File)
	if err != nil {
		t.Fatal(err)
	}
	sel, _ := Select(p, "", nil, nil)
	keys := func(cfg *Config) []string {
		var out []string
		for _, j := range cfg.Jobs {
			out = append(out, j.Key)
		}
		return out
	}
	// No path argument: include chooses, exclude leaves out.
	cfg, err := LoadWith(ctx, []string{"."}, Options{Selection: sel, DefaultPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "p"}; !reflect.DeepEqual(keys(cfg), want) {
		t.Errorf("default paths: jobs %v, want %v (files %v)", keys(cfg), want, cfg.Files)
	}
	// A path argument: include does not apply, exclude still does.
	cfg, err = LoadWith(ctx, []string{"other"}, Options{Selection: sel})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c"}; !reflect.DeepEqual(keys(cfg), want) {
		t.Errorf("path argument: jobs %v, want %v", keys(cfg), want)
	}
	// A file named explicitly is read even when excluded.
	cfg, err = LoadWith(ctx, []string{"jobs/old.yaml"}, Options{Selection: sel})
	if err != nil || !reflect.DeepEqual(keys(cfg), []string{"old"}) {
		t.Errorf("explicit excluded file: %v %v", err, cfg)
	}
}

func TestProjectPathsChecked(t *testing.T) {
	for body, want := range map[string]string{
		"paths: [../elsewhere]\n":           `"../elsewhere": a path pattern is relative to the project directory and stays inside it`,
		"paths: {include: ['jobs/[']}\n":    `"jobs/[" is not a valid pattern`,
		"paths: {exclude: [a], other: 1}\n": `unknown field "other"`,
		"paths: jobs\n":                     `expected list or mapping`,
	} {
		writeTree(t, map[string]string{"jobsync.yaml": body})
		_, err := LoadProject(context.Background(), "jobsync.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, rel string
		want         bool
	}{
		{"jobs", "jobs/a.yaml", true},
		{"jobs", "jobs/sub/a.yaml", true},
		{"jobs", "jobs2/a.yaml", false},
		{"*.yml", "a.yml", true},
		{"*.yml", "sub/a.yml", false},
		{"**/*.yml", "a.yml", true},
		{"**/*.yml", "x/y/a.yml", true},
		{"**/scratch", "a/scratch/b.yaml", true},
		{"pipelines/**/*.job.yml", "pipelines/p.job.yml", true},
		{"pipelines/**/*.job.yml", "pipelines/x/p.yml", false},
	} {
		if got := matchGlob(c.pattern, c.rel); got != c.want {
			t.Errorf("matchGlob(%q, %q) = %v", c.pattern, c.rel, got)
		}
	}
}
