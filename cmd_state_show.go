package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
)

func stateShowCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print what the lockfile records for one key",
		ArgsUsage: "KEY",
		Flags:     append(lockfileFlags(), noRedactFlag()),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("state show takes one job key")
			}
			f, err := readLockfile(c, e)
			if err != nil {
				return err
			}
			key := c.Args().First()
			j, ok := f.Jobs[key]
			if !ok {
				return fmt.Errorf("the lockfile has no job %q (jobsync state list shows the keys)", key)
			}
			applied, err := j.AppliedSettings()
			if err != nil {
				return fmt.Errorf("the lockfile's entry for %q: %v", key, err)
			}
			if !c.Bool("no-redact") {
				applied, _ = planner.RedactSettings(applied)
			}
			return writeJSON(e, map[string]any{"key": key, "job_id": j.JobID, "applied": applied, "permissions": j.Permissions})
		},
	}
}
