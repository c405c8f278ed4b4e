package planner

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// sourceRef is what counts as evidence: a section of the team's reference,
// a catalogue file with lines ([CLI]/[TF] path:line at the commits
// FIDELITY.md names), a real-workspace acceptance test ([cloud]), the API
// schema, or a numbered issue or pull request.
var sourceRef = regexp.MustCompile(`jobs-api\.md §\d|jobs-api-schema\.md \w|peers\.md|\[(CLI|TF)\] [\w./-]+\.(go|yml):\d|\[cloud\] [\w/]+|(cli|TF|laktory) (PR )?#\d+`)

// TestTableEvidence: every row of the normalisation table, and every general
// rule, names a source (an [inf] row too: the inference must say what it
// rests on); every row reaches a field of a known scope; and FIDELITY.md
// lists every row as `scope:path`, so the document and the table cannot
// drift apart.
func TestTableEvidence(t *testing.T) {
	doc, err := os.ReadFile("FIDELITY.md")
	if err != nil {
		t.Fatal(err)
	}
	roots := map[string]*node{"job": rules.job, "task": rules.task, "cluster": rules.cluster}
	for _, r := range table {
		name := r.scope + ":" + r.path
		if !sourceRef.MatchString(r.evidence) {
			t.Errorf("row %s: evidence %q names no source (a jobs-api.md section, a [CLI]/[TF] file:line, a [cloud] test, the schema or an issue)", name, r.evidence)
		}
		root := roots[r.scope]
		if root == nil {
			t.Fatalf("row %s: unknown scope", name)
		}
		if r.path != "*" {
			for _, leaf := range leaves(root, splitTablePath(r.path)) {
				if leaf == nil {
					t.Errorf("row %s does not resolve", name)
				}
			}
		}
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("FIDELITY.md does not list row `%s`", name)
		}
	}
	for _, g := range generalRules {
		if !sourceRef.MatchString(g.evidence) {
			t.Errorf("general rule %s: evidence %q names no source", g.name, g.evidence)
		}
		if !strings.Contains(string(doc), "`rule:"+g.name+"`") {
			t.Errorf("FIDELITY.md does not list general rule `rule:%s`", g.name)
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
	if n := rules.cluster.child("spark_conf").child("spark.databricks.delta.preview.enabled"); n == nil || !n.computed {
		t.Errorf("the quoted map key of the delta preview row did not compile to one segment")
	}
	if rules.cluster.computedWhen != "policy_id" {
		t.Errorf("the cluster scope is not policy-filled under policy_id")
	}
}

// TestSourceRefRefusesBareText keeps the evidence check honest: text that
// only sounds like evidence is refused.
func TestSourceRefRefusesBareText(t *testing.T) {
	for _, bad := range []string{"", "[inf] seems right", "the server does it", "resources.yml", "[TF] somewhere"} {
		if sourceRef.MatchString(bad) {
			t.Errorf("%q is accepted as evidence", bad)
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
