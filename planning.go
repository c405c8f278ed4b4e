package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/internal/atomicfile"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// What plan, apply, destroy and import share: the plan-shaping flags, the
// one call that reads the workspace and plans, and the plan's renderings.

func planFlags() []cli.Flag {
	return append(workspaceFlags(),
		&cli.StringFlag{Name: "only", Usage: "plan only these job keys (comma-separated)"},
		&cli.BoolFlag{Name: "prune", Usage: "delete managed jobs whose keys are gone from the YAML (otherwise they are left in place, and listed)"},
		&cli.StringFlag{Name: "refresh", Value: "auto", Usage: "how to read the workspace: auto, list (bulk jobs/list) or get (jobs/get per locked job)"},
	)
}

// planOptions are the plan-shaping choices.
type planOptions struct {
	only     []string
	prune    bool
	destroy  bool
	strategy refresh.Strategy
	// files are a bundle's local files to upload.
	files filesOf
}

// planFlagsOf reads the plan-shaping flags, for cfg.
func planFlagsOf(c *cli.Context, cfg *schema.Config) planOptions {
	o := planOptions{prune: c.Bool("prune"), strategy: refresh.Strategy(c.String("refresh")), files: uploadsOf(cfg)}
	for _, k := range strings.Split(c.String("only"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			o.only = append(o.only, k)
		}
	}
	return o
}

// makePlan reads the workspace and plans desired against it (refresh.Plan),
// saying on stderr how the workspace was read.
func makePlan(ctx context.Context, c *cli.Context, e *env, w *workspace, lock *state.File, desired []*schema.Job, o planOptions) (*planner.Plan, error) {
	if err := planner.CheckOnly(o.only, desired, lock); err != nil {
		return nil, usageError(err.Error())
	}
	target := ""
	if p, err := resolveProject(c, e, "text"); err == nil && p.sel != nil && p.sel.Target != nil {
		target = p.sel.Target.Name
	}
	plan, _, err := refresh.Plan(ctx, w.client, planner.Input{
		Desired: desired, Lock: lock, Project: w.project, Target: target, Workspace: w.name,
		Prune: o.prune, Destroy: o.destroy, Only: o.only, Now: time.Now().UTC(), ToolVersion: version,
		Uploads: o.files.uploads, FilesRoot: o.files.root,
	}, refresh.Options{Strategy: o.strategy, Parallelism: c.Int("parallelism")})
	if err != nil {
		return nil, emulatorPrincipalsHint(c, e, err)
	}
	return plan, render.Refresh(e.err, plan)
}

// renderPlan prints the plan in format. The JSON document on stdout is
// redacted like every other output (--no-redact shows it as saved).
func renderPlan(c *cli.Context, e *env, plan *planner.Plan, format string) error {
	switch format {
	case "json":
		if !c.Bool("no-redact") {
			plan = planner.RedactPlan(plan)
		}
		return render.JSON(e.out, plan)
	case "markdown":
		return render.Markdown(e.out, plan)
	}
	return render.Text(e.out, plan, render.Options{Color: useColor(e)})
}

// savePlan writes the plan file atomically and private to the user: it
// holds the exact request bodies that apply will send, secrets included.
func savePlan(path string, plan *planner.Plan) error {
	var buf bytes.Buffer
	if err := planner.WritePlan(&buf, plan); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), 0o600)
}

// loadAndPlan is what plan does before rendering: load the configuration,
// open the workspace and the lockfile, and plan. For a project that is not
// a bundle the YAML loads and the lockfile opens while the workspace is
// read (refresh.PlanLoading: a plan of 10,000 jobs is otherwise their sum);
// a bundle's values depend on the workspace's current user, so it is
// loaded first (loadAndOpen). What the steps print comes in the order they
// would print it one after the other.
func loadAndPlan(c *cli.Context, e *env) (*workspace, *planner.Plan, error) {
	proj, err := resolveProject(c, e, "text")
	if err != nil {
		return nil, nil, err
	}
	if proj.sel != nil && proj.sel.Project.IsBundle() {
		cfg, w, err := loadAndOpen(c, e, func() (*workspace, error) { return openWorkspace(c.Context, c, e) })
		if err != nil {
			return nil, nil, err
		}
		st, err := openState(c.Context, w)
		if err != nil {
			w.Close()
			return nil, nil, err
		}
		plan, err := makePlan(c.Context, c, e, w, st.File(), cfg.Jobs, planFlagsOf(c, cfg))
		if err != nil {
			w.Close()
			return nil, nil, err
		}
		return w, plan, nil
	}
	// The workspace's output (its configuration's warnings, notices of
	// retries) waits for the configuration's, which is held until it is
	// loaded.
	held := &heldWriter{w: e.err}
	we := e.withErr(held)
	w, err := openWorkspace(c.Context, c, we)
	if err != nil {
		if _, lerr := loadConfig(c, e); lerr != nil {
			held.release()
			return nil, nil, lerr
		}
		held.release()
		return nil, nil, err
	}
	o := planFlagsOf(c, nil)
	target := ""
	if proj.sel != nil && proj.sel.Target != nil {
		target = proj.sel.Target.Name
	}
	var st *state.Store
	plan, _, _, _, err := refresh.PlanLoading(c.Context, w.client, planner.Input{
		Project: w.project, Target: target, Workspace: w.name,
		Prune: o.prune, Destroy: o.destroy, Only: o.only, Now: time.Now().UTC(), ToolVersion: version,
	}, refresh.Sources{
		Config: func(context.Context) (*schema.Config, error) {
			var buf bytes.Buffer
			cfg, err := loadConfig(c, e.withErr(&buf))
			held.first(buf.Bytes())
			return cfg, err
		},
		Lock: func(ctx context.Context) (*state.File, error) {
			s, err := openState(ctx, w)
			if err != nil {
				return nil, err
			}
			st = s
			return s.File(), nil
		},
		LockJobs: func(limit int) (int, bool, bool) { return state.CountJobs(w.lockPath, limit) },
		Check: func(cfg *schema.Config, lock *state.File) error {
			if err := planner.CheckOnly(o.only, cfg.Jobs, lock); err != nil {
				return usageError(err.Error())
			}
			return nil
		},
	}, refresh.Options{Strategy: o.strategy, Parallelism: c.Int("parallelism")})
	held.release()
	if st != nil {
		defer st.Close()
	}
	if err != nil {
		w.Close()
		return nil, nil, emulatorPrincipalsHint(c, e, err)
	}
	if err := render.Refresh(e.err, plan); err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, plan, nil
}

// heldWriter holds what is written to it until release (or first, which
// writes its own text before the held), then passes writes through.
type heldWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  bytes.Buffer
	open bool
}

func (h *heldWriter) Write(b []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open {
		return h.w.Write(b)
	}
	return h.buf.Write(b)
}

// first writes b, then what was held, and lets writes through.
func (h *heldWriter) first(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.open {
		h.w.Write(b)
		h.w.Write(h.buf.Bytes())
		h.buf.Reset()
		h.open = true
		return
	}
	h.w.Write(b)
}

func (h *heldWriter) release() { h.first(nil) }
