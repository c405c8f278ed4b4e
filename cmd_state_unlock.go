package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/state"
)

func stateUnlockCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "unlock",
		Usage: "say who holds the lock of the lockfile; nothing to break: the kernel releases it when its process ends",
		Description: `The lock that keeps two applies of one lockfile apart is a kernel file lock on
<lockfile>.lock: it is released when its process ends, however it ends (even kill -9),
so it never needs breaking. A <lockfile>.lock file left behind blocks nobody; unlock
removes it. When a live process holds the lock, unlock names it and fails.`,
		Flags: lockfileFlags(),
		Action: func(c *cli.Context) error {
			path, err := lockfilePath(c, e)
			if err != nil {
				return err
			}
			owner, held, err := state.LockHolder(path)
			if err != nil {
				return err
			}
			if held {
				return fmt.Errorf("%w; a kernel lock cannot be broken, and needs not be: stop that process (kill it if it is hung) and the lock is gone",
					&state.LockedError{Path: state.LockPath(path), Owner: owner})
			}
			fmt.Fprintf(e.out, "Nothing to unlock: no process holds the lock of %s.\n", path)
			return nil
		},
	}
}
