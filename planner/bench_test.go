package planner_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
)

// benchJob is a realistic three-task job: a shared job cluster, a
// notebook, a Python file with parameters and a dependency chain.
func benchJob(i int) *schema.Job {
	key := fmt.Sprintf("job_%05d", i)
	s := map[string]any{
		"name":                key,
		"max_concurrent_runs": json.Number("1"),
		"schedule":            map[string]any{"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC"},
		"email_notifications": map[string]any{"on_failure": []any{"oncall@acme.com"}},
		"tags":                map[string]any{"team": "data", "cost_center": "42"},
		"job_clusters": []any{map[string]any{"job_cluster_key": "shared", "new_cluster": map[string]any{
			"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": json.Number("2"),
			"spark_conf": map[string]any{"spark.sql.shuffle.partitions": "64"}}}},
		"tasks": []any{
			map[string]any{"task_key": "extract", "job_cluster_key": "shared",
				"notebook_task": map[string]any{"notebook_path": "/etl/extract", "base_parameters": map[string]any{"day": "{{job.start_time.iso_date}}"}}},
			map[string]any{"task_key": "transform", "job_cluster_key": "shared", "depends_on": []any{map[string]any{"task_key": "extract"}},
				"spark_python_task": map[string]any{"python_file": "/etl/transform.py", "parameters": []any{"--mode", "full"}},
				"libraries":         []any{map[string]any{"pypi": map[string]any{"package": "pandas==2.2.2"}}}},
			map[string]any{"task_key": "load", "job_cluster_key": "shared", "depends_on": []any{map[string]any{"task_key": "transform"}},
				"notebook_task": map[string]any{"notebook_path": "/etl/load"}, "timeout_seconds": json.Number("3600")},
		},
	}
	return schema.NewJob(key, "jobs.yaml", s, nil)
}

// BenchmarkBuild measures planning CPU for a workspace that already
// matches the configuration (the common CI case): 3 tasks per job, the live
// side as jobs/get returns it (server defaults added, arrays reordered),
// with a lockfile. DESIGN.md §8 target: ≤ 0.2 ms per job.
func BenchmarkBuild(b *testing.B) {
	for _, c := range []struct {
		n            int
		raw, compact bool
	}{{1000, false, false}, {10000, false, false}, {10000, true, false}, {10000, true, true}} {
		n := c.n
		name := fmt.Sprintf("jobs=%d", n)
		if c.raw {
			// Live settings as JSON, as a jobs/list read keeps them.
			name += "/raw"
		}
		if c.compact {
			// And the YAML's as JSON too, as jobsync plan loads them
			// (schema.Options.Compact): what the CLI plans.
			name += "/compact"
		}
		b.Run(name, func(b *testing.B) {
			in := planner.Input{Project: "acme", Workspace: "https://example", Now: time.Unix(0, 0)}
			for i := 0; i < n; i++ {
				in.Desired = append(in.Desired, benchJob(i))
			}
			p, err := planner.Build(in)
			if err != nil {
				b.Fatal(err)
			}
			s := newSim(b, nil)
			in.Lock = s.apply(p, nil)
			in.Live = s.live()
			if c.raw {
				in.Live = rawLive(b, in.Live)
			}
			if c.compact {
				for _, j := range in.Desired {
					if !j.Compact() {
						b.Fatalf("job %s was not compacted", j.Key)
					}
				}
			}
			if p, err := planner.Build(in); err != nil || !p.Empty() {
				b.Fatalf("setup: the workspace does not match: %v", err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				p, err := planner.Build(in)
				if err != nil || !p.Empty() {
					b.Fatal("not empty")
				}
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n)/1000, "wall-ms/job")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/float64(n)/1000, "cpu-ms/job")
			}
		})
	}
}
