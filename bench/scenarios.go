package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Config is what every scenario shares.
type Config struct {
	// Dir is a scratch directory; each scenario works in its own
	// subdirectory.
	Dir string
	// Latency is added by the emulator to every request.
	Latency time.Duration
	// Runs is how many times each measurement is repeated (medians are
	// reported).
	Runs int
	// CLI, when set, also runs `jobsync plan` / `jobsync apply` as a child
	// process for wall time, peak RSS and CPU as the user sees them.
	CLI *CLI
	// BuildTime is how long the no-network planning CPU measurement loops
	// (default 1 s).
	BuildTime time.Duration
	// Log receives one line per step (nil: discarded).
	Log io.Writer
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

func (c *Config) runs() int {
	if c.Runs <= 0 {
		return 1
	}
	return c.Runs
}

func (c *Config) scratch(name string) (string, error) {
	dir := filepath.Join(c.Dir, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// PlanResult holds the plan measurements of one workload.
type PlanResult struct {
	Workload Workload
	// NoChange is refresh.Plan (lockfile read, workspace read, Build) in
	// process, on a workspace that matches the YAML.
	NoChange Samples
	// NoChangeCLI is `jobsync plan` as a child process (YAML loading,
	// validation, rendering and process start included), with its RSS.
	NoChangeCLI Samples
	// BuildPerJob is the CPU time of planner.Build per job, no network.
	BuildPerJob time.Duration
	// Load is schema.Load of the workload's YAML, in process (wall).
	Load Samples
	// Drift is the plan after 1% of the jobs were changed in the
	// workspace; DriftActions the actions it planned.
	Drift        Samples
	DriftActions int
	// DriftCLI is `jobsync plan` as a child process after the drift (it
	// exits 2: changes), with its RSS.
	DriftCLI Samples
}

// RunPlan seeds a workspace with w (at no latency), then measures the
// no-change plan, the planning CPU and the plan after 1% drift at
// cfg.Latency.
func RunPlan(ctx context.Context, cfg Config, w Workload) (*PlanResult, error) {
	dir, err := cfg.scratch(fmt.Sprintf("plan-%d-%d", w.Jobs, w.Tasks))
	if err != nil {
		return nil, err
	}
	yamlDir := filepath.Join(dir, "jobs")
	if _, err := w.WriteYAML(yamlDir); err != nil {
		return nil, fmt.Errorf("writing the workload: %w", err)
	}
	res := &PlanResult{Workload: w}
	// Load is measured first, holding nothing, as jobsync loads at the
	// start of a command: with the jobs of an earlier Load still in the
	// heap, the collector marks them through every Load (about a fifth
	// of its time at 10,000 jobs, BENCHMARKS.md).
	for r := 0; r < cfg.runs(); r++ {
		runtime.GC()
		start := time.Now()
		if _, err := schema.Load(ctx, []string{yamlDir}); err != nil {
			return nil, err
		}
		res.Load = append(res.Load, Sample{Wall: time.Since(start)})
	}
	cfg.logf("plan %s: schema.Load %s (%.1f µs/job)", w.Name(), fmtDur(res.Load.Wall()), float64(res.Load.Wall())/float64(time.Microsecond)/float64(w.Jobs))
	desired, err := w.Desired(ctx, yamlDir)
	if err != nil {
		return nil, err
	}
	e, err := NewEnv(EnvOptions{Dir: dir})
	if err != nil {
		return nil, err
	}
	open := true
	defer func() {
		if open {
			e.Close()
		}
	}()
	cfg.logf("plan %s: seeding the workspace", w.Name())
	if _, err := e.Converge(ctx, desired, false, 3); err != nil {
		return nil, fmt.Errorf("seeding: %w", err)
	}
	e.Emu.SetLatency(cfg.Latency)

	var live []planner.Live
	for r := 0; r < cfg.runs(); r++ {
		s, p, l, err := measurePlan(ctx, e, desired)
		if err != nil {
			return nil, err
		}
		if !p.Empty() {
			return nil, fmt.Errorf("no-change plan of %s is not empty: %v", w.Name(), p.Counts())
		}
		live = l
		res.NoChange = append(res.NoChange, s)
		cfg.logf("  no-change plan: %s, %d requests", fmtDur(s.Wall), s.Requests)
	}

	if cfg.CLI != nil {
		for r := 0; r < cfg.runs(); r++ {
			e.Emu.ResetRequests()
			out, err := cfg.CLI.Run(ctx, dir, e.Host, Token, "plan", "--project", Project, "--lockfile", e.LockPath, "--detailed-exitcode", yamlDir)
			if err != nil {
				return nil, err
			}
			if out.Code != 0 {
				return nil, fmt.Errorf("jobsync plan exited %d (want 0: no changes):\n%s%s", out.Code, out.Stdout, out.Stderr)
			}
			out.Requests = e.Emu.RequestCount()
			res.NoChangeCLI = append(res.NoChangeCLI, out.Sample)
			cfg.logf("  no-change plan (CLI): %s, %d requests, %d MiB RSS, %s CPU", fmtDur(out.Wall), out.Requests, out.RSSKB/1024, fmtDur(out.CPU))
		}
	}

	st, err := state.Open(ctx, e.LockPath)
	if err != nil {
		return nil, err
	}
	in := e.Input(desired, st.File(), false)
	in.Live = live

	// 1% of the jobs change in the workspace (someone edits them in the UI).
	e.Emu.SetLatency(0)
	changed := Every(w.Jobs, 100)
	if err := driftJobs(ctx, e, st.File(), changed); err != nil {
		return nil, err
	}
	e.Emu.SetLatency(cfg.Latency)
	for r := 0; r < cfg.runs(); r++ {
		s, p, _, err := measurePlan(ctx, e, desired)
		if err != nil {
			return nil, err
		}
		res.DriftActions = len(p.Actions)
		if len(p.Actions) != len(changed) {
			return nil, fmt.Errorf("plan after drift of %d jobs has %d actions (%v)", len(changed), len(p.Actions), p.Counts())
		}
		res.Drift = append(res.Drift, s)
		cfg.logf("  plan after 1%% drift: %s, %d requests, %v", fmtDur(s.Wall), s.Requests, p.Counts())
	}
	if cfg.CLI != nil {
		for r := 0; r < cfg.runs(); r++ {
			e.Emu.ResetRequests()
			out, err := cfg.CLI.Run(ctx, dir, e.Host, Token, "plan", "--project", Project, "--lockfile", e.LockPath, "--detailed-exitcode", yamlDir)
			if err != nil {
				return nil, err
			}
			if out.Code != 2 {
				return nil, fmt.Errorf("jobsync plan after drift exited %d (want 2: changes):\n%s%s", out.Code, tail(out.Stdout, 2000), tail(out.Stderr, 2000))
			}
			out.Requests = e.Emu.RequestCount()
			res.DriftCLI = append(res.DriftCLI, out.Sample)
			cfg.logf("  plan after 1%% drift (CLI): %s, %d requests, %d MiB RSS, %s CPU", fmtDur(out.Wall), out.Requests, out.RSSKB/1024, fmtDur(out.CPU))
		}
	}

	// Planning CPU is measured last, with the emulator shut down and out
	// of reach: a jobsync process plans with no workspace in its heap,
	// and the garbage collector of this one would otherwise mark the
	// emulator's 10,000 jobs on every cycle (about 0.02 ms a job at
	// 10,000, BENCHMARKS.md). What planning holds stays: the loaded YAML,
	// the lockfile and the listed jobs.
	// (A close that times out waiting for an idle connection does not
	// matter here, as it did not when the close was deferred.)
	open = false
	_ = e.Close()
	e.Emu, e.Client = nil, nil
	res.BuildPerJob, err = buildCPU(in, len(desired), cfg.BuildTime)
	if err != nil {
		return nil, err
	}
	cfg.logf("  planner.Build: %.4f ms/job", float64(res.BuildPerJob)/float64(time.Millisecond))
	return res, nil
}

func measurePlan(ctx context.Context, e *Env, desired []*schema.Job) (Sample, *planner.Plan, []planner.Live, error) {
	runtime.GC()
	e.Emu.ResetRequests()
	before := e.Client.Stats()
	start := time.Now()
	p, live, err := e.Plan(ctx, desired, false)
	s := Sample{Wall: time.Since(start)}
	if err != nil {
		return s, nil, nil, err
	}
	after := e.Client.Stats()
	s.Requests = e.Emu.RequestCount()
	s.Retries, s.Throttled = after.Retries-before.Retries, after.Throttled-before.Throttled
	return s, p, live, nil
}

// buildCPU times planner.Build alone on a complete input (no network, no
// lockfile I/O) and returns the CPU time per job: process CPU (user +
// system, GC included) where getrusage exists, which the other goroutines
// (an idle emulator) barely touch and which, unlike wall time, does not
// grow when other processes share the machine; wall time elsewhere.
func buildCPU(in planner.Input, jobs int, budget time.Duration) (time.Duration, error) {
	if budget <= 0 {
		budget = time.Second
	}
	if p, err := planner.Build(in); err != nil || !p.Empty() {
		return 0, fmt.Errorf("planning CPU: the input does not give an empty plan (%v)", err)
	}
	runtime.GC()
	iters := 0
	start, cpu0 := time.Now(), processCPU()
	for iters < 3 || time.Since(start) < budget {
		if _, err := planner.Build(in); err != nil {
			return 0, err
		}
		iters++
	}
	spent := processCPU() - cpu0
	if cpu0 == 0 || spent <= 0 {
		spent = time.Since(start)
	}
	return spent / time.Duration(iters*jobs), nil
}

// Drift changes the chosen jobs in e's workspace as driftJobs does, finding
// their ids in e's lockfile.
func Drift(ctx context.Context, e *Env, which map[int]bool) error {
	st, err := state.Open(ctx, e.LockPath)
	if err != nil {
		return err
	}
	return driftJobs(ctx, e, st.File(), which)
}

// driftJobs changes the chosen jobs in the workspace behind jobsync's back:
// max_concurrent_runs goes from 1 to 2.
func driftJobs(ctx context.Context, e *Env, lock *state.File, which map[int]bool) error {
	for _, i := range sortedKeys(which) {
		j, ok := lock.Jobs[JobKey(i)]
		if !ok {
			return fmt.Errorf("drift: %s is not in the lockfile", JobKey(i))
		}
		body, _ := json.Marshal(map[string]any{"job_id": j.JobID, "new_settings": map[string]any{"max_concurrent_runs": 2}})
		if err := e.Client.UpdateJob(ctx, body); err != nil {
			return fmt.Errorf("drift: %w", err)
		}
	}
	return nil
}

// ApplyResult holds the apply measurements of one workload.
type ApplyResult struct {
	Workload Workload
	// Create applies the creation of every job into an empty workspace;
	// Update changes 10% of them in the YAML; Delete removes another 10%
	// from the YAML with --prune. In-process applier.Apply, timed alone.
	Create, Update, Delete Samples
	// CreateCLI is `jobsync apply --auto-approve` of the creation as a
	// child process: YAML loading, plan, apply and lockfile commit.
	CreateCLI Samples
}

// RunApply measures creating, updating 10% and deleting 10% of w at
// cfg.Latency, each run in a fresh workspace.
func RunApply(ctx context.Context, cfg Config, w Workload) (*ApplyResult, error) {
	res := &ApplyResult{Workload: w}
	for r := 0; r < cfg.runs(); r++ {
		dir, err := cfg.scratch(fmt.Sprintf("apply-%d-%d", w.Jobs, w.Tasks))
		if err != nil {
			return nil, err
		}
		yamlDir := filepath.Join(dir, "jobs")
		e, err := NewEnv(EnvOptions{Dir: dir, Emulator: emuWithLatency(cfg.Latency)})
		if err != nil {
			return nil, err
		}
		steps := []struct {
			name  string
			w     Workload
			prune bool
			op    planner.Op
			want  int
			out   *Samples
		}{
			{"create", w, false, planner.OpCreate, w.Jobs, &res.Create},
			{"update 10%", Workload{Jobs: w.Jobs, Tasks: w.Tasks, Edited: Every(w.Jobs, 10)}, false, planner.OpUpdate, len(Every(w.Jobs, 10)), &res.Update},
			{"delete 10%", Workload{Jobs: w.Jobs, Tasks: w.Tasks, Edited: Every(w.Jobs, 10), Omit: EveryFrom(w.Jobs, 10, 5)}, true, planner.OpDelete, len(EveryFrom(w.Jobs, 10, 5)), &res.Delete},
		}
		for _, step := range steps {
			desired, err := step.w.Desired(ctx, yamlDir)
			if err != nil {
				e.Close()
				return nil, err
			}
			s, err := measureApply(ctx, e, desired, step.prune, step.op, step.want)
			if err != nil {
				e.Close()
				return nil, fmt.Errorf("apply %s of %s: %w", step.name, w.Name(), err)
			}
			*step.out = append(*step.out, s)
			cfg.logf("apply %s: %s %s, %d requests", w.Name(), step.name, fmtDur(s.Wall), s.Requests)
		}
		e.Close()
	}
	if cfg.CLI != nil {
		for r := 0; r < cfg.runs(); r++ {
			s, err := cliCreate(ctx, cfg, w)
			if err != nil {
				return nil, err
			}
			res.CreateCLI = append(res.CreateCLI, s)
			cfg.logf("apply %s: create (CLI) %s, %d requests, %d MiB RSS", w.Name(), fmtDur(s.Wall), s.Requests, s.RSSKB/1024)
		}
	}
	return res, nil
}

func emuWithLatency(d time.Duration) emulator.Options {
	return emulator.Options{Latency: d}
}

// measureApply plans (untimed), checks the plan is what the step expects,
// then times the apply, and checks that a re-plan is empty.
func measureApply(ctx context.Context, e *Env, desired []*schema.Job, prune bool, op planner.Op, want int) (Sample, error) {
	p, _, err := e.Plan(ctx, desired, prune)
	if err != nil {
		return Sample{}, err
	}
	if got := p.Counts()[op]; got != want || len(p.Actions) != want {
		return Sample{}, fmt.Errorf("plan has %v, want %d %s", p.Counts(), want, op)
	}
	runtime.GC()
	e.Emu.ResetRequests()
	before := e.Client.Stats()
	start := time.Now()
	res, err := e.Apply(ctx, p, applier.Options{})
	s := Sample{Wall: time.Since(start)}
	if err != nil {
		return s, err
	}
	after := e.Client.Stats()
	s.Requests = e.Emu.RequestCount()
	s.Retries, s.Throttled = after.Retries-before.Retries, after.Throttled-before.Throttled
	s.Applied, s.Failed = len(res.Applied), len(res.Failed)
	if s.Failed > 0 || len(res.NotStarted) > 0 {
		return s, fmt.Errorf("%d actions failed (first: %v), %d not started", s.Failed, res.Failed[0].Err, len(res.NotStarted))
	}
	again, _, err := e.Plan(ctx, desired, prune)
	if err != nil {
		return s, err
	}
	if !again.Empty() {
		return s, fmt.Errorf("re-plan after apply is not empty: %v", again.Counts())
	}
	return s, nil
}

// cliCreate runs `jobsync apply --auto-approve` of w into an empty
// workspace as a child process.
func cliCreate(ctx context.Context, cfg Config, w Workload) (Sample, error) {
	dir, err := cfg.scratch(fmt.Sprintf("cli-apply-%d-%d", w.Jobs, w.Tasks))
	if err != nil {
		return Sample{}, err
	}
	yamlDir := filepath.Join(dir, "jobs")
	if _, err := w.WriteYAML(yamlDir); err != nil {
		return Sample{}, err
	}
	e, err := NewEnv(EnvOptions{Dir: dir, Emulator: emuWithLatency(cfg.Latency)})
	if err != nil {
		return Sample{}, err
	}
	defer e.Close()
	out, err := cfg.CLI.Run(ctx, dir, e.Host, Token, "apply", "--auto-approve", "--project", Project, "--lockfile", e.LockPath, yamlDir)
	if err != nil {
		return Sample{}, err
	}
	if out.Code != 0 || !strings.Contains(out.Stdout, "Apply complete") {
		return Sample{}, fmt.Errorf("jobsync apply exited %d:\n%s\n%s", out.Code, tail(out.Stdout, 2000), tail(out.Stderr, 2000))
	}
	out.Requests = e.Emu.RequestCount()
	if got := len(e.Emu.JobIDs()); got != w.Jobs {
		return Sample{}, fmt.Errorf("jobsync apply made %d jobs, want %d", got, w.Jobs)
	}
	return out.Sample, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// RateResult is the creation of N jobs under a server-side limit.
type RateResult struct {
	Jobs      int
	PerSecond float64
	Samples   Samples
}

// Ideal is the time the server's limit allows: N/rate seconds.
func (r *RateResult) Ideal() time.Duration {
	return time.Duration(float64(r.Jobs) / r.PerSecond * float64(time.Second))
}

// RunRateLimited measures applying the creation of n jobs while the
// emulator allows perSecond jobs/create a second and answers the excess
// with 429 and Retry-After.
func RunRateLimited(ctx context.Context, cfg Config, n int, perSecond float64) (*RateResult, error) {
	w := Workload{Jobs: n, Tasks: 3}
	res := &RateResult{Jobs: n, PerSecond: perSecond}
	for r := 0; r < cfg.runs(); r++ {
		dir, err := cfg.scratch(fmt.Sprintf("ratelimit-%d", n))
		if err != nil {
			return nil, err
		}
		desired, err := w.Desired(ctx, filepath.Join(dir, "jobs"))
		if err != nil {
			return nil, err
		}
		e, err := NewEnv(EnvOptions{Dir: dir, Emulator: emuWithLatency(cfg.Latency)})
		if err != nil {
			return nil, err
		}
		e.Emu.SetRateLimit("jobs/create", perSecond)
		s, err := measureApply(ctx, e, desired, false, planner.OpCreate, n)
		jobs := len(e.Emu.JobIDs())
		e.Close()
		if err != nil {
			return nil, fmt.Errorf("rate-limited apply: %w", err)
		}
		if jobs != n {
			return nil, fmt.Errorf("rate-limited apply made %d jobs, want %d", jobs, n)
		}
		res.Samples = append(res.Samples, s)
		cfg.logf("rate-limited create of %d at %.0f/s: %s, %d requests, %d throttled, %d failed", n, perSecond, fmtDur(s.Wall), s.Requests, s.Throttled, s.Failed)
	}
	return res, nil
}

// EveryFrom returns offset, offset+step, ... below n.
func EveryFrom(n, step, offset int) map[int]bool {
	out := map[int]bool{}
	for i := offset; i < n; i += step {
		out[i] = true
	}
	return out
}
