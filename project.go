package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/schema"
)

// The project file (jobsync.yaml) gives a configuration a name, variables,
// project-wide permissions and targets. Every command that reads job YAML
// or talks to a workspace resolves it once, here: which file, which
// target, which variable values. Package schema does the reading and the
// merging; this file decides where the inputs come from.

// projectFlags choose the target and set variables.
func projectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "target of jobsync.yaml to use (default $JOBSYNC_TARGET, then the target marked default: true, else none: the base configuration)"},
		&cli.StringSliceFlag{Name: "var", Usage: "set a variable, `NAME=VALUE` (repeatable); wins over $JOBSYNC_VAR_NAME, the target's value and the default"},
	}
}

// selectionKey is where a command's resolved selection is kept (in the
// app's metadata, which lives as long as one run of the CLI), so that the
// project file is read once even when both the YAML loader and the
// workspace need it.
const selectionKey = "jobsync.selection"

// selectProject reads the project file for a command whose YAML is under
// paths (FindProject: the first path when it is a directory, else the
// current directory), and chooses its target and variable values from
// --target / JOBSYNC_TARGET and --var / JOBSYNC_VAR_<name>. It returns nil
// when there is no project file. Problems in the file are printed in
// format, like validation problems.
func selectProject(c *cli.Context, e *env, paths []string, format string) (*schema.Selection, error) {
	if s, ok := c.App.Metadata[selectionKey]; ok {
		sel, _ := s.(*schema.Selection)
		return sel, nil
	}
	target, targetFrom := c.String("target"), "--target"
	if target == "" {
		target, targetFrom = e.getenv("JOBSYNC_TARGET"), "JOBSYNC_TARGET"
	}
	vars, err := parseVars(c.StringSlice("var"))
	if err != nil {
		return nil, err
	}
	file, err := schema.FindProject(paths)
	if err != nil {
		return nil, err
	}
	var p *schema.Project
	if file != "" {
		p, err = schema.LoadProject(c.Context, file)
		var diags schema.Diagnostics
		if errors.As(err, &diags) {
			printDiagnostics(e, format, diags)
			return nil, &exitErr{code: exitError}
		}
		if err != nil {
			return nil, err
		}
	}
	sel, err := schema.Select(p, target, vars, e.getenv)
	var diags schema.Diagnostics
	switch {
	case errors.As(err, &diags):
		printDiagnostics(e, format, diags)
		return nil, &exitErr{code: exitError}
	case err != nil && p == nil && target != "":
		return nil, usageError(fmt.Sprintf("%s %s: no project file (jobsync.yaml) in %s to define targets in", targetFrom, target, strings.Join(searched(paths), " or ")))
	case err != nil && p == nil:
		return nil, usageError(fmt.Sprintf("--var: no project file (jobsync.yaml) in %s declares variables", strings.Join(searched(paths), " or ")))
	case err != nil && target != "" && p.Target(target) == nil:
		return nil, usageError(fmt.Sprintf("%s %s: %v", targetFrom, target, err))
	case err != nil:
		return nil, usageError(err.Error())
	}
	if c.App.Metadata == nil {
		c.App.Metadata = map[string]any{}
	}
	c.App.Metadata[selectionKey] = sel
	return sel, nil
}

// searched names the directories FindProject looks in, for messages.
func searched(paths []string) []string {
	out := []string{"the current directory"}
	if len(paths) > 0 && paths[0] != "." && isDir(paths[0]) {
		out = append([]string{paths[0]}, out...)
	}
	return out
}

// parseVars reads --var NAME=VALUE flags; the last value of a name wins.
func parseVars(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, usageError(fmt.Sprintf("--var %q: write --var NAME=VALUE", f))
		}
		out[name] = value
	}
	return out, nil
}

// configPaths are the arguments of a command that name YAML paths, where
// the project file is looked for; nil for commands without them (the
// current directory is then searched).
func configPaths(c *cli.Context) []string {
	switch c.Command.Name {
	case "plan", "apply", "destroy", "validate":
		return pathArgs(c)
	case "import":
		if c.NArg() > 2 {
			return c.Args().Slice()[2:]
		}
	}
	return nil
}

// projectName is the ownership scope of the command: the project name
// (--project, then JOBSYNC_PROJECT, then the project file's project:, then
// "default"), followed by "/<target>" when a target is selected, so that
// the jobs of two targets in one workspace never mix.
func projectName(c *cli.Context, e *env, sel *schema.Selection) string {
	name := c.String("project")
	if name == "" {
		name = e.getenv("JOBSYNC_PROJECT")
	}
	if name == "" && sel != nil {
		name = sel.Project.Name
	}
	if name == "" {
		name = "default"
	}
	if sel != nil && sel.Target != nil {
		name += "/" + sel.Target.Name
	}
	return name
}

// targetLockfile is the lockfile of the selected target: the --lockfile
// flag wins; with --emulator it is .jobsync/jobsync.<target>.lock.json (a
// real workspace's lockfile is never used with the emulator); else the
// target's lockfile. "" when no target is selected.
func targetLockfile(c *cli.Context, sel *schema.Selection) string {
	if c.String("lockfile") != "" || sel == nil || sel.Target == nil {
		return c.String("lockfile")
	}
	if c.Bool("emulator") {
		return filepath.Join(emulatorDir, "jobsync."+sel.Target.Name+".lock.json")
	}
	return sel.Target.LockfilePath(sel.Project)
}

// describeSelection is one line saying what the configuration was resolved
// with, for validate and --resolved.
func describeSelection(sel *schema.Selection, project string) string {
	if sel == nil {
		return ""
	}
	if sel.Target == nil {
		names := sel.Project.TargetNames()
		if len(names) == 0 {
			return fmt.Sprintf("Project file %s: no targets (project %s).", sel.Project.File, project)
		}
		return fmt.Sprintf("Project file %s: no target selected, so the base configuration (project %s); its targets are %s (--target NAME).",
			sel.Project.File, project, strings.Join(names, ", "))
	}
	return fmt.Sprintf("Target %s of %s (project %s).", sel.Target.Name, sel.Project.File, project)
}

// variableLines describe every variable's value and where it came from.
func variableLines(sel *schema.Selection) []string {
	if sel == nil {
		return nil
	}
	var out []string
	for _, v := range sel.Project.Variables {
		val, ok := sel.Values[v.Name]
		if !ok {
			out = append(out, fmt.Sprintf("%s: (no value)", v.Name))
			continue
		}
		out = append(out, fmt.Sprintf("%s = %s (%s)", v.Name, compactJSON(val.Value), val.From))
	}
	sort.Strings(out)
	return out
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// projectHint says how to make a command use the ownership scope a saved
// plan was made for: the plan's target when the project file has it, else
// --project.
func projectHint(c *cli.Context, planProject string) string {
	sel, _ := c.App.Metadata[selectionKey].(*schema.Selection)
	if i := strings.LastIndexByte(planProject, '/'); i >= 0 && sel != nil {
		if t := sel.Project.Target(planProject[i+1:]); t != nil {
			return "pass --target " + t.Name
		}
	}
	return "pass --project " + planProject
}
