package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/jobsync/jobsync/schema"
)

func validateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check job YAML against the schema and the Jobs API rules (no network)",
		ArgsUsage: "[PATH...]",
		Description: `Checks the jobs under PATH (default .) as resolved for the chosen target of
jobsync.yaml: variables substituted, project-wide permissions and the target's
overrides merged. --resolved prints the resolved jobs as YAML.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: text, github (Actions annotations) or json"},
			&cli.BoolFlag{Name: "resolved", Usage: "print the resolved jobs (YAML, or with --format json the same as JSON)"},
			&cli.StringFlag{Name: "project", Usage: "project name, as for plan (shown with the target)"},
		}, projectFlags()...),
		Action: func(c *cli.Context) error {
			format := c.String("format")
			switch format {
			case "text", "github", "json":
			default:
				return usageError(fmt.Sprintf("unknown --format %q: want text, github or json", format))
			}
			if c.Bool("resolved") && format == "github" {
				return usageError("--resolved prints YAML (or JSON with --format json), not annotations")
			}
			proj, err := resolveProject(c, e, format)
			if err != nil {
				return err
			}
			sel := proj.sel
			cfg, err := schema.LoadWith(c.Context, proj.paths, schema.Options{Selection: sel})
			var diags schema.Diagnostics
			if errors.As(err, &diags) {
				printDiagnostics(e, format, diags)
				return &exitErr{code: exitError}
			}
			if err != nil {
				return err
			}
			project := projectName(c, e, sel)
			switch {
			case format == "json":
				rep := validateReport{Valid: true, Files: len(cfg.Files), Jobs: len(cfg.Jobs), Problems: []schema.Diagnostic{}}
				if c.Bool("resolved") {
					rep.Project = project
					if sel != nil && sel.Target != nil {
						rep.Target = sel.Target.Name
					}
					rep.Resolved = map[string]any{}
					for _, j := range cfg.Jobs {
						rep.Resolved[j.Key] = resolvedJob(j)
					}
				}
				return writeJSON(e, rep)
			case c.Bool("resolved"):
				return writeResolved(e, cfg, sel, project)
			case format == "text":
				fmt.Fprintf(e.out, "%s valid (%s).\n", plural(len(cfg.Jobs), "job", "jobs"), plural(len(cfg.Files), "file", "files"))
				if line := describeSelection(sel, project); line != "" {
					fmt.Fprintln(e.out, line)
				}
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
	// With --resolved: the ownership scope, the target and the resolved jobs.
	Project  string         `json:"project,omitempty"`
	Target   string         `json:"target,omitempty"`
	Resolved map[string]any `json:"resolved,omitempty"`
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

// resolvedJob is a job as the configuration means it after resolution: its
// settings, and jobsync's permissions (with their mode) and lifecycle.
func resolvedJob(j *schema.Job) map[string]any {
	out := make(map[string]any, len(j.Settings)+2)
	for k, v := range j.Settings {
		out[k] = v
	}
	if j.Permissions != nil {
		grants := make([]any, len(j.Permissions))
		for i, p := range j.Permissions {
			g := map[string]any{"permission_level": p.PermissionLevel}
			for k, v := range map[string]string{"user_name": p.UserName, "group_name": p.GroupName, "service_principal_name": p.ServicePrincipalName} {
				if v != "" {
					g[k] = v
				}
			}
			grants[i] = g
		}
		mode := j.PermissionsMode
		if mode == "" {
			mode = schema.PermissionsAuthoritative
		}
		out["permissions"] = map[string]any{"mode": mode, "grants": grants}
	}
	lc := map[string]any{}
	if len(j.Lifecycle.IgnoreChanges) > 0 {
		ic := make([]any, len(j.Lifecycle.IgnoreChanges))
		for i, s := range j.Lifecycle.IgnoreChanges {
			ic[i] = s
		}
		lc["ignore_changes"] = ic
	}
	if j.Lifecycle.PreventDestroy {
		lc["prevent_destroy"] = true
	}
	if len(lc) > 0 {
		out["lifecycle"] = lc
	}
	return out
}

// writeResolved prints the resolved jobs as a job file: read back without
// a project file, it means the same jobs.
func writeResolved(e *env, cfg *schema.Config, sel *schema.Selection, project string) error {
	fmt.Fprintln(e.out, "# Resolved by jobsync validate --resolved.")
	if line := describeSelection(sel, project); line != "" {
		fmt.Fprintln(e.out, "# "+line)
	}
	for _, l := range variableLines(sel) {
		fmt.Fprintln(e.out, "#   "+l)
	}
	jobs := &yaml.Node{Kind: yaml.MappingNode}
	for _, j := range cfg.Jobs {
		jobs.Content = append(jobs.Content, yamlString(j.Key), resolvedNode(resolvedJob(j)))
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{yamlString("jobs"), jobs}}
	enc := yaml.NewEncoder(e.out)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// resolvedNode renders a JSON tree as YAML: mapping keys in export's order
// (name and keys first, tasks last), numbers as written, and text that
// would read as a variable escaped ($${var.).
func resolvedNode(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		rank := func(k string) int {
			if r, ok := resolvedRank[k]; ok {
				return r
			}
			return keyRank[k]
		}
		sort.Slice(keys, func(i, j int) bool {
			if rank(keys[i]) != rank(keys[j]) {
				return rank(keys[i]) < rank(keys[j])
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			n.Content = append(n.Content, yamlString(k), resolvedNode(x[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			n.Content = append(n.Content, resolvedNode(e))
		}
		return n
	case string:
		return yamlString(strings.ReplaceAll(x, "${var.", "$${var."))
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(x), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(x)}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(x)}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

// resolvedRank puts a grant's principal and a permissions mode first, as
// people write them.
var resolvedRank = map[string]int{"mode": -7, "user_name": -6, "group_name": -6, "service_principal_name": -6}

func yamlString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
