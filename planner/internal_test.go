package planner

import (
	"encoding/json"
	"reflect"
	"testing"
)

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
