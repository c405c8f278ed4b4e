package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// BundleWorkload is an Asset Bundle of Jobs jobs, each with one notebook
// (a .py with the notebook header) and one Python file of its own, the
// files spread over Folders folders of src/ (issue 10: 200 jobs, 400
// files).
type BundleWorkload struct {
	Jobs, Folders int
}

// Write writes the bundle into dir: databricks.yml and one resources file
// per folder.
func (w BundleWorkload) Write(dir string) error {
	if w.Folders <= 0 {
		w.Folders = 1
	}
	files := map[string]string{"databricks.yml": "bundle:\n  name: bench\ninclude:\n  - resources/*.yml\ntargets:\n  dev:\n    mode: development\n    default: true\n"}
	res := make([]strings.Builder, w.Folders)
	for g := range res {
		res[g].WriteString("resources:\n  jobs:\n")
	}
	for i := 0; i < w.Jobs; i++ {
		g := i % w.Folders
		folder := fmt.Sprintf("src/group_%02d", g)
		files[fmt.Sprintf("%s/notebook_%03d.py", folder, i)] = fmt.Sprintf("# Databricks notebook source\nprint('job %d')\n", i)
		files[fmt.Sprintf("%s/task_%03d.py", folder, i)] = fmt.Sprintf("import sys\nprint('task %d', sys.argv)\n", i)
		fmt.Fprintf(&res[g], `    job_%03d:
      name: job %03d
      job_clusters:
        - job_cluster_key: main
          new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}
      tasks:
        - task_key: notebook
          job_cluster_key: main
          notebook_task: {notebook_path: ../%s/notebook_%03d.py}
        - task_key: python
          depends_on: [{task_key: notebook}]
          job_cluster_key: main
          spark_python_task: {python_file: ../%s/task_%03d.py}
`, i, i, folder, i, folder, i)
	}
	for g := range res {
		files[fmt.Sprintf("resources/group_%02d.yml", g)] = res[g].String()
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// BundleEnv is a bundle loaded for an Env's workspace (its current user
// from SCIM /Me) and ready to plan.
type BundleEnv struct {
	*Env
	Cfg     *schema.Config
	Project string
	w       BundleWorkload
}

// Workload is the bundle's workload.
func (b *BundleEnv) Workload() BundleWorkload { return b.w }

// NewBundleEnv writes w into dir/bundle, starts a workspace and loads the
// bundle for it.
func NewBundleEnv(ctx context.Context, dir string, w BundleWorkload) (*BundleEnv, error) {
	root := filepath.Join(dir, "bundle")
	if err := w.Write(root); err != nil {
		return nil, err
	}
	e, err := NewEnv(EnvOptions{Dir: dir})
	if err != nil {
		return nil, err
	}
	me, err := e.Client.Me(ctx)
	if err != nil {
		e.Close()
		return nil, err
	}
	p, err := schema.LoadProject(ctx, filepath.Join(root, "databricks.yml"))
	if err != nil {
		e.Close()
		return nil, err
	}
	sel, err := schema.Select(p, "", nil, nil)
	if err != nil {
		e.Close()
		return nil, err
	}
	cfg, err := schema.LoadWith(ctx, []string{root}, schema.Options{Selection: sel, Identity: &schema.Identity{UserName: me.UserName, ID: me.ID}})
	if err != nil {
		e.Close()
		return nil, err
	}
	return &BundleEnv{Env: e, Cfg: cfg, Project: p.Name + "/" + sel.Target.Name, w: w}, nil
}

// Plan plans the bundle against the workspace, as `jobsync plan` does
// (minus loading and rendering).
func (b *BundleEnv) Plan(ctx context.Context) (*planner.Plan, error) {
	st, err := state.Open(ctx, b.LockPath)
	if err != nil {
		return nil, err
	}
	in := planner.Input{Desired: b.Cfg.Jobs, Lock: st.File(), Project: b.Project, Workspace: b.Client.Host(),
		Now: time.Unix(1_700_000_000, 0).UTC(), Uploads: b.Cfg.Uploads, FilesRoot: b.Cfg.Paths.Files}
	p, _, err := refresh.Plan(ctx, b.Client, in, refresh.Options{Strategy: refresh.Auto, Parallelism: 16})
	return p, err
}

// Apply applies p, initialising the lockfile for the bundle's project.
func (b *BundleEnv) Apply(ctx context.Context, p *planner.Plan) (*applier.Result, error) {
	st, err := state.Open(ctx, b.LockPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if st.File() == nil {
		st.Init(b.Client.Host(), b.Project)
	}
	return applier.Apply(ctx, p, b.Client, st, applier.Options{Parallelism: applier.DefaultParallelism})
}

// WorkspaceRequests counts the workspace-files requests the emulator has
// logged since its last reset, by endpoint (list, import, mkdirs, ...).
func (b *BundleEnv) WorkspaceRequests() map[string]int {
	out := map[string]int{}
	for _, r := range b.Emu.Requests() {
		switch {
		case strings.HasPrefix(r.Path, "/api/2.0/workspace-files/"):
			out["import-file"]++
		case strings.HasPrefix(r.Path, "/api/2.0/workspace/"):
			out[strings.TrimPrefix(r.Path, "/api/2.0/workspace/")]++
		}
	}
	return out
}

// BundleResult holds the measurements of a bundle with local files.
type BundleResult struct {
	Workload BundleWorkload
	// FirstApply uploads every file and creates every job (in process,
	// applier.Apply timed alone); NoChange is the plan after it (in
	// process), NoChangeCLI `jobsync plan` in the bundle's folder as a
	// child process.
	FirstApply, NoChange, NoChangeCLI Samples
}

// RunBundle measures, at cfg.Latency, the first apply of a bundle of w
// (each run in a fresh workspace) and the no-change plan after it.
func RunBundle(ctx context.Context, cfg Config, w BundleWorkload) (*BundleResult, error) {
	res := &BundleResult{Workload: w}
	for r := 0; r < cfg.runs(); r++ {
		dir, err := cfg.scratch(fmt.Sprintf("bundle-%d-%d", w.Jobs, w.Folders))
		if err != nil {
			return nil, err
		}
		b, err := NewBundleEnv(ctx, dir, w)
		if err != nil {
			return nil, err
		}
		err = b.measure(ctx, cfg, dir, res, r == cfg.runs()-1)
		b.Close()
		if err != nil {
			return nil, fmt.Errorf("bundle %d jobs: %w", w.Jobs, err)
		}
	}
	return res, nil
}

func (b *BundleEnv) measure(ctx context.Context, cfg Config, dir string, res *BundleResult, last bool) error {
	p, err := b.Plan(ctx)
	if err != nil {
		return err
	}
	if c := p.Counts(); c[planner.OpCreate] != b.Workload().Jobs {
		return fmt.Errorf("first plan %v", c)
	}
	b.Emu.SetLatency(cfg.Latency)
	b.Emu.ResetRequests()
	start := time.Now()
	ar, err := b.Apply(ctx, p)
	s := Sample{Wall: time.Since(start), Requests: b.Emu.RequestCount()}
	if err != nil {
		return err
	}
	if len(ar.Failed) > 0 || len(ar.NotStarted) > 0 {
		return fmt.Errorf("first apply: %d failed, %d not started", len(ar.Failed), len(ar.NotStarted))
	}
	s.Applied = len(ar.Applied)
	res.FirstApply = append(res.FirstApply, s)
	cfg.logf("bundle %d jobs: first apply %s, %d requests", b.Workload().Jobs, fmtDur(s.Wall), s.Requests)
	runtime.GC()
	b.Emu.ResetRequests()
	start = time.Now()
	p, err = b.Plan(ctx)
	s = Sample{Wall: time.Since(start), Requests: b.Emu.RequestCount()}
	if err != nil {
		return err
	}
	if !p.Empty() {
		return fmt.Errorf("no-change plan has actions: %v", p.Counts())
	}
	res.NoChange = append(res.NoChange, s)
	cfg.logf("bundle %d jobs: no-change plan %s, %d requests", b.Workload().Jobs, fmtDur(s.Wall), s.Requests)
	if cfg.CLI == nil {
		return nil
	}
	// The child runs in the bundle's folder, as a user would; it finds
	// databricks.yml there and asks the workspace who the user is.
	for i := 0; i < cfg.runs() && last; i++ {
		b.Emu.ResetRequests()
		out, err := cfg.CLI.Run(ctx, filepath.Join(dir, "bundle"), b.Host, Token, "plan", "--lockfile", b.LockPath, "--detailed-exitcode")
		if err != nil {
			return err
		}
		if out.Code != 0 {
			return fmt.Errorf("jobsync plan of the bundle exited %d (want 0: no changes):\n%s%s", out.Code, tail(out.Stdout, 2000), tail(out.Stderr, 2000))
		}
		out.Requests = b.Emu.RequestCount()
		res.NoChangeCLI = append(res.NoChangeCLI, out.Sample)
		cfg.logf("bundle %d jobs: no-change plan (CLI) %s, %d requests, %d MiB RSS", b.Workload().Jobs, fmtDur(out.Wall), out.Requests, out.RSSKB/1024)
	}
	return nil
}
