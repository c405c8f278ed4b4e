package main

import (
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
The YAML under PATH (default .), when there is any, is read only for lifecycle.prevent_destroy.`,
		Flags: append(workspaceFlags(),
			&cli.BoolFlag{Name: "auto-approve", Usage: "delete without asking for confirmation"},
			&cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for another apply's lock"},
			&cli.BoolFlag{Name: "progress", Usage: "print progress on stderr even when it is not a terminal"},
		),
		Action: func(c *cli.Context) error {
			// The YAML, when there is any, is read for prevent_destroy.
			var desired []*schema.Job
			proj, err := resolveProject(c, e, "text")
			if err != nil {
				return err
			}
			var st *state.Store
			openIt := func() (*workspace, error) {
				w, s, err := openLocked(c.Context, c, e)
				st = s
				return w, err
			}
			var w *workspace
			var cfg *schema.Config
			if hasYAML(proj.paths) {
				cfg, w, err = loadAndOpen(c, e, openIt)
				if cfg != nil {
					desired = cfg.Jobs
				}
			} else {
				w, err = openIt()
			}
			if err != nil {
				return err
			}
			defer w.Close()
			plan, err := planWith(c.Context, e, w, st.File(), desired, planOptions{destroy: true, files: uploadsOf(cfg)}, c.Int("parallelism"))
			if err != nil {
				return err
			}
			if err := render.Text(e.out, plan, render.Options{Color: useColor(e)}); err != nil {
				return err
			}
			if plan.Empty() {
				return nil
			}
			if !c.Bool("auto-approve") {
				ok, err := confirm(c.Context, e, "\nDelete these jobs? There is no undo. Only 'yes' will be accepted: ")
				if err != nil {
					return err
				}
				if !ok {
					return errAborted
				}
			}
			if st.File() == nil {
				st.Init(w.name, w.project)
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
