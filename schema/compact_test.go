package schema

import (
	"context"
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
