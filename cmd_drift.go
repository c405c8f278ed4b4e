package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/refresh"
)

func driftCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "drift",
		Usage: "report what changed in the workspace outside jobsync since the last apply",
		Description: `Compares every managed job with what the lockfile says jobsync last applied, lists
managed jobs deleted outside jobsync, and inventories the workspace's unmanaged jobs
(jobs of other jobsync projects and targets are counted apart).
Exit codes: 0 no drift, 3 drift found, 1 error.`,
		Flags: append(workspaceFlags(), formatFlag("text, json or markdown"), noRedactFlag()),
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, "text", "json", "markdown")
			if err != nil {
				return err
			}
			w, err := openWorkspace(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			st, err := openState(c.Context, w)
			if err != nil {
				return err
			}
			rep, err := refresh.Drift(c.Context, w.client, planner.Input{
				Lock: st.File(), Project: w.project, Workspace: w.name, Now: time.Now().UTC(), ToolVersion: version,
			}, w.lockPath, refresh.Options{Parallelism: c.Int("parallelism")})
			if err != nil {
				return err
			}
			if !c.Bool("no-redact") {
				rep = rep.Redacted()
			}
			switch format {
			case "json":
				err = writeJSON(e, rep)
			case "markdown":
				err = render.DriftMarkdown(e.out, rep)
			default:
				err = render.DriftText(e.out, rep)
			}
			if err == nil && rep.Found() {
				return &exitErr{code: exitDrift}
			}
			return err
		},
	}
}
