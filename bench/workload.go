package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/jobsync/jobsync/schema"
)

// Workload describes a set of desired jobs: Jobs jobs of Tasks tasks each.
// Jobs are keyed job_00000, job_00001, ... so that a workload is fully
// determined by its two numbers.
type Workload struct {
	Jobs  int
	Tasks int
	// Edited is the set of job indexes whose configuration carries the
	// "edited" variant (a changed timeout on the last task and a new tag):
	// the 10% update scenario edits the YAML through it.
	Edited map[int]bool
	// Omit drops these job indexes from the YAML (the 10% delete scenario).
	Omit map[int]bool
}

// Name is the workload in table form, e.g. "1,000 × 3 tasks".
func (w Workload) Name() string {
	return fmt.Sprintf("%s × %d tasks", thousands(int64(w.Jobs)), w.Tasks)
}

// JobKey is the key of job i.
func JobKey(i int) string { return fmt.Sprintf("job_%05d", i) }

// JobSettings is the YAML-shaped settings tree of job i (plain ints, as a
// user would write them): a shared job cluster, a chain of tasks cycling
// through notebook, Python file and SQL-file tasks, a schedule, tags and
// notifications. It is the same realistic shape as the planner's
// BenchmarkBuild job, stretched to any number of tasks.
func JobSettings(i, tasks int, edited bool) map[string]any {
	key := JobKey(i)
	tags := map[string]any{"team": "data", "cost_center": "42"}
	if edited {
		tags["reviewed"] = "yes"
	}
	ts := make([]any, 0, tasks)
	for t := 0; t < tasks; t++ {
		task := map[string]any{
			"task_key":        fmt.Sprintf("t%03d", t),
			"job_cluster_key": "shared",
		}
		if t > 0 {
			task["depends_on"] = []any{map[string]any{"task_key": fmt.Sprintf("t%03d", t-1)}}
		}
		switch t % 3 {
		case 0:
			task["notebook_task"] = map[string]any{
				"notebook_path":   fmt.Sprintf("/etl/%s/extract_%d", key, t),
				"base_parameters": map[string]any{"day": "{{job.start_time.iso_date}}"},
			}
		case 1:
			task["spark_python_task"] = map[string]any{
				"python_file": fmt.Sprintf("/etl/%s/transform_%d.py", key, t),
				"parameters":  []any{"--mode", "full"},
			}
			task["libraries"] = []any{map[string]any{"pypi": map[string]any{"package": "pandas==2.2.2"}}}
		default:
			task["notebook_task"] = map[string]any{"notebook_path": fmt.Sprintf("/etl/%s/load_%d", key, t)}
		}
		if t == tasks-1 {
			timeout := 3600
			if edited {
				timeout = 7200
			}
			task["timeout_seconds"] = timeout
		}
		ts = append(ts, task)
	}
	return map[string]any{
		"name":                fmt.Sprintf("ETL %s", key),
		"max_concurrent_runs": 1,
		"schedule":            map[string]any{"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC"},
		"email_notifications": map[string]any{"on_failure": []any{"oncall@example.com"}},
		"tags":                tags,
		"job_clusters": []any{map[string]any{
			"job_cluster_key": "shared",
			"new_cluster": map[string]any{
				"spark_version": "15.4.x-scala2.12",
				"node_type_id":  "i3.xlarge",
				"num_workers":   2,
				"spark_conf":    map[string]any{"spark.sql.shuffle.partitions": "64"},
			},
		}},
		"tasks": ts,
	}
}

// jobsPerFile keeps YAML files at a realistic size (a team's folder of
// jobs), so loading measures many files rather than one huge document.
const jobsPerFile = 50

// WriteYAML writes the workload as YAML files under dir (created if
// missing, previous *.yml files replaced) and returns the number of files.
func (w Workload) WriteYAML(dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return 0, err
		}
	}
	files := 0
	for start := 0; start < w.Jobs; start += jobsPerFile {
		jobs := map[string]any{}
		for i := start; i < start+jobsPerFile && i < w.Jobs; i++ {
			if w.Omit[i] {
				continue
			}
			jobs[JobKey(i)] = JobSettings(i, w.Tasks, w.Edited[i])
		}
		if len(jobs) == 0 {
			continue
		}
		data, err := yaml.Marshal(map[string]any{"jobs": jobs})
		if err != nil {
			return 0, err
		}
		name := filepath.Join(dir, fmt.Sprintf("jobs_%05d.yml", start/jobsPerFile))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return 0, err
		}
		files++
	}
	return files, nil
}

// Desired writes the workload's YAML under dir and loads it the way the CLI
// does (schema.Load: parsing, JSON schema and semantic checks), so that the
// in-process measurements and the CLI child plan exactly the same jobs.
func (w Workload) Desired(ctx context.Context, dir string) ([]*schema.Job, error) {
	if _, err := w.WriteYAML(dir); err != nil {
		return nil, fmt.Errorf("writing the workload: %w", err)
	}
	cfg, err := schema.Load(ctx, []string{dir})
	if err != nil {
		return nil, fmt.Errorf("loading the workload: %w", err)
	}
	return cfg.Jobs, nil
}

// Every returns the indexes 0, step, 2·step, ... below n: the spread-out
// subset (1% or 10%) that a scenario changes.
func Every(n, step int) map[int]bool {
	out := map[int]bool{}
	for i := 0; i < n; i += step {
		out[i] = true
	}
	return out
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
