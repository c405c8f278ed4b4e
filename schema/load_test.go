package schema

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadScalars(t *testing.T) {
	cfg, diags := loadFiles(t, map[string]string{"a.yml": job("a", `
name: yes
description: 2024-01-01
max_concurrent_runs: 1_000
timeout_seconds: 0x10
tags:
  on: "true"
  2024: x
  no: "off"
tasks:
  - task_key: t
    run_job_task:
      job_id: 9223372036854775807
    notebook_task: ~
`)})
	// notebook_task: null next to run_job_task counts as a second task type
	// (the key is present); everything else is fine.
	expectDiags(t, diags, []string{
		`a.yml:14:9: jobs.a.tasks[task_key="t"].run_job_task: a task runs exactly one thing, but this one sets notebook_task and run_job_task`,
		`a.yml:16:9: jobs.a.tasks[task_key="t"].notebook_task: expected mapping, got null`,
	})
	_ = cfg
}

func TestLoadValues(t *testing.T) {
	cfg, diags := loadFiles(t, map[string]string{"a.yml": job("a", `
name: yes
description: 2024-01-01
max_concurrent_runs: 1_000
timeout_seconds: 0x10
tags:
  on: "true"
  "2024": x
tasks:
  - task_key: t
    run_job_task:
      job_id: 9223372036854775807
`)})
	if diags != nil {
		t.Fatalf("unexpected problems: %v", diags)
	}
	s := cfg.Job("a").Settings
	want := map[string]any{
		"name":                "yes",        // YAML 1.2: yes is a string
		"description":         "2024-01-01", // no timestamp parsing
		"max_concurrent_runs": json.Number("1000"),
		"timeout_seconds":     json.Number("16"),
		"tags":                map[string]any{"on": "true", "2024": "x"},
		"tasks": []any{map[string]any{
			"task_key":     "t",
			"run_job_task": map[string]any{"job_id": json.Number("9223372036854775807")}, // exact, no float64
		}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("settings:\n got %#v\nwant %#v", s, want)
	}
}

func TestLoadPositions(t *testing.T) {
	cfg, diags := loadFiles(t, map[string]string{"sub/a.yaml": `jobs:
  etl:
    name: ETL
    tasks:
      - task_key: ingest
        notebook_task:
          notebook_path: /x
`})
	if diags != nil {
		t.Fatal(diags)
	}
	j := cfg.Job("etl")
	if j.File != "sub/a.yaml" || j.Pos != (Pos{"sub/a.yaml", 2, 3}) {
		t.Errorf("job at %s in %s", j.Pos, j.File)
	}
	for ptr, want := range map[string]Pos{
		"":                                     {"sub/a.yaml", 2, 3},
		"/name":                                {"sub/a.yaml", 3, 5},
		"/tasks":                               {"sub/a.yaml", 4, 5},
		"/tasks/0":                             {"sub/a.yaml", 5, 9},
		"/tasks/0/notebook_task/notebook_path": {"sub/a.yaml", 7, 11},
		"/tasks/0/nothing/here":                {"sub/a.yaml", 5, 9}, // nearest ancestor
	} {
		if got := j.PosOf(ptr); got != want {
			t.Errorf("PosOf(%q) = %s, want %s", ptr, got, want)
		}
	}
	if !reflect.DeepEqual(cfg.Files, []string{"sub/a.yaml"}) {
		t.Errorf("Files = %v", cfg.Files)
	}
}

func TestLoadYAMLProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want []string
	}{
		{"tab in indentation", "jobs:\n  a:\n\tname: x\n", []string{"a.yml:3:1: tab character in indentation"}},
		{"tab after spaces", "jobs:\n  a:\n    name: x\n  \ttags: {}\n", []string{"a.yml:4:3: tab character in indentation"}},
		{"unclosed flow", "jobs:\n  a: [\n", []string{"a.yml:2:3: invalid YAML: did not find expected node content"}},
		{"unterminated quote", "jobs:\n  a:\n    name: 'x\n", []string{"a.yml:3:5: invalid YAML: found unexpected end of stream"}},
		// The parser names the line of the enclosing mapping (2); the
		// offending key is on line 6.
		{"bad indentation far below", "jobs:\n  a:\n    name: x\n    tags: {}\n    max_retries: 1\n   timeout_seconds: 1\n",
			[]string{"a.yml:6:4: invalid YAML: did not find expected key"}},
		{"unclosed flow mapping", "jobs:\n  a:\n    tags: {a: b\n    name: x\n", []string{"a.yml:3:5: invalid YAML: did not find expected ',' or '}'"}},
		{"sequence entry out of line", "jobs:\n  a:\n    tasks:\n      - task_key: a\n     - task_key: b\n",
			[]string{"a.yml:5:6: invalid YAML: did not find expected key"}},
		{"CR line breaks", "jobs:\r  a:\r    name: x\r   tags: {}\r", []string{"a.yml:4:4: invalid YAML: did not find expected key"}},
		{"CRLF line breaks", "jobs:\r\n  a:\r\n    name: x\r\n   tags: {}\r\n", []string{"a.yml:4:4: invalid YAML: did not find expected key"}},
		{"unknown alias after non-ASCII", "jobs:\n  a:\n    tags: {\u00e9t\u00e9: *nope}\n", []string{"a.yml:3:17: alias *nope refers to no anchor"}},
		{"unknown alias", "jobs:\n  a:\n    tags: *common\n", []string{"a.yml:3:11: alias *common refers to no anchor &common written before it"}},
		{"mapping in line 1", "jobs: a: b\n", []string{"a.yml:1:1: invalid YAML: mapping values are not allowed in this context"}},
		{"unknown top-level key", "job:\n  a: {}\n", []string{`a.yml:1:1: job: unknown top-level key "job" (did you mean "jobs"?): a job file has jobs: (or resources: jobs:)`}},
		{"jobs not a map", "jobs: [a]\n", []string{"a.yml:1:7: jobs: jobs must be a mapping of job key to job, found a list"}},
		{"duplicate top-level", "jobs: {}\njobs: {}\n", []string{`a.yml:2:1: jobs: duplicate key "jobs" (first written at line 1)`}},
		{"duplicate job key", "jobs:\n  a: {name: x}\n  a: {name: y}\n", []string{`a.yml:3:3: jobs.a: duplicate job key "a" (first written at line 2)`}},
		{"duplicate nested key", job("a", "name: x\ntasks:\n  - task_key: t\n    task_key: u\n    notebook_task: {notebook_path: /n}\n"),
			[]string{`a.yml:6:9: jobs.a.tasks[task_key="t"].task_key: duplicate key "task_key" (first written at line 5)`}},
		{"invalid job key", "jobs:\n  My Job: {name: x}\n", []string{`a.yml:2:3: jobs["My Job"]: invalid job key "My Job"`}},
		{"custom tag", job("a", "name: !Ref foo\n"), []string{"a.yml:3:11: jobs.a.name: unsupported YAML tag !Ref"}},
		{"leading zero", job("a", "timeout_seconds: 012\n"), []string{"a.yml:3:22: jobs.a.timeout_seconds: ambiguous integer 012"}},
		{"infinity", job("a", "timeout_seconds: .inf\n"), []string{"a.yml:3:22: jobs.a.timeout_seconds: .inf is not a number JSON can carry"}},
		{"big integer", job("a", "timeout_seconds: 123456789012345678901234567890\n"),
			[]string{"a.yml:3:5: jobs.a.timeout_seconds: must be at most 2147483647, got 123456789012345678901234567890"}},
		{"float in integer field", job("a", "timeout_seconds: 1.0\n"), []string{"a.yml:3:5: jobs.a.timeout_seconds: expected integer, got number 1.0"}},
		{"fraction in integer field", job("a", "timeout_seconds: 1.5\n"), []string{"a.yml:3:5: jobs.a.timeout_seconds: expected integer, got number"}},
		{"self alias", "x-a: &a [*a]\njobs: {}\n", nil}, // never expanded: x- keys are not read
		{"self alias used", "jobs:\n  a: &a\n    tags: *a\n", []string{"a.yml:3:11: jobs.a.tags: alias *a refers to a value that contains it"}},
		{"complex key", job("a", "tags:\n  [a]: b\n"), []string{"a.yml:4:7: jobs.a.tags: mapping keys must be plain strings, not a list"}},
		{"null key", job("a", "tags:\n  ~: b\n"), []string{"a.yml:4:7: jobs.a.tags: mapping key is null"}},
		{"merge of a scalar", job("a", "tags:\n  <<: 3\n"), []string{"a.yml:4:11: jobs.a.tags: a merge key (<<) takes a mapping or a list of mappings, not a scalar"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loadFiles(t, map[string]string{"a.yml": tc.file})
			expectDiags(t, diags, tc.want)
		})
	}
}

func TestLoadAliasesAndMerges(t *testing.T) {
	cfg, diags := loadFiles(t, map[string]string{"a.yml": `x-shared:
  cluster: &c
    spark_version: 15.4.x-scala2.12
    num_workers: 2
  mails: &m [a@example.com]
jobs:
  a:
    email_notifications: {on_failure: *m}
    job_clusters:
      - job_cluster_key: main
        new_cluster:
          <<: *c
          num_workers: 4
    tasks:
      - task_key: t
        job_cluster_key: main
        notebook_task: {notebook_path: /n}
`})
	if diags != nil {
		t.Fatal(diags)
	}
	j := cfg.Job("a")
	nc := lookup(j.Settings, "/job_clusters/0/new_cluster")
	want := map[string]any{"spark_version": "15.4.x-scala2.12", "num_workers": json.Number("4")}
	if !reflect.DeepEqual(nc, want) {
		t.Errorf("merged cluster = %#v", nc)
	}
	if got := lookup(j.Settings, "/email_notifications/on_failure/0"); got != "a@example.com" {
		t.Errorf("aliased list = %#v", got)
	}
	// Merged values point at where they are written: the anchor.
	if p := j.PosOf("/job_clusters/0/new_cluster/spark_version"); p.Line != 3 {
		t.Errorf("merged value at %s, want line 3", p)
	}
	if p := j.PosOf("/job_clusters/0/new_cluster/num_workers"); p.Line != 13 {
		t.Errorf("overriding value at %s, want line 13", p)
	}
}

func TestLoadBillionLaughsIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("x-" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for k := 0; k < 10; k++ {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("jobs:\n  a:\n    tags: *a8\n")
	_, diags := loadFiles(t, map[string]string{"a.yml": b.String()})
	// One problem, where the alias is used, and nothing about the values
	// it did not produce.
	expectDiags(t, diags, []string{"a.yml:12:11: jobs.a.tags: alias *a8 expands to more than 12320 values"})
}

func TestLoadFileShapes(t *testing.T) {
	cfg, diags := loadFiles(t, map[string]string{
		"b.yml":            "resources:\n  jobs:\n    b:\n      name: B\n",
		"a.yaml":           "# comments only\n",
		"c.yml":            "jobs:\n",
		"d.yml":            "jobs:\n  d1: {name: D1}\n---\njobs:\n  d2: {name: D2}\n",
		"nested/e.yml":     "jobs:\n  e: {name: E}\n",
		".github/ci.yml":   "on: push\n", // dot directories are skipped
		"notes.txt":        "jobs: nope",
		"nested/.hidden/x": "",
	})
	if diags != nil {
		t.Fatal(diags)
	}
	var keys []string
	for _, j := range cfg.Jobs {
		keys = append(keys, j.Key)
	}
	if want := []string{"b", "d1", "d2", "e"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("jobs = %v, want %v", keys, want)
	}
	if want := []string{"a.yaml", "b.yml", "c.yml", "d.yml", "nested/e.yml"}; !reflect.DeepEqual(cfg.Files, want) {
		t.Errorf("files = %v, want %v", cfg.Files, want)
	}
}

func TestLoadPathArguments(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.MkdirAll("jobs/empty", 0o755)
	os.WriteFile("jobs/a.yml", []byte("jobs:\n  a: {name: A}\n"), 0o644)
	os.WriteFile("single.json.yml.txt", []byte("jobs:\n  s: {name: S}\n"), 0o644)
	ctx := context.Background()

	// A file named explicitly is read whatever its extension; the same
	// file given twice is read once.
	cfg, err := Load(ctx, []string{"jobs", "./jobs/a.yml", "single.json.yml.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"jobs/a.yml", "single.json.yml.txt"}; !reflect.DeepEqual(cfg.Files, want) {
		t.Errorf("files = %v", cfg.Files)
	}
	if _, err := Load(ctx, []string{"missing"}); err == nil || errors.As(err, new(Diagnostics)) || !strings.Contains(err.Error(), "cannot read missing") {
		t.Errorf("missing path: %v", err)
	}
	if _, err := Load(ctx, []string{"jobs/empty"}); err == nil || !strings.Contains(err.Error(), "no job files (*.yml, *.yaml with a top-level jobs: or resources:) in jobs/empty") {
		t.Errorf("empty dir: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Load(cctx, []string{"jobs"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	abs := filepath.Join(dir, "jobs")
	cfg, err = Load(ctx, []string{abs})
	if err != nil || cfg.Files[0] != filepath.ToSlash(filepath.Join(abs, "a.yml")) {
		t.Errorf("absolute path: %v %v", cfg, err)
	}
}

func TestLoadSplitsJobsyncFields(t *testing.T) {
	cfg, diags := loadFiles(t, map[string]string{"a.yml": `jobs:
  a:
    name: A
    permissions:
      - user_name: u@example.com
        permission_level: CAN_VIEW
      - service_principal_name: sp
        permission_level: CAN_MANAGE_RUN
    lifecycle:
      ignore_changes: [schedule, 'tasks[task_key="x"].timeout_seconds']
      prevent_destroy: true
  b:
    name: B
    permissions: []
  c:
    name: C
`})
	if diags != nil {
		t.Fatal(diags)
	}
	a := cfg.Job("a")
	if _, ok := a.Settings["permissions"]; ok {
		t.Error("permissions left in Settings")
	}
	if _, ok := a.Settings["lifecycle"]; ok {
		t.Error("lifecycle left in Settings")
	}
	wantP := []Permission{{UserName: "u@example.com", PermissionLevel: "CAN_VIEW"}, {ServicePrincipalName: "sp", PermissionLevel: "CAN_MANAGE_RUN"}}
	if !reflect.DeepEqual(a.Permissions, wantP) {
		t.Errorf("permissions = %+v", a.Permissions)
	}
	wantL := Lifecycle{IgnoreChanges: []string{"schedule", `tasks[task_key="x"].timeout_seconds`}, PreventDestroy: true}
	if !reflect.DeepEqual(a.Lifecycle, wantL) {
		t.Errorf("lifecycle = %+v", a.Lifecycle)
	}
	if p := cfg.Job("b").Permissions; p == nil || len(p) != 0 {
		t.Errorf("declared empty permissions = %#v, want empty non-nil", p)
	}
	if p := cfg.Job("c").Permissions; p != nil {
		t.Errorf("undeclared permissions = %#v, want nil", p)
	}
	if cfg.Job("zzz") != nil {
		t.Error("Job(unknown) != nil")
	}
}

func TestReferencesAndKeyedPath(t *testing.T) {
	settings := map[string]any{
		"tasks": []any{
			map[string]any{"task_key": "a", "run_job_task": map[string]any{"job_id": "${jobs.z.id}"}},
			map[string]any{"task_key": "b", "run_job_task": map[string]any{"job_id": "${jobs.m.id}"},
				"depends_on": []any{map[string]any{"task_key": "a"}}},
			map[string]any{"notebook_task": map[string]any{"base_parameters": map[string]any{"x": "${jobs.z.id}", "y": "see ${jobs.q.id}"}}},
		},
		"job_clusters":          []any{map[string]any{"job_cluster_key": "c", "new_cluster": map[string]any{"spark_conf": map[string]any{"spark.x/y": "1"}}}},
		"tags":                  map[string]any{"cost center": "1"},
		"parameters":            []any{map[string]any{"name": `we"ird`}},
		"email_notifications":   map[string]any{"on_failure": []any{"a@b"}},
		"webhook_notifications": map[string]any{"on_start": []any{map[string]any{"id": "w1"}}},
	}
	j := NewJob("k", "f.yml", settings, map[string]Pos{"": {"f.yml", 1, 1}})
	if got, want := j.References(), []string{"m", "z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("References = %v, want %v", got, want)
	}
	for ptr, want := range map[string]string{
		"":                               "",
		"/tasks/1/depends_on/0/task_key": `tasks[task_key="b"].depends_on[task_key="a"].task_key`,
		"/tasks/2/notebook_task":         `tasks[2].notebook_task`,
		"/tasks/9":                       `tasks[9]`,
		"/job_clusters/0/new_cluster/spark_conf/spark.x~1y": `job_clusters[job_cluster_key="c"].new_cluster.spark_conf["spark.x/y"]`,
		"/tags/cost center":                 `tags["cost center"]`,
		"/parameters/0/default":             `parameters[name="we\"ird"].default`,
		"/email_notifications/on_failure/0": `email_notifications.on_failure[0]`,
		"/webhook_notifications/on_start/0": `webhook_notifications.on_start[id="w1"]`,
		"/missing/3/x":                      `missing[3].x`,
	} {
		if got := KeyedPath(settings, ptr); got != want {
			t.Errorf("KeyedPath(%q) = %s, want %s", ptr, got, want)
		}
	}
}
