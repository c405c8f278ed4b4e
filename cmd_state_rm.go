package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

func stateRmCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "forget keys: jobsync stops managing those jobs but leaves them in the workspace",
		ArgsUsage: "KEY...",
		Flags: append(lockfileFlags(),
			&cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for another apply's lock"}),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("state rm takes one or more job keys")
			}
			path, err := lockfilePath(c, e)
			if err != nil {
				return err
			}
			unlock, err := state.Lock(c.Context, path, c.Duration("lock-timeout"))
			if err != nil {
				return err
			}
			defer unlock()
			st, err := state.Open(c.Context, path)
			if err != nil {
				return err
			}
			if st.File() == nil {
				return fmt.Errorf("no lockfile at %s", path)
			}
			for _, key := range c.Args().Slice() {
				if _, ok := st.File().Jobs[key]; !ok {
					return fmt.Errorf("the lockfile has no job %q: nothing was changed", key)
				}
			}
			for _, key := range c.Args().Slice() {
				j := st.File().Jobs[key]
				if err := st.Forget(c.Context, key); err != nil {
					return err
				}
				// state rm reads no workspace: it cannot tell whether the
				// job carries our tag (an entry that named someone else's
				// job is the usual reason to forget one).
				fmt.Fprintf(e.out, "Forgot %s (job %d). The job is left in the workspace as it is; if it carries the tag %s=%s, the next apply of that key adopts it again (remove the tag to prevent that).\n",
					key, j.JobID, planner.OwnerTagKey, planner.OwnerTagValue(st.File().Project, key))
			}
			return st.Commit(c.Context)
		},
	}
}
