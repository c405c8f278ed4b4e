package state

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// realisticJob is what the lockfile records for a typical managed job: three
// tasks on a shared job cluster, a schedule, notifications, parameters,
// tags (with the ownership tag), queue, and a permissions list.
func realisticJob(i int) Job {
	n := func(v int) json.Number { return json.Number(fmt.Sprint(v)) }
	task := func(key, dep string, extra map[string]any) map[string]any {
		t := map[string]any{
			"task_key":                  key,
			"job_cluster_key":           "main",
			"timeout_seconds":           n(3600),
			"max_retries":               n(2),
			"min_retry_interval_millis": n(60000),
			"libraries":                 []any{map[string]any{"whl": fmt.Sprintf("/Volumes/main/libs/etl/etl_lib-1.%d.0-py3-none-any.whl", i%50)}},
		}
		if dep != "" {
			t["depends_on"] = []any{map[string]any{"task_key": dep}}
		}
		for k, v := range extra {
			t[k] = v
		}
		return t
	}
	return Job{
		JobID: int64(1000000000000 + i),
		Applied: mustRaw(map[string]any{
			"name":                fmt.Sprintf("[prod] domain %03d pipeline %05d", i%200, i),
			"description":         "Loads the raw events of one domain, builds the silver tables and refreshes the gold aggregates.",
			"max_concurrent_runs": n(1),
			"timeout_seconds":     n(14400),
			"queue":               map[string]any{"enabled": true},
			"schedule": map[string]any{
				"quartz_cron_expression": fmt.Sprintf("0 %d %d * * ?", i%60, i%24),
				"timezone_id":            "UTC",
				"pause_status":           "UNPAUSED",
			},
			"email_notifications": map[string]any{"on_failure": []any{"data-oncall@example.com"}},
			"tags": map[string]any{
				"jobsync":     fmt.Sprintf("analytics/prod/pipeline_%05d", i),
				"team":        "data-platform",
				"cost_center": fmt.Sprint(4000 + i%17),
			},
			"parameters": []any{
				map[string]any{"name": "env", "default": "prod"},
				map[string]any{"name": "run_date", "default": "{{job.start_time.iso_date}}"},
			},
			"job_clusters": []any{map[string]any{
				"job_cluster_key": "main",
				"new_cluster": map[string]any{
					"spark_version": "15.4.x-scala2.12",
					"node_type_id":  "i3.xlarge",
					"num_workers":   n(2 + i%8),
					"spark_conf":    map[string]any{"spark.sql.shuffle.partitions": "64"},
					"aws_attributes": map[string]any{
						"availability": "SPOT_WITH_FALLBACK", "first_on_demand": n(1), "zone_id": "auto",
					},
					"custom_tags":        map[string]any{"domain": fmt.Sprintf("d%03d", i%200)},
					"data_security_mode": "SINGLE_USER",
				},
			}},
			"tasks": []any{
				task("ingest", "", map[string]any{"notebook_task": map[string]any{
					"notebook_path":   fmt.Sprintf("/Workspace/Repos/etl/domains/d%03d/ingest", i%200),
					"base_parameters": map[string]any{"source": fmt.Sprintf("s3://raw-events/d%03d/", i%200)},
					"source":          "WORKSPACE",
				}}),
				task("transform", "ingest", map[string]any{"spark_python_task": map[string]any{
					"python_file": "/Workspace/Repos/etl/transform.py",
					"parameters":  []any{"--domain", fmt.Sprintf("d%03d", i%200), "--layer", "silver"},
				}}),
				task("publish", "transform", map[string]any{"sql_task": map[string]any{
					"warehouse_id": "a1b2c3d4e5f60718",
					"file":         map[string]any{"path": "/Workspace/Repos/etl/sql/publish.sql"},
				}}),
			},
		}),
		Permissions: []any{
			map[string]any{"group_name": "data-platform", "permission_level": "CAN_MANAGE"},
			map[string]any{"group_name": "analysts", "permission_level": "CAN_VIEW"},
			map[string]any{"service_principal_name": "6a1b2c3d-0000-4000-8000-000000000001", "permission_level": "IS_OWNER"},
		},
	}
}

// seedStore writes a committed lockfile of n realistic jobs.
func seedStore(b *testing.B, n int) string {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "jobsync.lock.json")
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	s.Init("https://dbc-1234.cloud.databricks.com", "analytics/prod")
	for i := range n {
		s.file.Jobs[fmt.Sprintf("pipeline_%05d", i)] = realisticJob(i)
	}
	if err := s.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkCommit10k: one full compaction of a 10,000-job lockfile (encode,
// temp file, fsync, rename, fsync dir) after an apply changed one job.
func BenchmarkCommit10k(b *testing.B) {
	ctx := context.Background()
	path := seedStore(b, 10000)
	fi, _ := os.Stat(path)
	s, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		j := realisticJob(i)
		j.JobID = int64(5000000000000 + i)
		if err := s.Record(ctx, "pipeline_00001", j); err != nil {
			b.Fatal(err)
		}
		if err := s.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fi.Size()), "lockfile-bytes")
}

// BenchmarkOpen10k: reading and validating a 10,000-job lockfile.
func BenchmarkOpen10k(b *testing.B) {
	ctx := context.Background()
	path := seedStore(b, 10000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Open(ctx, path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecord: the per-action cost during an apply (one journal line,
// fsynced), sequential and with 16 concurrent recorders sharing fsyncs. It
// does not depend on the size of the lockfile.
func BenchmarkRecord(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		b.Run(fmt.Sprintf("parallel=%v", parallel), func(b *testing.B) {
			ctx := context.Background()
			path := seedStore(b, 10000)
			s, err := Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			j := realisticJob(7)
			if !parallel {
				for i := 0; b.Loop(); i++ {
					if err := s.Record(ctx, fmt.Sprintf("k%d", i%10000), j); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.SetParallelism(8) // 16 goroutines on 2 CPUs, like the applier's default
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := s.Record(ctx, fmt.Sprintf("k%d", i%10000), j); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// mustRaw is EncodeApplied of a literal, which cannot fail.
func mustRaw(m map[string]any) json.RawMessage {
	raw, err := EncodeApplied(m)
	if err != nil {
		panic(err)
	}
	return raw
}

// BenchmarkDuplicateKey10k: the duplicate-key scan Open adds to reading a
// 10,000-job lockfile (compare with BenchmarkOpen10k).
func BenchmarkDuplicateKey10k(b *testing.B) {
	data, err := os.ReadFile(seedStore(b, 10000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, _, dup := duplicateKey(data); dup {
			b.Fatal("duplicate")
		}
	}
}
