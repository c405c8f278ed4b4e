package main

import (
	"fmt"
	"sort"

	"github.com/urfave/cli/v2"
)

func stateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "state",
		Usage: "inspect or edit the lockfile",
		Subcommands: []*cli.Command{
			stateListCommand(e),
			stateShowCommand(e),
			stateRmCommand(e),
			stateUnlockCommand(e),
		},
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func stateListCommand(e *env) *cli.Command {
	return &cli.Command{
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
	}
}
