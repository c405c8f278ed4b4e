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
		Description: `Changes the lockfile only. Like apply, it holds the lockfile's lock and the
workspace lease while it does (so it connects to the lockfile's workspace);
--lock=false skips the lease and needs no connection.`,
		Flags: append(workspaceFlags(), lockFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("state rm takes one or more job keys")
			}
			var st *state.Store
			if c.Bool("lock") {
				w, s, err := openLocked(c.Context, c, e)
				if err != nil {
					return err
				}
				defer w.Close()
				st = s
			} else {
				path, err := lockfilePath(c, e)
				if err != nil {
					return err
				}
				unlock, err := state.Lock(c.Context, path, c.Duration("lock-timeout"))
				if err != nil {
					return err
				}
				defer unlock()
				if st, err = state.Open(c.Context, path); err != nil {
					return err
				}
			}
			if st.File() == nil {
				return fmt.Errorf("no lockfile at %s", st.Path())
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
