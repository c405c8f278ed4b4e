package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/lease"
	"github.com/jobsync/jobsync/state"
)

func stateUnlockCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "unlock",
		Usage: "break the workspace lease of a run that crashed (the local lock needs no unlocking)",
		Description: `Removes the workspace lease (<root_path>/state/jobsync.lock) whoever holds it, and
says whose it was. A crashed run's lease expires by itself within two minutes, and one
left by a run of this machine is taken over at once; unlock is for not waiting. If the
holder is still running, it notices at its next renewal (within 30 s) and stops.

The lockfile's own lock needs no unlocking: it is a kernel lock on <lockfile>.lock,
released when its process ends, however it ends (even kill -9). unlock says who holds
it, if anyone.`,
		Flags: workspaceFlags(),
		Action: func(c *cli.Context) error {
			w, err := openWorkspace(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			if owner, held, err := state.LockHolder(w.lockPath); err == nil && held {
				fmt.Fprintf(e.err, "Note: %v\n", &state.LockedError{Path: state.LockPath(w.lockPath), Owner: owner})
			}
			root, _, err := leaseRoot(c.Context, w)
			if err != nil {
				return err
			}
			p := lease.Path(root)
			h, err := lease.Break(c.Context, w.client, p)
			switch {
			case jobsapi.IsNotFound(err):
				fmt.Fprintf(e.out, "Nothing to unlock: there is no workspace lease at %s.\n", p)
				return nil
			case err != nil:
				return fmt.Errorf("breaking the workspace lease %s: %w", p, err)
			case h == nil:
				fmt.Fprintf(e.out, "Removed %s (it was not a lease jobsync could read).\n", p)
			default:
				fmt.Fprintf(e.out, "Broke the workspace lease %s of %s, acquired %s, expiring %s.\n", p, h,
					h.Acquired.UTC().Format(time.RFC3339), h.Expires.UTC().Format(time.RFC3339))
				if time.Now().Before(h.Expires) {
					fmt.Fprintln(e.out, "It had not expired: if that run is still going, it stops at its next renewal.")
				}
			}
			return nil
		},
	}
}
