package emulator

import (
	"math/bits"
	"strings"
	"testing"
)

// Each service behaviour, on (the default) and off (Options.Without).

func taskByKey(t *testing.T, settings map[string]any, key string) map[string]any {
	t.Helper()
	for _, e := range settings["tasks"].([]any) {
		if m := e.(map[string]any); m["task_key"] == key {
			return m
		}
	}
	t.Fatalf("no task %q in %v", key, settings["tasks"])
	return nil
}

// bundleCreateBody is the jobs/create body `databricks bundle deploy`
// (direct engine, CLI @7bbe2852) sent for a serverless job written in the
// public templates' style (a notebook task and a spark_python_task on an
// environment, development mode), recorded with --log-level=debug.
const bundleCreateBody = `{"deployment":{"kind":"BUNDLE","metadata_file_path":"/Workspace/Users/user@example.com/.bundle/my_project/dev/state/metadata.json"},"edit_mode":"UI_LOCKED","email_notifications":{"on_failure":["user@example.com"]},"environments":[{"environment_key":"default","spec":{"environment_version":"2"}}],"format":"MULTI_TASK","max_concurrent_runs":4,"name":"[dev user] my_project_job","parameters":[{"default":"main","name":"catalog"},{"default":"dev","name":"schema"}],"queue":{"enabled":true},"tags":{"dev":"user"},"tasks":[{"depends_on":[{"task_key":"notebook_task"}],"environment_key":"default","spark_python_task":{"parameters":["--catalog","main"],"python_file":"/Workspace/Users/user@example.com/.bundle/my_project/dev/files/src/main.py"},"task_key":"main_task"},{"notebook_task":{"notebook_path":"/Workspace/Users/user@example.com/.bundle/my_project/dev/files/src/notebook"},"task_key":"notebook_task"}],"trigger":{"pause_status":"PAUSED","periodic":{"interval":1,"unit":"DAYS"}}}`

// TestServerlessJobReadsBackWithoutPerformanceTarget: a serverless job that
// sets no performance_target reads back without one. The emulator used to
// add PERFORMANCE_OPTIMIZED (from the CLI's config-sync defaults), and
// `databricks bundle plan` then planned an update of every such job right
// after its deploy: the direct engine compares the remote job with what it
// sent, and performance_target is not among its backend defaults ([CLI]
// bundle/direct/dresources/resources.yml jobs.backend_defaults @7bbe2852).
// Real workspaces do not add it: the CLI's cloud test
// acceptance/bundle/templates/default-python/combinations/serverless
// (Cloud = true, SERVERLESS=yes, both engines) deploys the serverless
// template and checks that the next plan has "0 to change".
func TestServerlessJobReadsBackWithoutPerformanceTarget(t *testing.T) {
	e := newEnv(t, Options{})
	status, _, raw := e.send("POST", "/api/2.2/jobs/create", nil, []byte(bundleCreateBody))
	if status != 200 {
		t.Fatalf("create: %d %s", status, raw)
	}
	sent := parse(t, bundleCreateBody)
	got := e.settings(asInt(t, parse(t, string(raw))["job_id"]))
	if v, ok := got["performance_target"]; ok {
		t.Errorf("performance_target %v read back; the job set none", v)
	}
	// Everything the CLI sent reads back as sent (tasks apart: they gain
	// their read defaults), and nothing else but the §7.1 defaults the
	// engine skips as empty or backend defaults.
	for k, v := range sent {
		if k != "tasks" && jsonOf(t, got[k]) != jsonOf(t, v) {
			t.Errorf("%s: sent %s, read back %s", k, jsonOf(t, v), jsonOf(t, got[k]))
		}
	}
	for k := range got {
		if _, ok := sent[k]; !ok && k != "timeout_seconds" && k != "webhook_notifications" {
			t.Errorf("%s = %s read back; the CLI sent no %s", k, jsonOf(t, got[k]), k)
		}
	}
	// A set one is kept, and a job on a cluster gets none either.
	set := e.create(parse(t, `{"performance_target": "STANDARD", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/n"}}]}`))
	if got := e.settings(set)["performance_target"]; got != "STANDARD" {
		t.Errorf("a set performance_target reads back as %v", got)
	}
	classic := e.create(parse(t, `{"tasks": [{"task_key": "a", "existing_cluster_id": "c", "notebook_task": {"notebook_path": "/n"}}]}`))
	if got, ok := e.settings(classic)["performance_target"]; ok {
		t.Errorf("a job on a cluster got performance_target %v", got)
	}
}

func TestBehaviourZeroScalars(t *testing.T) {
	body := `{"trigger": {"file_arrival": {"url": "s3://b/p"}},
		"tasks": [
			{"task_key": "each", "for_each_task": {"inputs": "[1,2]", "task": {"task_key": "in", "notebook_task": {"notebook_path": "/n"}}}},
			{"task_key": "dash", "dashboard_task": {"dashboard_id": "d", "subscription": {"subscribers": [{"user_name": "a@b.c"}]}}},
			{"task_key": "alert", "sql_task": {"warehouse_id": "w", "alert": {"alert_id": "x"}}}]}`
	e := newEnv(t, Options{})
	st := e.settings(e.create(parse(t, body)))
	fa := st["trigger"].(map[string]any)["file_arrival"].(map[string]any)
	if jsonOf(t, fa["min_time_between_triggers_seconds"]) != "0" || jsonOf(t, fa["wait_after_last_change_seconds"]) != "0" {
		t.Errorf("file_arrival zero timings missing: %v", fa)
	}
	if got := jsonOf(t, taskByKey(t, st, "each")["for_each_task"].(map[string]any)["concurrency"]); got != "0" {
		t.Errorf("for_each_task.concurrency = %s, want 0", got)
	}
	if got := taskByKey(t, st, "dash")["dashboard_task"].(map[string]any)["subscription"].(map[string]any)["paused"]; got != false {
		t.Errorf("subscription.paused = %v, want false", got)
	}
	if got := taskByKey(t, st, "alert")["sql_task"].(map[string]any)["alert"].(map[string]any)["pause_subscriptions"]; got != false {
		t.Errorf("alert.pause_subscriptions = %v, want false", got)
	}
	off := newEnv(t, Options{Without: ZeroScalars})
	st = off.settings(off.create(parse(t, body)))
	if _, ok := taskByKey(t, st, "each")["for_each_task"].(map[string]any)["concurrency"]; ok {
		t.Error("ZeroScalars off still fills concurrency")
	}
}

func TestBehaviourClusterReadBack(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(parse(t, `{"job_clusters": [
		{"job_cluster_key": "partial", "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1, "aws_attributes": {"first_on_demand": 1},
			"workload_type": {"clients": {"notebooks": false}}, "data_security_mode": "DATA_SECURITY_MODE_DEDICATED"}},
		{"job_cluster_key": "std", "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1, "data_security_mode": "DATA_SECURITY_MODE_STANDARD"}},
		{"job_cluster_key": "legacy", "new_cluster": {"spark_version": "5.5.x-scala2.11", "num_workers": 1, "spark_conf": {"spark.x": "1"}}},
		{"job_cluster_key": "pool", "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1, "instance_pool_id": "p-1"}}],
		"tasks": [{"task_key": "a", "job_cluster_key": "partial", "notebook_task": {"notebook_path": "/n"}}]}`))
	clusters := map[string]map[string]any{}
	for _, jc := range e.settings(id)["job_clusters"].([]any) {
		m := jc.(map[string]any)
		clusters[m["job_cluster_key"].(string)] = m["new_cluster"].(map[string]any)
	}
	p := clusters["partial"]
	if got := jsonOf(t, p["aws_attributes"]); got != `{"availability":"SPOT_WITH_FALLBACK","ebs_volume_count":0,"ebs_volume_size":0,"first_on_demand":1,"zone_id":"us-east-1c"}` {
		t.Errorf("partial aws_attributes read back as %s", got)
	}
	if got := jsonOf(t, p["workload_type"]); got != `{"clients":{"jobs":true,"notebooks":false}}` {
		t.Errorf("workload_type read back as %s", got)
	}
	if p["data_security_mode"] != "SINGLE_USER" || clusters["std"]["data_security_mode"] != "USER_ISOLATION" {
		t.Errorf("data_security_mode aliases: %v, %v", p["data_security_mode"], clusters["std"]["data_security_mode"])
	}
	if got := jsonOf(t, clusters["legacy"]["spark_conf"]); got != `{"spark.databricks.delta.preview.enabled":"true","spark.x":"1"}` {
		t.Errorf("legacy runtime spark_conf %s", got)
	}
	if _, ok := clusters["std"]["spark_conf"]; ok {
		t.Error("a current runtime got the delta preview conf")
	}
	pool := clusters["pool"]
	if pool["driver_instance_pool_id"] != "p-1" {
		t.Errorf("pool cluster driver_instance_pool_id %v, want p-1", pool["driver_instance_pool_id"])
	}
	if _, ok := pool["aws_attributes"]; ok {
		t.Error("a pool cluster got the platform's aws_attributes")
	}

	off := newEnv(t, Options{Without: CloudAttributeDefaults | WorkloadTypeClients | DataSecurityModeAliases | DeltaPreviewConf | InstancePoolRules})
	id = off.create(parse(t, `{"job_clusters": [{"job_cluster_key": "c", "new_cluster": {"spark_version": "5.5.x-scala2.11", "num_workers": 1, "aws_attributes": {"first_on_demand": 1}, "data_security_mode": "DATA_SECURITY_MODE_DEDICATED", "instance_pool_id": "p", "node_type_id": "i3.xlarge"}}],
		"tasks": [{"task_key": "a", "job_cluster_key": "c", "notebook_task": {"notebook_path": "/n"}}]}`))
	c := off.settings(id)["job_clusters"].([]any)[0].(map[string]any)["new_cluster"].(map[string]any)
	if jsonOf(t, c["aws_attributes"]) != `{"first_on_demand":1}` || c["data_security_mode"] != "DATA_SECURITY_MODE_DEDICATED" || c["spark_conf"] != nil || c["driver_instance_pool_id"] != nil {
		t.Errorf("behaviours off, cluster read back as %s", jsonOf(t, c))
	}
}

func TestBehaviourInstancePoolRefusesNodeTypes(t *testing.T) {
	e := newEnv(t, Options{})
	for _, f := range []string{"node_type_id", "driver_node_type_id"} {
		msg := e.fail("POST", "/api/2.2/jobs/create", parse(t, `{"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/n"},
			"new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1, "instance_pool_id": "p", "`+f+`": "i3.xlarge"}}]}`), 400, "INVALID_PARAMETER_VALUE")
		if want := "The field '" + f + "' cannot be supplied when an instance pool ID is provided."; msg != want {
			t.Errorf("message %q, want %q", msg, want)
		}
	}
}

func TestBehaviourPolicyValues(t *testing.T) {
	policies := map[string]map[string]any{
		"P1": {
			"spark_conf.spark.databricks.cluster.profile": map[string]any{"type": "fixed", "value": "serverless"},
			"custom_tags.team":                            map[string]any{"type": "fixed", "value": "data"},
			"runtime_engine":                              map[string]any{"type": "allowlist", "values": []any{"PHOTON", "STANDARD"}, "defaultValue": "PHOTON"},
			"autoscale.max_workers":                       map[string]any{"type": "range", "maxValue": 10, "defaultValue": 4},
			"init_scripts.0.volumes.destination":          map[string]any{"type": "unlimited", "defaultValue": "/Volumes/a/b/c.sh"},
		},
	}
	e := newEnv(t, Options{Policies: policies})
	id := e.create(parse(t, `{"job_clusters": [
		{"job_cluster_key": "fixed_only", "new_cluster": {"spark_version": "15.4.x-scala2.12", "policy_id": "P1", "spark_conf": {"spark.x": "1"}}},
		{"job_cluster_key": "defaults", "new_cluster": {"spark_version": "15.4.x-scala2.12", "policy_id": "P1", "apply_policy_default_values": true, "runtime_engine": "STANDARD"}},
		{"job_cluster_key": "unknown", "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1, "policy_id": "nope"}}],
		"tasks": [{"task_key": "a", "job_cluster_key": "fixed_only", "notebook_task": {"notebook_path": "/n"}}]}`))
	clusters := map[string]map[string]any{}
	for _, jc := range e.settings(id)["job_clusters"].([]any) {
		m := jc.(map[string]any)
		clusters[m["job_cluster_key"].(string)] = m["new_cluster"].(map[string]any)
	}
	fo := clusters["fixed_only"]
	if got := jsonOf(t, fo["spark_conf"]); got != `{"spark.databricks.cluster.profile":"serverless","spark.x":"1"}` {
		t.Errorf("fixed spark_conf %s", got)
	}
	if got := jsonOf(t, fo["custom_tags"]); got != `{"team":"data"}` {
		t.Errorf("fixed custom_tags %s", got)
	}
	if _, ok := fo["runtime_engine"]; ok {
		t.Error("a default value applied without apply_policy_default_values")
	}
	d := clusters["defaults"]
	if d["runtime_engine"] != "STANDARD" || jsonOf(t, d["autoscale"]) != `{"max_workers":4}` || jsonOf(t, d["init_scripts"]) != `[{"volumes":{"destination":"/Volumes/a/b/c.sh"}}]` {
		t.Errorf("defaults applied as %s", jsonOf(t, d))
	}
	if _, ok := d["apply_policy_default_values"]; ok {
		t.Error("apply_policy_default_values read back")
	}
	if _, ok := clusters["unknown"]["custom_tags"]; ok {
		t.Error("an unknown policy applied values")
	}
	msg := e.fail("POST", "/api/2.2/jobs/create", parse(t, `{"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/n"},
		"new_cluster": {"spark_version": "15.4.x-scala2.12", "policy_id": "P1", "custom_tags": {"team": "web"}}}]}`), 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(msg, "custom_tags.team") {
		t.Errorf("conflict with a fixed value: %q", msg)
	}
	off := newEnv(t, Options{Policies: policies, Without: PolicyValues})
	id = off.create(parse(t, `{"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/n"}, "new_cluster": {"spark_version": "15.4.x-scala2.12", "policy_id": "P1"}}]}`))
	if _, ok := off.settings(id)["tasks"].([]any)[0].(map[string]any)["new_cluster"].(map[string]any)["custom_tags"]; ok {
		t.Error("PolicyValues off still applies the policy")
	}
}

func TestBehaviourSortedTasksOff(t *testing.T) {
	e := newEnv(t, Options{Without: SortedTasks})
	id := e.create(parse(t, `{"tasks": [{"task_key": "b", "notebook_task": {"notebook_path": "/n"}}, {"task_key": "a", "notebook_task": {"notebook_path": "/n"}}]}`))
	if got := strings.Join(taskKeys(t, e.settings(id)), ","); got != "b,a" {
		t.Errorf("SortedTasks off: order %s, want the request's b,a", got)
	}
}

func TestParseBehaviours(t *testing.T) {
	b, err := ParseBehaviours("sorted-tasks, zero-scalars")
	if err != nil || b != SortedTasks|ZeroScalars {
		t.Errorf("ParseBehaviours = %v, %v", b, err)
	}
	if _, err := ParseBehaviours("sorted-task"); err == nil || !strings.Contains(err.Error(), "sorted-tasks") {
		t.Errorf("an unknown name: %v", err)
	}
	if len(behaviourNames) != bits.OnesCount32(uint32(allBehaviours)) || allBehaviours.String() == "" {
		t.Errorf("every behaviour needs a name: %d names for %v", len(behaviourNames), allBehaviours)
	}
}
