package planner_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// liveOf writes a one-job workspace: the job's settings as the server
// returns them, tagged as key's.
func liveOf(t *testing.T, id int64, key, settings string) planner.Live {
	t.Helper()
	s := mustJSON(t, settings)
	tags, _ := s["tags"].(map[string]any)
	if tags == nil {
		tags = map[string]any{}
		s["tags"] = tags
	}
	if _, ok := tags["jobsync"]; !ok {
		tags["jobsync"] = "acme/" + key
	}
	if _, ok := s["queue"]; !ok {
		s["queue"] = map[string]any{"enabled": true}
	}
	return planner.Live{JobID: id, CreatorUserName: "alice@acme.com", Settings: s}
}

func build(t *testing.T, yaml string, live []planner.Live, lock *state.File) (*planner.Plan, error) {
	t.Helper()
	return planner.Build(planner.Input{
		Desired: loadYAML(t, "jobs.yaml", []byte(yaml)), Live: live, Lock: lock,
		Project: "acme", Now: time.Unix(0, 0),
	})
}

func one(t *testing.T, p *planner.Plan) planner.Action {
	t.Helper()
	if len(p.Actions) != 1 {
		t.Fatalf("want one action, got %d:\n%s", len(p.Actions), fmtActions(p))
	}
	return p.Actions[0]
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return buf.String()
}

// TestOpChoice: which op, and exactly which request, for each kind of
// difference (DESIGN.md §4; jobs-api.md §4).
func TestOpChoice(t *testing.T) {
	const task = `{"task_key":"a","notebook_task":{"notebook_path":"/a"}}`
	cases := []struct {
		name, yaml, live string
		op               planner.Op
		request          string // compact JSON; "" to skip
		reason           string // substring; "" to skip
	}{
		{"one top-level field: update with only that field",
			"jobs:\n  j:\n    name: j2\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","tasks":[` + task + `]}`,
			planner.OpUpdate, `{"job_id":1,"new_settings":{"name":"j2"}}`, "configuration changed"},
		{"one task field: update with that task, whole",
			"jobs:\n  j:\n    name: j\n    tasks:\n      - {task_key: a, notebook_task: {notebook_path: /a}, timeout_seconds: 60}\n      - {task_key: b, notebook_task: {notebook_path: /b}}\n",
			`{"name":"j","tasks":[{"task_key":"b","notebook_task":{"notebook_path":"/b"}},{"task_key":"a","notebook_task":{"notebook_path":"/a"}}]}`,
			planner.OpUpdate, `{"job_id":1,"new_settings":{"tasks":[{"notebook_task":{"notebook_path":"/a"},"task_key":"a","timeout_seconds":60}]}}`, ""},
		{"removed top-level field and task: fields_to_remove",
			"jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","description":"added in the UI","health":{"rules":[{"metric":"RUN_DURATION_SECONDS","op":"GREATER_THAN","value":60}]},"tasks":[` + task + `,{"task_key":"z","notebook_task":{"notebook_path":"/z"}}],"job_clusters":[{"job_cluster_key":"c","new_cluster":{"num_workers":1}}]}`,
			planner.OpUpdate, `{"fields_to_remove":["description","health","job_clusters/c","tasks/z"],"job_id":1}`, "adopted job 1"},
		{"parameter removed: reset",
			"jobs:\n  j:\n    name: j\n    parameters: [{name: a, default: '1'}]\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","parameters":[{"name":"a","default":"1"},{"name":"b","default":"2"}],"tasks":[` + task + `]}`,
			planner.OpReset, "", "parameters change"},
		{"environment changed: reset",
			"jobs:\n  j:\n    name: j\n    environments: [{environment_key: e, spec: {environment_version: '3'}}]\n    tasks: [{task_key: a, environment_key: e, spark_python_task: {python_file: f}}]\n",
			`{"name":"j","environments":[{"environment_key":"e","spec":{"environment_version":"2"}}],"tasks":[{"task_key":"a","environment_key":"e","spark_python_task":{"python_file":"f"}}]}`,
			planner.OpReset, "", "environments change"},
		{"update body larger than reset: reset",
			"jobs:\n  j:\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"description":"d","email_notifications":{"on_failure":["ops@acme.com"]},"health":{"rules":[{"metric":"RUN_DURATION_SECONDS","op":"GREATER_THAN","value":1}]},"notification_settings":{"no_alert_for_canceled_runs":true},"budget_policy_id":"b","timeout_seconds":5,"max_concurrent_runs":3,"tasks":[` + task + `]}`,
			planner.OpReset, `{"job_id":1,"new_settings":{"queue":{"enabled":true},"tags":{"jobsync":"acme/j"},"tasks":[{"notebook_task":{"notebook_path":"/a"},"task_key":"a"}]}}`, "smaller request"},
		{"queue off in YAML: the false is sent",
			"jobs:\n  j:\n    name: j\n    queue: {enabled: false}\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","tasks":[` + task + `]}`,
			planner.OpUpdate, `{"job_id":1,"new_settings":{"queue":{"enabled":false}}}`, ""},
		{"num_workers 0 in YAML against 2 live: the zero is sent",
			"jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}, new_cluster: {spark_version: v, num_workers: 0}}]\n",
			`{"name":"j","tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a"},"new_cluster":{"spark_version":"v","num_workers":2,"aws_attributes":{"zone_id":"z"}}}]}`,
			planner.OpUpdate, `{"job_id":1,"new_settings":{"tasks":[{"new_cluster":{"num_workers":0,"spark_version":"v"},"notebook_task":{"notebook_path":"/a"},"task_key":"a"}]}}`, ""},
		{"max_concurrent_runs 0 is a value",
			"jobs:\n  j:\n    name: j\n    max_concurrent_runs: 0\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","max_concurrent_runs":1,"tasks":[` + task + `]}`,
			planner.OpUpdate, `{"job_id":1,"new_settings":{"max_concurrent_runs":0}}`, ""},
		{"run_as the owner, not in YAML: no change",
			"jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","run_as":{"user_name":"alice@acme.com"},"tasks":[` + task + `]}`,
			planner.OpNoop, "", ""},
		{"run_as someone else, not in YAML: back to the owner, explicitly",
			"jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","run_as":{"service_principal_name":"sp-1"},"tasks":[` + task + `]}`,
			planner.OpUpdate, `{"job_id":1,"new_settings":{"run_as":{"user_name":"alice@acme.com"}}}`, "run_as goes back to the owner"},
		{"run_as in YAML is compared",
			"jobs:\n  j:\n    name: j\n    run_as: {service_principal_name: sp-2}\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n",
			`{"name":"j","run_as":{"service_principal_name":"sp-1"},"tasks":[` + task + `]}`,
			planner.OpUpdate, `{"job_id":1,"new_settings":{"run_as":{"service_principal_name":"sp-2"}}}`, ""},
		{"server-filled cluster fields not in YAML: no change",
			"jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}, new_cluster: {spark_version: v, num_workers: 1, aws_attributes: {first_on_demand: 1}}}]\n",
			`{"name":"j","tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a","source":"WORKSPACE"},"new_cluster":{"spark_version":"v","num_workers":1,"aws_attributes":{"first_on_demand":1,"zone_id":"us-east-1c","availability":"SPOT_WITH_FALLBACK"},"data_security_mode":"SINGLE_USER","enable_elastic_disk":true,"node_type_id":"i3.xlarge"},"run_if":"ALL_SUCCESS"}]}`,
			planner.OpNoop, "", ""},
		{"server-filled field the YAML sets is compared",
			"jobs:\n  j:\n    name: j\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}, new_cluster: {spark_version: v, num_workers: 1, data_security_mode: USER_ISOLATION}}]\n",
			`{"name":"j","tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a"},"new_cluster":{"spark_version":"v","num_workers":1,"data_security_mode":"SINGLE_USER"}}]}`,
			planner.OpUpdate, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := build(t, c.yaml, []planner.Live{liveOf(t, 1, "j", c.live)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.op == planner.OpNoop {
				if !p.Empty() {
					t.Fatalf("want no action, got:\n%s", fmtActions(p))
				}
				return
			}
			a := one(t, p)
			if a.Op != c.op {
				t.Errorf("op %s, want %s\n%s", a.Op, c.op, fmtActions(p))
			}
			if c.request != "" {
				if got := compact(t, a.Request); got != c.request {
					t.Errorf("request\n got %s\nwant %s", got, c.request)
				}
			}
			if !strings.Contains(a.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", a.Reason, c.reason)
			}
			if a.LiveDigest == "" || a.JobID != 1 {
				t.Errorf("action lacks its job id or live digest: %+v", a)
			}
		})
	}
}

func TestCreateBody(t *testing.T) {
	p, err := build(t, `jobs:
  j:
    name: j
    tasks: [{task_key: a, notebook_task: {notebook_path: /a}, new_cluster: {spark_version: v, num_workers: 0}}]
    permissions:
      - {group_name: g, permission_level: CAN_VIEW}
`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := one(t, p)
	want := `{"access_control_list":[{"group_name":"g","permission_level":"CAN_VIEW"}],"name":"j","queue":{"enabled":true},"tags":{"jobsync":"acme/j"},"tasks":[{"new_cluster":{"num_workers":0,"spark_version":"v"},"notebook_task":{"notebook_path":"/a"},"task_key":"a"}]}`
	if a.Op != planner.OpCreate || compact(t, a.Request) != want {
		t.Errorf("create:\n got %s %s\nwant create %s", a.Op, a.Request, want)
	}
	if a.LiveDigest != "" || a.JobID != 0 || a.Applied["tags"] == nil || len(a.AppliedPermissions) != 1 {
		t.Errorf("create action fields: %+v", a)
	}
}

func TestOrigin(t *testing.T) {
	yaml := "jobs:\n  j:\n    name: new name\n    max_concurrent_runs: 2\n    tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]\n"
	live := []planner.Live{liveOf(t, 1, "j", `{"name":"old name","max_concurrent_runs":3,"tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a"}}]}`)}
	lock := &state.File{Lineage: "l", Serial: 1, Jobs: map[string]state.Job{"j": {JobID: 1, Applied: json.RawMessage(
		`{"name":"old name","max_concurrent_runs":2,"queue":{"enabled":true},"tags":{"jobsync":"acme/j"},"tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/a"}}]}`)}}}
	origins := func(p *planner.Plan) map[string]string {
		m := map[string]string{}
		for _, c := range one(t, p).Changes {
			m[c.Path] = c.Origin
		}
		return m
	}
	p, err := build(t, yaml, live, lock)
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(p); got["name"] != "config" || got["max_concurrent_runs"] != "drift" || len(got) != 2 {
		t.Errorf("with a lockfile: %v, want name config, max_concurrent_runs drift", got)
	}
	p, err = build(t, yaml, live, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(p); got["name"] != "config" || got["max_concurrent_runs"] != "config" {
		t.Errorf("without a lockfile every change is config: %v", got)
	}
}

func TestBuildErrors(t *testing.T) {
	task := "tasks: [{task_key: a, notebook_task: {notebook_path: /a}}]"
	cases := []struct{ name, yaml, want string }{
		{"bad ignore_changes path", "jobs:\n  j:\n    lifecycle: {ignore_changes: ['tasks[task_key=a]']}\n    " + task + "\n", "lifecycle.ignore_changes"},
		{"unknown reference", "jobs:\n  j:\n    tasks: [{task_key: a, run_job_task: {job_id: '${jobs.nope.id}'}}]\n", `"nope" has no job`},
		{"reference cycle between new jobs", "jobs:\n  a:\n    tasks: [{task_key: t, run_job_task: {job_id: '${jobs.b.id}'}}]\n  b:\n    tasks: [{task_key: t, run_job_task: {job_id: '${jobs.a.id}'}}]\n", "refer to each other"},
		{"group owner", "jobs:\n  j:\n    " + task + "\n    permissions: [{group_name: g, permission_level: IS_OWNER}]\n", "cannot own a job"},
		{"two owners", "jobs:\n  j:\n    " + task + "\n    permissions: [{user_name: a, permission_level: IS_OWNER}, {user_name: b, permission_level: IS_OWNER}]\n", "exactly one owner"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(t, c.yaml, nil, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
	for _, lock := range []*state.File{{Workspace: "https://other", Project: "acme"}, {Workspace: "https://ws", Project: "other"}} {
		_, err := planner.Build(planner.Input{Project: "acme", Workspace: "https://ws", Lock: lock})
		if err == nil || !strings.Contains(err.Error(), "the lockfile is for") {
			t.Errorf("a lockfile of %s/%s was accepted: %v", lock.Workspace, lock.Project, err)
		}
	}
	if _, err := planner.Build(planner.Input{}); err == nil {
		t.Errorf("Build without a project must fail")
	}
	// --only leaving out a job that another needs created.
	_, err := planner.Build(planner.Input{Project: "acme", Only: []string{"a"},
		Desired: loadYAML(t, "x.yaml", []byte("jobs:\n  a:\n    tasks: [{task_key: t, run_job_task: {job_id: '${jobs.b.id}'}}]\n  b:\n    "+task+"\n"))})
	if err == nil || !strings.Contains(err.Error(), "--only") {
		t.Errorf("--only without a needed create: %v", err)
	}
}

func TestIdentityEdges(t *testing.T) {
	yaml := "jobs:\n  a:\n    name: a\n    tasks: [{task_key: t, notebook_task: {notebook_path: /a}}]\n  b:\n    name: b\n    tasks: [{task_key: t, notebook_task: {notebook_path: /b}}]\n"
	// A damaged lockfile naming one job for two keys must not plan two
	// writes to it: the job carries one key's tag, so the other is refused.
	lock := &state.File{Lineage: "l", Jobs: map[string]state.Job{"a": {JobID: 5}, "b": {JobID: 5}}}
	var oe *planner.OwnershipError
	if _, err := build(t, yaml, []planner.Live{liveOf(t, 5, "a", `{"name":"a"}`)}, lock); !errors.As(err, &oe) || oe.Key != "b" || oe.JobID != 5 || oe.Tag != "acme/a" {
		t.Errorf("two keys on one job: %v", err)
	}
	// Nor a job without any tag, for either key.
	untagged := planner.Live{JobID: 5, Settings: mustJSON(t, `{"name":"a"}`)}
	if _, err := build(t, yaml, []planner.Live{untagged}, lock); !errors.As(err, &oe) || oe.Key != "a" || oe.Tag != "" {
		t.Errorf("two keys on an untagged job: %v", err)
	}
	// A problem with a key outside --only does not block the plan.
	dup := []planner.Live{liveOf(t, 1, "a", `{"name":"a"}`), liveOf(t, 2, "a", `{"name":"a"}`), liveOf(t, 3, "b", `{"name":"old"}`)}
	p, err := planner.Build(planner.Input{Project: "acme", Only: []string{"b"}, Live: dup, Desired: loadYAML(t, "j.yaml", []byte(yaml))})
	if err != nil {
		t.Fatalf("--only b with a duplicate for a: %v", err)
	}
	if a := one(t, p); a.Key != "b" || a.Op != planner.OpUpdate {
		t.Errorf("--only b: %s", fmtActions(p))
	}
	if _, err := planner.Build(planner.Input{Project: "acme", Live: dup, Desired: loadYAML(t, "j.yaml", []byte(yaml))}); err == nil {
		t.Errorf("the duplicate must stop a plan that includes a")
	}
}

// Build is deterministic: the same input gives byte-identical plans.
func TestDeterministic(t *testing.T) {
	yaml := "jobs:\n"
	for _, k := range []string{"e", "d", "c", "b", "a"} {
		yaml += "  " + k + ":\n    name: " + k + "\n    tags: {x: '1', y: '2'}\n    tasks: [{task_key: t1, notebook_task: {notebook_path: /a}}, {task_key: t0, depends_on: [{task_key: t1}], notebook_task: {notebook_path: /b}}]\n"
	}
	var first string
	for i := 0; i < 5; i++ {
		p, err := build(t, yaml, []planner.Live{liveOf(t, 3, "c", `{"name":"old"}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := planner.WritePlan(&b, p); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b.String()
		} else if b.String() != first {
			t.Fatalf("plan %d differs from plan 0", i)
		}
	}
}

func TestPlanFile(t *testing.T) {
	p, err := build(t, "jobs:\n  j:\n    tasks: [{task_key: a, run_job_task: {job_id: 9007199254740993}}]\n", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := planner.WritePlan(&b, p); err != nil {
		t.Fatal(err)
	}
	q, err := planner.ReadPlan(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(q.Actions[0].Request), "9007199254740993") {
		t.Errorf("a job id above 2^53 did not survive: %s", q.Actions[0].Request)
	}
	if !planner.IsPlan(b.Bytes()) {
		t.Errorf("IsPlan(a written plan) = false")
	}
	for doc, want := range map[string]bool{
		"\ufeff\n {\"format_version\": 9}":   true, // another version is still a plan (ReadPlan refuses it)
		`{"jobs": {"a": {"name": "a"}}}`:     false,
		"jobs:\n  format_version: {}\n":      false,
		"format_version: 1\n":                false,
		`{"format_version": 1, "actions": [`: false,
		"":                                   false,
	} {
		if got := planner.IsPlan([]byte(doc)); got != want {
			t.Errorf("IsPlan(%q) = %v, want %v", doc, got, want)
		}
	}
	for doc, want := range map[string]string{
		`{"format_version": 1, "actions": []}`: "format_version 1",
		`{"actions": []}`:                      "no format_version",
		`not json`:                             "not a jobsync plan",
		`{"format_version": 2, "actions": 3}`:  "damaged",
	} {
		if _, err := planner.ReadPlan(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadPlan(%s) = %v, want an error saying %q", doc, err, want)
		}
	}
}

func TestCheckFresh(t *testing.T) {
	at := func(lineage string, serial uint64) *planner.Plan {
		return &planner.Plan{State: planner.StateRef{Lineage: lineage, Serial: serial}}
	}
	lock := func(lineage string, serial uint64, jobs int) *state.File {
		f := &state.File{Lineage: lineage, Serial: serial, Jobs: map[string]state.Job{}}
		for i := 0; i < jobs; i++ {
			f.Jobs[string(rune('a'+i))] = state.Job{JobID: int64(i)}
		}
		return f
	}
	cases := []struct {
		name    string
		p       *planner.Plan
		lock    *state.File
		stale   bool
		lineage bool
	}{
		{"same", at("L", 3), lock("L", 3, 1), false, false},
		{"serial moved", at("L", 3), lock("L", 4, 1), true, false},
		{"other lineage", at("L", 3), lock("M", 3, 1), true, true},
		{"lockfile removed", at("L", 3), nil, true, true},
		{"no lockfile then or now", at("", 0), nil, false, false},
		{"no lockfile then, a new empty one now", at("", 0), lock("N", 0, 0), false, false},
		{"no lockfile then, a used one now", at("", 0), lock("N", 1, 1), true, true},
	}
	for _, c := range cases {
		err := planner.CheckFresh(c.p, c.lock)
		var se *planner.StaleError
		switch {
		case !c.stale && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.stale && !errors.As(err, &se):
			t.Errorf("%s: want a *StaleError, got %v", c.name, err)
		case c.stale && (se.Lineage != c.lineage || !strings.Contains(err.Error(), "run jobsync plan again")):
			t.Errorf("%s: %v (lineage %v)", c.name, err, se.Lineage)
		}
	}
}

func TestResolve(t *testing.T) {
	ids := map[string]int64{"a": 9007199254740993, "b": 7}
	cases := []struct{ in, want, err string }{
		{`{"tasks":[{"run_job_task":{"job_id":"${jobs.a.id}","job_parameters":{"up":"${jobs.b.id}","s":"x-${jobs.b.id}-y"}}}]}`,
			`{"tasks":[{"run_job_task":{"job_id":9007199254740993,"job_parameters":{"s":"x-7-y","up":"7"}}}]}`, ""},
		{`{"job_id":1,"new_settings":{"name":"no refs <&>"}}`, `{"job_id":1,"new_settings":{"name":"no refs <&>"}}`, ""},
		{`{"x":"${jobs.c.id}"}`, "", `"c"`},
		{`{"x":"${jobs.a.id}"`, "", "not JSON"},
	}
	for _, c := range cases {
		got, err := planner.Resolve(json.RawMessage(c.in), ids)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Resolve(%s): %v, want error %q", c.in, err, c.err)
			}
		case err != nil:
			t.Errorf("Resolve(%s): %v", c.in, err)
		case string(got) != c.want:
			t.Errorf("Resolve(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestOwnership(t *testing.T) {
	s := func(tag string) map[string]any { return map[string]any{"tags": map[string]any{"jobsync": tag}} }
	for _, c := range []struct {
		project, tag, key string
		ok                bool
	}{
		{"acme", "acme/etl", "etl", true},
		{"acme/prod", "acme/prod/etl", "etl", true},
		{"acme", "acme/prod/etl", "", false},
		{"acme", "acme2/etl", "", false},
		{"acme", "acme/", "", false},
		{"", "/etl", "", false},
	} {
		k, ok := planner.OwnedKey(c.project, s(c.tag))
		if k != c.key || ok != c.ok {
			t.Errorf("OwnedKey(%q, %q) = %q %v", c.project, c.tag, k, ok)
		}
	}
	if planner.OwnerTagValue("acme/prod", "etl") != "acme/prod/etl" {
		t.Errorf("OwnerTagValue")
	}
	if _, ok := planner.OwnedKey("acme", map[string]any{"tags": "bad"}); ok {
		t.Errorf("malformed tags owned")
	}
}

// TestForeignJobInLockfile: a lockfile entry naming a job without the key's
// ownership tag stops every plan that could write to it (an update or
// reset of a configured key, a delete under prune or destroy), with an
// *OwnershipError naming the key, the job and its tag. --only leaves keys
// outside it alone, as with every other identity problem.
func TestForeignJobInLockfile(t *testing.T) {
	yaml := "jobs:\n  a:\n    name: a\n    tasks: [{task_key: t, notebook_task: {notebook_path: /a}}]\n  b:\n    name: b\n    tasks: [{task_key: t, notebook_task: {notebook_path: /b}}]\n"
	desired := loadYAML(t, "j.yaml", []byte(yaml))
	ours := []planner.Live{liveOf(t, 1, "a", `{"name":"a"}`), liveOf(t, 2, "b", `{"name":"b"}`)}
	for _, foreign := range []struct{ name, tag string }{{"untagged", ""}, {"other project", "other/b"}, {"other key", "acme/a2"}} {
		settings := map[string]any{"name": "someone else's", "tags": map[string]any{"team": "x"}}
		if foreign.tag != "" {
			settings["tags"].(map[string]any)["jobsync"] = foreign.tag
		}
		live := append(slices.Clone(ours), planner.Live{JobID: 99, Settings: settings})
		for _, c := range []struct {
			name    string
			key     string // the key planted with job 99
			desired []*schema.Job
			prune   bool
			destroy bool
			only    []string
			refused bool
		}{
			{name: "configured key", key: "b", desired: desired, refused: true},
			{name: "configured key, prune", key: "b", desired: desired, prune: true, refused: true},
			{name: "removed key, prune", key: "gone", desired: desired, prune: true, refused: true},
			{name: "removed key, no prune", key: "gone", desired: desired, refused: true},
			{name: "destroy", key: "b", desired: desired, destroy: true, refused: true},
			{name: "destroy, removed key", key: "gone", destroy: true, refused: true},
			{name: "outside --only", key: "b", desired: desired, only: []string{"a"}},
		} {
			t.Run(foreign.name+"/"+c.name, func(t *testing.T) {
				lock := &state.File{Lineage: "l", Serial: 1, Project: "acme", Jobs: map[string]state.Job{"a": {JobID: 1}, "b": {JobID: 2}}}
				lock.Jobs[c.key] = state.Job{JobID: 99}
				p, err := planner.Build(planner.Input{Desired: c.desired, Live: live, Lock: lock, Project: "acme",
					Prune: c.prune, Destroy: c.destroy, Only: c.only})
				var oe *planner.OwnershipError
				if !c.refused {
					if err != nil {
						t.Fatal(err)
					}
					for _, a := range append(p.Actions, p.Skipped...) {
						if a.JobID == 99 {
							t.Errorf("plans %s of the foreign job 99", a.Op)
						}
					}
					return
				}
				if !errors.As(err, &oe) {
					t.Fatalf("want an *OwnershipError, got plan %v, error %v", p, err)
				}
				msg := err.Error()
				if oe.Key != c.key || oe.JobID != 99 || oe.Tag != foreign.tag || !strings.Contains(msg, "jobsync state rm "+c.key) || !strings.Contains(msg, "jobsync import "+c.key+" 99") {
					t.Errorf("error %+v: %s", oe, msg)
				}
				want := "carries no jobsync tag"
				if foreign.tag != "" {
					want = "carries the tag jobsync=" + foreign.tag
				}
				if !strings.Contains(msg, want) {
					t.Errorf("message does not say %q: %s", want, msg)
				}
			})
		}
	}
}
