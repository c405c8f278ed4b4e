package main

import (
	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/schema"
)

func schemaCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON schema of jobsync YAML (for editors: # yaml-language-server: $schema=FILE)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "project", Usage: "print the schema of the project file (jobsync.yaml) instead"},
		},
		Action: func(c *cli.Context) error {
			doc := schema.JSONSchema()
			if c.Bool("project") {
				doc = schema.ProjectJSONSchema()
			}
			_, err := e.out.Write(doc)
			return err
		},
	}
}
