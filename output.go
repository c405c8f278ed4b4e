package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
)

// What every command shares in printing: the --format and --no-redact
// flags, JSON on stdout, colour, counted nouns and the yes/no question.

func formatFlag(choices string) cli.Flag {
	return &cli.StringFlag{Name: "format", Value: "text", Usage: "output: " + choices}
}

// formatOf is --format, refused unless it is one of choices.
func formatOf(c *cli.Context, choices ...string) (string, error) {
	f := c.String("format")
	for _, ch := range choices {
		if f == ch {
			return f, nil
		}
	}
	want := strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
	return "", usageError(fmt.Sprintf("unknown --format %q: want %s", f, want))
}

func noRedactFlag() cli.Flag {
	return &cli.BoolFlag{Name: "no-redact", Usage: "show secret-looking values as they are (for a trusted terminal; never in a CI log)"}
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// useColor: colour only on a terminal, and never when NO_COLOR is set
// (https://no-color.org).
func useColor(e *env) bool {
	if e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(e.out)
}

// confirm asks on stdout and reads one line; only "yes" approves.
func confirm(ctx context.Context, e *env, question string) (bool, error) {
	fmt.Fprint(e.out, question)
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(e.in).ReadString('\n')
		line <- s
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case s := <-line:
		fmt.Fprintln(e.out)
		return strings.TrimSpace(s) == "yes", nil
	}
}

// printDiagnostics prints every problem: as text on stderr, as GitHub
// Actions annotations on stdout (with the count on stderr, for the log), or
// as a JSON document on stdout.
func printDiagnostics(e *env, format string, diags schema.Diagnostics) {
	w := e.err
	if format != "text" {
		w = e.out
	}
	_ = schema.WriteProblems(w, format, diags)
	if format != "json" {
		fmt.Fprintln(e.err, diags.Summary())
	}
}

// resolved is the job as resolved, redacted unless --no-redact.
func resolved(c *cli.Context, j *schema.Job) map[string]any {
	if c.Bool("no-redact") {
		return j.Resolved()
	}
	return planner.RedactJob(j.Resolved(), j.Secrets)
}

// resolvedHeader is what --resolved says above the jobs: the selection and
// where each variable's value came from.
func resolvedHeader(sel *schema.Selection, project string) []string {
	header := []string{"Resolved by jobsync validate --resolved."}
	if line := sel.Describe(project); line != "" {
		header = append(header, line)
	}
	for _, l := range sel.VariableLines() {
		header = append(header, "  "+l)
	}
	return header
}
