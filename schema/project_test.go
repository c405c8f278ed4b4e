package schema

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadProject writes files into a fresh directory, changes into it, and
// loads "." with the project file found there, target and --var values as
// given and env as JOBSYNC_VAR_ values. It returns the config, or the
// problems as printed, or the error of Select.
func loadProject(t *testing.T, files map[string]string, target string, vars map[string]string, env map[string]string) (*Config, []string, error) {
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
	ctx := context.Background()
	lines := func(err error) []string {
		var ds Diagnostics
		if !errors.As(err, &ds) {
			t.Fatalf("want Diagnostics, got %T: %v", err, err)
		}
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.Error()
		}
		return out
	}
	d, err := Discover(Where{Paths: []string{"."}})
	if err != nil {
		return nil, nil, err
	}
	var p *Project
	if d.File != "" {
		if p, err = LoadProject(ctx, d.File); err != nil {
			return nil, lines(err), nil
		}
	}
	sel, err := Select(p, target, vars, func(k string) string { return env[k] })
	var ds Diagnostics
	if errors.As(err, &ds) {
		return nil, lines(err), nil
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, err := LoadWith(ctx, []string{"."}, Options{Selection: sel})
	if err != nil {
		return nil, lines(err), nil
	}
	return cfg, nil, nil
}

func mustProject(t *testing.T, files map[string]string, target string, vars, env map[string]string) *Config {
	t.Helper()
	cfg, diags, err := loadProject(t, files, target, vars, env)
	if err != nil || diags != nil {
		t.Fatalf("load: %v\n%s", err, strings.Join(diags, "\n"))
	}
	return cfg
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name string) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(w Where, wantFile, wantDir string) {
		t.Helper()
		d, err := Discover(w)
		if err != nil || filepath.ToSlash(d.File) != wantFile || filepath.ToSlash(d.Dir) != wantDir {
			t.Errorf("Discover(%+v) = %+v, %v; want file %q in %q", w, d, err, wantFile, wantDir)
		}
	}
	check(Where{}, "", ".")
	write("repo/jobs/a.yaml")
	write("repo/jobs/sub/b.yaml")
	write("repo/other/c.yaml")
	t.Chdir("repo")
	check(Where{Paths: []string{"jobs"}}, "", ".")
	// Outside a repository only the directory itself is searched.
	write("jobsync.yaml")
	check(Where{Paths: []string{"jobs"}}, "jobsync.yaml", ".") // not in the path: the current directory's
	t.Chdir("jobs/sub")
	check(Where{}, "", ".")
	t.Chdir("../..")
	// Inside one, the parents up to its root.
	if err := os.Mkdir(".git", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir("jobs/sub")
	check(Where{}, "../../jobsync.yaml", "../..")
	check(Where{Paths: []string{"b.yaml"}}, "../../jobsync.yaml", "../..")
	t.Chdir("../..")
	write("jobs/jobsync.yml")
	check(Where{Paths: []string{"jobs/sub/b.yaml"}}, "jobs/jobsync.yml", "jobs") // a file: from its directory up
	check(Where{Paths: []string{"other"}}, "jobsync.yaml", ".")
	// A named directory is the project, with or without a project file;
	// the paths still come first.
	check(Where{Dir: "jobs", DirFrom: "-C"}, "jobs/jobsync.yml", "jobs")
	check(Where{Dir: "other", DirFrom: "-C"}, "", "other")
	check(Where{Paths: []string{"jobs"}, Dir: "other", DirFrom: "-C"}, "jobs/jobsync.yml", "jobs")
	if _, err := Discover(Where{Dir: "nope", DirFrom: "JOBSYNC_PROJECT_DIR"}); err == nil || err.Error() != "JOBSYNC_PROJECT_DIR nope: not a directory" {
		t.Errorf("a missing named directory: got %v", err)
	}
	write("jobs/jobsync.yaml")
	if _, err := Discover(Where{Paths: []string{"jobs"}}); err == nil || !strings.Contains(err.Error(), "both project files") {
		t.Errorf("two project files side by side: want an error, got %v", err)
	}
}

func TestDiscoverBundleAndProject(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"databricks.yml", "jobsync.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := append([]projectFile{{"databricks.yml", KindBundle}}, projectFiles...)
	_, err := findIn(dir, names)
	if err == nil || !strings.Contains(err.Error(), "is an Asset Bundle and") || !strings.Contains(err.Error(), "remove jobsync.yaml") {
		t.Errorf("a bundle beside jobsync.yaml: got %v", err)
	}
}

const etlJob = `jobs:
  etl:
    name: etl into ${var.catalog}
    max_concurrent_runs: ${var.runs}
    email_notifications:
      on_failure: ${var.notify}
    schedule:
      quartz_cron_expression: "0 0 2 * * ?"
      timezone_id: UTC
    job_clusters:
      - job_cluster_key: shared
        new_cluster:
          spark_version: 15.4.x-scala2.12
          node_type_id: i3.xlarge
          num_workers: 8
          spark_conf: {spark.speculation: "true"}
    tasks:
      - task_key: ingest
        job_cluster_key: shared
        libraries: [{pypi: {package: a}}, {pypi: {package: b}}]
        notebook_task:
          notebook_path: /etl/ingest
          base_parameters:
            catalog: ${var.catalog}
            path: /data/${var.catalog}/${var.runs}/in
            literal: $${var.catalog}
            ref: ${jobs.etl.id} and more
      - task_key: report
        depends_on: [{task_key: ingest}]
        job_cluster_key: shared
        notebook_task: {notebook_path: /etl/report}
`

const etlProject = `project: analytics
variables:
  catalog:
    description: where the jobs write
    default: dev
  runs:
    default: 1
  notify:
    type: list
    default: [dev@example.com]
targets:
  dev:
    default: true
    pause_triggers: true
    name_prefix: "[dev] "
  prod:
    workspace: {host: https://prod.example.com}
    lockfile: locks/prod.json
    variables:
      catalog: main
      runs: 4
    overrides:
      all_jobs:
        tags: {env: prod}
        timeout_seconds: 3600
      jobs:
        etl:
          job_clusters:
            - job_cluster_key: shared
              new_cluster:
                node_type_id: i3.2xlarge
                spark_conf: null
            - job_cluster_key: extra
              new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}
          tasks:
            - task_key: ingest
              libraries: [{pypi: {package: c}}]
            - task_key: publish
              depends_on: [{task_key: report}]
              job_cluster_key: extra
              notebook_task: {notebook_path: /etl/publish}
          schedule: null
`

// TestVariables: whole values keep their type, text inside a longer string,
// the escape, and precedence --var > JOBSYNC_VAR_ > target > default.
func TestVariables(t *testing.T) {
	files := map[string]string{"jobsync.yaml": etlProject, "jobs.yaml": etlJob}
	cfg := mustProject(t, files, "", nil, nil) // the default target: dev
	etl := cfg.Job("etl")
	if cfg.Selection.Target == nil || cfg.Selection.Target.Name != "dev" {
		t.Fatalf("default target: got %+v", cfg.Selection.Target)
	}
	for ptr, want := range map[string]string{
		"/name":                           `"[dev] etl into dev"`,
		"/max_concurrent_runs":            `1`,
		"/email_notifications/on_failure": `["dev@example.com"]`,
		"/tasks/0/notebook_task/base_parameters/path":    `"/data/dev/1/in"`,
		"/tasks/0/notebook_task/base_parameters/literal": `"${var.catalog}"`,
		"/tasks/0/notebook_task/base_parameters/ref":     `"${jobs.etl.id} and more"`,
		"/schedule/pause_status":                         `"PAUSED"`,
	} {
		if got := jsonOf(t, lookup(etl.Settings, ptr)); got != want {
			t.Errorf("%s = %s, want %s", ptr, got, want)
		}
	}
	// Substituted values keep the position of the string they replace.
	if got := etl.PosOf("/max_concurrent_runs").String(); got != "jobs.yaml:4:5" {
		t.Errorf("position of max_concurrent_runs: %s", got)
	}
	if got := etl.PosOf("/schedule/pause_status").String(); got != "jobsync.yaml:14:5" {
		t.Errorf("position of the paused status: %s", got)
	}

	cfg = mustProject(t, files, "prod", map[string]string{"runs": "9"}, map[string]string{"JOBSYNC_VAR_runs": "7", "JOBSYNC_VAR_catalog": "from_env"})
	etl = cfg.Job("etl")
	if got := jsonOf(t, etl.Settings["max_concurrent_runs"]); got != "9" {
		t.Errorf("--var wins: max_concurrent_runs = %s", got)
	}
	if got := etl.Settings["name"]; got != "etl into from_env" {
		t.Errorf("JOBSYNC_VAR_ wins over the target: name = %v", got)
	}
	vals := cfg.Selection.Values
	if vals["runs"].From != "--var" || vals["catalog"].From != "JOBSYNC_VAR_catalog" || vals["notify"].From != "default" {
		t.Errorf("sources: %+v", vals)
	}
	cfg = mustProject(t, files, "prod", nil, nil)
	if got := cfg.Job("etl").Settings["name"]; got != "etl into main" {
		t.Errorf("target value: name = %v", got)
	}
}

// TestOverrides pins every merge rule on one job.
func TestOverrides(t *testing.T) {
	cfg := mustProject(t, map[string]string{"jobsync.yaml": etlProject, "jobs.yaml": etlJob}, "prod", nil, nil)
	etl := cfg.Job("etl")
	s := etl.Settings
	for ptr, want := range map[string]string{
		// all_jobs adds fields the job lacks.
		"/tags":            `{"env":"prod"}`,
		"/timeout_seconds": `3600`,
		// Mappings merge recursively; null removes a field.
		"/job_clusters/0/new_cluster": `{"node_type_id":"i3.2xlarge","num_workers":8,"spark_version":"15.4.x-scala2.12"}`,
		// Keyed arrays merge by key; unknown keys are appended.
		"/job_clusters/1/job_cluster_key": `"extra"`,
		"/tasks/2/task_key":               `"publish"`,
		"/tasks/1/task_key":               `"report"`,
		// Other lists are replaced whole.
		"/tasks/0/libraries": `[{"pypi":{"package":"c"}}]`,
		// The rest of a merged element stays.
		"/tasks/0/notebook_task/notebook_path": `"/etl/ingest"`,
		// null removes a field.
		"/schedule": `null`,
	} {
		if got := jsonOf(t, lookup(s, ptr)); got != want {
			t.Errorf("%s = %s, want %s", ptr, got, want)
		}
	}
	if _, ok := s["schedule"]; ok {
		t.Errorf("schedule: null should remove the schedule")
	}
	// Positions: merged values point into jobsync.yaml, the rest stays.
	for ptr, want := range map[string]string{
		"/tags/env": "jobsync.yaml:24:16",
		"/job_clusters/0/new_cluster/node_type_id": "jobsync.yaml:31:17",
		"/tasks/2/notebook_task/notebook_path":     "jobsync.yaml:41:31",
		"/tasks/0/libraries/0":                     "jobsync.yaml:37:27",
		"/tasks/1/task_key":                        "jobs.yaml:28:9",
		"/name":                                    "jobs.yaml:3:5",
	} {
		if got := etl.PosOf(ptr).String(); got != want {
			t.Errorf("position of %s: %s, want %s", ptr, got, want)
		}
	}
}

func TestOverrideRules(t *testing.T) {
	// num_workers: the prod override leaves it; the job writes 8.
	cfg := mustProject(t, map[string]string{"jobsync.yaml": etlProject, "jobs.yaml": strings.Replace(etlJob, "num_workers: 8", "num_workers: 4", 1)}, "prod", nil, nil)
	if got := jsonOf(t, lookup(cfg.Job("etl").Settings, "/job_clusters/0/new_cluster/num_workers")); got != "4" {
		t.Errorf("num_workers = %s", got)
	}
	// The base configuration (no target): nothing merged, project name kept.
	proj := strings.Replace(etlProject, "    default: true\n", "", 1)
	cfg = mustProject(t, map[string]string{"jobsync.yaml": proj, "jobs.yaml": etlJob}, "", nil, nil)
	if cfg.Selection.Target != nil || cfg.Job("etl").Settings["name"] != "etl into dev" || cfg.Job("etl").Settings["tags"] != nil {
		t.Errorf("base configuration: target %v, settings %v", cfg.Selection.Target, cfg.Job("etl").Settings)
	}
}

func TestProjectProblems(t *testing.T) {
	job := "jobs:\n  etl:\n    name: etl\n    tasks: [{task_key: t, notebook_task: {notebook_path: /n}}]\n"
	for _, tc := range []struct {
		name, project, jobs, target string
		want                        []string
	}{
		{"unknown field", "targets:\n  dev:\n    pause_trigger: true\n", job, "", []string{
			`jobsync.yaml:3:5: targets.dev.pause_trigger: unknown field "pause_trigger" (did you mean "pause_triggers"?)`}},
		{"two defaults", "targets:\n  a: {default: true}\n  b: {default: true}\n", job, "", []string{
			`jobsync.yaml:3:7: targets.b.default: targets a and b are both marked default: true; mark one`}},
		{"bad target name", "targets:\n  Prod: {}\n", job, "", []string{
			`jobsync.yaml:2:3: targets.Prod: a target name uses lower-case letters, digits, "_" and "-", got "Prod"`}},
		{"bad project name", "project: a/b\n", job, "", []string{
			`jobsync.yaml:1:1: project: a project name may contain only letters, digits, "_", "." and "-", got "a/b"`}},
		{"undeclared target variable", "variables:\n  catalog: {default: x}\ntargets:\n  dev:\n    variables: {catalgo: y}\n", job, "", []string{
			`jobsync.yaml:5:17: targets.dev.variables.catalgo: variable "catalgo" is not declared (did you mean "catalog"?)`}},
		{"target value of the wrong type", "variables:\n  n: {default: 1}\ntargets:\n  dev:\n    variables: {n: many}\n", job, "", []string{
			`jobsync.yaml:5:17: targets.dev.variables.n: variable n is an integer, got a string "many"`}},
		{"default of the wrong type", "variables:\n  n: {type: boolean, default: 1}\n", job, "", []string{
			`jobsync.yaml:2:22: variables.n.default: variable n is declared a boolean, but its default is an integer 1`}},
		{"null default", "variables:\n  n: {default: null}\n", job, "", []string{
			`variables.n.default: a variable's default cannot be null`}},
		{"override element without key", "targets:\n  dev:\n    overrides:\n      jobs:\n        etl:\n          tasks: [{timeout_seconds: 5}]\n", job, "", []string{
			`jobsync.yaml:6:19: targets.dev.overrides.jobs.etl.tasks[0]: an override of tasks names each element by its task_key, which this one lacks`}},
		{"override of an unknown job", "targets:\n  prod:\n    overrides:\n      jobs:\n        elt: {max_concurrent_runs: 2}\n", job, "", []string{
			`jobsync.yaml:5:9: targets.prod.overrides.jobs.elt: target prod overrides job "elt", which no job file defines (did you mean "etl"?)`}},
		{"undefined variable in an override", "variables:\n  catalog: {default: x}\ntargets:\n  prod:\n    overrides:\n      all_jobs: {description: '${var.catlog}'}\n", job, "", []string{
			`jobsync.yaml:6:18: targets.prod.overrides.all_jobs.description: undefined variable "catlog" (did you mean "catalog"?); jobsync.yaml declares catalog`}},
		{"variable outside overrides", "variables:\n  h: {default: x}\ntargets:\n  dev:\n    workspace: {host: '${var.h}'}\n", job, "", []string{
			`jobsync.yaml:5:17: targets.dev.workspace.host: variables are substituted in job files, targets' overrides and the project-wide permissions only`}},
		{"bad permissions mode", "permissions: {mode: additve, grants: []}\n", job, "", []string{
			`jobsync.yaml:1:15: permissions.mode: must be one of authoritative, additive, got "additve" (did you mean "additive"?)`}},
		{"override problem reported once for every job", "targets:\n  dev:\n    default: true\n    overrides:\n      all_jobs: {max_concurrent_runs: lots}\n",
			job + "  other:\n    name: other\n", "", []string{
				`jobsync.yaml:5:18: targets.dev.overrides.all_jobs.max_concurrent_runs: expected integer, got string (in jobs etl, other)`}},
		{"variable in a mapping key", "variables:\n  k: {default: x}\n", "jobs:\n  etl:\n    tags: {'${var.k}': v}\n", "", []string{
			`jobs.yaml:3:12: jobs.etl.tags: variables are substituted in values only, not in mapping keys (${var.k})`}},
		{"undefined variable", "variables:\n  catalog: {default: x}\n  runs: {default: 1}\n", "jobs:\n  etl:\n    name: ${var.catlog}\n", "", []string{
			`jobs.yaml:3:5: jobs.etl.name: undefined variable "catlog" (did you mean "catalog"?); jobsync.yaml declares catalog, runs`}},
		{"no variables declared", "project: p\n", "jobs:\n  etl:\n    name: ${var.catalog}\n", "", []string{
			`jobs.yaml:3:5: jobs.etl.name: undefined variable "catalog": jobsync.yaml declares no variables; declare it under variables:`}},
		{"variable without a value", "variables:\n  catalog: {description: no default}\ntargets:\n  dev: {}\n", "jobs:\n  etl:\n    name: ${var.catalog}\n", "dev", []string{
			`jobs.yaml:3:5: jobs.etl.name: variable "catalog" has no value for target dev: give it a default, set it in targets.dev.variables, pass --var catalog=VALUE, or set JOBSYNC_VAR_catalog`}},
		{"list variable inside text", "variables:\n  l: {default: [a]}\n", "jobs:\n  etl:\n    name: x-${var.l}\n", "", []string{
			`jobs.etl.name: variable "l" is a list: it can only be a whole value ("${var.l}" alone), not part of a string`}},
		{"unclosed variable", "variables:\n  l: {default: a}\n", "jobs:\n  etl:\n    name: x-${var.l\n", "", []string{
			`jobs.etl.name: "x-${var.l" opens a variable that is not closed`}},
		{"substituted value of the wrong type", "variables:\n  n: {default: many}\n", "jobs:\n  etl:\n    max_concurrent_runs: ${var.n}\n", "", []string{
			`jobs.yaml:3:5: jobs.etl.max_concurrent_runs: expected integer, got string`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := loadProject(t, map[string]string{"jobsync.yaml": tc.project, "jobs.yaml": tc.jobs}, tc.target, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			expectDiags(t, got, tc.want)
		})
	}
}

func TestNoProjectFile(t *testing.T) {
	_, got, err := loadProject(t, map[string]string{"jobs.yaml": "jobs:\n  a:\n    name: ${var.x}\n"}, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectDiags(t, got, []string{`jobs.yaml:3:5: jobs.a.name: undefined variable "x": there is no project file to declare it in (jobsync.yaml; or, for an Asset Bundle's job file, its databricks.yml`})
	if _, _, err := loadProject(t, map[string]string{"jobs.yaml": "jobs: {}\n"}, "dev", nil, nil); err == nil || !strings.Contains(err.Error(), "no project file") {
		t.Errorf("a target without a project file: %v", err)
	}
	// Escaped, it is text, project file or not.
	cfg := mustProject(t, map[string]string{"jobs.yaml": "jobs:\n  a:\n    name: $${var.x}\n"}, "", nil, nil)
	if cfg.Job("a").Settings["name"] != "${var.x}" {
		t.Errorf("escape: %v", cfg.Job("a").Settings["name"])
	}
}

func TestSelectErrors(t *testing.T) {
	files := map[string]string{"jobsync.yaml": etlProject, "jobs.yaml": etlJob}
	for _, tc := range []struct {
		target string
		vars   map[string]string
		env    map[string]string
		want   string
	}{
		{"prd", nil, nil, `no target "prd" in jobsync.yaml (did you mean "prod"?); its targets are dev, prod`},
		{"", map[string]string{"catalg": "x"}, nil, `variable "catalg" is not declared in jobsync.yaml (did you mean "catalog"?)`},
		{"", map[string]string{"runs": "two"}, nil, `--var runs: variable runs is an integer, got "two"`},
		{"", nil, map[string]string{"JOBSYNC_VAR_runs": "1.5"}, `JOBSYNC_VAR_runs: variable runs is an integer, got "1.5"`},
		{"", map[string]string{"notify": "not a list"}, nil, `--var notify: variable notify is a list written in YAML flow style`},
	} {
		_, diags, err := loadProject(t, files, tc.target, tc.vars, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("target %q vars %v env %v: got %v %v, want %q", tc.target, tc.vars, tc.env, err, diags, tc.want)
		}
	}
	cfg := mustProject(t, files, "", map[string]string{"notify": "[a@x.com, b@x.com]", "runs": "+3"}, nil)
	if got := jsonOf(t, cfg.Job("etl").Settings["email_notifications"]); got != `{"on_failure":["a@x.com","b@x.com"]}` {
		t.Errorf("list --var: %s", got)
	}
	if got := jsonOf(t, cfg.Job("etl").Settings["max_concurrent_runs"]); got != `3` {
		t.Errorf("integer --var: %s", got)
	}
}

func TestParseVariable(t *testing.T) {
	for _, tc := range []struct {
		typ, text, want string
	}{
		{"string", "1.10", `"1.10"`},
		{"integer", "-42", `-42`},
		{"number", "1.10", `1.10`},
		{"number", "7", `7`},
		{"boolean", "false", `false`},
		{"mapping", "{a: 1, b: [x]}", `{"a":1,"b":["x"]}`},
		{"list", "[1, two]", `[1,"two"]`},
	} {
		v, err := ParseVariable(&Variable{Name: "v", Type: tc.typ}, tc.text)
		if err != nil || jsonOf(t, v) != tc.want {
			t.Errorf("%s %q: got %s, %v; want %s", tc.typ, tc.text, jsonOf(t, v), err, tc.want)
		}
	}
	for _, tc := range [][2]string{{"integer", "1e3"}, {"number", "NaN"}, {"boolean", "yes"}, {"list", "{a: b}"}, {"mapping", "[a"}} {
		if _, err := ParseVariable(&Variable{Name: "v", Type: tc[0]}, tc[1]); err == nil {
			t.Errorf("%s %q: want an error", tc[0], tc[1])
		}
	}
}

// TestProjectFileIsNotAJobFile: the project file is skipped; another file
// with its name is reported, as is the project file named explicitly.
func TestProjectFileIsNotAJobFile(t *testing.T) {
	cfg := mustProject(t, map[string]string{"jobsync.yaml": "project: p\n", "jobs.yaml": "jobs:\n  a: {name: a}\n"}, "", nil, nil)
	if len(cfg.Files) != 1 || cfg.Files[0] != "jobs.yaml" {
		t.Errorf("files read: %v", cfg.Files)
	}
	_, got, _ := loadProject(t, map[string]string{"jobsync.yaml": "project: p\n", "jobs.yaml": "jobs:\n  a: {name: a}\n", "sub/jobsync.yml": "jobs: {}\n"}, "", nil, nil)
	expectDiags(t, got, []string{"sub/jobsync.yml: a file with this name is a project file, never a job file"})
}

// TestPermissionsShapes: the two ways of writing permissions, their
// validation, and how project-wide and target permissions merge.
func TestPermissionsShapes(t *testing.T) {
	jobs := `jobs:
  listed:
    name: listed
    permissions:
      - {group_name: eng, permission_level: CAN_MANAGE}
      - {user_name: me@x.com, permission_level: CAN_VIEW}
  additive:
    name: additive
    permissions:
      mode: additive
      grants:
        - {group_name: eng, permission_level: CAN_VIEW}
  bare:
    name: bare
  owner:
    name: owner
    permissions:
      - {user_name: boss@x.com, permission_level: IS_OWNER}
`
	project := `permissions:
  - {group_name: eng, permission_level: CAN_MANAGE_RUN}
  - {group_name: viewers, permission_level: CAN_VIEW}
  - {service_principal_name: sp-deploy, permission_level: IS_OWNER}
targets:
  dev:
    overrides:
      all_jobs:
        permissions:
          mode: additive
          grants:
            - {group_name: viewers, permission_level: CAN_MANAGE_RUN}
      jobs:
        listed:
          permissions:
            mode: authoritative
            grants: [{user_name: ops@x.com, permission_level: IS_OWNER}]
`
	grants := func(j *Job) string {
		var out []string
		for _, p := range j.Permissions {
			out = append(out, p.UserName+p.GroupName+p.ServicePrincipalName+"="+p.PermissionLevel)
		}
		return j.PermissionsMode + " " + strings.Join(out, ",")
	}
	cfg := mustProject(t, map[string]string{"jobsync.yaml": project, "jobs.yaml": jobs}, "", nil, nil)
	for key, want := range map[string]string{
		"listed":   "authoritative eng=CAN_MANAGE,me@x.com=CAN_VIEW,viewers=CAN_VIEW,sp-deploy=IS_OWNER",
		"additive": "additive eng=CAN_VIEW,viewers=CAN_VIEW,sp-deploy=IS_OWNER",
		"bare":     "authoritative eng=CAN_MANAGE_RUN,viewers=CAN_VIEW,sp-deploy=IS_OWNER",
		"owner":    "authoritative boss@x.com=IS_OWNER,eng=CAN_MANAGE_RUN,viewers=CAN_VIEW",
	} {
		if got := grants(cfg.Job(key)); got != want {
			t.Errorf("base %s: %s\n  want %s", key, got, want)
		}
	}
	if got := cfg.Job("bare").PosOf("/permissions/1").String(); got != "jobsync.yaml:3:5" {
		t.Errorf("a project-wide grant is placed in jobsync.yaml: %s", got)
	}
	if got := cfg.Job("additive").PosOf("/permissions/0/permission_level").String(); got != "jobs.yaml:12:29" {
		t.Errorf("a grant written as {mode, grants} keeps its position: %s", got)
	}
	cfg = mustProject(t, map[string]string{"jobsync.yaml": project, "jobs.yaml": jobs}, "dev", nil, nil)
	for key, want := range map[string]string{
		"listed":   "authoritative eng=CAN_MANAGE,me@x.com=CAN_VIEW,viewers=CAN_MANAGE_RUN,ops@x.com=IS_OWNER",
		"additive": "additive eng=CAN_VIEW,viewers=CAN_MANAGE_RUN,sp-deploy=IS_OWNER",
		"bare":     "additive eng=CAN_MANAGE_RUN,viewers=CAN_MANAGE_RUN,sp-deploy=IS_OWNER",
	} {
		if got := grants(cfg.Job(key)); got != want {
			t.Errorf("dev %s: %s\n  want %s", key, got, want)
		}
	}
	// Additive with nothing to ensure manages nothing.
	cfg = mustProject(t, map[string]string{"jobsync.yaml": "permissions: {mode: additive}\n", "jobs.yaml": "jobs:\n  a: {name: a}\n"}, "", nil, nil)
	if j := cfg.Job("a"); j.Permissions != nil || j.PermissionsMode != "" {
		t.Errorf("additive with no grants: %v %q", j.Permissions, j.PermissionsMode)
	}
}

func TestPermissionProblems(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown level", "permissions: [{group_name: g, permission_level: CAN_RUN}]\n", []string{
			`a.yml:3:35: jobs.a.permissions[group_name="g"].permission_level: must be one of CAN_VIEW, CAN_MANAGE_RUN, CAN_MANAGE, IS_OWNER, got "CAN_RUN"`}},
		{"two principal kinds", "permissions: [{group_name: g, user_name: u, permission_level: CAN_VIEW}]\n", []string{
			`a.yml:3:19: jobs.a.permissions[user_name="u"]: user_name and group_name cannot be set together; set exactly one of user_name, group_name, service_principal_name`}},
		{"no principal", "permissions: [{permission_level: CAN_VIEW}]\n", []string{
			`jobs.a.permissions[0]: set one of user_name, group_name, service_principal_name`}},
		{"two owners", "permissions:\n  - {user_name: a, permission_level: IS_OWNER}\n  - {user_name: b, permission_level: IS_OWNER}\n", []string{
			`a.yml:5:24: jobs.a.permissions[user_name="b"].permission_level: a job has exactly one owner; IS_OWNER is granted more than once`}},
		{"group owner", "permissions: [{group_name: g, permission_level: IS_OWNER}]\n", []string{
			`jobs.a.permissions[group_name="g"].permission_level: a group cannot own a job; give IS_OWNER to a user or service principal`}},
		{"duplicate principal", "permissions:\n  - {group_name: g, permission_level: CAN_VIEW}\n  - {group_name: g, permission_level: CAN_MANAGE}\n", []string{
			`a.yml:5:9: jobs.a.permissions[group_name="g"]: group_name "g" is granted twice (first at line 4)`}},
		{"mapping form, bad mode", "permissions: {mode: addtive, grants: []}\n", []string{
			`a.yml:3:19: jobs.a.permissions.mode: must be authoritative or additive, got "addtive" (did you mean "additive"?)`}},
		{"mapping form, unknown key", "permissions: {mode: additive, grant: []}\n", []string{
			`jobs.a.permissions.grant: unknown field "grant" (did you mean "grants"?): permissions written as a mapping has mode and grants`}},
		{"mapping form, problems inside grants", "permissions:\n  mode: additive\n  grants:\n    - {group_name: g, permission_level: OWNER}\n", []string{
			`a.yml:6:27: jobs.a.permissions[group_name="g"].permission_level: must be one of CAN_VIEW, CAN_MANAGE_RUN, CAN_MANAGE, IS_OWNER, got "OWNER"`}},
		{"empty", "permissions:\n", []string{
			`jobs.a.permissions: permissions is empty: write [] for no grants`}},
		{"scalar", "permissions: all\n", []string{
			`jobs.a.permissions: expected a list of grants, or a mapping with mode and grants; got string`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := loadFiles(t, map[string]string{"a.yml": job("a", tc.body)})
			expectDiags(t, got, tc.want)
		})
	}
}

// A target's workspace names its host, profile and the root_path of its
// workspace lease, as written.
func TestTargetWorkspace(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "jobsync.yaml")
	body := "project: shop\ntargets:\n  prod:\n    workspace:\n      host: https://dbc-1.cloud.databricks.com\n" +
		"      root_path: /Workspace/Shared/jobsync/shop\n  dev:\n    workspace:\n      profile: dev\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProject(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	prod, dev := p.Target("prod"), p.Target("dev")
	if prod.Host != "https://dbc-1.cloud.databricks.com" || prod.RootPath != "/Workspace/Shared/jobsync/shop" {
		t.Errorf("prod %+v", prod)
	}
	if dev.Profile != "dev" || dev.RootPath != "" {
		t.Errorf("dev %+v", dev)
	}
	if err := os.WriteFile(file, []byte("targets:\n  prod:\n    workspace:\n      root_path: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProject(context.Background(), file); err == nil || !strings.Contains(err.Error(), "root_path") {
		t.Errorf("a root_path that is not a string: %v", err)
	}
}
