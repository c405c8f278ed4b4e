package schema

import (
	"fmt"
	"strings"
	"testing"
)

func TestSchemaErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string // the job, at four spaces of indentation, from line 3
		want []string
	}{
		{"valid minimal", "name: x\n", nil},
		{"typo with suggestion", "timout_seconds: 10\n", []string{`a.yml:3:5: jobs.a.timout_seconds: unknown field "timout_seconds" (did you mean "timeout_seconds"?)`}},
		{"transposition", "scheduel: {}\n", []string{`jobs.a.scheduel: unknown field "scheduel" (did you mean "schedule"?)`}},
		{"dash for underscore", "max-concurrent-runs: 1\n", []string{`unknown field "max-concurrent-runs" (did you mean "max_concurrent_runs"?)`}},
		{"unknown far from anything", "colour: blue\n", []string{`a.yml:3:5: jobs.a.colour: unknown field "colour"`}},
		{"settings wrapper", "settings: {name: x}\n", []string{`unknown field "settings" (job settings go directly under the job key, not under settings:)`}},
		{"job_id at job level", "job_id: 5\n", []string{`unknown field "job_id" (jobsync keeps job ids in its lockfile; remove job_id from the YAML)`}},
		{"nested typo of a required field", "tasks:\n  - task_key: t\n    notebook_task: {notebok_path: /n}\n", []string{
			`a.yml:5:25: jobs.a.tasks[task_key="t"].notebook_task.notebok_path: unknown field "notebok_path" (did you mean "notebook_path"?)`,
		}},
		{"bundle permission level", "permissions:\n  - {user_name: u, level: CAN_VIEW}\n", []string{
			`jobs.a.permissions[user_name="u"].level: unknown field "level" (did you mean "permission_level"?)`,
		}},
		{"wrong type integer", "timeout_seconds: soon\n", []string{`a.yml:3:5: jobs.a.timeout_seconds: expected integer, got string`}},
		{"wrong type string with quote hint", "tags: {cost_center: 4711}\n", []string{`a.yml:3:12: jobs.a.tags.cost_center: expected string, got integer; quote it: "4711"`}},
		{"wrong type bool quote hint", "parameters: [{name: p, default: true}]\n", []string{`jobs.a.parameters[name="p"].default: expected string, got boolean; quote it: "true"`}},
		{"quoted number", "max_concurrent_runs: \"3\"\n", []string{`jobs.a.max_concurrent_runs: expected integer, got string; remove the quotes`}},
		{"quoted boolean", "queue: {enabled: \"true\"}\n", []string{`jobs.a.queue.enabled: expected boolean, got string; remove the quotes`}},
		{"YAML 1.1 boolean", "queue: {enabled: yes}\n", []string{`jobs.a.queue.enabled: expected boolean, got string; yes is text in YAML 1.2: write true`}},
		{"wrong container", "tasks: {task_key: t}\n", []string{`jobs.a.tasks: expected list, got mapping`}},
		{"null", "tasks:\n", []string{`jobs.a.tasks: expected list, got null`}},
		{"enum with suggestion", "edit_mode: editable\n", []string{`jobs.a.edit_mode: must be one of EDITABLE, UI_LOCKED, got "editable" (did you mean "EDITABLE"?)`}},
		// The API matches git_provider in any letter case (jobs-api.md §12.18).
		{"git provider in lower case", "git_source: {git_url: u, git_provider: github, git_branch: main}\n", nil},
		{"git provider in upper case", "git_source: {git_url: u, git_provider: GITLABENTERPRISEEDITION, git_branch: main}\n", nil},
		{"git provider typo", "git_source: {git_url: u, git_provider: githb, git_branch: main}\n", []string{
			`jobs.a.git_source.git_provider: must be one of awsCodeCommit, azureDevOpsServices, bitbucketCloud, bitbucketServer, gitHub, gitHubEnterprise, gitLab, gitLabEnterpriseEdition (in any letter case), got "githb" (did you mean "gitHub"?)`}},
		{"required", "git_source: {git_url: u}\n", []string{`jobs.a.git_source: missing required field "git_provider"`}},
		{"queue needs enabled", "queue: {}\n", []string{`jobs.a.queue: missing required field "enabled"`}},
		{"minimum", "max_concurrent_runs: -1\n", []string{`jobs.a.max_concurrent_runs: must be at least 0, got -1`}},
		{"maximum", "max_concurrent_runs: 1001\n", []string{`jobs.a.max_concurrent_runs: must be at most 1000, got 1001`}},
		{"int32 range", "timeout_seconds: 2147483648\n", []string{`must be at most 2147483647, got 2147483648`}},
		{"reserved tag", "tags: {jobsync: mine}\n", []string{`a.yml:3:12: jobs.a.tags.jobsync: tag key "jobsync" is reserved: jobsync writes its ownership tag there; use another key`}},
		{"job id reference ok", "tasks:\n  - task_key: t\n    run_job_task: {job_id: 123}\n", nil},
		{"job id malformed reference", "tasks:\n  - task_key: t\n    run_job_task: {job_id: '${jobs.b}'}\n", []string{
			`jobs.a.tasks[task_key="t"].run_job_task.job_id: must be a job id (integer) or a reference to a job of this configuration, ${jobs.<key>.id}, got "${jobs.b}"`}},
		{"job id bundle reference", "tasks:\n  - task_key: t\n    run_job_task: {job_id: '${resources.jobs.b.id}'}\n", []string{
			`(jobsync writes references as ${jobs.b.id})`}},
		{"job id wrong type", "tasks:\n  - task_key: t\n    run_job_task: {job_id: true}\n", []string{`got true`}},
		{"exactly one: none", "run_as: {}\n", []string{`jobs.a.run_as: set one of group_name, service_principal_name, user_name`}},
		{"exactly one: two", "run_as: {user_name: u, service_principal_name: s}\n", []string{
			`jobs.a.run_as: service_principal_name and user_name cannot be set together; set exactly one of group_name, service_principal_name, user_name`}},
		{"trigger needs a kind", "trigger: {pause_status: PAUSED}\n", []string{`jobs.a.trigger: set one of file_arrival, model, periodic, table_update`}},
		{"sql task needs one kind", "tasks:\n  - task_key: t\n    sql_task: {warehouse_id: w, query: {query_id: q}, file: {path: /p}}\n", []string{
			`jobs.a.tasks[task_key="t"].sql_task: file and query cannot be set together`}},
		{"library exactly one", "tasks:\n  - task_key: t\n    notebook_task: {notebook_path: /n}\n    libraries: [{jar: /a, whl: /b}]\n", []string{
			`jobs.a.tasks[task_key="t"].libraries[0]: jar and whl cannot be set together`}},
		{"permission principal", "permissions: [{permission_level: CAN_VIEW}]\n", []string{
			`jobs.a.permissions[0]: set one of user_name, group_name, service_principal_name`}},
		{"permission level enum", "permissions: [{group_name: g, permission_level: CAN_RUN}]\n", []string{
			`jobs.a.permissions[group_name="g"].permission_level: must be one of CAN_VIEW, CAN_MANAGE_RUN, CAN_MANAGE, IS_OWNER, got "CAN_RUN"`}},
		{"lifecycle typo", "lifecycle: {prevent_destory: true}\n", []string{`jobs.a.lifecycle.prevent_destory: unknown field "prevent_destory" (did you mean "prevent_destroy"?)`}},
		{"parameter name pattern", "parameters: [{name: 'a b', default: ''}]\n", []string{
			`jobs.a.parameters[name="a b"].name: a parameter name may contain only letters, digits, "_", "-" and "."`}},
		{"dbt commands", "tasks:\n  - task_key: t\n    dbt_task: {commands: [run]}\n", []string{
			`jobs.a.tasks[task_key="t"].dbt_task.commands[0]: each dbt command starts with "dbt", e.g. "dbt run", got "run"`}},
		{"task key pattern", "tasks:\n  - task_key: 'a b'\n    notebook_task: {notebook_path: /n}\n", []string{
			`jobs.a.tasks[task_key="a b"].task_key: a task key must be 1 to 100 letters, digits, "_" or "-", got "a b"`}},
		{"free maps take any key", "tags: {'cost/center': a, 'x.y': b}\njob_clusters:\n  - job_cluster_key: c\n    new_cluster: {spark_version: v, spark_conf: {spark.x: '1'}, custom_tags: {a: b}, spark_env_vars: {A: b}}\n", nil},
		{"description limit", "description: " + strings.Repeat("x", 27701) + "\n", []string{`jobs.a.description: is 27701 characters long; at most 27700 are allowed`}},
		{"git snapshot is output only", "git_source: {git_url: u, git_provider: gitHub, git_snapshot: {used_commit: abc}}\n", []string{`unknown field "git_snapshot"`}},
		{"job is not a mapping", "", nil}, // replaced below
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := job("a", tc.body)
			if tc.name == "job is not a mapping" {
				file = "jobs:\n  a: just text\n"
				tc.want = []string{`a.yml:2:3: jobs.a: expected mapping, got string`}
			}
			_, diags := loadFiles(t, map[string]string{"a.yml": file})
			expectDiags(t, diags, tc.want)
		})
	}
}

func TestLimits(t *testing.T) {
	tasks := func(n int) string {
		var b strings.Builder
		b.WriteString("tasks:\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  - {task_key: t%d, notebook_task: {notebook_path: /n}}\n", i)
		}
		return b.String()
	}
	tags := func(n int) string {
		var b strings.Builder
		b.WriteString("tags:\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  k%d: v\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"1000 tasks", tasks(1000), nil},
		{"1001 tasks", tasks(1001), []string{`a.yml:3:5: jobs.a.tasks: has 1001 tasks; at most 1000 are allowed`}},
		// 24: the API's 25 less jobsync's ownership tag.
		{"24 tags", tags(24), nil},
		{"25 tags", tags(25), []string{`a.yml:3:5: jobs.a.tags: has 25 tags; at most 24 are allowed (the Jobs API allows 25 tags, and jobsync adds its own ownership tag to every job)`}},
		{"max_concurrent_runs 1000", "max_concurrent_runs: 1000\n", nil},
		{"name 4096 bytes", "name: " + strings.Repeat("é", 2048) + "\n", nil},
		{"name 4097 bytes", "name: x" + strings.Repeat("é", 2048) + "\n", []string{`a.yml:3:5: jobs.a.name: is 4097 bytes long; the Jobs API allows at most 4096 bytes`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loadFiles(t, map[string]string{"a.yml": job("a", tc.body)})
			expectDiags(t, diags, tc.want)
		})
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"timeout_seconds", "tasks", "tags", "task_key", "schedule", "max_concurrent_runs"}
	for in, want := range map[string]string{
		"timout_seconds":     "timeout_seconds",
		"Timeout_Seconds":    "timeout_seconds",
		"tsks":               "tasks",
		"tag":                "tags",
		"shcedule":           "schedule",
		"max_concurent_runs": "max_concurrent_runs",
		"colour":             "",
		"x":                  "",
	} {
		if got := suggest(in, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
	// One-letter keys: a different letter is no typo of another.
	for in, want := range map[string]string{"d": "", "c": "", "bb": "b", "ab": "a"} {
		if got := suggest(in, []string{"a", "b"}); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"abc", "acb", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}
