package planner_test

import (
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

// The rows FIDELITY.md added, through Build: each case is YAML, the live
// job as the service returns it, and (optionally) what the lockfile recorded
// at the last apply; the plan must be empty, or hold exactly the changes
// listed, with the request carrying the configured value.

type fidCase struct {
	name    string
	yaml    string
	live    string
	applied string // the lockfile's record, "" for none
	changes []string
	sends   string // a substring of the request
}

func (c fidCase) run(t *testing.T) {
	t.Helper()
	var lock *state.File
	if c.applied != "" {
		lock = &state.File{Version: 1, Workspace: "", Project: "acme", Lineage: "l", Serial: 1,
			Jobs: map[string]state.Job{"j": {JobID: 1, Applied: lockApplied(t, mustJSON(t, c.applied))}}}
	}
	p, err := build(t, c.yaml, []planner.Live{liveOf(t, 1, "j", c.live)}, lock)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.changes) == 0 {
		if !p.Empty() {
			t.Fatalf("want no action, got:\n%s", fmtActions(p))
		}
		return
	}
	a := one(t, p)
	var got []string
	for _, ch := range a.Changes {
		got = append(got, ch.Kind+" "+ch.Path)
	}
	if strings.Join(got, "\n") != strings.Join(c.changes, "\n") {
		t.Errorf("changes\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(c.changes, "\n     "))
	}
	if !strings.Contains(string(a.Request), c.sends) {
		t.Errorf("request %s does not send %s", a.Request, c.sends)
	}
}

const fidTask = `{"task_key":"a","notebook_task":{"notebook_path":"/a"}}`

func TestDiffAllEmpty(t *testing.T) {
	for _, c := range []fidCase{
		{name: "zeros the service returns for unset fields are no change",
			yaml: "jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}, for_each_task: null}]\n",
			live: `{"name":"j","description":"","tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a"},"retry_on_timeout":false}]}`},
		{name: "a zero in the YAML the service leaves out is no change",
			yaml: "jobs:\n  j:\n    name: j\n    description: ''\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}, retry_on_timeout: false}]\n",
			live: `{"name":"j","tasks":[` + fidTask + `]}`, applied: `{"name":"j","description":"","tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a"},"retry_on_timeout":false}]}`},
		{name: "a real change to zero is shown and the zero is sent",
			yaml:    "jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, for_each_task: {inputs: '[1]', concurrency: 0, task: {task_key: i, notebook_task: {notebook_path: /a}}}}]\n",
			live:    `{"name":"j","tasks":[{"task_key":"a","for_each_task":{"inputs":"[1]","concurrency":3,"task":{"task_key":"i","notebook_task":{"notebook_path":"/a"}}}}]}`,
			changes: []string{`modify tasks[task_key="a"].for_each_task.concurrency`},
			sends:   `"concurrency":0`},
		{name: "an empty string in a free map is data",
			yaml:    "jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a, base_parameters: {x: ''}}}]\n",
			live:    `{"name":"j","tasks":[` + fidTask + `]}`,
			changes: []string{`add tasks[task_key="a"].notebook_task.base_parameters`},
			sends:   `"base_parameters":{"x":""}`},
		{name: "the last apply held a value: a removal is shown",
			yaml:    "jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			live:    `{"name":"j","description":"","tasks":[` + fidTask + `]}`,
			applied: `{"name":"j","description":"old","tasks":[` + fidTask + `]}`,
			changes: []string{`remove description`}, sends: `"fields_to_remove":["description"]`},
	} {
		t.Run(c.name, c.run)
	}
}

func TestDiffWriteOnly(t *testing.T) {
	cluster := func(apdv string) string {
		return `{"name":"j","job_clusters":[{"job_cluster_key":"c","new_cluster":{"spark_version":"v","num_workers":1,"policy_id":"P"` + apdv + `}}],"tasks":[{"task_key":"a","job_cluster_key":"c","notebook_task":{"notebook_path":"/a"}}]}`
	}
	yaml := func(v string) string {
		return "jobs:\n  j:\n    name: j\n    job_clusters: [{job_cluster_key: c, new_cluster: {spark_version: v, num_workers: 1, policy_id: P" + v + "}}]\n    tasks: [{task_key: a, job_cluster_key: c, notebook_task: {notebook_path: /a}}]\n"
	}
	for _, c := range []fidCase{
		{name: "never returned, same as the last apply: no change",
			yaml: yaml(", apply_policy_default_values: true"), live: cluster(""), applied: cluster(`,"apply_policy_default_values":true`)},
		{name: "no lockfile record: nothing to compare, no change",
			yaml: yaml(", apply_policy_default_values: true"), live: cluster("")},
		{name: "a change to it alone is sent",
			yaml: yaml(", apply_policy_default_values: true"), live: cluster(""), applied: cluster(""),
			changes: []string{`add job_clusters[job_cluster_key="c"].new_cluster.apply_policy_default_values`},
			sends:   `"apply_policy_default_values":true`},
		{name: "removed from the YAML: sent without it",
			yaml: yaml(""), live: cluster(""), applied: cluster(`,"apply_policy_default_values":true`),
			changes: []string{`remove job_clusters[job_cluster_key="c"].new_cluster.apply_policy_default_values`},
			sends:   `"job_clusters":[{"job_cluster_key":"c","new_cluster":{"num_workers":1,"policy_id":"P","spark_version":"v"}}]`},
	} {
		t.Run(c.name, c.run)
	}
}

func TestDiffClusterRows(t *testing.T) {
	nc := func(s string) string {
		return `{"name":"j","tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a"},"new_cluster":` + s + `}]}`
	}
	yaml := func(s string) string {
		return "jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}, new_cluster: " + s + "}]\n"
	}
	for _, c := range []fidCase{
		{name: "fields a policy adds are no change",
			yaml: yaml("{spark_version: v, policy_id: P, spark_conf: {a: '1'}}"),
			live: nc(`{"spark_version":"v","policy_id":"P","spark_conf":{"a":"1","b":"2"},"spark_env_vars":{"X":"1"},"init_scripts":[{"volumes":{"destination":"/V/x.sh"}}],"runtime_engine":"PHOTON","autoscale":{"max_workers":4},"instance_pool_id":"p"}`)},
		{name: "a policy field the YAML sets differently is a change",
			yaml:    yaml("{spark_version: v, policy_id: P, runtime_engine: STANDARD}"),
			live:    nc(`{"spark_version":"v","policy_id":"P","runtime_engine":"PHOTON"}`),
			changes: []string{`modify tasks[task_key="a"].new_cluster.runtime_engine`}, sends: `"runtime_engine":"STANDARD"`},
		{name: "without a policy an added field is drift",
			yaml:    yaml("{spark_version: v, num_workers: 1}"),
			live:    nc(`{"spark_version":"v","num_workers":1,"runtime_engine":"PHOTON"}`),
			changes: []string{`remove tasks[task_key="a"].new_cluster.runtime_engine`}, sends: `"new_cluster":{"num_workers":1,"spark_version":"v"}`},
		{name: "the legacy delta preview key alone is no change",
			yaml: yaml("{spark_version: 5.5.x-scala2.11, num_workers: 1}"),
			live: nc(`{"spark_version":"5.5.x-scala2.11","num_workers":1,"spark_conf":{"spark.databricks.delta.preview.enabled":"true"}}`)},
		{name: "the delta key beside a configured key is no change",
			yaml: yaml("{spark_version: 5.5.x-scala2.11, num_workers: 1, spark_conf: {a: '1'}}"),
			live: nc(`{"spark_version":"5.5.x-scala2.11","num_workers":1,"spark_conf":{"a":"1","spark.databricks.delta.preview.enabled":"true"}}`)},
		{name: "data_security_mode aliases and AUTO read back",
			yaml: "jobs:\n  j:\n    name: j\n    job_clusters: [{job_cluster_key: c, new_cluster: {spark_version: v, num_workers: 1, data_security_mode: DATA_SECURITY_MODE_DEDICATED}}, {job_cluster_key: d, new_cluster: {spark_version: v, num_workers: 1, data_security_mode: DATA_SECURITY_MODE_AUTO}}]\n    tasks: [{task_key: a, job_cluster_key: c, notebook_task: {notebook_path: /a}}]\n",
			live: `{"name":"j","job_clusters":[{"job_cluster_key":"c","new_cluster":{"spark_version":"v","num_workers":1,"data_security_mode":"SINGLE_USER"}},{"job_cluster_key":"d","new_cluster":{"spark_version":"v","num_workers":1,"data_security_mode":"USER_ISOLATION"}}],"tasks":[{"task_key":"a","job_cluster_key":"c","notebook_task":{"notebook_path":"/a"}}]}`},
		{name: "workload_type clients default true",
			yaml: yaml("{spark_version: v, num_workers: 1, workload_type: {clients: {notebooks: false}}}"),
			live: nc(`{"spark_version":"v","num_workers":1,"workload_type":{"clients":{"notebooks":false,"jobs":true}}}`)},
		{name: "workload_type clients: a real change to false is sent",
			yaml:    yaml("{spark_version: v, num_workers: 1, workload_type: {clients: {jobs: false}}}"),
			live:    nc(`{"spark_version":"v","num_workers":1,"workload_type":{"clients":{"notebooks":true,"jobs":true}}}`),
			changes: []string{`add tasks[task_key="a"].new_cluster.workload_type`}, sends: `"clients":{"jobs":false}`},
		{name: "instance pool: node types and attributes are not sent, the pool's read back is no change",
			yaml: yaml("{spark_version: v, num_workers: 1, instance_pool_id: p, node_type_id: i3.xlarge, driver_node_type_id: i3.xlarge, enable_elastic_disk: true, aws_attributes: {availability: SPOT, instance_profile_arn: arn}}"),
			live: nc(`{"spark_version":"v","num_workers":1,"instance_pool_id":"p","driver_instance_pool_id":"p","aws_attributes":{"instance_profile_arn":"arn"},"node_type_id":"i3.xlarge"}`)},
		{name: "instance pool changed: sent without the node types",
			yaml:    yaml("{spark_version: v, num_workers: 1, instance_pool_id: p2, node_type_id: i3.xlarge}"),
			live:    nc(`{"spark_version":"v","num_workers":1,"instance_pool_id":"p","driver_instance_pool_id":"p"}`),
			changes: []string{`modify tasks[task_key="a"].new_cluster.instance_pool_id`},
			sends:   `"new_cluster":{"instance_pool_id":"p2","num_workers":1,"spark_version":"v"}`},
		{name: "driver pool without a worker pool is not sent",
			yaml:    yaml("{spark_version: v, num_workers: 2, node_type_id: n, driver_instance_pool_id: dp}"),
			live:    nc(`{"spark_version":"v","num_workers":1,"node_type_id":"n"}`),
			changes: []string{`modify tasks[task_key="a"].new_cluster.num_workers`},
			sends:   `"new_cluster":{"node_type_id":"n","num_workers":2,"spark_version":"v"}`},
	} {
		t.Run(c.name, c.run)
	}
}

func TestDiffToolFieldsAndRename(t *testing.T) {
	bundleJob := `{"name":"j","edit_mode":"UI_LOCKED","deployment":{"kind":"BUNDLE","metadata_file_path":"/W/state/metadata.json"},"tasks":[` + fidTask + `]}`
	for _, c := range []fidCase{
		{name: "a job a bundle deployed: edit_mode and deployment are no change",
			yaml: "jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n", live: bundleJob},
		{name: "a reset keeps them (it would clear them silently)",
			yaml:    "jobs:\n  j:\n    name: j\n    parameters: [{name: p, default: x}]\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			live:    bundleJob,
			changes: []string{`add parameters[name="p"]`},
			sends:   `"edit_mode":"UI_LOCKED"`},
		{name: "edit_mode in the YAML is compared and sent",
			yaml:    "jobs:\n  j:\n    name: j\n    edit_mode: EDITABLE\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			live:    bundleJob,
			changes: []string{`modify edit_mode`}, sends: `"edit_mode":"EDITABLE"`},
		{name: "environment spec client is environment_version",
			yaml: "jobs:\n  j:\n    name: j\n    environments: [{environment_key: e, spec: {client: '2'}}]\n    tasks: [{task_key: a, environment_key: e, spark_python_task: {python_file: f}}]\n",
			live: `{"name":"j","environments":[{"environment_key":"e","spec":{"environment_version":"2"}}],"tasks":[{"task_key":"a","environment_key":"e","spark_python_task":{"python_file":"f"}}]}`},
	} {
		t.Run(c.name, c.run)
	}
}
