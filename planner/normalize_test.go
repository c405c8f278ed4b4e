package planner_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
)

func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNormalize(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"job defaults dropped",
			`{"name":"Untitled","format":"MULTI_TASK","timeout_seconds":0,"max_concurrent_runs":1,"email_notifications":{},"webhook_notifications":{},"tags":{}}`,
			`{}`},
		{"meaningful zero max_concurrent_runs kept",
			`{"max_concurrent_runs":0}`, `{"max_concurrent_runs":0}`},
		{"queue off is the absence of queueing; on is kept",
			`{"queue":{"enabled":false},"x":{"queue":{"enabled":true}}}`, `{"x":{"queue":{"enabled":true}}}`},
		{"queue on kept", `{"queue":{"enabled":true}}`, `{"queue":{"enabled":true}}`},
		{"notification defaults",
			`{"email_notifications":{"no_alert_for_skipped_runs":false,"on_failure":["b@x","a@x","b@x"]},"notification_settings":{"no_alert_for_canceled_runs":false}}`,
			`{"email_notifications":{"on_failure":["a@x","b@x"]}}`},
		{"webhook lists keyed by id",
			`{"webhook_notifications":{"on_start":[{"id":"b"},{"id":"a"}],"on_success":[]}}`,
			`{"webhook_notifications":{"on_start":[{"id":"a"},{"id":"b"}]}}`},
		{"pause_status UNPAUSED is the default",
			`{"schedule":{"quartz_cron_expression":"0 0 * * * ?","timezone_id":"UTC","pause_status":"UNPAUSED"},"trigger":{"pause_status":"PAUSED","periodic":{"interval":1,"unit":"HOURS"}}}`,
			`{"schedule":{"quartz_cron_expression":"0 0 * * * ?","timezone_id":"UTC"},"trigger":{"pause_status":"PAUSED","periodic":{"interval":1,"unit":"HOURS"}}}`},
		{"git_provider case-folded, git_snapshot dropped, task source GIT is the default with git_source",
			`{"git_source":{"git_url":"u","git_provider":"GITHUB","git_snapshot":{"used_commit":"c"}},"tasks":[{"task_key":"a","notebook_task":{"notebook_path":"p","source":"GIT"}},{"task_key":"b","notebook_task":{"notebook_path":"p","source":"WORKSPACE"}}]}`,
			`{"git_source":{"git_provider":"gitHub","git_url":"u"},"tasks":[{"notebook_task":{"notebook_path":"p"},"task_key":"a"},{"notebook_task":{"notebook_path":"p","source":"WORKSPACE"},"task_key":"b"}]}`},
		{"task source WORKSPACE is the default without git_source",
			`{"tasks":[{"task_key":"a","spark_python_task":{"python_file":"f","source":"WORKSPACE"},"sql_task":{"file":{"path":"q.sql","source":"GIT"}}}]}`,
			`{"tasks":[{"spark_python_task":{"python_file":"f"},"sql_task":{"file":{"path":"q.sql","source":"GIT"}},"task_key":"a"}]}`},
		{"tasks and depends_on sorted by key, task defaults dropped",
			`{"tasks":[{"task_key":"z","run_if":"ALL_SUCCESS","timeout_seconds":0,"disabled":false,"max_retries":0,"depends_on":[{"task_key":"b"},{"task_key":"a"}],"email_notifications":{},"webhook_notifications":{}},{"task_key":"a","run_if":"ALL_DONE","timeout_seconds":30}]}`,
			`{"tasks":[{"run_if":"ALL_DONE","task_key":"a","timeout_seconds":30},{"depends_on":[{"task_key":"a"},{"task_key":"b"}],"task_key":"z"}]}`},
		{"keyed arrays: job_clusters, parameters, environments",
			`{"job_clusters":[{"job_cluster_key":"b"},{"job_cluster_key":"a"}],"parameters":[{"name":"y","default":""},{"name":"x","default":"1"}],"environments":[{"environment_key":"e2"},{"environment_key":"e1"}]}`,
			`{"environments":[{"environment_key":"e1"},{"environment_key":"e2"}],"job_clusters":[{"job_cluster_key":"a"},{"job_cluster_key":"b"}],"parameters":[{"default":"1","name":"x"},{"default":"","name":"y"}]}`},
		{"cluster: apply_policy_default_values kept (write-only, compared with the lockfile) unless false, num_workers 0 same as absent, server-filled kept",
			`{"tasks":[{"task_key":"a","new_cluster":{"num_workers":0,"apply_policy_default_values":true,"aws_attributes":{"zone_id":"z"},"spark_version":"v"}}],"job_clusters":[{"job_cluster_key":"c","new_cluster":{"num_workers":2.0,"apply_policy_default_values":false}}]}`,
			`{"job_clusters":[{"job_cluster_key":"c","new_cluster":{"num_workers":2}}],"tasks":[{"new_cluster":{"apply_policy_default_values":true,"aws_attributes":{"zone_id":"z"},"spark_version":"v"},"task_key":"a"}]}`},
		{"cluster aliases: data_security_mode read back spellings, workload_type clients default true",
			`{"job_clusters":[{"job_cluster_key":"c","new_cluster":{"data_security_mode":"DATA_SECURITY_MODE_DEDICATED","workload_type":{"clients":{"jobs":true,"notebooks":false}}}},{"job_cluster_key":"d","new_cluster":{"data_security_mode":"DATA_SECURITY_MODE_STANDARD","workload_type":{"clients":{"jobs":true,"notebooks":true}}}}]}`,
			`{"job_clusters":[{"job_cluster_key":"c","new_cluster":{"data_security_mode":"SINGLE_USER","workload_type":{"clients":{"notebooks":false}}}},{"job_cluster_key":"d","new_cluster":{"data_security_mode":"USER_ISOLATION"}}]}`},
		{"environment spec client is environment_version",
			`{"environments":[{"environment_key":"a","spec":{"client":"2"}},{"environment_key":"b","spec":{"client":"1","environment_version":"3"}}]}`,
			`{"environments":[{"environment_key":"a","spec":{"environment_version":"2"}},{"environment_key":"b","spec":{"environment_version":"3"}}]}`},
		{"zero scalars are kept by Normalize (the differ's all-empty rule decides)",
			`{"description":"","tasks":[{"task_key":"a","retry_on_timeout":false,"for_each_task":{"inputs":"[]","concurrency":0,"task":{"task_key":"i"}}}]}`,
			`{"description":"","tasks":[{"for_each_task":{"concurrency":0,"inputs":"[]","task":{"task_key":"i"}},"retry_on_timeout":false,"task_key":"a"}]}`},
		{"for_each_task.task gets the task and cluster rules",
			`{"tasks":[{"task_key":"a","for_each_task":{"inputs":"[1]","task":{"task_key":"in","run_if":"ALL_SUCCESS","timeout_seconds":0,"notebook_task":{"notebook_path":"p","source":"WORKSPACE"},"new_cluster":{"num_workers":0,"apply_policy_default_values":false},"depends_on":[{"task_key":"y"},{"task_key":"x"}]}}}]}`,
			`{"tasks":[{"for_each_task":{"inputs":"[1]","task":{"depends_on":[{"task_key":"x"},{"task_key":"y"}],"notebook_task":{"notebook_path":"p"},"task_key":"in"}},"task_key":"a"}]}`},
		{"empty task type kept, other empties and nulls dropped",
			`{"description":null,"tasks":[{"task_key":"a","spark_jar_task":{},"libraries":[],"health":{"rules":[]}}]}`,
			`{"tasks":[{"spark_jar_task":{},"task_key":"a"}]}`},
		{"positional arrays keep their order",
			`{"tasks":[{"task_key":"a","libraries":[{"pypi":{"package":"b"}},{"pypi":{"package":"a"}}],"spark_python_task":{"python_file":"f","parameters":["2","1"]}}]}`,
			`{"tasks":[{"libraries":[{"pypi":{"package":"b"}},{"pypi":{"package":"a"}}],"spark_python_task":{"parameters":["2","1"],"python_file":"f"},"task_key":"a"}]}`},
		{"numbers canonical",
			`{"timeout_seconds":3600.0,"health":{"rules":[{"metric":"RUN_DURATION_SECONDS","op":"GREATER_THAN","value":1e3}]}}`,
			`{"health":{"rules":[{"metric":"RUN_DURATION_SECONDS","op":"GREATER_THAN","value":1000}]},"timeout_seconds":3600}`},
		{"read-only job fields dropped",
			`{"effective_budget_policy_id":"p","deployment":{"kind":"BUNDLE","version_id":"7"}}`,
			`{"deployment":{"kind":"BUNDLE"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := mustJSON(t, c.in)
			before := canon(t, in)
			got := canon(t, planner.Normalize(in))
			want := canon(t, mustJSON(t, c.want))
			if got != want {
				t.Errorf("Normalize(%s)\n got %s\nwant %s", c.in, got, want)
			}
			if canon(t, in) != before {
				t.Errorf("Normalize modified its input")
			}
			if again := canon(t, planner.Normalize(planner.Normalize(in))); again != got {
				t.Errorf("Normalize is not idempotent: %s", again)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	a := mustJSON(t, `{"name":"x","tasks":[{"task_key":"b"},{"task_key":"a","run_if":"ALL_SUCCESS"}],"format":"MULTI_TASK"}`)
	b := mustJSON(t, `{"tasks":[{"task_key":"a"},{"task_key":"b"}],"name":"x"}`)
	c := mustJSON(t, `{"tasks":[{"task_key":"a"},{"task_key":"b"}],"name":"y"}`)
	if planner.Digest(a) != planner.Digest(b) {
		t.Errorf("equivalent settings have different digests")
	}
	if planner.Digest(a) == planner.Digest(c) {
		t.Errorf("different settings have the same digest")
	}
	if d := planner.Digest(a); !strings.HasPrefix(d, "sha256:") || len(d) != 7+64 {
		t.Errorf("digest %q is not sha256:<hex>", d)
	}
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name, before, after string
		want                []string // "kind path before -> after"
	}{
		{"server-filled fields on one side are no difference",
			`{"tasks":[{"task_key":"a","new_cluster":{"spark_version":"v"}}]}`,
			`{"tasks":[{"task_key":"a","new_cluster":{"spark_version":"v","aws_attributes":{"zone_id":"z"},"data_security_mode":"SINGLE_USER","node_type_id":"n"}}],"run_as":{"user_name":"u"}}`,
			nil},
		{"server-filled field set on both sides is compared",
			`{"tasks":[{"task_key":"a","new_cluster":{"data_security_mode":"USER_ISOLATION"}}]}`,
			`{"tasks":[{"task_key":"a","new_cluster":{"data_security_mode":"SINGLE_USER"}}]}`,
			[]string{`modify tasks[task_key="a"].new_cluster.data_security_mode USER_ISOLATION -> SINGLE_USER`}},
		{"keyed elements by key, nested paths keyed",
			`{"tasks":[{"task_key":"a","depends_on":[{"task_key":"x"}]},{"task_key":"gone"},{"task_key":"f","for_each_task":{"inputs":"[]","task":{"task_key":"in","timeout_seconds":1}}}]}`,
			`{"tasks":[{"task_key":"f","for_each_task":{"inputs":"[]","task":{"task_key":"in","timeout_seconds":2}}},{"task_key":"new"},{"task_key":"a","depends_on":[{"task_key":"y"}]}]}`,
			[]string{
				`remove tasks[task_key="a"].depends_on[task_key="x"] map[task_key:x] -> <nil>`,
				`add tasks[task_key="a"].depends_on[task_key="y"] <nil> -> map[task_key:y]`,
				`modify tasks[task_key="f"].for_each_task.task.timeout_seconds 1 -> 2`,
				`remove tasks[task_key="gone"] map[task_key:gone] -> <nil>`,
				`add tasks[task_key="new"] <nil> -> map[task_key:new]`,
			}},
		{"defaults shown as values, quoted map keys",
			`{"max_concurrent_runs":5,"tasks":[{"task_key":"a","new_cluster":{"spark_conf":{"spark.x":"1"}}}]}`,
			`{"tasks":[{"task_key":"a","new_cluster":{"spark_conf":{"spark.x":"2"}}}]}`,
			[]string{
				`modify max_concurrent_runs 5 -> 1`,
				`modify tasks[task_key="a"].new_cluster.spark_conf["spark.x"] 1 -> 2`,
			}},
		{"run_as is one value",
			`{"run_as":{"service_principal_name":"sp"}}`, `{"run_as":{"user_name":"u"}}`,
			[]string{`modify run_as map[service_principal_name:sp] -> map[user_name:u]`}},
		{"permissions-like secrets redacted",
			`{"tasks":[{"task_key":"a","new_cluster":{"spark_env_vars":{"TOKEN":"1"}}}]}`,
			`{"tasks":[{"task_key":"a","new_cluster":{"spark_env_vars":{"TOKEN":"2"}}}]}`,
			[]string{`modify tasks[task_key="a"].new_cluster.spark_env_vars.TOKEN (sensitive) -> (sensitive)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := planner.Diff(planner.Normalize(mustJSON(t, c.before)), planner.Normalize(mustJSON(t, c.after)))
			var lines []string
			for _, ch := range got {
				lines = append(lines, strings.TrimSpace(ch.Kind+" "+ch.Path+" "+fmtV(ch.Before)+" -> "+fmtV(ch.After)))
			}
			if strings.Join(lines, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("Diff:\n got %s\nwant %s", strings.Join(lines, "\n     "), strings.Join(c.want, "\n     "))
			}
		})
	}
}

func fmtV(v any) string {
	if v == nil {
		return "<nil>"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if str, ok := v.(string); ok {
		return str
	}
	if m, ok := v.(map[string]any); ok {
		var parts []string
		for _, k := range sortedKeys(m) {
			parts = append(parts, k+":"+fmtV(m[k]))
		}
		return "map[" + strings.Join(parts, " ") + "]"
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
