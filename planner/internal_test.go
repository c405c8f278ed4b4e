package planner

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Every row of the normalisation table says where its fact comes from and
// reaches a field of a known scope; alternatives never span a dot.
func TestTableRowsHaveEvidenceAndResolve(t *testing.T) {
	roots := map[string]*node{"job": rules.job, "task": rules.task, "cluster": rules.cluster}
	for _, r := range table {
		if strings.TrimSpace(r.evidence) == "" {
			t.Errorf("row %s %s has no evidence", r.scope, r.path)
		}
		if !strings.Contains(r.evidence, "jobs-api") && !strings.Contains(r.evidence, "[inf]") && !strings.Contains(r.evidence, "peers.md") {
			t.Errorf("row %s %s: evidence %q names no reference section and is not marked [inf]", r.scope, r.path, r.evidence)
		}
		root := roots[r.scope]
		if root == nil {
			t.Fatalf("row %s %s: unknown scope", r.scope, r.path)
		}
		for _, leaf := range leaves(root, strings.Split(r.path, ".")) {
			if leaf == nil {
				t.Errorf("row %s %s does not resolve", r.scope, r.path)
			}
		}
	}
	// Spot checks of the compiled graph.
	if n := rules.task.child("for_each_task").child("task"); n == nil || n.scope != rules.task {
		t.Errorf("for_each_task.task is not linked to the task scope")
	}
	if n := rules.job.child("job_clusters").child("new_cluster"); n == nil || n.scope != rules.cluster {
		t.Errorf("job_clusters.new_cluster is not linked to the cluster scope")
	}
	for _, f := range []string{"schedule", "trigger", "continuous"} {
		if n := rules.job.child(f).child("pause_status"); n == nil || n.dflt != "UNPAUSED" {
			t.Errorf("%s.pause_status has no UNPAUSED default", f)
		}
	}
}

func leaves(root *node, path []string) []*node {
	cur := []*node{root}
	for _, s := range path {
		var next []*node
		for _, n := range cur {
			for _, name := range strings.Split(s, "|") {
				next = append(next, n.child(name))
			}
		}
		cur = next
	}
	return cur
}

func TestPathRoundTrip(t *testing.T) {
	for _, s := range []string{
		`name`,
		`tasks[task_key="load"].spark_python_task.parameters`,
		`tasks[task_key="each"].for_each_task.task.new_cluster.spark_conf["spark.sql.shuffle.partitions"]`,
		`permissions[group_name="data eng"]`,
		`tags.cost-center`,
		`webhook_notifications.on_start[id="a\"b"]`,
		`tasks[*].max_retries`,
		`tags["a b"]`,
	} {
		p, err := parsePath(s)
		if err != nil {
			t.Errorf("parsePath(%q): %v", s, err)
			continue
		}
		if got := formatPath(p); got != s {
			t.Errorf("formatPath(parsePath(%q)) = %q", s, got)
		}
	}
	for _, bad := range []string{"", ".a", "a.", "a..b", "tasks[task_key=load]", "tasks[", `tasks["x"`, "a b", "tasks[=\"x\"]"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) accepted a bad path", bad)
		}
	}
	// Quoted map keys and bare ones are the same segment.
	a, _ := parsePath(`tags["team"]`)
	b, _ := parsePath(`tags.team`)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("tags[\"team\"] and tags.team differ: %v %v", a, b)
	}
}

func TestHasPrefixWildcard(t *testing.T) {
	p, _ := parsePath(`tasks[task_key="a"].max_retries`)
	for pat, want := range map[string]bool{
		`tasks`:                             true,
		`tasks[*]`:                          true,
		`tasks[*].max_retries`:              true,
		`tasks[task_key="a"]`:               true,
		`tasks[task_key="b"]`:               false,
		`tasks[*].timeout_seconds`:          false,
		`tasks[task_key="a"].max_retries.x`: false,
	} {
		q, err := parsePath(pat)
		if err != nil {
			t.Fatal(err)
		}
		if got := hasPrefix(p, q); got != want {
			t.Errorf("hasPrefix(%s, %s) = %v, want %v", formatPath(p), pat, got, want)
		}
	}
}

func TestJSONPointerFollowsKeys(t *testing.T) {
	settings := map[string]any{"tasks": []any{
		map[string]any{"task_key": "b"},
		map[string]any{"task_key": "a", "new_cluster": map[string]any{"spark_conf": map[string]any{"x/y": "1"}}},
	}}
	for path, want := range map[string]string{
		`tasks[task_key="a"].new_cluster.spark_conf["x/y"]`: "/tasks/1/new_cluster/spark_conf/x~1y",
		`tasks[task_key="a"].new_cluster.num_workers`:       "/tasks/1/new_cluster",
		`tasks[task_key="zz"].timeout_seconds`:              "/tasks",
		`description`:                                       "",
	} {
		p, _ := parsePath(path)
		if got := jsonPointer(settings, p); got != want {
			t.Errorf("jsonPointer(%s) = %q, want %q", path, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	seg := func(s string) []seg {
		p, err := parsePath(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		path string
		in   any
		want any
	}{
		{`tasks[task_key="a"].new_cluster.spark_env_vars.DB_PASSWORD`, "x", Sensitive},
		{`tasks[task_key="a"].new_cluster.spark_env_vars.LOG_LEVEL`, "debug", "debug"},
		{`parameters[name="API_KEY"].default`, "x", Sensitive},
		{`parameters[name="API_KEY"]`, map[string]any{"name": "API_KEY", "default": "x"}, map[string]any{"name": "API_KEY", "default": Sensitive}},
		{`parameters[name="region"]`, map[string]any{"name": "region", "default": "eu"}, map[string]any{"name": "region", "default": "eu"}},
		{`tasks[task_key="rotate_token"].timeout_seconds`, json.Number("5"), json.Number("5")},
		{`git_source.git_url`, "https://bot:ghp_x@github.com/a/b", "https://" + Sensitive + "@github.com/a/b"},
		{`description`, "mail me at a@b.com", "mail me at a@b.com"},
		{`tasks[task_key="a"]`, map[string]any{
			"new_cluster":       map[string]any{"spark_conf": map[string]any{"fs.client.secret": "s", "x": "y"}},
			"spark_python_task": map[string]any{"parameters": []any{"--password", "p", "--private-key=k", "-v"}},
		}, map[string]any{
			"new_cluster":       map[string]any{"spark_conf": map[string]any{"fs.client.secret": Sensitive, "x": "y"}},
			"spark_python_task": map[string]any{"parameters": []any{"--password", Sensitive, "--private-key=" + Sensitive, "-v"}},
		}},
		{`parameters`, []any{map[string]any{"name": "db_passwd", "default": "p"}}, []any{map[string]any{"name": "db_passwd", "default": Sensitive}}},
	}
	for _, c := range cases {
		orig := canonicalJSON(c.in)
		got := redact(seg(c.path), c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("redact(%s, %v) = %v, want %v", c.path, c.in, got, c.want)
		}
		if canonicalJSON(c.in) != orig {
			t.Errorf("redact(%s) modified its input", c.path)
		}
	}
}

func TestCanonicalNumbers(t *testing.T) {
	for in, want := range map[any]string{
		json.Number("2.0"): "2", json.Number("1e3"): "1000", json.Number("0.5"): "0.5", json.Number("-0"): "0",
		json.Number("007"): "7", json.Number("9223372036854775807"): "9223372036854775807",
		3: "3", int64(-4): "-4", 2.5: "2.5", float64(10): "10",
	} {
		if got := canonical(in); got != json.Number(want) {
			t.Errorf("canonical(%v) = %v, want %s", in, got, want)
		}
	}
}
