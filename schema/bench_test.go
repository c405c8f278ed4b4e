package schema

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoad measures Load (read, parse, schema and semantic checks) on
// the examples and on 10,000 small jobs in 100 files. Results and the
// command that produced them are in BENCHMARKS.md.
func BenchmarkLoad(b *testing.B) {
	b.Run("examples", func(b *testing.B) {
		benchLoad(b, examplesDir, 9)
	})
	b.Run("10000_jobs", func(b *testing.B) {
		dir := b.TempDir()
		writeSmallJobs(b, dir, 100, 100)
		benchLoad(b, dir, 10_000)
	})
}

func benchLoad(b *testing.B, dir string, jobs int) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		cfg, err := Load(context.Background(), []string{dir})
		if err != nil {
			b.Fatal(diagLines(err))
		}
		if len(cfg.Jobs) != jobs {
			b.Fatalf("loaded %d jobs, want %d", len(cfg.Jobs), jobs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(jobs), "ns/job")
	// CPU time (all threads, GC included) does not grow with the load of a
	// shared machine as wall time does; Load runs on every core.
	if cpu := cpuTime() - cpu0; cpu0 > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(jobs), "cpu-ns/job")
	}
}

// writeSmallJobs writes files*perFile jobs of three tasks each (a small DAG
// on a job cluster, a schedule, tags, a notification), every tenth one
// triggering the job before it by reference.
func writeSmallJobs(b testing.TB, dir string, files, perFile int) {
	b.Helper()
	for f := range files {
		var s strings.Builder
		s.WriteString("jobs:\n")
		for j := range perFile {
			n := f*perFile + j
			fmt.Fprintf(&s, `  job_%05d:
    name: "job %d"
    tags: {team: t%d, tier: bronze}
    max_concurrent_runs: 1
    schedule: {quartz_cron_expression: "0 %d 3 * * ?", timezone_id: UTC}
    email_notifications: {on_failure: [oncall@example.com]}
    job_clusters:
      - job_cluster_key: main
        new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 2}
    tasks:
      - task_key: extract
        job_cluster_key: main
        notebook_task: {notebook_path: /Repos/etl/extract, base_parameters: {n: "%d"}}
      - task_key: transform
        depends_on: [{task_key: extract}]
        job_cluster_key: main
        spark_python_task: {python_file: /Repos/etl/transform.py, parameters: ["--n", "%d"]}
`, n, n, n%7, n%60, n, n)
			if n%10 == 9 {
				fmt.Fprintf(&s, `      - task_key: next
        depends_on: [{task_key: transform}]
        run_job_task: {job_id: "${jobs.job_%05d.id}"}
`, n-1)
			} else {
				s.WriteString(`      - task_key: load
        depends_on: [{task_key: transform}]
        job_cluster_key: main
        notebook_task: {notebook_path: /Repos/etl/load}
`)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("jobs_%03d.yml", f)), []byte(s.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
