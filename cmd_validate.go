package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jobsync/jobsync/schema"
	"github.com/urfave/cli/v2"
)

func validateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check job YAML against the schema and the Jobs API rules (no network)",
		ArgsUsage: "[PATH...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: text, github (Actions annotations) or json"},
		},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c); err != nil {
				return err
			}
			format := c.String("format")
			switch format {
			case "text", "github", "json":
			default:
				return usageError(fmt.Sprintf("unknown --format %q: want text, github or json", format))
			}
			cfg, err := schema.Load(c.Context, pathArgs(c))
			var diags schema.Diagnostics
			if errors.As(err, &diags) {
				printDiagnostics(e, format, diags)
				return &exitErr{code: exitError}
			}
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeJSON(e, map[string]any{"valid": true, "jobs": len(cfg.Jobs), "problems": []schema.Diagnostic{}})
			case "text":
				fmt.Fprintf(e.out, "%s valid (%s).\n", plural(len(cfg.Jobs), "job", "jobs"), plural(len(cfg.Files), "file", "files"))
			}
			return nil
		},
	}
}

func printDiagnostics(e *env, format string, diags schema.Diagnostics) {
	diags.Sort()
	switch format {
	case "json":
		_ = writeJSON(e, map[string]any{"valid": false, "problems": diags})
	case "github":
		for _, d := range diags {
			msg := d.Msg
			if d.Path != "" {
				msg = d.Path + ": " + msg
			}
			fmt.Fprintf(e.out, "::error file=%s,line=%d,col=%d::%s\n", d.Pos.File, d.Pos.Line, d.Pos.Col, githubEscape(msg))
		}
	default:
		for _, d := range diags {
			fmt.Fprintln(e.err, d.Error())
		}
		fmt.Fprintf(e.err, "%s found; fix them and run jobsync validate again.\n", plural(len(diags), "problem", "problems"))
	}
}

// githubEscape escapes a workflow-command message as the Actions runner
// expects (%, CR and LF).
func githubEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func schemaCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON schema of jobsync YAML (for editors: # yaml-language-server: $schema=FILE)",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c); err != nil {
				return err
			}
			_, err := e.out.Write(schema.JSONSchema())
			return err
		},
	}
}

func pathArgs(c *cli.Context) []string {
	if c.NArg() == 0 {
		return []string{"."}
	}
	return c.Args().Slice()
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
