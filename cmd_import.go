package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
)

func importCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "adopt an existing job under a key of the YAML (tagging it as this project's), and show what the next apply would change",
		ArgsUsage: "KEY JOB_ID [PATH...]",
		Flags:     append(workspaceFlags(), lockFlags()...),
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) < 2 {
				return usageError("import takes a job key and a job id: jobsync import KEY JOB_ID [PATH...]")
			}
			key := args[0]
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id <= 0 {
				return usageError(fmt.Sprintf("job id %q is not a positive integer", args[1]))
			}
			cfg, w, st, err := loadLocked(c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			if cfg.Job(key) == nil {
				proj, _ := resolveProject(c, e, "text")
				return fmt.Errorf("no job %q in the YAML under %s: write its YAML first (jobsync export %d prints a starting point)", key, strings.Join(proj.paths, ", "), id)
			}
			imp, err := applier.Import(c.Context, w.client, st, applier.ImportInput{
				Workspace: w.name, Project: w.project, Key: key, JobID: id, Configured: true,
			})
			if err != nil {
				return err
			}
			if imp.Tagged {
				fmt.Fprintf(e.out, "Tagged job %d with %s=%s and imported it as %s.\n\n", id, planner.OwnerTagKey, imp.Tag, key)
			} else {
				fmt.Fprintf(e.out, "Imported job %d as %s (it already carried the tag %s=%s).\n\n", id, key, planner.OwnerTagKey, imp.Tag)
			}
			plan, err := makePlan(c.Context, c, e, w, st.File(), cfg.Jobs, planOptions{only: []string{key}, files: uploadsOf(cfg)})
			if err != nil {
				return err
			}
			if plan.Empty() {
				fmt.Fprintln(e.out, "The job already matches its YAML: the next apply changes nothing.")
				return nil
			}
			fmt.Fprintln(e.out, "The next apply will make these changes:")
			return render.Text(e.out, plan, render.Options{Color: useColor(e)})
		},
	}
}
