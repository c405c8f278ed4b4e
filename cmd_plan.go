package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
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

func planFlags() []cli.Flag {
	return append(workspaceFlags(),
		&cli.StringFlag{Name: "only", Usage: "plan only these job keys (comma-separated)"},
		&cli.BoolFlag{Name: "prune", Usage: "delete managed jobs whose keys are gone from the YAML (otherwise they are listed as skipped)"},
		&cli.StringFlag{Name: "refresh", Value: "auto", Usage: "how to read the workspace: auto, list (bulk jobs/list) or get (jobs/get per locked job)"},
	)
}

func planCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what apply would change in the workspace",
		ArgsUsage: "[PATH...]",
		Description: `Reads the YAML under PATH (default .), reads the workspace, and prints the plan.
Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, 2 changes present (--detailed-exitcode).`,
		Flags: append(planFlags(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, json or markdown"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "also save the plan to `FILE` (JSON) for `jobsync apply FILE`"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when the plan has changes, 0 when it has none"},
		),
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if format != "text" && format != "json" && format != "markdown" {
				return usageError(fmt.Sprintf("unknown --format %q: want text, json or markdown", format))
			}
			cfg, w, err := loadAndOpen(c, e, func() (*workspace, error) { return openWorkspace(c.Context, c, e) })
			if err != nil {
				return err
			}
			defer w.Close()
			st, err := openState(c.Context, w)
			if err != nil {
				return err
			}
			plan, err := makePlan(c.Context, c, e, w, st.File(), cfg)
			if err != nil {
				return err
			}
			if out := c.String("out"); out != "" {
				if err := savePlan(out, plan); err != nil {
					return err
				}
			}
			if err := renderPlan(e, plan, format); err != nil {
				return err
			}
			if out := c.String("out"); out != "" {
				// The hint goes with the plan on a terminal, to stderr
				// when stdout is a document.
				proj, _ := resolveProject(c, e, "text")
				hint, w := "\nSaved the plan to %s. Apply exactly it with: %s\n", e.out
				if format != "text" {
					hint, w = "Saved the plan to %s. Apply exactly it with: %s\n", e.err
				}
				fmt.Fprintf(w, hint, out, applyCommandLine(c, proj.sel, out))
			}
			if c.Bool("detailed-exitcode") && !plan.Empty() {
				return &exitErr{code: exitChanges}
			}
			return nil
		},
	}
}

// loadConfig loads and validates the YAML under the command's path
// arguments, printing every problem.
func loadConfig(c *cli.Context, e *env) (*schema.Config, error) {
	return loadConfigAs(c, e, "text")
}

// loadConfigAs is loadConfig printing problems in format.
func loadConfigAs(c *cli.Context, e *env, format string) (*schema.Config, error) {
	var id *schema.Identity
	if c.Command.Name == "validate" {
		id = validateIdentity(c)
	}
	return loadConfigOpts(c, e, format, id, "")
}

// loadConfigOpts is loadConfigAs with the current user and the workspace
// URL that a bundle's substitutions may use.
func loadConfigOpts(c *cli.Context, e *env, format string, id *schema.Identity, host string) (*schema.Config, error) {
	proj, err := resolveProject(c, e, format)
	if err != nil {
		return nil, err
	}
	o := schema.Options{Selection: proj.sel, Project: projectBase(c, e, proj.sel), Strict: c.Bool("strict"), Identity: id, Host: host}
	cfg, err := schema.LoadWith(c.Context, proj.paths, o)
	var diags schema.Diagnostics
	if errors.As(err, &diags) {
		printDiagnostics(e, format, diags)
		return nil, &exitErr{code: exitError}
	}
	if err != nil {
		return nil, err
	}
	printWarnings(e, format, cfg.Warnings)
	return cfg, nil
}

// planOptions are the plan-shaping flags, and a bundle's local files.
type planOptions struct {
	only     []string
	prune    bool
	destroy  bool
	strategy refresh.Strategy
	files    filesOf
}

func planOptionsFrom(c *cli.Context, lock *state.File, cfg *schema.Config) (planOptions, error) {
	o := planOptions{prune: c.Bool("prune"), strategy: refresh.Strategy(c.String("refresh")), files: uploadsOf(cfg)}
	if s := c.String("only"); s != "" {
		for _, k := range strings.Split(s, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			if cfg.Job(k) == nil && (lock == nil || lock.Jobs[k].JobID == 0) {
				return o, usageError(fmt.Sprintf("--only %s: no job with that key in the YAML or the lockfile", k))
			}
			o.only = append(o.only, k)
		}
	}
	return o, nil
}

// makePlan reads the workspace and builds the plan.
func makePlan(ctx context.Context, c *cli.Context, e *env, w *workspace, lock *state.File, cfg *schema.Config) (*planner.Plan, error) {
	o, err := planOptionsFrom(c, lock, cfg)
	if err != nil {
		return nil, err
	}
	return planWith(ctx, e, w, lock, cfg.Jobs, o, c.Int("parallelism"))
}

func planWith(ctx context.Context, e *env, w *workspace, lock *state.File, desired []*schema.Job, o planOptions, parallelism int) (*planner.Plan, error) {
	in := planner.Input{
		Desired:     desired,
		Lock:        lock,
		Project:     w.project,
		Workspace:   w.name,
		Prune:       o.prune,
		Destroy:     o.destroy,
		Only:        o.only,
		Now:         time.Now().UTC(),
		ToolVersion: version,
		Uploads:     o.files.uploads,
		FilesRoot:   o.files.root,
	}
	plan, _, err := refresh.Plan(ctx, w.client, in, refresh.Options{Strategy: o.strategy, Parallelism: parallelism})
	if err != nil {
		return nil, err
	}
	if r := plan.Refresh; r != nil {
		read := plural(r.JobsRead, "job", "jobs")
		if r.Folders > 0 {
			read += " and " + plural(r.Folders, "workspace folder", "workspace folders")
		}
		fmt.Fprintf(e.err, "Read %s from %s with %s in %s (%s).\n",
			read, w.name, plural(int(r.Requests), "API request", "API requests"),
			(time.Duration(r.DurationMS) * time.Millisecond).String(), r.Strategy)
	}
	return plan, nil
}

func renderPlan(e *env, plan *planner.Plan, format string) error {
	switch format {
	case "json":
		return render.JSON(e.out, plan)
	case "markdown":
		return render.Markdown(e.out, plan)
	}
	return render.Text(e.out, plan, render.Options{Color: useColor(e)})
}

// savePlan writes the plan file atomically and private to the user: it holds
// the exact request bodies that apply will send.
func savePlan(path string, plan *planner.Plan) error {
	var buf bytes.Buffer
	if err := planner.WritePlan(&buf, plan); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), 0o600)
}

func readPlanFile(path string) (*planner.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := planner.ReadPlan(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func showCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a saved plan exactly as plan printed it",
		ArgsUsage: "PLANFILE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, json or markdown"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("show takes exactly one plan file")
			}
			plan, err := readPlanFile(c.Args().First())
			if err != nil {
				return err
			}
			return renderPlan(e, plan, c.String("format"))
		},
	}
}
