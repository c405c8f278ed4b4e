package schema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bundleCase is one bundle written to a fresh folder and loaded.
type bundleCase struct {
	files  map[string]string
	target string
	vars   map[string]string
	env    map[string]string
	opts   Options
}

var testUser = &Identity{UserName: "jane.doe@example.com", ID: "42"}

// load writes the files, changes into the folder and loads the bundle
// for the case's target, returning the config or the problems as printed.
func (c bundleCase) load(t *testing.T) (*Config, []string) {
	t.Helper()
	return c.loadWith(t, nil)
}

// loadWith is load with a hook that may change the written folder (add
// links, pipes) before it is loaded.
func (c bundleCase) loadWith(t *testing.T, prepare func(dir string)) (*Config, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range c.files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if prepare != nil {
		prepare(dir)
	}
	t.Chdir(dir)
	fail := func(err error) []string {
		var ds Diagnostics
		if !errors.As(err, &ds) {
			return []string{"error: " + err.Error()}
		}
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.Error()
		}
		return out
	}
	d, err := Discover(Where{Paths: []string{"."}})
	if err != nil {
		return nil, fail(err)
	}
	p, err := LoadProject(context.Background(), d.File)
	if err != nil {
		return nil, fail(err)
	}
	getenv := func(k string) string { return c.env[k] }
	sel, err := Select(p, c.target, c.vars, getenv)
	if err != nil {
		return nil, fail(err)
	}
	o := c.opts
	o.Selection = sel
	if o.Identity == nil {
		o.Identity = testUser
	}
	cfg, err := LoadWith(context.Background(), []string{"."}, o)
	if err != nil {
		return nil, fail(err)
	}
	return cfg, nil
}

func (c bundleCase) mustLoad(t *testing.T) *Config {
	t.Helper()
	cfg, problems := c.load(t)
	if problems != nil {
		t.Fatalf("load: %s", strings.Join(problems, "\n"))
	}
	return cfg
}

// settingsJSON is a job's settings as compact JSON, for comparisons.
func settingsJSON(t *testing.T, cfg *Config, key string) string {
	t.Helper()
	j := cfg.Job(key)
	if j == nil {
		t.Fatalf("no job %s", key)
	}
	b, err := json.Marshal(j.Settings)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantJSON(t *testing.T, cfg *Config, key, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	wb, _ := json.Marshal(w)
	if got := settingsJSON(t, cfg, key); got != string(wb) {
		t.Errorf("job %s:\n  got  %s\n  want %s", key, got, wb)
	}
}

const minimalBundle = `bundle:
  name: shop
include:
  - resources/*.yml
variables:
  catalog:
    description: where the tables go
    default: main
targets:
  dev:
    mode: development
    default: true
    variables:
      catalog: dev_catalog
  prod:
    mode: production
    workspace:
      host: https://prod.example.com
`

const minimalJob = `resources:
  jobs:
    nightly:
      name: nightly-${bundle.target}
      schedule:
        quartz_cron_expression: "0 0 2 * * ?"
        timezone_id: UTC
      parameters:
        - name: catalog
          default: ${var.catalog}
      tasks:
        - task_key: main
          existing_cluster_id: 0101-abc
          spark_jar_task: {main_class_name: com.example.Main}
`

func TestBundleTargetsModesAndVariables(t *testing.T) {
	files := map[string]string{"databricks.yml": minimalBundle, "resources/nightly.job.yml": minimalJob}
	cfg := bundleCase{files: files}.mustLoad(t)
	if cfg.Selection.Target.Name != "dev" || cfg.Selection.Project.Name != "shop" {
		t.Fatalf("selected %s of %s", cfg.Selection.Target.Name, cfg.Selection.Project.Name)
	}
	wantJSON(t, cfg, "nightly", `{"name":"[dev jane_doe] nightly-dev","max_concurrent_runs":4,
		"parameters":[{"name":"catalog","default":"dev_catalog"}],
		"schedule":{"quartz_cron_expression":"0 0 2 * * ?","timezone_id":"UTC","pause_status":"PAUSED"},
		"tags":{"dev":"jane_doe"},
		"tasks":[{"task_key":"main","existing_cluster_id":"0101-abc","spark_jar_task":{"main_class_name":"com.example.Main"}}]}`)
	if !cfg.UserSubstituted {
		t.Error("development mode used the user, but UserSubstituted is false")
	}
	cfg = bundleCase{files: files, target: "prod", env: map[string]string{"BUNDLE_VAR_catalog": "gold"}}.mustLoad(t)
	wantJSON(t, cfg, "nightly", `{"name":"nightly-prod",
		"parameters":[{"name":"catalog","default":"gold"}],
		"schedule":{"quartz_cron_expression":"0 0 2 * * ?","timezone_id":"UTC"},
		"tasks":[{"task_key":"main","existing_cluster_id":"0101-abc","spark_jar_task":{"main_class_name":"com.example.Main"}}]}`)
	if cfg.Selection.Target.Host != "https://prod.example.com" {
		t.Errorf("prod host %q", cfg.Selection.Target.Host)
	}
}

func TestBundleOverridesMergeTheBundleWay(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
resources:
  jobs:
    etl:
      name: etl
      tags: {team: data}
      email_notifications: {on_failure: [a@example.com]}
      schedule: {quartz_cron_expression: "0 0 1 * * ?", timezone_id: UTC}
      job_clusters:
        - job_cluster_key: main
          new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 2}
      tasks:
        - task_key: ingest
          job_cluster_key: main
          spark_jar_task: {main_class_name: Ingest}
          libraries: [{maven: {coordinates: "a:b:1"}}]
targets:
  prod:
    resources:
      jobs:
        etl:
          tags: {env: prod}
          schedule: null
          email_notifications: {on_failure: [oncall@example.com]}
          job_clusters:
            - job_cluster_key: main
              new_cluster: {num_workers: 8}
          tasks:
            - task_key: ingest
              libraries: [{maven: {coordinates: "c:d:2"}}]
            - task_key: report
              depends_on: [{task_key: ingest}]
              job_cluster_key: main
              spark_jar_task: {main_class_name: Report}
        prod_only:
          name: prod only
          tasks:
            - task_key: t
              existing_cluster_id: x
              spark_jar_task: {main_class_name: T}
`}
	cfg := bundleCase{files: files}.mustLoad(t)
	// A list is appended to (email_notifications.on_failure, a task's
	// libraries), tasks and job_clusters merge by key, a null changes
	// nothing (databricks/cli libs/dyn/merge/merge.go).
	wantJSON(t, cfg, "etl", `{"name":"etl",
		"email_notifications":{"on_failure":["a@example.com","oncall@example.com"]},
		"job_clusters":[{"job_cluster_key":"main","new_cluster":{"node_type_id":"i3.xlarge","num_workers":8,"spark_version":"15.4.x-scala2.12"}}],
		"schedule":{"quartz_cron_expression":"0 0 1 * * ?","timezone_id":"UTC"},
		"tags":{"env":"prod","team":"data"},
		"tasks":[{"job_cluster_key":"main","libraries":[{"maven":{"coordinates":"a:b:1"}},{"maven":{"coordinates":"c:d:2"}}],"spark_jar_task":{"main_class_name":"Ingest"},"task_key":"ingest"},
		         {"depends_on":[{"task_key":"ingest"}],"job_cluster_key":"main","spark_jar_task":{"main_class_name":"Report"},"task_key":"report"}]}`)
	if cfg.Job("prod_only") == nil {
		t.Error("a job defined only in the target is missing")
	}
	if got := cfg.Job("etl").PosOf("/tags/env"); got.Line != 22 {
		t.Errorf("tags.env from the target is at %v, want line 22", got)
	}
}

func TestBundleComplexVariablesAndSubstitutions(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
variables:
  cluster:
    type: complex
    default:
      spark_version: 15.4.x-scala2.12
      node_type_id: i3.xlarge
      num_workers: 2
  workers: {default: 3}
  schema: {default: "${workspace.current_user.short_name}_${bundle.target}"}
  owner: {default: "${var.schema}@example.com"}
targets:
  dev:
    default: true
    workspace:
      root_path: ~/.bundle/${bundle.name}/${bundle.target}
resources:
  jobs:
    a:
      name: ${var.schema}
      description: node ${var.cluster.node_type_id} on ${workspace.host}; files in ${workspace.file_path}
      email_notifications: {on_success: ["${var.owner}"]}
      job_clusters:
        - job_cluster_key: c
          new_cluster: ${var.cluster}
        - job_cluster_key: d
          new_cluster:
            spark_version: ${var.cluster.spark_version}
            node_type_id: i3.xlarge
            num_workers: ${var.workers}
      tasks:
        - task_key: t
          job_cluster_key: c
          run_job_task: {job_id: "${resources.jobs.b.id}"}
    b:
      name: b
      tasks:
        - task_key: t
          existing_cluster_id: x
          spark_jar_task: {main_class_name: M}
`}
	cfg := bundleCase{files: files, opts: Options{Host: "https://ws.example.com"}}.mustLoad(t)
	wantJSON(t, cfg, "a", `{"name":"jane_doe_dev",
		"description":"node i3.xlarge on https://ws.example.com; files in /Workspace/Users/jane.doe@example.com/.bundle/shop/dev/files",
		"email_notifications":{"on_success":["jane_doe_dev@example.com"]},
		"job_clusters":[{"job_cluster_key":"c","new_cluster":{"node_type_id":"i3.xlarge","num_workers":2,"spark_version":"15.4.x-scala2.12"}},
		                {"job_cluster_key":"d","new_cluster":{"node_type_id":"i3.xlarge","num_workers":3,"spark_version":"15.4.x-scala2.12"}}],
		"tasks":[{"job_cluster_key":"c","run_job_task":{"job_id":"${jobs.b.id}"},"task_key":"t"}]}`)
	if refs := cfg.Job("a").References(); len(refs) != 1 || refs[0] != "b" {
		t.Errorf("references %v, want [b]", refs)
	}
	// --var of a complex variable takes YAML flow style (the bundle CLI
	// refuses complex values from --var; jobsync allows them).
	cfg = bundleCase{files: files, vars: map[string]string{"cluster": "{spark_version: 16.4.x-scala2.12, node_type_id: m5.large, num_workers: 1}", "workers": "5"}}.mustLoad(t)
	if got := settingsJSON(t, cfg, "a"); !strings.Contains(got, `"node_type_id":"m5.large"`) || !strings.Contains(got, `"num_workers":5`) {
		t.Errorf("--var values not used: %s", got)
	}
}

func TestBundleSubstitutionErrors(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
variables:
  cluster_id:
    lookup: {cluster: shared-autoscaling}
  nothing: {description: no default}
resources:
  pipelines:
    dlt: {name: dlt}
  jobs:
    a:
      name: a
      tasks:
        - task_key: p
          pipeline_task: {pipeline_id: "${resources.pipelines.dlt.id}"}
        - task_key: q
          existing_cluster_id: ${var.cluster_id}
          spark_jar_task: {main_class_name: "${var.nothing}"}
        - task_key: r
          existing_cluster_id: x
          spark_jar_task: {main_class_name: "${foo.bar}", parameters: ["${HOME", "id-${resources.jobs.a.id}", "$${literal}"]}
`}
	_, problems := bundleCase{files: files}.load(t)
	expectDiags(t, problems, []string{
		"databricks.yml:14:27: jobs.a.tasks[task_key=\"p\"].pipeline_task.pipeline_id: ${resources.pipelines.dlt.id}: jobsync manages jobs only",
		"databricks.yml:16:11: jobs.a.tasks[task_key=\"q\"].existing_cluster_id: variable cluster_id is a lookup (databricks.yml:4:5): it names an object to find by name",
		"databricks.yml:17:28: jobs.a.tasks[task_key=\"q\"].spark_jar_task.main_class_name: variable \"nothing\" has no value for target default",
		"databricks.yml:20:28: jobs.a.tasks[task_key=\"r\"].spark_jar_task.main_class_name: ${foo.bar} is not a substitution jobsync knows",
		"databricks.yml:20:72: jobs.a.tasks[task_key=\"r\"].spark_jar_task.parameters[0]: \"${HOME\" opens a substitution that is not closed",
		"databricks.yml:20:82: jobs.a.tasks[task_key=\"r\"].spark_jar_task.parameters[1]: ${resources.jobs.a.id} must be the whole value",
	})
	// --var wins over a lookup.
	cfg, problems := bundleCase{files: files, vars: map[string]string{"cluster_id": "0101-x", "nothing": "N"}}.load(t)
	if cfg != nil || len(problems) != 4 {
		t.Errorf("with --var, want the 4 other problems, got %v", problems)
	}
}

func TestBundleSkipsOtherResourcesWithOneWarningEach(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
include: [resources/*.yml]
artifacts:
  wheel: {type: whl, build: uv build --wheel}
sync: {include: [dist]}
experimental: {python_wheel_wrapper: true}
resources:
  schemas:
    s: {name: s, catalog_name: main}
`,
		"resources/a.yml": `resources:
  pipelines:
    p1: {name: p1}
    p2: {name: p2}
  volumes:
    v: {name: v}
  jobs:
    j:
      name: j
      tasks: [{task_key: t, existing_cluster_id: x, spark_jar_task: {main_class_name: M}}]
`,
		"resources/b.yml": `resources:
  pipelines:
    p3: {name: p3}
`,
	}
	cfg := bundleCase{files: files}.mustLoad(t)
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.Error())
	}
	expectDiags(t, got, []string{
		"databricks.yml:3:1: artifacts: skipped: jobsync does not build artifacts",
		"databricks.yml:5:1: sync: skipped",
		"databricks.yml:6:1: experimental: skipped",
		"databricks.yml:8:3: resources.schemas: skipped: jobsync manages jobs only",
		"resources/a.yml:2:3: resources.pipelines: skipped: jobsync manages jobs only",
		"resources/a.yml:5:3: resources.volumes: skipped",
	})
	if len(cfg.Jobs) != 1 || len(cfg.Files) != 3 {
		t.Errorf("%d jobs from %v", len(cfg.Jobs), cfg.Files)
	}
}

func TestBundleConversions(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
variables:
  workers: {default: "4"}
  flag: {description: from --var}
resources:
  jobs:
    a:
      name: a
      max_concurrent_runs: 2.0
      job_clusters:
        - job_cluster_key: c
          new_cluster:
            spark_version: 15.4.x-scala2.12
            node_type_id: i3.xlarge
            num_workers: ${var.workers}
            spark_conf: {spark.speculation: true, spark.sql.shuffle.partitions: 200}
            custom_tags: {cost_center: 1234}
      parameters:
        - {name: limit, default: 10}
      tasks:
        - task_key: t
          job_cluster_key: c
          timeout_seconds: null
          notebook_task:
            notebook_path: /Workspace/Shared/nb
            base_parameters: {retries: 3, dry_run: false, ratio: 0.50}
          disable_auto_optimization: ${var.flag}
`}
	cfg, _ := bundleCase{files: files, vars: map[string]string{"flag": "yes"}, opts: Options{Strict: true}}.load(t)
	if cfg == nil {
		_, p := bundleCase{files: files, vars: map[string]string{"flag": "yes"}}.load(t)
		t.Fatalf("load: %v", p)
	}
	wantJSON(t, cfg, "a", `{"name":"a","max_concurrent_runs":2,
		"job_clusters":[{"job_cluster_key":"c","new_cluster":{"custom_tags":{"cost_center":"1234"},"node_type_id":"i3.xlarge","num_workers":4,"spark_conf":{"spark.speculation":"true","spark.sql.shuffle.partitions":"200"},"spark_version":"15.4.x-scala2.12"}}],
		"parameters":[{"default":"10","name":"limit"}],
		"tasks":[{"disable_auto_optimization":true,"job_cluster_key":"c","notebook_task":{"base_parameters":{"dry_run":"false","ratio":"0.5","retries":"3"},"notebook_path":"/Workspace/Shared/nb"},"task_key":"t"}]}`)
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.Error())
	}
	expectDiags(t, got, []string{
		"databricks.yml:9:7: jobs.a.max_concurrent_runs: converted 2.0 to the integer 2",
		"databricks.yml:15:13: jobs.a.job_clusters[job_cluster_key=\"c\"].new_cluster.num_workers: converted the text \"4\" to the integer 4",
		"databricks.yml:16:26: jobs.a.job_clusters[job_cluster_key=\"c\"].new_cluster.spark_conf[\"spark.speculation\"]: converted true",
		"databricks.yml:16:51: jobs.a.job_clusters[job_cluster_key=\"c\"].new_cluster.spark_conf[\"spark.sql.shuffle.partitions\"]: converted the number 200",
		"databricks.yml:17:27: jobs.a.job_clusters[job_cluster_key=\"c\"].new_cluster.custom_tags.cost_center: converted the number 1234",
		"databricks.yml:19:25: jobs.a.parameters[name=\"limit\"].default: converted the number 10",
		"databricks.yml:23:11: jobs.a.tasks[task_key=\"t\"].timeout_seconds: expected an integer, found null: left out",
		"databricks.yml:26:31: jobs.a.tasks[task_key=\"t\"].notebook_task.base_parameters.retries: converted the number 3",
		"databricks.yml:26:43: jobs.a.tasks[task_key=\"t\"].notebook_task.base_parameters.dry_run: converted false",
		"databricks.yml:26:59: jobs.a.tasks[task_key=\"t\"].notebook_task.base_parameters.ratio: converted the number 0.50 to the text \"0.5\"",
		"databricks.yml:27:11: jobs.a.tasks[task_key=\"t\"].disable_auto_optimization: converted the text \"yes\" to true",
	})
	// Without --strict, only the dropped null is said.
	cfg = bundleCase{files: files, vars: map[string]string{"flag": "yes"}}.mustLoad(t)
	if len(cfg.Warnings) != 1 {
		t.Errorf("warnings without --strict: %v", cfg.Warnings)
	}
}

func TestBundlePermissionsRunAsAndClusterID(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
permissions:
  - {level: CAN_VIEW, group_name: readers}
  - {permission_level: CAN_RUN, service_principal_name: 6f2d0c1e-0000-0000-0000-000000000001}
run_as: {service_principal_name: 6f2d0c1e-0000-0000-0000-000000000001}
targets:
  dev:
    default: true
    cluster_id: 0101-dev
    permissions:
      - {level: CAN_MANAGE, user_name: "${workspace.current_user.userName}"}
resources:
  jobs:
    a:
      name: a
      permissions:
        - {level: CAN_MANAGE, group_name: readers}
      job_clusters:
        - job_cluster_key: c
          new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}
      tasks:
        - {task_key: t, job_cluster_key: c, spark_jar_task: {main_class_name: M}}
        - task_key: loop
          for_each_task:
            inputs: "[1,2]"
            task: {task_key: inner, environment_key: e, spark_python_task: {python_file: /Workspace/x.py}}
    b:
      name: b
      run_as: {user_name: someone@example.com}
      tasks:
        - {task_key: t, existing_cluster_id: other, spark_jar_task: {main_class_name: M}}
`}
	cfg := bundleCase{files: files}.mustLoad(t)
	a := cfg.Job("a")
	var grants []string
	for _, g := range a.Permissions {
		grants = append(grants, g.UserName+g.GroupName+g.ServicePrincipalName+"="+g.PermissionLevel)
	}
	// The target grants the current user, who deploys and so owns the
	// job: the bundle CLI leaves that grant out (FilterCurrentUser), and so
	// does jobsync, since it would take the job's ownership away.
	if got := strings.Join(grants, " "); got != "readers=CAN_MANAGE 6f2d0c1e-0000-0000-0000-000000000001=CAN_MANAGE_RUN" {
		t.Errorf("grants of a: %s", got)
	}
	wantJSON(t, cfg, "a", `{"name":"a",
		"job_clusters":[{"job_cluster_key":"c","new_cluster":{"node_type_id":"i3.xlarge","num_workers":1,"spark_version":"15.4.x-scala2.12"}}],
		"run_as":{"service_principal_name":"6f2d0c1e-0000-0000-0000-000000000001"},
		"tasks":[{"existing_cluster_id":"0101-dev","spark_jar_task":{"main_class_name":"M"},"task_key":"t"},
		         {"for_each_task":{"inputs":"[1,2]","task":{"existing_cluster_id":"0101-dev","spark_python_task":{"python_file":"/Workspace/x.py"},"task_key":"inner"}},"task_key":"loop"}]}`)
	wantJSON(t, cfg, "b", `{"name":"b","run_as":{"user_name":"someone@example.com"},
		"tasks":[{"existing_cluster_id":"0101-dev","spark_jar_task":{"main_class_name":"M"},"task_key":"t"}]}`)
	if len(cfg.Job("b").Permissions) != 2 {
		t.Errorf("b gets the bundle's 2 grants besides the current user's, got %v", cfg.Job("b").Permissions)
	}
	files["databricks.yml"] = strings.Replace(files["databricks.yml"], "level: CAN_VIEW", "level: IS_OWNER", 1)
	_, problems := bundleCase{files: files}.load(t)
	expectDiags(t, problems, []string{"databricks.yml:3:6: permissions[0].level: a bundle's top-level permission level is CAN_VIEW, CAN_RUN (CAN_MANAGE_RUN) or CAN_MANAGE, got \"IS_OWNER\""})
}

func TestBundleLocalFiles(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
include: [resources/*.yml]
targets:
  dev: {default: true, workspace: {root_path: /Shared/shop}}
`,
		"resources/a.job.yml": `resources:
  jobs:
    a:
      name: a
      environments:
        - environment_key: e
          spec: {client: "2", dependencies: [../dist/*.whl, requests==2.32.0, -r ../requirements.txt]}
      tasks:
        - task_key: nb
          environment_key: e
          notebook_task: {notebook_path: ../src/ingest.py}
        - task_key: nb2
          environment_key: e
          notebook_task: {notebook_path: ../src/explore.ipynb}
        - task_key: py
          existing_cluster_id: x
          spark_python_task: {python_file: ../src/main.py}
          libraries: [{whl: ../dist/*.whl}, {pypi: {package: numpy}}, {requirements: ../requirements.txt}]
        - task_key: sql
          sql_task: {warehouse_id: w, file: {path: ../src/q.sql}}
        - task_key: dbt
          existing_cluster_id: x
          dbt_task: {project_directory: ../dbt, commands: [dbt run]}
`,
		"src/ingest.py":                        "# Databricks notebook source\nprint(1)\n",
		"src/explore.ipynb":                    `{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}`,
		"src/main.py":                          "print('main')\n",
		"src/q.sql":                            "select 1\n",
		"dist/shop-0.1-py3-none-any.whl":       "stand-in",
		"dist/shop_extra-0.1-py3-none-any.whl": "stand-in 2",
		"requirements.txt":                     "numpy\n",
		"dbt/dbt_project.yml":                  "name: shop\n",
		"dbt/models/m.sql":                     "select 1\n",
		"dbt/.hidden/x":                        "skipped\n",
	}
	cfg := bundleCase{files: files}.mustLoad(t)
	const f = "/Workspace/Shared/shop/files"
	wantJSON(t, cfg, "a", `{"name":"a",
		"environments":[{"environment_key":"e","spec":{"client":"2","dependencies":["`+f+`/dist/shop-0.1-py3-none-any.whl","`+f+`/dist/shop_extra-0.1-py3-none-any.whl","requests==2.32.0","-r `+f+`/requirements.txt"]}}],
		"tasks":[{"environment_key":"e","notebook_task":{"notebook_path":"`+f+`/src/ingest"},"task_key":"nb"},
		         {"environment_key":"e","notebook_task":{"notebook_path":"`+f+`/src/explore"},"task_key":"nb2"},
		         {"existing_cluster_id":"x","libraries":[{"whl":"`+f+`/dist/shop-0.1-py3-none-any.whl"},{"whl":"`+f+`/dist/shop_extra-0.1-py3-none-any.whl"},{"pypi":{"package":"numpy"}},{"requirements":"`+f+`/requirements.txt"}],"spark_python_task":{"python_file":"`+f+`/src/main.py"},"task_key":"py"},
		         {"sql_task":{"file":{"path":"`+f+`/src/q.sql"},"warehouse_id":"w"},"task_key":"sql"},
		         {"dbt_task":{"commands":["dbt run"],"project_directory":"`+f+`/dbt"},"existing_cluster_id":"x","task_key":"dbt"}]}`)
	var got []string
	for _, u := range cfg.Uploads {
		kind := "file"
		switch {
		case u.Jupyter:
			kind = "jupyter"
		case u.Notebook:
			kind = "notebook " + u.Language
		}
		got = append(got, u.Name+" -> "+u.Remote+" ("+kind+")")
	}
	want := []string{
		"dbt/dbt_project.yml -> " + f + "/dbt/dbt_project.yml (file)",
		"dbt/models/m.sql -> " + f + "/dbt/models/m.sql (file)",
		"dist/shop-0.1-py3-none-any.whl -> " + f + "/dist/shop-0.1-py3-none-any.whl (file)",
		"dist/shop_extra-0.1-py3-none-any.whl -> " + f + "/dist/shop_extra-0.1-py3-none-any.whl (file)",
		"requirements.txt -> " + f + "/requirements.txt (file)",
		"src/explore.ipynb -> " + f + "/src/explore (jupyter)",
		"src/ingest.py -> " + f + "/src/ingest (notebook PYTHON)",
		"src/main.py -> " + f + "/src/main.py (file)",
		"src/q.sql -> " + f + "/src/q.sql (file)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("uploads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if pos := cfg.Job("a").PosOf("/tasks/2/libraries/1/whl"); pos.File != "resources/a.job.yml" || pos.Line != 18 {
		t.Errorf("the second match of the glob is at %v", pos)
	}
	// The position of the element after the expanded glob moved with it.
	if pos := cfg.Job("a").PosOf("/tasks/2/libraries/3/requirements"); pos.Line != 18 || pos.Col != 72 {
		t.Errorf("requirements after the glob is at %v", pos)
	}
	// Broken paths, each at its place.
	delete(files, "dist/shop-0.1-py3-none-any.whl")
	delete(files, "dist/shop_extra-0.1-py3-none-any.whl")
	files["src/main.py"] = "# Databricks notebook source\n"
	files["src/ingest.py"] = "print(1)\n"
	files["resources/a.job.yml"] = strings.Replace(files["resources/a.job.yml"], "../src/q.sql", "../src/missing.sql", 1)
	files["resources/a.job.yml"] = strings.Replace(files["resources/a.job.yml"], "../src/explore.ipynb", "../../outside.ipynb", 1)
	_, problems := bundleCase{files: files}.load(t)
	expectDiags(t, problems, []string{
		"resources/a.job.yml:7:46: jobs.a.environments[environment_key=\"e\"].spec.dependencies[0]: no file matches ../dist/*.whl: build it first",
		"resources/a.job.yml:11:27: jobs.a.tasks[task_key=\"nb\"].notebook_task.notebook_path: ../src/ingest.py is not a notebook",
		"resources/a.job.yml:14:27: jobs.a.tasks[task_key=\"nb2\"].notebook_task.notebook_path: ../../outside.ipynb is outside the bundle (the folder of databricks.yml)",
		"resources/a.job.yml:17:31: jobs.a.tasks[task_key=\"py\"].spark_python_task.python_file: ../src/main.py is a notebook",
		"resources/a.job.yml:18:24: jobs.a.tasks[task_key=\"py\"].libraries[0].whl: no file matches ../dist/*.whl: build it first",
		"resources/a.job.yml:20:46: jobs.a.tasks[task_key=\"sql\"].sql_task.file.path: no file ../src/missing.sql (src/missing.sql in the bundle)",
	})
}

func TestBundleGitSourcePathsAreSentAsWritten(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
resources:
  jobs:
    a:
      name: a
      git_source: {git_url: "https://github.com/example/repo", git_provider: gitHub, git_branch: main}
      tasks:
        - {task_key: t, existing_cluster_id: x, notebook_task: {notebook_path: notebooks/ingest}}
    b:
      name: b
      tasks:
        - {task_key: t, existing_cluster_id: x, notebook_task: {notebook_path: /Workspace/Shared/x}}
`}
	cfg := bundleCase{files: files}.mustLoad(t)
	if got := settingsJSON(t, cfg, "a"); !strings.Contains(got, `"notebook_path":"notebooks/ingest"`) || len(cfg.Uploads) != 0 {
		t.Errorf("a job with git_source: %s, %d uploads", got, len(cfg.Uploads))
	}
}

func TestBundleProjectFiles(t *testing.T) {
	one := map[string]string{"databricks.yml": "bundle: {name: a}\n", "jobsync.yaml": "project: a\n"}
	_, problems := bundleCase{files: one}.load(t)
	expectDiags(t, problems, []string{"error: databricks.yml is an Asset Bundle and jobsync.yaml a jobsync project file, in one directory: keep one"})
	two := map[string]string{"databricks.yml": "bundle: {name: a}\n", "bundle.yml": "bundle: {name: a}\n"}
	_, problems = bundleCase{files: two}.load(t)
	expectDiags(t, problems, []string{"error: databricks.yml and bundle.yml are both project files; keep one"})
	noDefault := map[string]string{"databricks.yml": "bundle: {name: a}\ntargets: {dev: {}, prod: {}}\n"}
	_, problems = bundleCase{files: noDefault}.load(t)
	expectDiags(t, problems, []string{"error: databricks.yml marks none of its targets (dev, prod) default: true: pass --target NAME"})
	cfg := bundleCase{files: noDefault, env: map[string]string{"DATABRICKS_BUNDLE_TARGET": "prod"}}.mustLoad(t)
	if cfg.Selection.Target.Name != "prod" {
		t.Errorf("DATABRICKS_BUNDLE_TARGET chose %s", cfg.Selection.Target.Name)
	}
	noName := map[string]string{"databricks.yml": "resources: {jobs: {}}\ninclude: [missing.yml, '*.yaml', notes.txt]\n", "notes.txt": "x"}
	_, problems = bundleCase{files: noName}.load(t)
	expectDiags(t, problems, []string{
		"databricks.yml:2:11: include[0]: missing.yml does not exist",
		"databricks.yml:2:34: include[2]: notes.txt is not a YAML or JSON file",
	})
}

func TestBundleVariableSources(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
variables:
  a: {default: from-default}
  b: {default: from-default}
  c: {default: from-default}
  d: {default: from-default}
  e: {default: from-default}
targets:
  dev:
    default: true
    variables: {b: from-target, c: {default: from-target}, d: from-target, e: from-target}
resources:
  jobs:
    j:
      name: "${var.a} ${var.b} ${var.c} ${var.d} ${var.e}"
      tasks: [{task_key: t, existing_cluster_id: x, spark_jar_task: {main_class_name: M}}]
`,
		".databricks/bundle/dev/variable-overrides.json": `{"d": "from-file", "e": "from-file"}`,
	}
	cfg := bundleCase{files: files, env: map[string]string{"BUNDLE_VAR_e": "from-env"}}.mustLoad(t)
	if got := cfg.Job("j").Settings["name"]; got != "from-default from-target from-target from-file from-env" {
		t.Errorf("name %q", got)
	}
	cfg = bundleCase{files: files, vars: map[string]string{"e": "from-flag"}, env: map[string]string{"BUNDLE_VAR_e": "from-env", "JOBSYNC_VAR_e": "from-jobsync-env"}}.mustLoad(t)
	if got := cfg.Job("j").Settings["name"]; got != "from-default from-target from-target from-file from-flag" {
		t.Errorf("name %q", got)
	}
	if v := cfg.Selection.Values["e"]; v.From != "--var" {
		t.Errorf("e from %q", v.From)
	}
}

func TestBundlePathArgumentsOtherThanTheBundleAreRefused(t *testing.T) {
	c := bundleCase{files: map[string]string{"databricks.yml": "bundle: {name: a}\n", "other/x.yml": "jobs: {}\n"}}
	c.mustLoad(t)
	p, _ := LoadProject(context.Background(), "databricks.yml")
	sel, _ := Select(p, "", nil, nil)
	if _, err := LoadWith(context.Background(), []string{"other"}, Options{Selection: sel, Identity: testUser}); err != nil {
		t.Errorf("a folder inside the bundle means the bundle: %v", err)
	}
	_, err := LoadWith(context.Background(), []string{".."}, Options{Selection: sel, Identity: testUser})
	if err == nil || !strings.Contains(err.Error(), "is outside the Asset Bundle databricks.yml") {
		t.Errorf("got %v", err)
	}
	// A path that is not there (a typo, or `apply PLANFILE` of a plan
	// that was not saved) does not mean the bundle.
	_, err = LoadWith(context.Background(), []string{"etl.plan"}, Options{Selection: sel, Identity: testUser})
	if err == nil || err.Error() != "cannot read etl.plan: no such file or directory" {
		t.Errorf("a missing path: got %v", err)
	}
}

func TestPlainResourcesOtherKindsAreSkipped(t *testing.T) {
	cfg, diags := loadFiles(t, map[string]string{"a.yml": "resources:\n  pipelines: {p: {name: p}}\n  jobs: {}\n", "b.yml": "resources:\n  pipelines: {q: {name: q}}\n"})
	if diags != nil {
		t.Fatal(diags)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Error() != "a.yml:2:3: resources.pipelines: skipped: jobsync manages jobs only; deploy pipelines with the bundle CLI (databricks bundle deploy), and refer to them by id" {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

// FuzzLoadBundle feeds arbitrary bytes to the bundle loader as
// databricks.yml: it must never panic or hang, and returns a config whose
// settings are JSON with a position for every value, or problems that
// point into the file (or a plain error naming the input at fault: an
// unknown target, a variable's value).
func FuzzLoadBundle(f *testing.F) {
	for _, s := range []string{
		minimalBundle,
		"bundle: {name: x}\nresources: {jobs: {a: {name: '${var.a}'}}}\nvariables: {a: {default: '${var.a}'}}\n",
		"bundle: {name: x}\ntargets: {t: {resources: {jobs: {a: {tasks: [{task_key: k}], schedule: null}}}}}\nresources: {jobs: {a: {tasks: {k: 1}}}}\n",
		"bundle: {name: x}\nvariables: {c: {type: complex, default: {a: [1, {b: '${var.c.a[1].b}'}]}}}\nresources: {jobs: {a: {name: '${var.c.a[9]}${var.c}'}}}\n",
		"bundle: {name: x}\ninclude: ['*', '[', '/abs', 3]\npermissions: [{level: CAN_RUN}, 3]\npresets: {tags: {a: [1]}, name_prefix: 3}\n",
		"bundle: {name: x}\nresources: {jobs: {a: {tasks: [{task_key: t, notebook_task: {notebook_path: ../../x}, libraries: [{whl: '*.whl'}]}]}}}\n",
		"bundle: {name: x}\ntargets: {dev: {mode: development, cluster_id: '${bundle.target}'}}\nresources: {jobs: {a: {name: '$${x}${workspace.current_user.short_name}${bundle.git.branch}', tasks: [{task_key: t, new_cluster: {}}]}}}\n",
		"environments: {a: {}}\ntargets: {b: {}}\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "databricks.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := LoadProject(context.Background(), path)
		if err != nil {
			checkFuzzError(t, data, filepath.ToSlash(path), nil, err)
			return
		}
		sel, err := Select(p, "", nil, nil)
		if err != nil {
			var ds Diagnostics
			if errors.As(err, &ds) {
				checkFuzzError(t, data, filepath.ToSlash(path), nil, err)
			}
			return
		}
		cfg, err := LoadWith(context.Background(), []string{dir}, Options{Selection: sel, Identity: testUser})
		if err != nil {
			var ds Diagnostics
			if errors.As(err, &ds) {
				checkFuzzError(t, data, filepath.ToSlash(path), cfg, err)
			}
			return
		}
		checkFuzzConfig(t, cfg)
	})
}

func TestBundleVariableBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("bundle: {name: x}\nvariables:\n  v0: {type: complex, default: [a, b, c, d, e, f, g, h]}\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, "  v%d: {type: complex, default: [\"${var.v%d}\", \"${var.v%d}\", \"${var.v%d}\", \"${var.v%d}\"]}\n", i, i-1, i-1, i-1, i-1)
	}
	b.WriteString("resources: {jobs: {a: {name: a, tags: \"${var.v11}\"}}}\n")
	_, problems := bundleCase{files: map[string]string{"databricks.yml": b.String()}}.load(t)
	if len(problems) != 1 || !strings.Contains(problems[0], "substitutions expand to more than 1000000 values") {
		t.Errorf("got %v", problems)
	}
}

// TestBundleAsPeopleWriteThem is a bundle with what public bundles commonly
// hold beside their jobs (a CLI version constraint, a uuid, git settings,
// sync, a Python wheel artifact, anchors under a key of their own, a nested
// include glob, a pipeline the job refreshes through a variable): it loads
// with warnings only.
func TestBundleAsPeopleWriteThem(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle:
  name: sales_forecast
  uuid: 4b1f2c3d-0000-4000-8000-000000000001
  databricks_cli_version: ">= 0.230.0"
  git:
    branch: main
include:
  - resources/*.yml
  - resources/*/*.yml
artifacts:
  default:
    type: whl
    path: .
    build: python -m build --wheel
sync:
  include: [dist/*.whl]
presets:
  tags: {project: sales_forecast}
run_as:
  user_name: ${workspace.current_user.userName}
variables:
  pipeline_id:
    description: The forecast pipeline (deployed by the bundle CLI)
    default: 0123-pipeline
targets:
  dev:
    default: true
    mode: development
    workspace:
      root_path: ~/.bundle/${bundle.name}/${bundle.target}
    presets:
      trigger_pause_status: PAUSED
  prod:
    mode: production
    git:
      branch: main
`,
		"resources/jobs/forecast.job.yml": `definitions:
  cluster: &cluster
    spark_version: 15.4.x-scala2.12
    node_type_id: i3.xlarge
    num_workers: 2
resources:
  pipelines:
    forecast_pipeline:
      name: forecast
  jobs:
    forecast:
      name: forecast
      queue: {enabled: true}
      tags:
        commit: ${bundle.git.commit}
        branch: ${bundle.git.branch}
      permissions:
        - level: CAN_VIEW
          group_name: users
      job_clusters:
        - job_cluster_key: main
          new_cluster:
            <<: *cluster
            spark_env_vars:
              BUNDLE_FILES: ${workspace.file_path}
      tasks:
        - task_key: refresh
          pipeline_task:
            pipeline_id: ${var.pipeline_id}
            full_refresh: false
        - task_key: train
          depends_on: [{task_key: refresh}]
          job_cluster_key: main
          python_wheel_task:
            package_name: sales_forecast
            entry_point: train
            named_parameters: {horizon: 28}
          libraries:
            - whl: ../../dist/*.whl
        - task_key: score
          depends_on: [{task_key: train}]
          environment_key: serverless
          spark_python_task:
            python_file: ../../src/score.py
      environments:
        - environment_key: serverless
          spec:
            environment_version: "2"
            dependencies: [../../dist/*.whl, scikit-learn>=1.4]
`,
		"dist/sales_forecast-1.0-py3-none-any.whl": "stand-in",
		"src/score.py": "print('score')\n",
	}
	cfg := bundleCase{files: files}.mustLoad(t)
	var warned []string
	for _, w := range cfg.Warnings {
		warned = append(warned, w.Path)
	}
	if got := strings.Join(warned, " "); got != "artifacts sync definitions resources.pipelines" {
		t.Errorf("warnings about %s", got)
	}
	got := settingsJSON(t, cfg, "forecast")
	for _, want := range []string{
		`"name":"[dev jane_doe] forecast"`,
		`"run_as":{"user_name":"jane.doe@example.com"}`,
		`"pipeline_id":"0123-pipeline"`,
		`"horizon":"28"`,
		`"whl":"/Workspace/Users/jane.doe@example.com/.bundle/sales_forecast/dev/files/dist/sales_forecast-1.0-py3-none-any.whl"`,
		`"BUNDLE_FILES":"/Workspace/Users/jane.doe@example.com/.bundle/sales_forecast/dev/files"`,
		`"project":"sales_forecast"`,
		`"branch":"main"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("forecast lacks %s:\n%s", want, got)
		}
	}
	if len(cfg.Uploads) != 2 || len(cfg.Job("forecast").Permissions) != 1 {
		t.Errorf("%d uploads, permissions %v", len(cfg.Uploads), cfg.Job("forecast").Permissions)
	}
}

// A dbt project at the bundle root (the dbt-sql template's
// project_directory: ../) is uploaded as the bundle CLI syncs that folder:
// the bundle's notebooks go as notebooks, what .gitignore names (dbt's
// target/, logs/, dbt_packages/) stays local, and so do jobsync's own
// lockfiles, which change with every apply.
func TestBundleFolderUploadAsTheBundleCLISyncsIt(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
include: [resources/*.yml]
targets:
  dev: {default: true, workspace: {root_path: /Shared/shop}}
`,
		"resources/dbt.job.yml": `resources:
  jobs:
    dbt:
      name: dbt
      tasks:
        - task_key: dbt
          environment_key: default
          dbt_task:
            project_directory: ../
            profiles_directory: dbt_profiles/
            commands: ['dbt run --target=${bundle.target}']
        - task_key: nb
          depends_on: [{task_key: dbt}]
          environment_key: default
          notebook_task: {notebook_path: ../src/explore.py}
      environments:
        - environment_key: default
          spec: {environment_version: "2", dependencies: ["dbt-databricks>=1.8.0,<2.0.0"]}
`,
		".gitignore":                   "# dbt\ntarget/\ndbt_packages/\nlogs/\n*.pyc\n!keep.pyc\n/local_only.txt\nsrc/**/scratch\n",
		"dbt_project.yml":              "name: shop\n",
		"dbt_profiles/profiles.yml":    "shop: {target: dev}\n",
		"models/orders.sql":            "select 1\n",
		"models/keep.pyc":              "kept by !keep.pyc\n",
		"models/other.pyc":             "ignored\n",
		"models/target":                "a file named like an ignored folder\n",
		"target/compiled/orders.sql":   "ignored\n",
		"dbt_packages/dbt_utils/x.sql": "ignored\n",
		"logs/dbt.log":                 "ignored\n",
		"local_only.txt":               "ignored at the root only\n",
		"models/local_only.txt":        "kept: the pattern is anchored\n",
		"src/explore.py":               "# Databricks notebook source\nprint(1)\n",
		"src/nb.ipynb":                 `{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}`,
		"src/a/scratch/x.py":           "ignored\n",
		"src/.gitignore":               "*.tmp\n",
		"src/x.tmp":                    "ignored by src/.gitignore\n",
		"jobsync.dev.lock.json":        "{}",
		"jobsync.dev.lock.json.lock":   "",
		"jobsync.lock.json.journal":    "",
	}
	cfg := bundleCase{files: files}.mustLoad(t)
	var got []string
	for _, u := range cfg.Uploads {
		kind := "file"
		switch {
		case u.Jupyter:
			kind = "jupyter"
		case u.Notebook:
			kind = "notebook"
		}
		got = append(got, strings.TrimPrefix(u.Remote, "/Workspace/Shared/shop/files/")+" ("+kind+")")
	}
	want := []string{
		"databricks.yml (file)",
		"dbt_profiles/profiles.yml (file)",
		"dbt_project.yml (file)",
		"models/keep.pyc (file)",
		"models/local_only.txt (file)",
		"models/orders.sql (file)",
		"models/target (file)",
		"resources/dbt.job.yml (file)",
		"src/explore (notebook)",
		"src/nb (jupyter)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("uploads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantJSON(t, cfg, "dbt", `{"name":"dbt",
		"environments":[{"environment_key":"default","spec":{"dependencies":["dbt-databricks>=1.8.0,<2.0.0"],"environment_version":"2"}}],
		"tasks":[{"dbt_task":{"commands":["dbt run --target=dev"],"profiles_directory":"dbt_profiles/","project_directory":"/Workspace/Shared/shop/files"},"environment_key":"default","task_key":"dbt"},
		         {"depends_on":[{"task_key":"dbt"}],"environment_key":"default","notebook_task":{"notebook_path":"/Workspace/Shared/shop/files/src/explore"},"task_key":"nb"}]}`)
}

// The templates' prod target grants the deploying user CAN_MANAGE (and runs
// as that user). The bundle CLI leaves the current user out of every
// job's grants, since the deployer owns the jobs it creates, and a
// CAN_MANAGE of its own would leave the job without an owner: so does
// jobsync. A service principal deploying is matched by its application
// id, its SCIM user name.
func TestBundleCurrentUserGrantsAreLeftOut(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
targets:
  prod:
    default: true
    mode: production
    permissions:
      - user_name: jane.doe@example.com
        level: CAN_MANAGE
      - group_name: readers
        level: CAN_VIEW
    run_as:
      user_name: jane.doe@example.com
resources:
  jobs:
    a:
      name: a
      tasks: [{task_key: t, existing_cluster_id: x, spark_jar_task: {main_class_name: M}}]
    b:
      name: b
      permissions:
        - {level: CAN_MANAGE_RUN, service_principal_name: 6f2d0c1e-0000-0000-0000-000000000001}
      tasks: [{task_key: t, existing_cluster_id: x, spark_jar_task: {main_class_name: M}}]
`}
	cfg := bundleCase{files: files}.mustLoad(t)
	grants := func(key string) string {
		var out []string
		for _, g := range cfg.Job(key).Permissions {
			out = append(out, g.UserName+g.GroupName+g.ServicePrincipalName+"="+g.PermissionLevel)
		}
		return strings.Join(out, " ")
	}
	if got := grants("a"); got != "readers=CAN_VIEW" {
		t.Errorf("grants of a: %q", got)
	}
	if got := grants("b"); got != "6f2d0c1e-0000-0000-0000-000000000001=CAN_MANAGE_RUN readers=CAN_VIEW" {
		t.Errorf("grants of b: %q", got)
	}
	if pos := cfg.Job("a").PosOf("/permissions/0/group_name"); pos.Line != 9 {
		t.Errorf("the grant kept is still at its place: %v", pos)
	}
	// Deployed by the service principal: its own grant goes, and a job
	// whose only grant it was has its permissions left alone.
	files["databricks.yml"] = strings.Replace(files["databricks.yml"], `    permissions:
      - user_name: jane.doe@example.com
        level: CAN_MANAGE
      - group_name: readers
        level: CAN_VIEW
`, "", 1)
	sp := &Identity{UserName: "6f2d0c1e-0000-0000-0000-000000000001", DisplayName: "deployer"}
	cfg, problems := bundleCase{files: files, opts: Options{Identity: sp}}.load(t)
	if problems != nil {
		t.Fatal(problems)
	}
	if got := cfg.Job("b").Permissions; got != nil {
		t.Errorf("b's only grant was the deployer's: want its permissions unmanaged, got %v", got)
	}
}

// Bundles written for the bundle CLI often name their files by where that
// CLI syncs the bundle, ${workspace.file_path}/... (a notebook without its
// extension). jobsync uploads only the files jobs name, so it uploads the
// file such a path means; a path there that names no file of the bundle is
// sent as written, with a warning.
func TestBundleFilePathReferencesAreUploaded(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
targets:
  dev: {default: true, workspace: {root_path: /Shared/shop}}
resources:
  jobs:
    a:
      name: a
      tasks:
        - task_key: nb
          existing_cluster_id: x
          notebook_task: {notebook_path: "${workspace.file_path}/src/ingest"}
          libraries:
            - whl: ${workspace.file_path}/dist/*.whl
            - requirements: ${workspace.file_path}/requirements.txt
        - task_key: py
          existing_cluster_id: x
          spark_python_task: {python_file: "${workspace.file_path}/src/main.py"}
        - task_key: elsewhere
          existing_cluster_id: x
          spark_python_task: {python_file: "${workspace.file_path}/generated/run.py"}
        - task_key: absolute
          existing_cluster_id: x
          spark_python_task: {python_file: /Workspace/Shared/shop/files/src/main.py}
`,
		"src/ingest.py":                  "# Databricks notebook source\nprint(1)\n",
		"src/main.py":                    "print('main')\n",
		"dist/shop-0.1-py3-none-any.whl": "stand-in",
		"requirements.txt":               "numpy\n",
	}
	cfg := bundleCase{files: files}.mustLoad(t)
	const f = "/Workspace/Shared/shop/files"
	wantJSON(t, cfg, "a", `{"name":"a","tasks":[
		{"existing_cluster_id":"x","libraries":[{"whl":"`+f+`/dist/shop-0.1-py3-none-any.whl"},{"requirements":"`+f+`/requirements.txt"}],"notebook_task":{"notebook_path":"`+f+`/src/ingest"},"task_key":"nb"},
		{"existing_cluster_id":"x","spark_python_task":{"python_file":"`+f+`/src/main.py"},"task_key":"py"},
		{"existing_cluster_id":"x","spark_python_task":{"python_file":"`+f+`/generated/run.py"},"task_key":"elsewhere"},
		{"existing_cluster_id":"x","spark_python_task":{"python_file":"`+f+`/src/main.py"},"task_key":"absolute"}]}`)
	var got []string
	for _, u := range cfg.Uploads {
		got = append(got, u.Name)
	}
	if want := "dist/shop-0.1-py3-none-any.whl requirements.txt src/ingest.py src/main.py"; strings.Join(got, " ") != want {
		t.Errorf("uploads %v, want %s", got, want)
	}
	var warns []string
	for _, w := range cfg.Warnings {
		warns = append(warns, w.Error())
	}
	expectDiags(t, warns, []string{`databricks.yml:20:31: jobs.a.tasks[task_key="elsewhere"].spark_python_task.python_file: ` + f + `/generated/run.py is under workspace.file_path, where the bundle CLI syncs the bundle's files, but the bundle has no generated/run.py: sent as written`})
}

// An empty cluster_id (written "", or a variable left empty so that each
// developer may set one) overrides nothing, as in the bundle CLI.
func TestBundleEmptyClusterIDOverridesNothing(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop, cluster_id: ""}
variables:
  dev_cluster: {default: ""}
targets:
  dev: {default: true, cluster_id: "${var.dev_cluster}"}
resources:
  jobs:
    a:
      name: a
      tasks: [{task_key: t, job_cluster_key: c, spark_jar_task: {main_class_name: M}}]
      job_clusters: [{job_cluster_key: c, new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}}]
`}
	cfg := bundleCase{files: files}.mustLoad(t)
	wantJSON(t, cfg, "a", `{"name":"a",
		"job_clusters":[{"job_cluster_key":"c","new_cluster":{"node_type_id":"i3.xlarge","num_workers":1,"spark_version":"15.4.x-scala2.12"}}],
		"tasks":[{"job_cluster_key":"c","spark_jar_task":{"main_class_name":"M"},"task_key":"t"}]}`)
	cfg = bundleCase{files: files, vars: map[string]string{"dev_cluster": "0101-mine"}}.mustLoad(t)
	wantJSON(t, cfg, "a", `{"name":"a",
		"job_clusters":[{"job_cluster_key":"c","new_cluster":{"node_type_id":"i3.xlarge","num_workers":1,"spark_version":"15.4.x-scala2.12"}}],
		"tasks":[{"existing_cluster_id":"0101-mine","spark_jar_task":{"main_class_name":"M"},"task_key":"t"}]}`)
}

// bundle.name may use ${bundle.target} or a text variable: the bundle CLI
// warns and goes on, and so does jobsync, each target a project of its own
// name. What jobsync cannot know before reading the workspace (the
// current user) is an error at the name.
func TestBundleNameSubstitutions(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle:
  name: shop-${bundle.target}
variables:
  team: {default: sales}
targets:
  dev: {default: true}
  prod: {}
resources:
  jobs:
    a:
      name: ${bundle.name}-a
      tasks: [{task_key: t, existing_cluster_id: x, spark_jar_task: {main_class_name: M}}]
`}
	cfg := bundleCase{files: files}.mustLoad(t)
	if got := cfg.Selection.Project.Name; got != "shop-dev" {
		t.Errorf("project name %q", got)
	}
	wantJSON(t, cfg, "a", `{"name":"shop-dev-a","tasks":[{"existing_cluster_id":"x","spark_jar_task":{"main_class_name":"M"},"task_key":"t"}]}`)
	var warns []string
	for _, w := range cfg.Warnings {
		warns = append(warns, w.Error())
	}
	expectDiags(t, warns, []string{"databricks.yml:2:3: bundle.name: bundle.name uses a substitution"})
	cfg = bundleCase{files: files, target: "prod"}.mustLoad(t)
	if got := cfg.Selection.Project.Name; got != "shop-prod" {
		t.Errorf("project name for prod %q", got)
	}
	files["databricks.yml"] = strings.Replace(files["databricks.yml"], "shop-${bundle.target}", "${var.team}_jobs", 1)
	if got := (bundleCase{files: files}).mustLoad(t).Selection.Project.Name; got != "sales_jobs" {
		t.Errorf("project name from a variable %q", got)
	}
	files["databricks.yml"] = strings.Replace(files["databricks.yml"], "${var.team}_jobs", "shop-${workspace.current_user.short_name}", 1)
	_, problems := bundleCase{files: files}.load(t)
	expectDiags(t, problems, []string{"databricks.yml:2:3: bundle.name: ${workspace.current_user.short_name} in bundle.name: jobsync resolves only ${bundle.target} and ${var.NAME} there"})
}

// DATABRICKS_CLUSTER_ID runs a development target's tasks on that cluster,
// as the bundle CLI does; another target ignores it, with a warning.
func TestBundleClusterIDFromTheEnvironment(t *testing.T) {
	files := map[string]string{
		"databricks.yml": `bundle: {name: shop}
targets:
  dev: {default: true, mode: development}
  prod: {mode: production}
resources:
  jobs:
    a:
      name: a
      tasks: [{task_key: t, job_cluster_key: c, spark_jar_task: {main_class_name: M}}]
      job_clusters: [{job_cluster_key: c, new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}}]
`}
	env := map[string]string{"DATABRICKS_CLUSTER_ID": "0101-mine"}
	cfg := bundleCase{files: files, env: env}.mustLoad(t)
	if got := settingsJSON(t, cfg, "a"); !strings.Contains(got, `"tasks":[{"existing_cluster_id":"0101-mine","spark_jar_task":{"main_class_name":"M"},"task_key":"t"}]`) {
		t.Errorf("dev: %s", got)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Error(), "databricks.yml:3:24: DATABRICKS_CLUSTER_ID: DATABRICKS_CLUSTER_ID is set: the tasks run on cluster 0101-mine") {
		t.Errorf("dev warnings: %v", cfg.Warnings)
	}
	cfg = bundleCase{files: files, env: env, target: "prod"}.mustLoad(t)
	if got := settingsJSON(t, cfg, "a"); strings.Contains(got, "0101-mine") {
		t.Errorf("prod took the cluster: %s", got)
	}
	var warns []string
	for _, w := range cfg.Warnings {
		warns = append(warns, w.Error())
	}
	expectDiags(t, warns, []string{"databricks.yml:4:3: DATABRICKS_CLUSTER_ID: DATABRICKS_CLUSTER_ID is set, and ignored: target prod does not use mode: development"})
}

// A job key with no settings is refused, as the bundle CLI refuses it ("job
// a is not defined"), unless a target gives it settings.
func TestBundleNullJobIsNotDefined(t *testing.T) {
	files := map[string]string{"databricks.yml": `bundle: {name: shop}
targets:
  dev: {default: true}
  prod:
    resources:
      jobs:
        a: {name: a, tasks: [{task_key: t, existing_cluster_id: x, spark_jar_task: {main_class_name: M}}]}
resources:
  jobs:
    a:
`}
	_, problems := bundleCase{files: files}.load(t)
	expectDiags(t, problems, []string{"databricks.yml:10:5: jobs.a: job a is not defined: its key has no settings (null)"})
	cfg := bundleCase{files: files, target: "prod"}.mustLoad(t)
	wantJSON(t, cfg, "a", `{"name":"a","tasks":[{"existing_cluster_id":"x","spark_jar_task":{"main_class_name":"M"},"task_key":"t"}]}`)
}
