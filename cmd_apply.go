package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
)

func applyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "make the workspace match the YAML (or apply a saved plan exactly)",
		ArgsUsage: "[PATH... | PLANFILE]",
		Description: `Without a plan file: plans, shows the plan and asks for "yes" (--auto-approve skips).
With a saved plan (what jobsync plan -out FILE wrote, whatever its name): applies exactly
that plan, refusing it when the lockfile changed since, or when a job it touches changed
in the workspace since. The lockfile is saved after every completed action; Ctrl-C stops
cleanly (exit 130).`,
		Flags: append(planFlags(), writeFlags("apply")...),
		Action: func(c *cli.Context) error {
			if _, err := progressOf(c, e); err != nil {
				return err
			}
			plan, err := savedPlanArg(c.Args().Slice())
			if err != nil {
				return err
			}
			if plan == nil {
				return applyConfig(c, e)
			}
			w, st, err := openLocked(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			if err := planner.CheckSaved(plan, w.name, w.project, st.File(), projectHint(c, plan.Project)); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "Applying the saved plan %s.\n", c.Args().First())
			if err := render.Summary(e.out, plan); err != nil {
				return err
			}
			return runApply(c.Context, c, e, w, st, plan, true)
		},
	}
}

// applyConfig plans the configuration, shows the plan, asks, and applies.
func applyConfig(c *cli.Context, e *env) error {
	cfg, w, st, err := loadLocked(c, e)
	if err != nil {
		return err
	}
	defer w.Close()
	plan, err := makePlan(c.Context, c, e, w, st.File(), cfg.Jobs, planFlagsOf(c, cfg))
	if err != nil {
		return err
	}
	if err := render.Text(e.out, plan, render.Options{Color: useColor(e)}); err != nil {
		return err
	}
	if plan.Empty() && len(plan.Records) == 0 {
		// A journal left by an apply that could not finish its lockfile
		// was replayed on open: fold it in, so the committed lockfile
		// catches up.
		return st.Commit(c.Context)
	}
	// Lockfile-only records (adopted jobs) change nothing in the
	// workspace, so they need no approval.
	if !plan.Empty() {
		if err := approved(c, e, "Do you want to apply these changes?"); err != nil {
			return err
		}
	}
	return runApply(c.Context, c, e, w, st, plan, false)
}
