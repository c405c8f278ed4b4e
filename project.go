package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// The project file (jobsync.yaml) gives a configuration a name, variables,
// project-wide permissions and targets. Every command that reads job YAML
// or talks to a workspace resolves it once, here: which file, which
// target, which variable values. Package schema finds, reads and merges;
// this file takes the inputs from flags and environment.

// projectFlags find the project, choose the target and set variables.
func projectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "project-dir", Aliases: []string{"C"}, Usage: "`DIR`: the project's directory, when no path argument is given: its jobsync.yaml, its job files, its lockfiles (default $JOBSYNC_PROJECT_DIR, then the current directory or its nearest parent, up to the repository root, that holds jobsync.yaml)"},
		&cli.StringFlag{Name: "target", Aliases: []string{"t"}, Usage: "`NAME` of the target of jobsync.yaml to use (default $JOBSYNC_TARGET, then the target marked default: true, else none: the base configuration)"},
		&cli.StringSliceFlag{Name: "var", Usage: "set a variable, `NAME=VALUE` (repeatable); wins over $JOBSYNC_VAR_NAME, the target's value and the default"},
		&cli.BoolFlag{Name: "strict", Usage: "make a YAML file found in a directory that is not a job file an error, not a notice; for a bundle, also warn about every value converted to the type the API wants (a number where it wants text, ...)"},
	}
}

// projectKey is where a command's resolved project is kept (in the app's
// metadata, which lives as long as one run of the CLI), so that the
// project file is read once even when both the YAML loader and the
// workspace need it.
const projectKey = "jobsync.project"

// project is what a command works on: the project file with its target and
// variable values (sel, nil without a project file), the project
// directory, and the job paths.
type project struct {
	sel *schema.Selection
	// dir is the project directory (schema.Discovery.Dir): the default
	// lockfile and the emulator's state are kept there.
	dir string
	// paths are the job paths: the command's path arguments, else dir.
	paths []string
}

// emulatorDir is where the in-process emulator keeps its state and
// lockfiles for this project.
func (p *project) emulatorDir() string { return filepath.Join(p.dir, emulatorDir) }

// resolveProject finds the project of the command (schema.Discover: its
// path arguments, -C / JOBSYNC_PROJECT_DIR, the current directory and its
// parents), reads the project file, and chooses its target and variable
// values from --target / JOBSYNC_TARGET and --var / JOBSYNC_VAR_<name>.
// Problems in the file are printed in format, like validation problems.
func resolveProject(c *cli.Context, e *env, format string) (*project, error) {
	if p, ok := c.App.Metadata[projectKey].(*project); ok {
		return p, nil
	}
	target, targetFrom := c.String("target"), "--target"
	if target == "" {
		target, targetFrom = e.getenv("JOBSYNC_TARGET"), "JOBSYNC_TARGET"
	}
	vars, err := parseVars(c.StringSlice("var"))
	if err != nil {
		return nil, err
	}
	where := schema.Where{Paths: configPaths(c), Dir: c.String("project-dir"), DirFrom: "--project-dir"}
	if where.Dir == "" {
		where.Dir, where.DirFrom = e.getenv("JOBSYNC_PROJECT_DIR"), "JOBSYNC_PROJECT_DIR"
	}
	found, err := schema.Discover(where)
	if err != nil {
		return nil, err
	}
	var p *schema.Project
	if found.File != "" {
		p, err = schema.LoadProject(c.Context, found.File)
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
		return nil, usageError(fmt.Sprintf("%s %s: there is no project file (jobsync.yaml) to define targets in: looked in %s; name the project directory with -C DIR", targetFrom, target, strings.Join(found.Searched, ", then ")))
	case err != nil && p == nil:
		return nil, usageError(fmt.Sprintf("--var: there is no project file (jobsync.yaml) to declare variables in: looked in %s; name the project directory with -C DIR", strings.Join(found.Searched, ", then ")))
	case err != nil && target != "" && p.Target(target) == nil:
		return nil, usageError(fmt.Sprintf("%s %s: %v", targetFrom, target, err))
	case err != nil:
		return nil, usageError(err.Error())
	}
	proj := &project{sel: sel, dir: found.Dir, paths: where.Paths}
	if len(proj.paths) == 0 {
		proj.paths = []string{found.Dir}
	}
	if c.App.Metadata == nil {
		c.App.Metadata = map[string]any{}
	}
	c.App.Metadata[projectKey] = proj
	return proj, nil
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

// configPaths are the arguments of a command that name YAML paths, nil
// when it was given none (or takes none).
func configPaths(c *cli.Context) []string {
	switch c.Command.Name {
	case "plan", "apply", "destroy", "validate":
		return c.Args().Slice()
	case "pull":
		return c.StringSlice("path")
	case "import", "explain":
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

// projectBase is the project name without the target.
func projectBase(c *cli.Context, e *env, sel *schema.Selection) string {
	name := projectName(c, e, sel)
	if sel != nil && sel.Target != nil {
		name = strings.TrimSuffix(name, "/"+sel.Target.Name)
	}
	return name
}

// lockfileOf is the command's lockfile: --lockfile; else the selected
// target's (with --emulator .jobsync/jobsync.<target>.lock.json in the
// project directory: a real workspace's lockfile is never used with the
// emulator); else jobsync.lock.json in the project directory (in .jobsync/
// with --emulator).
func lockfileOf(c *cli.Context, p *project) string {
	switch {
	case c.String("lockfile") != "":
		return c.String("lockfile")
	case p.sel != nil && p.sel.Target != nil && c.Bool("emulator"):
		return filepath.Join(p.emulatorDir(), "jobsync."+p.sel.Target.Name+".lock.json")
	case p.sel != nil && p.sel.Target != nil:
		return p.sel.Target.LockfilePath(p.sel.Project)
	case c.Bool("emulator"):
		return filepath.Join(p.emulatorDir(), "jobsync.lock.json")
	}
	return filepath.Join(p.dir, "jobsync.lock.json")
}

// projectHint says how to make a command use the ownership scope a saved
// plan was made for: the plan's target when the project file has it, else
// --project.
func projectHint(c *cli.Context, planProject string) string {
	var sel *schema.Selection
	if p, ok := c.App.Metadata[projectKey].(*project); ok {
		sel = p.sel
	}
	if i := strings.LastIndexByte(planProject, '/'); i >= 0 && sel != nil {
		if t := sel.Project.Target(planProject[i+1:]); t != nil {
			return "pass --target " + t.Name
		}
	}
	return "pass --project " + planProject
}

// loadConfig loads and validates the YAML under the command's path
// arguments, printing every problem.
func loadConfig(c *cli.Context, e *env) (*schema.Config, error) {
	return loadConfigAs(c, e, "text")
}

// loadConfigAs is loadConfig printing problems in format.
func loadConfigAs(c *cli.Context, e *env, format string) (*schema.Config, error) {
	var id *schema.Identity
	if c.Command.Name == "validate" || c.Command.Name == "explain" {
		id = validateIdentity(c) // these read no workspace (--user)
	}
	return loadConfigOpts(c, e, format, id, "")
}

// loadConfigOpts is loadConfigAs with the current user and the workspace
// URL that a bundle's substitutions may use.
func loadConfigOpts(c *cli.Context, e *env, format string, id *schema.Identity, host string) (*schema.Config, error) {
	proj, err := resolveProject(c, e, format)
	if err != nil {
		return nil, err
	}
	o := schema.Options{Selection: proj.sel, Project: projectBase(c, e, proj.sel), Strict: c.Bool("strict"), Identity: id, Host: host,
		DefaultPaths: len(configPaths(c)) == 0, Workers: e.cpus,
		// plan reads the jobs' settings only through the planner, one job
		// at a time: kept as JSON, not trees, until then (BENCHMARKS.md).
		Compact: c.Command.Name == "plan"}
	cfg, err := schema.LoadWith(c.Context, proj.paths, o)
	var diags schema.Diagnostics
	if errors.As(err, &diags) {
		printDiagnostics(e, format, diags)
		return nil, &exitErr{code: exitError}
	}
	if err != nil {
		return nil, err
	}
	printWarnings(e, format, cfg.Warnings)
	if n := len(cfg.Skipped); n > 0 {
		what, it := "YAML files that are not job files", "them"
		if n == 1 {
			what, it = "YAML file that is not a job file", "it"
		}
		fmt.Fprintf(e.err, "Skipped %d %s (no top-level jobs: or resources:): %s. Leave %s out with exclude: under paths: in jobsync.yaml, or make this an error with --strict.\n",
			n, what, schema.ShortList(cfg.Skipped, 5), it)
	}
	return cfg, nil
}

// loadLocked loads the configuration and opens the workspace under the
// lockfile's lock (loadAndOpen: a bundle's user-dependent values need the
// workspace first).
func loadLocked(c *cli.Context, e *env) (*schema.Config, *workspace, *state.Store, error) {
	var st *state.Store
	cfg, w, err := loadAndOpen(c, e, func() (*workspace, error) {
		w, s, err := openLocked(c.Context, c, e)
		st = s
		return w, err
	})
	return cfg, w, st, err
}
