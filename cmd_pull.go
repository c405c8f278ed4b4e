package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/pull"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
)

func pullCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "write changes made in the workspace since the last apply back into the YAML",
		ArgsUsage: "[KEY...]",
		Description: `For every managed job (or the KEYs given) that changed in the workspace since the last
apply, edits the YAML file that defines each changed field, changing only those lines: comments,
key order, quoting, anchors and blank lines stay. Values that come from ${var.NAME}, from the
project file (target overrides) or from an anchor other places share are not overwritten: they are
listed as needing a decision, with file:line:col. The lockfile then records the pulled values, so
plan and drift are clean. --dry-run prints the unified diff and writes nothing; --format markdown
writes the report for a pull request's description.
Exit codes: 0 everything pulled (or nothing to pull), 3 changes left that need a decision, 1 error.`,
		Flags: append(workspaceFlags(),
			&cli.StringSliceFlag{Name: "path", Usage: "YAML files or directories (repeatable; default: the project directory)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the diff of the YAML files and write nothing"},
			&cli.StringFlag{Name: "refresh", Value: "auto", Usage: "how to read the workspace: auto, list or get"},
			&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "wait this long for another command's lock on the lockfile"},
			formatFlag("text, json or markdown (for a pull request's description)"),
		),
		Action: func(c *cli.Context) error {
			ctx := c.Context
			format, err := formatOf(c, "text", "json", "markdown")
			if err != nil {
				return err
			}
			cfg, w, st, err := loadLocked(c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			lock := st.File()
			if lock == nil || len(lock.Jobs) == 0 {
				return fmt.Errorf("no lockfile at %s (or it manages no jobs): pull takes what changed in the workspace since the last apply, so run jobsync apply first", w.lockPath)
			}
			for _, k := range c.Args().Slice() {
				if cfg.Job(k) == nil && lock.Jobs[k].JobID == 0 {
					return usageError(fmt.Sprintf("pull %s: no job with that key in the YAML or the lockfile", k))
				}
			}
			in := planner.Input{Desired: cfg.Jobs, Lock: lock, Project: w.project, Workspace: w.name,
				Only: c.Args().Slice(), Now: time.Now().UTC(), ToolVersion: version}
			o := pull.Options{Parallelism: c.Int("parallelism"), Strategy: refresh.Strategy(c.String("refresh"))}
			if sel := cfg.Selection; sel != nil && sel.Target != nil {
				o.NamePrefix = sel.Target.NamePrefix
			}
			rep, err := pull.Plan(ctx, w.client, in, o)
			if err != nil {
				return err
			}
			dry := c.Bool("dry-run")
			if format == "text" {
				rep.WriteText(e.out)
			}
			written := false
			if !dry && rep.Changed() {
				reload := func(ctx context.Context) ([]*schema.Job, error) {
					cfg, err := reloadConfig(c, e, w)
					if err != nil {
						return nil, err
					}
					return cfg.Jobs, nil
				}
				if err := rep.Write(ctx, reload, w.client, st); err != nil {
					return err
				}
				written = true
			}
			switch {
			case format == "json":
				if err := writeJSON(e, rep.Doc(dry, written)); err != nil {
					return err
				}
			case format == "markdown":
				rep.WriteMarkdown(e.out, dry)
			case dry:
				if d := rep.Diff(); d != "" {
					fmt.Fprintf(e.out, "\n%s", d)
				}
				fmt.Fprintln(e.out, "\nDry run: nothing was written.")
			case written:
				fmt.Fprintf(e.out, "\nWrote %s; the lockfile records the pulled values.\n", strings.Join(rep.ChangedFiles(), ", "))
			}
			if n := rep.Unresolved(); n > 0 {
				return &exitErr{code: exitDrift, msg: fmt.Sprintf("%s left in the workspace that pull did not write (see above)", render.Plural(n, "change", "changes"))}
			}
			return nil
		},
	}
}
