package main

import (
	"bytes"
	"context"
	"strings"
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
		return nil, err
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
