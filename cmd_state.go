package main

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

// lockfileFlags locate a lockfile without connecting to a workspace.
func lockfileFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "lockfile", Usage: "path of the lockfile (default: the target's; else jobsync.lock.json in the project directory, in " + emulatorDir + "/ with --emulator)"},
		&cli.BoolFlag{Name: "emulator", Usage: "use the built-in emulator's lockfile"},
	}, projectFlags()...)
}

// lockfilePath is the lockfile the other commands would use (lockfileOf).
func lockfilePath(c *cli.Context, e *env) (string, error) {
	if p := c.String("lockfile"); p != "" {
		return p, nil
	}
	proj, err := resolveProject(c, e, "text")
	if err != nil {
		return "", err
	}
	return lockfileOf(c, proj), nil
}

func stateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "state",
		Usage: "inspect or edit the lockfile",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the managed job keys and their job ids",
				Flags: lockfileFlags(),
				Action: func(c *cli.Context) error {
					f, err := readLockfile(c, e)
					if err != nil {
						return err
					}
					keys := sortedKeys(f.Jobs)
					for _, k := range keys {
						fmt.Fprintf(e.out, "%s\t%d\n", k, f.Jobs[k].JobID)
					}
					if len(keys) == 0 {
						fmt.Fprintln(e.err, "The lockfile manages no jobs.")
					}
					return nil
				},
			},
			{
				Name:      "show",
				Usage:     "print what the lockfile records for one key",
				ArgsUsage: "KEY",
				Flags:     lockfileFlags(),
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
					enc := json.NewEncoder(e.out)
					enc.SetIndent("", "  ")
					return enc.Encode(map[string]any{"key": key, "job_id": j.JobID, "applied": j.Applied, "permissions": j.Permissions})
				},
			},
			{
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
						j, ok := st.File().Jobs[key]
						if !ok {
							return fmt.Errorf("the lockfile has no job %q: nothing was changed", key)
						}
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
			},
			{
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
			},
		},
	}
}

func readLockfile(c *cli.Context, e *env) (*state.File, error) {
	path, err := lockfilePath(c, e)
	if err != nil {
		return nil, err
	}
	st, err := state.Open(c.Context, path)
	if err != nil {
		return nil, err
	}
	if st.File() == nil {
		return nil, fmt.Errorf("no lockfile at %s: run jobsync apply first, or pass --lockfile", path)
	}
	return st.File(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
