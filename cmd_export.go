package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/internal/atomicfile"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
)

func exportCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write YAML for live jobs (server defaults left out)",
		ArgsUsage: "[JOB_ID...]",
		Description: `Prints a jobs: file for the given job ids, or with --all for every job of the workspace.
Jobs jobsync already manages keep their keys, so a plan after export shows no changes;
for other jobs, adopt them with the jobsync import commands that export prints on stderr.`,
		Flags: append(workspaceFlags(),
			&cli.BoolFlag{Name: "all", Usage: "export every job of the workspace"},
			&cli.StringFlag{Name: "out", Usage: "write to `FILE` instead of stdout"},
			noRedactFlag(),
		),
		Action: func(c *cli.Context) error {
			if c.Bool("all") == (c.NArg() > 0) {
				return usageError("export takes job ids, or --all (not both)")
			}
			var ids []int64
			for _, a := range c.Args().Slice() {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil || id <= 0 {
					return usageError(fmt.Sprintf("job id %q is not a positive integer", a))
				}
				ids = append(ids, id)
			}
			w, err := openWorkspace(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			ex, err := refresh.Export(c.Context, w.client, w.project, w.name, ids, c.Bool("all"), refresh.Options{Parallelism: c.Int("parallelism")})
			if err != nil {
				return err
			}
			redacted := 0
			if !c.Bool("no-redact") {
				redacted = ex.Redact()
			}
			var buf bytes.Buffer
			if err := schema.WriteJobsYAML(&buf, nil, ex.Keys, ex.Jobs); err != nil {
				return err
			}
			if path := c.String("out"); path != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := atomicfile.Write(path, buf.Bytes(), 0o644); err != nil {
					return err
				}
				fmt.Fprintf(e.err, "Wrote %s to %s.\n", render.Plural(len(ex.Keys), "job", "jobs"), path)
			} else if _, err := e.out.Write(buf.Bytes()); err != nil {
				return err
			}
			if redacted > 0 {
				fmt.Fprintf(e.err, "Secret-looking values of %s are written as %q: put them in a secret scope, or a variable, before applying this YAML (or export with --no-redact).\n", render.Plural(redacted, "job", "jobs"), planner.Sensitive)
			}
			if len(ex.Adopt) > 0 {
				fmt.Fprintln(e.err, "To let jobsync manage the exported jobs it does not manage yet, save the YAML and run:")
				for _, a := range ex.Adopt {
					fmt.Fprintf(e.err, "  jobsync import %s %d\n", a.Key, a.JobID)
				}
			}
			for _, a := range ex.Foreign {
				fmt.Fprintf(e.err, "Job %d (exported as %s) is managed by another jobsync project or target (tag %s): import refuses it.\n", a.JobID, a.Key, a.Owner)
			}
			return nil
		},
	}
}
