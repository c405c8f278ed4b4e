package schema

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

// The examples and a generated project of 1,000 jobs load the same with
// and without Compact, and most of their jobs are compacted.
func TestCompactAgreesOnProjects(t *testing.T) {
	cfg, err := Load(context.Background(), []string{examplesDir})
	if n := compactAgrees(t, []string{examplesDir}, cfg, err); n == 0 {
		t.Fatalf("no job of the examples was compacted")
	}
	dir := t.TempDir()
	writeSmallJobs(t, dir, 10, 100)
	cfg, err = Load(context.Background(), []string{dir})
	// Every tenth job refers to another and keeps its tree.
	if n := compactAgrees(t, []string{dir}, cfg, err); n != 900 {
		t.Fatalf("%d of 1,000 jobs compacted, want the 900 without references", n)
	}
}

// Values of every kind JSON has, written every way YAML writes them,
// survive compaction exactly; so do target overrides and anchors.
func TestCompactValues(t *testing.T) {
	files := map[string]string{
		"jobsync.yaml": "project: p\nvariables:\n  team: {default: data}\ntargets:\n  prod:\n    default: true\n    overrides:\n      jobs:\n        j:\n          max_concurrent_runs: 3\n",
		"jobs.yml": `x-cluster: &cluster
  spark_version: 15.4.x-scala2.12
  node_type_id: i3.xlarge
  num_workers: 2
  spark_conf: {"spark.sql.shuffle.partitions": "64", "a.b": 'it''s'}
jobs:
  j:
    name: "quote \" backslash \\ tab \t newline \n bell \u0007 é 日本 🚀"
    description: |
      multi
      line
    timeout_seconds: 0
    max_concurrent_runs: 1
    tags: {big: "12345678901234567890", empty: "", team: "${var.team}"}
    parameters:
      - {name: a, default: "1.50"}
      - {name: b, default: "null"}
    job_clusters:
      - job_cluster_key: main
        new_cluster:
          <<: *cluster
          num_workers: 4
    tasks:
      - task_key: t
        job_cluster_key: main
        max_retries: -1
        notebook_task:
          notebook_path: /n
          base_parameters: {x: "{{job.id}}", y: "$${not.a.variable}"}
    permissions:
      - {group_name: g, permission_level: CAN_VIEW}
`,
	}
	cfg, diags := loadFiles(t, files)
	if diags != nil {
		t.Fatal(diags)
	}
	if n := compactAgrees(t, []string{"."}, cfg, nil); n != 1 {
		t.Fatalf("%d jobs compacted, want 1", n)
	}
}

// Compact of a job built in code: the tree comes back from Tree; a value
// JSON cannot hold exactly leaves the job as it was; a second call does
// nothing.
func TestJobCompact(t *testing.T) {
	settings := map[string]any{"name": "a\u2028b", "n": json.Number("1.50"), "l": []any{true, nil, map[string]any{}}}
	j := NewJob("k", "f.yml", settings, map[string]Pos{"": {File: "f.yml", Line: 1, Col: 1}, "/name": {File: "f.yml", Line: 2, Col: 3}})
	if !j.Compact() || j.Settings != nil || j.Compact() {
		t.Fatalf("Compact: settings %v, raw %s", j.Settings, j.RawSettings())
	}
	tree, err := j.Tree()
	if err != nil || !reflect.DeepEqual(tree, settings) {
		t.Fatalf("Tree() = %v, %v; want %v", tree, err, settings)
	}
	if p := j.PosOf("/name"); p.Line != 2 || p.Col != 3 {
		t.Fatalf("PosOf(/name) = %v after Compact", p)
	}
	odd := NewJob("o", "f.yml", map[string]any{"n": 3}, nil)
	if odd.Compact() || odd.Settings == nil || odd.RawSettings() != nil {
		t.Fatal("a job with an int (not json.Number) was compacted")
	}
	bad := NewJob("b", "f.yml", map[string]any{"s": "\xff"}, nil)
	if bad.Compact() {
		t.Fatal("a job with a string that is not UTF-8 was compacted")
	}
}
