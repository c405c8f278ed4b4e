package main

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

func destroyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "destroy",
		Usage:     "delete every job this project manages (never any other job)",
		ArgsUsage: "[PATH...]",
		Description: `Plans the deletion of every managed job, shows it, and asks for "yes".
The YAML under PATH (default: the project directory), when there is any, is read only
for lifecycle.prevent_destroy.`,
		Flags: append(workspaceFlags(), writeFlags("delete")...),
		Action: func(c *cli.Context) error {
			if _, err := progressOf(c, e); err != nil {
				return err
			}
			// The YAML, when there is any, is read for prevent_destroy.
			var desired []*schema.Job
			proj, err := resolveProject(c, e, "text")
			if err != nil {
				return err
			}
			var (
				cfg *schema.Config
				w   *workspace
				st  *state.Store
			)
			var none *schema.NoJobFilesError
			if hasYAML(proj.paths) {
				cfg, w, st, err = loadLocked(c, e)
				if cfg != nil {
					desired = cfg.Jobs
				}
			}
			if !hasYAML(proj.paths) || errors.As(err, &none) {
				w, st, err = openLocked(c.Context, c, e)
			}
			if err != nil {
				return err
			}
			defer w.Close()
			plan, err := makePlan(c.Context, c, e, w, st.File(), desired, planOptions{destroy: true, files: uploadsOf(cfg)})
			if err != nil {
				return err
			}
			if err := render.Text(e.out, plan, render.Options{Color: useColor(e)}); err != nil || plan.Empty() {
				return err
			}
			if err := approved(c, e, "Delete these jobs? There is no undo."); err != nil {
				return err
			}
			return runApply(c.Context, c, e, w, st, plan, false)
		},
	}
}

// hasYAML tells whether any of the paths exists, so that destroy works in a
// directory that no longer holds the YAML.
func hasYAML(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
