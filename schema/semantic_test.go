package schema

import (
	"testing"
)

func TestSemanticChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"duplicate task keys", one(`
tasks:
  - {task_key: a, notebook_task: {notebook_path: /n}}
  - {task_key: a, notebook_task: {notebook_path: /n}}
`), []string{`a.yml:6:10: jobs.a.tasks[task_key="a"].task_key: duplicate task_key "a" (first at line 5)`}},
		{"duplicate job cluster keys", one(`
job_clusters:
  - {job_cluster_key: c, new_cluster: {spark_version: v}}
  - {job_cluster_key: c, new_cluster: {spark_version: v}}
`), []string{`a.yml:6:10: jobs.a.job_clusters[job_cluster_key="c"].job_cluster_key: duplicate job_cluster_key "c" (first at line 5)`}},
		{"duplicate environments and parameters", one(`
environments: [{environment_key: e}, {environment_key: e}]
parameters: [{name: p, default: ""}, {name: p, default: x}]
`), []string{
			`a.yml:4:43: jobs.a.environments[environment_key="e"].environment_key: duplicate environment_key "e"`,
			`a.yml:5:43: jobs.a.parameters[name="p"].name: duplicate name "p"`,
		}},
		{"dangling depends_on", one(`
tasks:
  - {task_key: load, notebook_task: {notebook_path: /n}, depends_on: [{task_key: ingst}]}
  - {task_key: ingest, notebook_task: {notebook_path: /n}}
`), []string{`a.yml:5:76: jobs.a.tasks[task_key="load"].depends_on[task_key="ingst"].task_key: depends on task "ingst", which does not exist (did you mean "ingest"?)`}},
		{"self dependency and duplicates", one(`
tasks:
  - {task_key: b, notebook_task: {notebook_path: /n}}
  - {task_key: a, notebook_task: {notebook_path: /n}, depends_on: [{task_key: a}, {task_key: b}, {task_key: b}]}
`), []string{
			`jobs.a.tasks[task_key="a"].depends_on[task_key="a"].task_key: task "a" depends on itself`,
			`jobs.a.tasks[task_key="a"].depends_on[task_key="b"].task_key: depends on "b" twice`,
		}},
		{"cycles are named", one(`
tasks:
  - {task_key: c, notebook_task: {notebook_path: /n}, depends_on: [{task_key: a}]}
  - {task_key: a, notebook_task: {notebook_path: /n}, depends_on: [{task_key: b}]}
  - {task_key: b, notebook_task: {notebook_path: /n}, depends_on: [{task_key: c}]}
  - {task_key: x, notebook_task: {notebook_path: /n}, depends_on: [{task_key: y}]}
  - {task_key: y, notebook_task: {notebook_path: /n}, depends_on: [{task_key: x}]}
  - {task_key: z, notebook_task: {notebook_path: /n}, depends_on: [{task_key: x}]}
`), []string{
			`a.yml:6:59: jobs.a.tasks[task_key="a"].depends_on: dependency cycle: a -> b -> c -> a`,
			`a.yml:8:59: jobs.a.tasks[task_key="x"].depends_on: dependency cycle: x -> y -> x`,
		}},
		{"outcome only on condition tasks", one(`
tasks:
  - {task_key: c, condition_task: {op: EQUAL_TO, left: a, right: b}}
  - {task_key: n, notebook_task: {notebook_path: /n}}
  - {task_key: d, notebook_task: {notebook_path: /n}, depends_on: [{task_key: c, outcome: "true"}, {task_key: n, outcome: "false"}]}
`), []string{`jobs.a.tasks[task_key="d"].depends_on[task_key="n"].outcome: outcome applies only to a dependency on a condition_task, and "n" is not one`}},
		{"dangling cluster and environment keys", one(`
job_clusters: [{job_cluster_key: main, new_cluster: {spark_version: v}}]
environments: [{environment_key: default}]
tasks:
  - {task_key: a, job_cluster_key: mian, notebook_task: {notebook_path: /n}}
  - {task_key: b, environment_key: gpu, spark_python_task: {python_file: /f.py}}
`), []string{
			`jobs.a.tasks[task_key="a"].job_cluster_key: job_cluster_key "mian" is not defined in job_clusters (did you mean "main"?)`,
			`jobs.a.tasks[task_key="b"].environment_key: environment_key "gpu" is not defined in environments`,
		}},
		{"relative workspace paths", one(`
tasks:
  - {task_key: nb, notebook_task: {notebook_path: ../src/ingest.ipynb}}
  - {task_key: py, spark_python_task: {python_file: src/main.py}}
  - {task_key: sql, sql_task: {warehouse_id: w, file: {path: ../src/q.sql}}}
  - {task_key: uri, spark_python_task: {python_file: "dbfs:/FileStore/main.py"}}
  - {task_key: git, notebook_task: {notebook_path: notebooks/run, source: GIT}}
`), []string{
			`jobs.a.tasks[task_key="nb"].notebook_task.notebook_path: "../src/ingest.ipynb" is a relative path, but this notebook is read from the workspace, where a path starts with / (a relative path names a file of the job's git_source)`,
			`jobs.a.tasks[task_key="py"].spark_python_task.python_file: "src/main.py" is a relative path, but this Python file is read from the workspace`,
			`jobs.a.tasks[task_key="sql"].sql_task.file.path: "../src/q.sql" is a relative path, but this SQL file is read from the workspace`,
			`jobs.a.tasks[task_key="git"].notebook_task.source: source is GIT but the job has no git_source`,
		}},
		{"relative libraries and dependencies", one(`
environments:
  - environment_key: e
    spec: {client: "2", dependencies: [requests==2.32.0, ../dist/etl-0.1-py3-none-any.whl, -r ./requirements.txt, /Volumes/main/libs/x.whl]}
tasks:
  - task_key: t
    environment_key: e
    spark_python_task: {python_file: /Workspace/etl/main.py}
  - task_key: c
    existing_cluster_id: x
    spark_jar_task: {main_class_name: M}
    libraries: [{whl: ../dist/*.whl}, {jar: "dbfs:/FileStore/x.jar"}, {requirements: /Workspace/req.txt}, {pypi: {package: numpy}}]
`), []string{
			`jobs.a.environments[environment_key="e"].spec.dependencies[1]: "../dist/etl-0.1-py3-none-any.whl" is a relative path; a dependency is a package, a workspace path`,
			`jobs.a.environments[environment_key="e"].spec.dependencies[2]: "-r ./requirements.txt" is a relative path`,
			`jobs.a.tasks[task_key="c"].libraries[0].whl: "../dist/*.whl" is a relative path; a library is a workspace path (/Workspace/...), a volume (/Volumes/...) or a URI`,
		}},
		{"relative paths of git_source", one(`
git_source: {git_url: "https://github.com/example/etl", git_provider: gitHub, git_branch: main}
tasks:
  - {task_key: nb, notebook_task: {notebook_path: notebooks/ingest}}
  - {task_key: ws, notebook_task: {notebook_path: notebooks/report, source: WORKSPACE}}
`), []string{
			`jobs.a.tasks[task_key="ws"].notebook_task.notebook_path: "notebooks/report" is a relative path, but this notebook is read from the workspace`,
		}},
		{"bundle substitutions outside a bundle", one(`
name: etl-${bundle.target}
tasks:
  - task_key: t
    notebook_task:
      notebook_path: /Workspace/Users/${workspace.current_user.userName}/etl
      base_parameters: {pipeline: "${resources.pipelines.p.id}", text: "$${bundle.target}"}
    run_job_task: {job_id: "${resources.jobs.b.id}"}
`), []string{
			`jobs.a.name: ${bundle.target} is an Asset Bundle substitution, and this job is not read as part of a bundle: run jobsync on the bundle's folder`,
			`jobs.a.tasks[task_key="t"].notebook_task.notebook_path: ${workspace.current_user.userName} is an Asset Bundle substitution`,
			`jobs.a.tasks[task_key="t"].notebook_task.base_parameters.pipeline: ${resources.pipelines.p.id} is an Asset Bundle substitution`,
			`jobs.a.tasks[task_key="t"].run_job_task: a task runs exactly one thing`,
			`jobs.a.tasks[task_key="t"].run_job_task.job_id: must be a job id (integer) or a reference to a job of this configuration`,
		}},
		{"task types", one(`
tasks:
  - {task_key: none}
  - {task_key: two, notebook_task: {notebook_path: /n}, spark_python_task: {python_file: /f.py}}
  - {task_key: typo, notebok_task: {notebook_path: /n}}
`), []string{
			`jobs.a.tasks[task_key="none"]: no task type: set one of notebook_task, spark_python_task, python_wheel_task, sql_task, dbt_task, run_job_task, ... (20 task types; jobsync schema lists them all)`,
			`jobs.a.tasks[task_key="two"].spark_python_task: a task runs exactly one thing, but this one sets notebook_task and spark_python_task`,
			`jobs.a.tasks[task_key="typo"].notebok_task: unknown field "notebok_task" (did you mean "notebook_task"?)`,
		}},
		{"for_each inner task", one(`
tasks:
  - task_key: loop
    for_each_task:
      inputs: "[1,2]"
      task:
        task_key: inner
        job_cluster_key: nope
        notebook_task: {notebook_path: /n}
        sql_task: {warehouse_id: w, query: {query_id: q}}
`), []string{
			`jobs.a.tasks[task_key="loop"].for_each_task.task.job_cluster_key: job_cluster_key "nope" is not defined in job_clusters`,
			`jobs.a.tasks[task_key="loop"].for_each_task.task.sql_task: a task runs exactly one thing, but this one sets notebook_task and sql_task`,
		}},
		{"nested for_each", one(`
tasks:
  - task_key: loop
    for_each_task:
      inputs: "[1]"
      task: {task_key: inner, for_each_task: {inputs: "[2]", task: {task_key: deep, notebook_task: {notebook_path: /n}}}}
`), []string{`jobs.a.tasks[task_key="loop"].for_each_task.task.for_each_task: a for_each_task cannot run another for_each_task`}},
		{"compute exclusive", one(`
job_clusters: [{job_cluster_key: c, new_cluster: {spark_version: v}}]
tasks:
  - {task_key: t, job_cluster_key: c, existing_cluster_id: "0101-abc", notebook_task: {notebook_path: /n}}
`), []string{`jobs.a.tasks[task_key="t"].job_cluster_key: existing_cluster_id and job_cluster_key cannot be set together`}},
		{"schedule and continuous", one(`
schedule: {quartz_cron_expression: "0 0 * * * ?", timezone_id: UTC}
continuous: {pause_status: UNPAUSED}
`), []string{`a.yml:5:5: jobs.a.continuous: schedule and continuous cannot be set together: a job is started by one of schedule, continuous or trigger`}},
		{"triggers with schedule", one(`
schedule: {quartz_cron_expression: "0 0 * * * ?", timezone_id: UTC}
triggers: [{schedule: {quartz_cron_expression: "0 0 * * * ? 1960", timezone_id: UTC}}]
`), []string{
			`jobs.a.triggers: triggers cannot be combined with schedule; move it into triggers`,
			`jobs.a.triggers[0].schedule.quartz_cron_expression: invalid Quartz cron expression "0 0 * * * ? 1960": year field "1960": 1960 is out of range 1970-2099`,
		}},
		{"bad cron", one(`
schedule: {quartz_cron_expression: "0 0 12 * * MON", timezone_id: UTC}
`), []string{`jobs.a.schedule.quartz_cron_expression: invalid Quartz cron expression "0 0 12 * * MON": day-of-month (*) and day-of-week (MON) are both set; Quartz needs ? in one of them, e.g. "0 0 12 ? * MON"`}},
		{"git source refs", one(`
git_source: {git_url: u, git_provider: gitHub, git_branch: main, git_tag: v1}
`), []string{`jobs.a.git_source.git_tag: git_branch and git_tag cannot be set together; set one`}},
		{"GIT source without git_source", one(`
tasks: [{task_key: t, notebook_task: {notebook_path: n, source: GIT}}]
`), []string{`jobs.a.tasks[task_key="t"].notebook_task.source: source is GIT but the job has no git_source`}},
		{"permissions", one(`
permissions:
  - {user_name: u, permission_level: IS_OWNER}
  - {user_name: u, permission_level: CAN_VIEW}
  - {group_name: g, permission_level: IS_OWNER}
`), []string{
			`a.yml:6:9: jobs.a.permissions[user_name="u"]: user_name "u" is granted twice (first at line 5); give each principal one permission_level`,
			`jobs.a.permissions[group_name="g"].permission_level: a group cannot own a job`,
			`jobs.a.permissions[group_name="g"].permission_level: a job has exactly one owner; IS_OWNER is granted more than once`,
		}},
		{"lifecycle paths", one(`
lifecycle:
  ignore_changes: [schedule.pause_status, 'tasks[task_key="a"].timeout_seconds', shedule]
`), []string{`jobs.a.lifecycle.ignore_changes[2]: "shedule" does not start with a job settings field (did you mean "schedule"?)`}},
		{"references", map[string]string{"a.yml": `jobs:
  a:
    tasks:
      - {task_key: self, run_job_task: {job_id: "${jobs.a.id}"}}
      - {task_key: other, run_job_task: {job_id: "${jobs.bb.id}"}}
      - {task_key: ghost, run_job_task: {job_id: "${jobs.cc.id}"}}
  b:
    name: b
`}, []string{
			`a.yml:4:41: jobs.a.tasks[task_key="self"].run_job_task.job_id: job "a" refers to its own id; a job cannot trigger itself through a reference`,
			`a.yml:5:42: jobs.a.tasks[task_key="other"].run_job_task.job_id: reference to unknown job "bb" (did you mean "b"?)`,
			`a.yml:6:42: jobs.a.tasks[task_key="ghost"].run_job_task.job_id: reference to unknown job "cc"`,
		}},
		{"reference cycle", map[string]string{"a.yml": `jobs:
  a:
    tasks: [{task_key: t, run_job_task: {job_id: "${jobs.b.id}"}}]
  b:
    tasks: [{task_key: t, run_job_task: {job_id: "${jobs.a.id}"}}]
`}, []string{`a.yml:2:3: jobs.a: jobs refer to each other's ids in a cycle, so none can be created first: a -> b -> a`}},
		{"duplicate job keys across files", map[string]string{
			"one.yml": "jobs:\n  etl: {name: one}\n",
			"two.yml": "resources:\n  jobs:\n    etl: {name: two}\n",
		}, []string{`two.yml:3:5: jobs.etl: job key "etl" is defined twice: here and at one.yml:2:3; a key names one job`}},
		{"duplicate job keys in two sections of a file", map[string]string{
			"one.yml": "jobs:\n  etl: {name: one}\nresources:\n  jobs:\n    etl: {name: two}\n",
		}, []string{`one.yml:5:5: jobs.etl: job key "etl" is defined twice: here and at one.yml:2:3`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loadFiles(t, tc.files)
			expectDiags(t, diags, tc.want)
		})
	}
}

// one makes a single file a.yml with job "a". The bodies above start with a
// newline, so their first line is line 4 of the file.
func one(body string) map[string]string {
	return map[string]string{"a.yml": job("a", body)}
}

func TestFindCycles(t *testing.T) {
	// A long chain must not be a problem (no recursion).
	nodes := make([]string, 5000)
	edges := map[string][]string{}
	for i := range nodes {
		nodes[i] = string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('A'+i/260))
	}
	for i := 1; i < len(nodes); i++ {
		edges[nodes[i]] = []string{nodes[i-1]}
	}
	if c := findCycles(nodes, edges); len(c) != 0 {
		t.Errorf("chain has cycles: %v", c)
	}
	edges[nodes[0]] = []string{nodes[len(nodes)-1]}
	c := findCycles(nodes, edges)
	if len(c) != 1 || len(c[0]) != len(nodes) {
		t.Errorf("want one cycle through every node, got %d cycles", len(c))
	}
}
