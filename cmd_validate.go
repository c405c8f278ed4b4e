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
				return writeJSON(e, validateReport{Valid: true, Files: len(cfg.Files), Jobs: len(cfg.Jobs), Problems: []schema.Diagnostic{}})
			case "text":
				fmt.Fprintf(e.out, "%s valid (%s).\n", plural(len(cfg.Jobs), "job", "jobs"), plural(len(cfg.Files), "file", "files"))
			}
			return nil
		},
	}
}

// validateReport is the document of validate --format json. Files and
// Jobs are counted only for a valid configuration.
type validateReport struct {
	Valid    bool                `json:"valid"`
	Files    int                 `json:"files,omitempty"`
	Jobs     int                 `json:"jobs,omitempty"`
	Problems []schema.Diagnostic `json:"problems"`
}

// printDiagnostics prints every problem, sorted: as text on stderr, as
// GitHub Actions annotations on stdout (with a count on stderr, for the
// log), or as a JSON document on stdout.
func printDiagnostics(e *env, format string, diags schema.Diagnostics) {
	diags.Sort()
	summary := plural(len(diags), "problem", "problems") + " found; fix them and run jobsync validate again."
	switch format {
	case "json":
		_ = writeJSON(e, validateReport{Valid: false, Problems: diags})
	case "github":
		for _, d := range diags {
			fmt.Fprintln(e.out, githubAnnotation(d))
		}
		fmt.Fprintln(e.err, summary)
	default:
		for _, d := range diags {
			fmt.Fprintln(e.err, d.Error())
		}
		fmt.Fprintln(e.err, summary)
	}
}

// githubAnnotation renders one problem as a GitHub Actions workflow command,
// which the runner shows on the file's line in the pull request.
func githubAnnotation(d schema.Diagnostic) string {
	var b strings.Builder
	b.WriteString("::error file=" + githubEscapeProperty(d.Pos.File))
	if d.Pos.Line > 0 {
		fmt.Fprintf(&b, ",line=%d", d.Pos.Line)
		if d.Pos.Col > 0 {
			fmt.Fprintf(&b, ",col=%d", d.Pos.Col)
		}
	}
	msg := d.Msg
	if d.Path != "" {
		msg = d.Path + ": " + msg
	}
	b.WriteString("::" + githubEscape(msg))
	return b.String()
}

// githubEscape escapes a workflow-command message as the Actions runner
// expects (%, CR and LF).
func githubEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// githubEscapeProperty escapes a workflow-command property value: as a
// message, plus the ":" and "," that would end it.
func githubEscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
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
