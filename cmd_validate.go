package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/schema"
)

func validateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check job YAML against the schema and the Jobs API rules (no network)",
		ArgsUsage: "[PATH...]",
		Description: `Checks the jobs under PATH (default: the project directory) as resolved for the
chosen target of jobsync.yaml: variables substituted, project-wide permissions and
the target's overrides merged. --resolved prints the resolved jobs as YAML.`,
		Flags: append([]cli.Flag{
			formatFlag("text, github (Actions annotations) or json"),
			&cli.BoolFlag{Name: "resolved", Usage: "print the resolved jobs (YAML, or with --format json the same as JSON)"},
			&cli.StringFlag{Name: "project", Usage: "project `NAME`, as for plan (shown with the target)"},
			userFlag(),
			noRedactFlag(),
		}, projectFlags()...),
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, schema.ProblemFormats...)
			if err != nil {
				return err
			}
			if c.Bool("resolved") && format == "github" {
				return usageError("--resolved prints YAML (or JSON with --format json), not annotations")
			}
			cfg, err := loadConfigAs(c, e, format)
			if err != nil {
				return err
			}
			proj, _ := resolveProject(c, e, format)
			name := projectName(c, e, proj.sel)
			switch {
			case format == "json":
				rep := schema.Report{Valid: true, Files: len(cfg.Files), Jobs: len(cfg.Jobs), Warnings: cfg.Warnings, Skipped: cfg.Skipped}
				if c.Bool("resolved") {
					rep.Project, rep.Resolved = name, map[string]any{}
					if proj.sel != nil && proj.sel.Target != nil {
						rep.Target = proj.sel.Target.Name
					}
					for _, j := range cfg.Jobs {
						rep.Resolved[j.Key] = resolved(c, j)
					}
				}
				return schema.WriteReport(e.out, rep)
			case c.Bool("resolved"):
				keys, jobs := make([]string, len(cfg.Jobs)), map[string]any{}
				for i, j := range cfg.Jobs {
					keys[i], jobs[j.Key] = j.Key, resolved(c, j)
				}
				return schema.WriteJobsYAML(e.out, resolvedHeader(proj.sel, name), keys, jobs)
			case format == "text":
				fmt.Fprintf(e.out, "%s valid (%s).\n", render.Plural(len(cfg.Jobs), "job", "jobs"), render.Plural(len(cfg.Files), "file", "files"))
				for _, line := range []string{proj.sel.Describe(name), uploadsLine(cfg), userLine(c, cfg)} {
					if line != "" {
						fmt.Fprintln(e.out, line)
					}
				}
			}
			return nil
		},
	}
}
