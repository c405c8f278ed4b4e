package planner_test

import (
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
)

func TestExplain(t *testing.T) {
	jobs := loadYAML(t, "jobs.yaml", []byte(`jobs:
  j:
    name: j
    tasks:
      - task_key: a
        notebook_task: {notebook_path: /a, base_parameters: {x: ""}}
        new_cluster: {spark_version: v, num_workers: 1, aws_attributes: {first_on_demand: 1}}
      - task_key: p
        notebook_task: {notebook_path: /p}
        new_cluster: {spark_version: v, num_workers: 1, policy_id: P}
`))
	job := jobs[0]
	cases := []struct {
		path, verdict string
		rows          []string // "scope:path kind"
	}{
		{`tasks[task_key="a"].new_cluster.aws_attributes.zone_id`, "compared only where the YAML sets it",
			[]string{"cluster:aws_attributes|azure_attributes|gcp_attributes computed"}},
		{`tasks[task_key="a"].new_cluster.runtime_engine`, "compared as written",
			[]string{"cluster:* computed-if"}},
		{`tasks[task_key="p"].new_cluster.runtime_engine`, "compared only where the YAML sets it",
			[]string{"cluster:* computed-if"}},
		{`tasks[task_key="a"].notebook_task.base_parameters.x`, "an entry of a free map",
			[]string{"task:notebook_task.base_parameters free-map"}},
		{`tasks[task_key="a"].timeout_seconds`, `absent is the same as 0`,
			[]string{"task:timeout_seconds default"}},
		{`tasks`, "by task_key", []string{"job:tasks keyed", "job:tasks scope"}},
		{`format`, "never compared", []string{"job:format read-only"}},
		{`tasks[task_key="a"].new_cluster.data_security_mode`, "rewrites", []string{
			"cluster:data_security_mode computed", "cluster:data_security_mode alias", "cluster:data_security_mode accepts"}},
	}
	for _, c := range cases {
		e, err := planner.Explain(job, nil, c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if !strings.Contains(e.Verdict, c.verdict) {
			t.Errorf("%s: verdict %q does not say %q", c.path, e.Verdict, c.verdict)
		}
		var rows []string
		for _, r := range e.Rows {
			rows = append(rows, r.Scope+":"+r.Path+" "+r.Kind)
			if r.Evidence == "" {
				t.Errorf("%s: row %s:%s shown without evidence", c.path, r.Scope, r.Path)
			}
		}
		for _, want := range c.rows {
			found := false
			for _, r := range rows {
				found = found || r == want
			}
			if !found {
				t.Errorf("%s: rows %v lack %s", c.path, rows, want)
			}
		}
	}
	e, _ := planner.Explain(job, nil, `tasks[task_key="a"].notebook_task.base_parameters.x`)
	if !e.Set || e.Configured != "" || e.HasRecord {
		t.Errorf("values: set %v configured %#v record %v", e.Set, e.Configured, e.HasRecord)
	}
	for _, bad := range []string{``, `[task_key="a"]`, `tasks[*].timeout_seconds`, `name[task_key="a"]`, `tasks[task_key="a"`} {
		if _, err := planner.Explain(job, nil, bad); err == nil {
			t.Errorf("Explain(%q) accepted a path that names no one field", bad)
		}
	}
}
