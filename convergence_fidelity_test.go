package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/internal/emutest"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// This file holds the convergence cases of planner/FIDELITY.md: for each
// row the fidelity work added, apply, let the emulator behave as the
// service does (every behaviour on), plan again and find nothing; then make
// a real change to the same field and see it shown and sent.

// fidPolicies is the workspace's cluster policy of these tests: a fixed
// tag and Spark setting, and defaults for the runtime engine, an init
// script and an environment variable.
var fidPolicies = map[string]map[string]any{
	"POLICY1": {
		"custom_tags.team":                   map[string]any{"type": "fixed", "value": "data"},
		"spark_conf.spark.databricks.acl":    map[string]any{"type": "fixed", "value": "true"},
		"spark_env_vars.POLICY_ENV":          map[string]any{"type": "fixed", "value": "prod"},
		"runtime_engine":                     map[string]any{"type": "allowlist", "values": []any{"PHOTON", "STANDARD"}, "defaultValue": "PHOTON"},
		"init_scripts.0.volumes.destination": map[string]any{"type": "unlimited", "defaultValue": "/Volumes/main/ops/init/setup.sh"},
	},
}

func newFidWorld(t *testing.T, project string, o emulator.Options) *convWorld {
	t.Helper()
	if o.Policies == nil {
		o.Policies = fidPolicies
	}
	if len(o.Directory.Users)+len(o.Directory.Groups)+len(o.Directory.ServicePrincipals) == 0 {
		o.Directory = fidPrincipals
	}
	emu, c := emutest.Start(t, o, jobsapi.Options{})
	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "jobsync.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	st.Init(convWorkspace, project)
	return &convWorld{t: t, emu: emu, client: c, store: st}
}

// fidPrincipals are the workspace's principals in these tests.
var fidPrincipals = emulator.Directory{
	Users:             []emulator.User{{UserName: "etl@acme.com"}, {UserName: "ops@acme.com"}},
	Groups:            []emulator.Group{{DisplayName: "data-eng"}},
	ServicePrincipals: []emulator.ServicePrincipal{{ApplicationID: "6f1c2b44-9d0e-4c57-a2d8-1b3e5f7a9c01"}},
}

// examplePrincipals is the directory examples/jobs/jobsync.principals.json
// declares for the examples' grants.
func examplePrincipals(t *testing.T) emulator.Directory {
	t.Helper()
	d, err := emulator.ReadDirectory("examples/jobs/jobsync.principals.json")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// directoryFor is a directory that knows every principal jobs name in
// their permissions and run_as: the workspace of a test whose point is not
// principals.
func directoryFor(jobs []*schema.Job) emulator.Directory {
	var d emulator.Directory
	seen := map[string]bool{}
	add := func(kind, name string) {
		if name == "" || seen[kind+"\x00"+name] {
			return
		}
		seen[kind+"\x00"+name] = true
		switch kind {
		case "user_name":
			d.Users = append(d.Users, emulator.User{UserName: name})
		case "group_name":
			d.Groups = append(d.Groups, emulator.Group{DisplayName: name})
		case "service_principal_name":
			d.ServicePrincipals = append(d.ServicePrincipals, emulator.ServicePrincipal{ApplicationID: name})
		}
	}
	for _, j := range jobs {
		for _, p := range j.Permissions {
			add("user_name", p.UserName)
			add("group_name", p.GroupName)
			add("service_principal_name", p.ServicePrincipalName)
		}
		if ra, ok := j.Settings["run_as"].(map[string]any); ok {
			for k, v := range ra {
				s, _ := v.(string)
				add(k, s)
			}
		}
	}
	return d
}

func (w *convWorld) desired(yaml string) planner.Input {
	w.t.Helper()
	dir := w.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jobs.yml"), []byte(yaml), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return planner.Input{Desired: loadDir(w.t, dir), Project: "fid"}
}

// change plans edited, requires a change at path, applies it, requires a
// write whose body holds sent, then requires convergence again.
func (w *convWorld) change(edited, path, sent string) {
	w.t.Helper()
	in := w.desired(edited)
	p := w.plan(in)
	found := false
	for _, a := range p.Actions {
		for _, c := range a.Changes {
			if c.Path == path {
				found = true
			}
		}
	}
	if !found {
		var paths []string
		for _, a := range p.Actions {
			for _, c := range a.Changes {
				paths = append(paths, c.Kind+" "+c.Path)
			}
		}
		w.t.Fatalf("the change to %s is not shown; the plan has %v", path, paths)
	}
	w.emu.ResetRequests()
	w.apply(p)
	sentIt := false
	for _, r := range w.emu.Requests() {
		if r.Method == "POST" && strings.Contains(string(r.Body), sent) {
			sentIt = true
		}
	}
	if !sentIt {
		w.t.Fatalf("no write sent %s", sent)
	}
	w.converge(in)
}

const fidHeader = "jobs:\n  j:\n    name: fidelity\n"

func TestConvergenceZeroScalars(t *testing.T) {
	job := func(concurrency, paused string) string {
		return fidHeader + `    description: ""
    trigger:
      file_arrival:
        url: s3://landing/orders/
    tasks:
      - task_key: each
        for_each_task:
          inputs: '["a", "b"]'` + concurrency + `
          task:
            task_key: each_inner
            notebook_task:
              notebook_path: /Workspace/etl/load
      - task_key: alert
        sql_task:
          warehouse_id: abc123
          alert:
            alert_id: 11111111-2222-3333-4444-555555555555
      - task_key: dash
        dashboard_task:
          dashboard_id: d1
          subscription:` + paused + `
            subscribers:
              - user_name: ops@acme.com
`
	}
	w := newFidWorld(t, "fid", emulator.Options{})
	w.converge(w.desired(job("", "")))
	w.change(job("\n          concurrency: 3", ""), `tasks[task_key="each"].for_each_task.concurrency`, `"concurrency":3`)
	// A real change to a zero value is shown, and the zero is sent.
	w.change(job("", "\n            paused: true"), `tasks[task_key="dash"].dashboard_task.subscription.paused`, `"paused":true`)
	w.change(job("", "\n            paused: false"), `tasks[task_key="dash"].dashboard_task.subscription.paused`, `"paused":false`)
}

func TestConvergencePolicyFields(t *testing.T) {
	job := func(extra string) string {
		return fidHeader + `    job_clusters:
      - job_cluster_key: main
        new_cluster:
          spark_version: 15.4.x-scala2.12
          node_type_id: i3.xlarge
          num_workers: 2
          policy_id: POLICY1
          apply_policy_default_values: true` + extra + `
    tasks:
      - task_key: load
        job_cluster_key: main
        notebook_task:
          notebook_path: /Workspace/etl/load
`
	}
	w := newFidWorld(t, "fid", emulator.Options{})
	w.converge(w.desired(job("")))
	w.change(job("\n          runtime_engine: STANDARD"), `job_clusters[job_cluster_key="main"].new_cluster.runtime_engine`, `"runtime_engine":"STANDARD"`)
	w.change(job("\n          runtime_engine: STANDARD\n          spark_conf:\n            spark.sql.shuffle.partitions: \"64\""),
		`job_clusters[job_cluster_key="main"].new_cluster.spark_conf["spark.sql.shuffle.partitions"]`, `"spark.sql.shuffle.partitions":"64"`)
}

func TestConvergenceApplyPolicyDefaultValues(t *testing.T) {
	job := func(v string) string {
		return fidHeader + `    tasks:
      - task_key: load
        notebook_task:
          notebook_path: /Workspace/etl/load
        new_cluster:
          spark_version: 15.4.x-scala2.12
          node_type_id: i3.xlarge
          num_workers: 1
          policy_id: POLICY1
          apply_policy_default_values: ` + v + "\n"
	}
	w := newFidWorld(t, "fid", emulator.Options{})
	w.converge(w.desired(job("true")))
	// The service never returns it: the change alone is seen against the
	// lockfile, and sent.
	w.change(job("false"), `tasks[task_key="load"].new_cluster.apply_policy_default_values`, `"apply_policy_default_values":false`)
	w.change(job("true"), `tasks[task_key="load"].new_cluster.apply_policy_default_values`, `"apply_policy_default_values":true`)
}

func TestConvergenceDeltaPreview(t *testing.T) {
	job := func(conf string) string {
		return fidHeader + `    tasks:
      - task_key: legacy
        spark_jar_task:
          main_class_name: com.acme.Legacy
        new_cluster:
          spark_version: 5.5.x-scala2.11
          node_type_id: i3.xlarge
          num_workers: 1` + conf + "\n"
	}
	w := newFidWorld(t, "fid", emulator.Options{})
	w.converge(w.desired(job("")))
	w.change(job("\n          spark_conf:\n            spark.speculation: \"true\""),
		`tasks[task_key="legacy"].new_cluster.spark_conf["spark.speculation"]`, `"spark.speculation":"true"`)
}

func TestConvergenceInstancePool(t *testing.T) {
	job := func(pool string) string {
		return fidHeader + `    job_clusters:
      - job_cluster_key: pooled
        new_cluster:
          spark_version: 15.4.x-scala2.12
          instance_pool_id: ` + pool + `
          node_type_id: i3.xlarge
          driver_node_type_id: i3.xlarge
          enable_elastic_disk: true
          num_workers: 2
          aws_attributes:
            availability: SPOT
            instance_profile_arn: arn:aws:iam::123:instance-profile/etl
    tasks:
      - task_key: load
        job_cluster_key: pooled
        notebook_task:
          notebook_path: /Workspace/etl/load
      - task_key: each
        for_each_task:
          inputs: "[1, 2]"
          task:
            task_key: each_inner
            notebook_task:
              notebook_path: /Workspace/etl/one
            new_cluster:
              spark_version: 15.4.x-scala2.12
              num_workers: 1
              node_type_id: i3.xlarge
              driver_instance_pool_id: ` + pool + "\n"
	}
	// The emulator refuses node types beside a pool, as the service does:
	// the first apply passes only because jobsync leaves them out.
	w := newFidWorld(t, "fid", emulator.Options{})
	first := w.plan(w.desired(job("pool-a")))
	if len(first.Actions) != 1 || !strings.Contains(first.Actions[0].Reason, "node_type_id is not sent") ||
		!strings.Contains(first.Actions[0].Reason, "driver_instance_pool_id is not sent") {
		t.Fatalf("the create does not say what it leaves out: %+v", first.Actions)
	}
	w.converge(w.desired(job("pool-a")))
	w.change(job("pool-b"), `job_clusters[job_cluster_key="pooled"].new_cluster.instance_pool_id`, `"instance_pool_id":"pool-b"`)
}

func TestConvergenceClusterReadBack(t *testing.T) {
	job := func(jobs string) string {
		return fidHeader + `    job_clusters:
      - job_cluster_key: main
        new_cluster:
          spark_version: 15.4.x-scala2.12
          node_type_id: i3.xlarge
          num_workers: 2
          data_security_mode: DATA_SECURITY_MODE_DEDICATED
          single_user_name: etl@acme.com
          aws_attributes:
            first_on_demand: 1
          workload_type:
            clients:
              notebooks: false` + jobs + `
      - job_cluster_key: auto
        new_cluster:
          spark_version: 15.4.x-scala2.12
          node_type_id: i3.xlarge
          num_workers: 1
          data_security_mode: DATA_SECURITY_MODE_AUTO
    tasks:
      - task_key: load
        job_cluster_key: main
        notebook_task:
          notebook_path: /Workspace/etl/load
      - task_key: check
        job_cluster_key: auto
        notebook_task:
          notebook_path: /Workspace/etl/check
`
	}
	w := newFidWorld(t, "fid", emulator.Options{})
	w.converge(w.desired(job("")))
	w.change(job("\n              jobs: false"), `job_clusters[job_cluster_key="main"].new_cluster.workload_type.clients.jobs`, `"jobs":false`)
}

func TestConvergenceBundleDeployedJob(t *testing.T) {
	const yaml = fidHeader + `    tasks:
      - task_key: load
        notebook_task:
          notebook_path: /Workspace/etl/load
`
	w := newFidWorld(t, "fid", emulator.Options{})
	// The job as `databricks bundle deploy` left it, tagged as ours (an
	// adoption by tag).
	id, err := w.client.CreateJob(context.Background(), []byte(`{"name": "fidelity", "edit_mode": "UI_LOCKED",
		"deployment": {"kind": "BUNDLE", "metadata_file_path": "/Workspace/Users/a@acme.com/.bundle/etl/prod/state/metadata.json"},
		"queue": {"enabled": true}, "tags": {"`+planner.OwnerTagKey+`": "`+planner.OwnerTagValue("fid", "j")+`"},
		"tasks": [{"task_key": "load", "notebook_task": {"notebook_path": "/Workspace/etl/load"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := w.plan(w.desired(yaml))
	if !p.Empty() {
		t.Fatalf("a bundle-deployed job plans changes: %+v", p.Actions)
	}
	w.apply(p) // records the adoption
	// A change that needs a full reset keeps the lock and the deployment.
	w.change(yaml+"    parameters:\n      - name: day\n        default: today\n", `parameters[name="day"]`, `"edit_mode":"UI_LOCKED"`)
	got, err := w.client.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings["edit_mode"] != "UI_LOCKED" {
		t.Errorf("edit_mode after the reset: %v", got.Settings["edit_mode"])
	}
	// Unlocking is a YAML change like any other.
	w.change(yaml+"    edit_mode: EDITABLE\n    parameters:\n      - name: day\n        default: today\n", `edit_mode`, `"edit_mode":"EDITABLE"`)
}

func TestConvergenceEnvironmentClient(t *testing.T) {
	job := func(v string) string {
		return fidHeader + `    environments:
      - environment_key: default
        spec:
          client: "` + v + `"
          dependencies:
            - pandas==2.2.2
    tasks:
      - task_key: py
        environment_key: default
        spark_python_task:
          python_file: /Workspace/etl/main.py
`
	}
	w := newFidWorld(t, "fid", emulator.Options{})
	w.converge(w.desired(job("2")))
	w.change(job("3"), `environments[environment_key="default"].spec.environment_version`, `"client":"3"`)
}

// TestConvergenceEveryField: a project whose jobs use every field of issue
// 14's list, written as the public examples write jobs, converges against
// the emulator with all its service behaviours on, with and without the
// adversarial reordering.
func TestConvergenceEveryField(t *testing.T) {
	yaml, err := os.ReadFile("testdata/fidelity/every_field.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, reorder := range []bool{false, true} {
		t.Run(map[bool]string{false: "service order", true: "reordered"}[reorder], func(t *testing.T) {
			w := newFidWorld(t, "fid", emulator.Options{ReorderReads: reorder})
			in := w.desired(string(yaml))
			if len(in.Desired) != 3 {
				t.Fatalf("every_field.yml has %d jobs, want 3", len(in.Desired))
			}
			w.converge(in)
			w.requireServerBehaviours()
		})
	}
}

// requireServerBehaviours checks that the emulator did to the every-field
// jobs what the service does, so that the empty plan above is not empty for
// want of server behaviour.
func (w *convWorld) requireServerBehaviours() {
	w.t.Helper()
	jobs, err := w.client.ListJobs(context.Background(), jobsapi.ListJobsOptions{ExpandTasks: true})
	if err != nil {
		w.t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, j := range jobs {
		full, err := w.client.GetJob(context.Background(), j.JobID)
		if err != nil {
			w.t.Fatal(err)
		}
		byName[full.Settings["name"].(string)] = full.Settings
	}
	text := func(name string) string {
		b, _ := json.Marshal(byName[name])
		return string(b)
	}
	for name, wants := range map[string][]string{
		"Warehouse ETL": {
			`"custom_tags":{"team":"data"}`,                   // the policy's fixed tag
			`"runtime_engine":"PHOTON"`,                       // the policy's default
			`"spark.databricks.delta.preview.enabled":"true"`, // legacy runtime
			`"data_security_mode":"SINGLE_USER"`,              // DATA_SECURITY_MODE_DEDICATED read back
			`"availability":"SPOT_WITH_FALLBACK"`,             // filled inside a partial aws block
			`"disabled":false`, `"webhook_notifications":{}`,  // per-task read defaults
			`"source":"GIT"`,
		},
		"Serverless ingest": {`"concurrency":0`, `"paused":false`},
		"Orders stream":     {`"performance_target":"STANDARD"`},
	} {
		got := text(name)
		for _, want := range wants {
			if !strings.Contains(got, want) {
				w.t.Errorf("job %q as the emulator returns it lacks %s: %s", name, want, got)
			}
		}
	}
	// A serverless job that sets no performance_target reads back without
	// one, as on real workspaces (emulator TestServerlessJobReadsBackWithoutPerformanceTarget).
	if got := text("Serverless ingest"); strings.Contains(got, "performance_target") {
		w.t.Errorf("job %q as the emulator returns it has a performance_target it never set: %s", "Serverless ingest", got)
	}
	if strings.Contains(text("Warehouse ETL"), "apply_policy_default_values") {
		w.t.Error("the emulator returned apply_policy_default_values")
	}
}

// TestPlanRefusesUnknownPrincipals: a plan whose writes grant to a
// principal the workspace does not know is refused before anything is
// written (the service would refuse the grant after the job was created);
// the check costs one SCIM lookup per principal, none on a no-change plan.
func TestPlanRefusesUnknownPrincipals(t *testing.T) {
	const yaml = fidHeader + `    run_as:
      service_principal_name: 6f1c2b44-9d0e-4c57-a2d8-1b3e5f7a9c01
    permissions:
      - group_name: data-eng
        permission_level: CAN_MANAGE
      - user_name: ghost@acme.com
        permission_level: CAN_VIEW
    tasks:
      - task_key: load
        notebook_task:
          notebook_path: /Workspace/etl/load
`
	w := newFidWorld(t, "fid", emulator.Options{})
	in := w.desired(yaml)
	in.Lock, in.Workspace = w.store.File(), convWorkspace
	w.emu.ResetRequests()
	_, _, err := refresh.Plan(context.Background(), w.client, in, refresh.Options{Strategy: refresh.List})
	if err == nil || !strings.Contains(err.Error(), `permissions user_name "ghost@acme.com"`) || strings.Contains(err.Error(), "data-eng") {
		t.Fatalf("plan: %v", err)
	}
	lookups := 0
	for _, r := range w.emu.Requests() {
		if r.Method != "GET" {
			t.Errorf("the refused plan sent %s %s", r.Method, r.Path)
		}
		if strings.Contains(r.Path, "/scim/v2/") {
			lookups++
		}
	}
	// data-eng, ghost and the run_as service principal, once each.
	if lookups != 3 {
		t.Errorf("%d SCIM lookups, want one per principal", lookups)
	}
	if len(w.emu.JobIDs()) != 0 {
		t.Errorf("jobs were written: %v", w.emu.JobIDs())
	}
	// Known principals: the plan goes through, and a no-change plan looks
	// nothing up.
	w.converge(w.desired(strings.Replace(yaml, "ghost@acme.com", "ops@acme.com", 1)))
	w.emu.ResetRequests()
	w.plan(w.desired(strings.Replace(yaml, "ghost@acme.com", "ops@acme.com", 1)))
	for _, r := range w.emu.Requests() {
		if strings.Contains(r.Path, "/scim/v2/") {
			t.Errorf("a no-change plan looked up %s?%s", r.Path, r.Query)
		}
	}
}

// TestNonAdminOn403Path: refresh, apply and destroy as a principal who is
// not a workspace admin meet the service's 403 (emulator JobAccessControl)
// and stop with its message, writing nothing they were refused; granted
// the permission, the same commands go through.
func TestNonAdminOn403Path(t *testing.T) {
	const yaml = fidHeader + `    tasks:
      - task_key: load
        notebook_task:
          notebook_path: /Workspace/etl/load
`
	// The test's client authenticates as bob, who is no admin; an admin
	// client (any other token) prepares the workspace.
	dir := emulator.Directory{Users: []emulator.User{{UserName: "bob@acme.com"}}, Tokens: map[string]string{emutest.Token: "bob@acme.com"}}
	w := newFidWorld(t, "fid", emulator.Options{Directory: dir})
	srv := httptest.NewServer(w.emu)
	t.Cleanup(srv.Close)
	admin, err := jobsapi.New(jobsapi.Config{Host: srv.URL, Token: "dapi-admin-0123456789", AuthType: "pat"}, jobsapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := admin.CreateJob(ctx, []byte(`{"name": "fidelity", "queue": {"enabled": true}, "tags": {"`+planner.OwnerTagKey+`": "`+planner.OwnerTagValue("fid", "j")+`"},
		"tasks": [{"task_key": "load", "notebook_task": {"notebook_path": "/Workspace/etl/old"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.Record(ctx, "j", state.Job{JobID: id}); err != nil {
		t.Fatal(err)
	}
	in := w.desired(yaml)
	in.Lock, in.Workspace = w.store.File(), convWorkspace
	grant := func(level string) {
		t.Helper()
		body := `{"access_control_list": [{"user_name": "user@example.com", "permission_level": "IS_OWNER"}, {"user_name": "bob@acme.com", "permission_level": "` + level + `"}]}`
		if _, err := admin.SetPermissions(ctx, id, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}

	// Refresh: no permission on the job the lockfile names.
	_, _, err = refresh.Plan(ctx, w.client, in, refresh.Options{Strategy: refresh.Get})
	if err == nil || !jobsapi.IsAuth(err) || !strings.Contains(err.Error(), "does not have View or Admin or Manage Run or Owner permissions on job") {
		t.Fatalf("refresh without permission: %v", err)
	}

	// Apply: CAN_VIEW reads, the update is refused and nothing changes.
	grant("CAN_VIEW")
	p, _, err := refresh.Plan(ctx, w.client, in, refresh.Options{Strategy: refresh.Get})
	if err != nil || len(p.Actions) != 1 {
		t.Fatalf("plan with CAN_VIEW: %v %+v", err, p)
	}
	res, err := applier.Apply(ctx, p, w.client, w.store, applier.Options{})
	if err == nil && (res == nil || len(res.Failed) == 0) {
		t.Fatal("apply with CAN_VIEW succeeded")
	}
	if msg := fmt.Sprint(err, res); !strings.Contains(msg, "does not have Admin or Owner permissions on job") {
		t.Errorf("apply with CAN_VIEW: %s", msg)
	}
	if got, _ := admin.GetJob(ctx, id); !strings.Contains(fmt.Sprint(got.Settings["tasks"]), "/Workspace/etl/old") {
		t.Errorf("a refused update changed the job: %v", got.Settings["tasks"])
	}

	// Destroy: refused too; with CAN_MANAGE everything goes through.
	in.Destroy = true
	p, _, err = refresh.Plan(ctx, w.client, in, refresh.Options{Strategy: refresh.Get})
	if err != nil {
		t.Fatal(err)
	}
	res, err = applier.Apply(ctx, p, w.client, w.store, applier.Options{})
	if msg := fmt.Sprint(err, res); err == nil && len(res.Failed) == 0 || !strings.Contains(msg, "does not have Admin or Owner permissions") {
		t.Errorf("destroy with CAN_VIEW: %s", msg)
	}
	grant("CAN_MANAGE")
	in.Destroy = false
	in.Lock = w.store.File()
	w.converge(in)
}

// principalsIn is the directory a project's jobsync.principals.json lists
// (none: the emulator's own user only).
func principalsIn(t *testing.T, projectDir string) emulator.Directory {
	t.Helper()
	d, err := emulatorPrincipals(projectDir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
