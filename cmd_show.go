package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
)

func showCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a saved plan exactly as plan printed it",
		ArgsUsage: "PLANFILE",
		Flags:     []cli.Flag{formatFlag("text, json or markdown"), noRedactFlag()},
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, "text", "json", "markdown")
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usageError("show takes exactly one plan file")
			}
			f, err := os.Open(c.Args().First())
			if err != nil {
				return err
			}
			defer f.Close()
			plan, err := planner.ReadPlan(f)
			if err != nil {
				return &exitErr{code: exitError, msg: c.Args().First() + ": " + err.Error()}
			}
			return renderPlan(c, e, plan, format)
		},
	}
}
