package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func planCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what apply would change in the workspace",
		ArgsUsage: "[PATH...]",
		Description: `Reads the YAML under PATH (default: the project directory), reads the workspace, and prints the plan.
Exit codes: 0 success (with --detailed-exitcode: apply would change nothing), 1 error,
2 apply would change the workspace (--detailed-exitcode). Deletes left out without --prune
are listed but do not count: apply without --prune makes none.`,
		Flags: append(planFlags(),
			formatFlag("text, json or markdown"),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "also save the plan to `FILE` (exact request bodies, mode 0600) for jobsync apply FILE"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 2 when apply would change the workspace, 0 when it would not"},
			noRedactFlag(),
		),
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, "text", "json", "markdown")
			if err != nil {
				return err
			}
			w, plan, err := loadAndPlan(c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			out := c.String("out")
			if out != "" {
				if err := savePlan(out, plan); err != nil {
					return err
				}
			}
			if err := renderPlan(c, e, plan, format); err != nil {
				return err
			}
			if out != "" {
				// With the plan on a terminal; on stderr when stdout is a document.
				hint, w := "\nSaved the plan to %s. Apply exactly it with: %s\n", e.out
				if format != "text" {
					hint, w = "Saved the plan to %s. Apply exactly it with: %s\n", e.err
				}
				proj, _ := resolveProject(c, e, "text")
				fmt.Fprintf(w, hint, out, applyCommandLine(c, proj.sel, out))
			}
			if c.Bool("detailed-exitcode") && !plan.Empty() {
				return &exitErr{code: exitChanges}
			}
			return nil
		},
	}
}
