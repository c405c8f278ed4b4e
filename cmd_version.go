package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func versionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print jobsync's version (the same as jobsync --version)",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("version takes no arguments")
			}
			_, err := fmt.Fprintf(e.out, "%s version %s\n", c.App.Name, c.App.Version)
			return err
		},
	}
}
