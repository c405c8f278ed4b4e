package main

import "github.com/urfave/cli/v2"

func emulatorCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "emulator",
		Usage: "serve the built-in Jobs API emulator",
		Action: func(c *cli.Context) error {
			return usageError("emulator: not implemented yet")
		},
	}
}
