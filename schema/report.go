package schema

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is the document of `jobsync validate --format json`. Files and
// Jobs are counted only for a valid configuration.
type Report struct {
	Valid    bool        `json:"valid"`
	Files    int         `json:"files,omitempty"`
	Jobs     int         `json:"jobs,omitempty"`
	Problems Diagnostics `json:"problems"`
	// Skipped are YAML files found that are not job files.
	Skipped []string `json:"skipped,omitempty"`
	// Warnings: what a bundle has that jobsync skips or converts.
	Warnings Diagnostics `json:"warnings,omitempty"`
	// With --resolved: the ownership scope, the target and the resolved jobs.
	Project  string         `json:"project,omitempty"`
	Target   string         `json:"target,omitempty"`
	Resolved map[string]any `json:"resolved,omitempty"`
}

// ProblemFormats are the formats WriteProblems writes.
var ProblemFormats = []string{"text", "github", "json"}

// WriteProblems writes every problem of ds, sorted, in format: "text" (one
// file:line:col line each), "github" (GitHub Actions workflow commands,
// which the runner shows on the file's line in the pull request) or
// "json" (a Report). Summary is the line that goes with text and
// annotations, for the log.
func WriteProblems(w io.Writer, format string, ds Diagnostics) error {
	ds.Sort()
	var b strings.Builder
	switch format {
	case "json":
		if ds == nil {
			ds = Diagnostics{}
		}
		return WriteReport(w, Report{Valid: false, Problems: ds})
	case "github":
		for _, d := range ds {
			b.WriteString(d.GitHubAnnotation() + "\n")
		}
	default:
		for _, d := range ds {
			b.WriteString(d.Error() + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the last line under a list of problems.
func (ds Diagnostics) Summary() string {
	n := fmt.Sprintf("%d problems", len(ds))
	if len(ds) == 1 {
		n = "1 problem"
	}
	return n + " found; fix them and run jobsync validate again."
}

// WriteReport writes r as indented JSON.
func WriteReport(w io.Writer, r Report) error {
	if r.Problems == nil {
		r.Problems = Diagnostics{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// GitHubAnnotation is the problem as a GitHub Actions ::error workflow
// command.
func (d Diagnostic) GitHubAnnotation() string {
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

// Resolved is the job as the configuration means it after resolution: its
// settings, and jobsync's permissions (with their mode) and lifecycle, in
// the shape a job file writes them.
func (j *Job) Resolved() map[string]any {
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
			mode = PermissionsAuthoritative
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
	if j.Lifecycle.MovedFrom != "" {
		lc["moved_from"] = j.Lifecycle.MovedFrom
	}
	if len(j.Lifecycle.MovedTasks) > 0 {
		mt := make(map[string]any, len(j.Lifecycle.MovedTasks))
		for k, v := range j.Lifecycle.MovedTasks {
			mt[k] = v
		}
		lc["moved_tasks"] = mt
	}
	if len(lc) > 0 {
		out["lifecycle"] = lc
	}
	return out
}

// Describe is one line saying what the configuration was resolved with,
// for validate and --resolved; project is the ownership scope in use.
func (s *Selection) Describe(project string) string {
	if s == nil {
		return ""
	}
	if s.Target == nil {
		names := s.Project.TargetNames()
		if len(names) == 0 {
			return fmt.Sprintf("Project file %s: no targets (project %s).", s.Project.File, project)
		}
		return fmt.Sprintf("Project file %s: no target selected, so the base configuration (project %s); its targets are %s (--target NAME).",
			s.Project.File, project, strings.Join(names, ", "))
	}
	return fmt.Sprintf("Target %s of %s (project %s).", s.Target.Name, s.Project.File, project)
}

// VariableLines describe every variable's value and where it came from,
// sorted.
func (s *Selection) VariableLines() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, v := range s.Project.Variables {
		val, ok := s.Values[v.Name]
		if !ok {
			out = append(out, fmt.Sprintf("%s: (no value)", v.Name))
			continue
		}
		if v.Sensitive {
			out = append(out, fmt.Sprintf("%s = %s (%s)", v.Name, SensitiveText, val.From))
			continue
		}
		b, err := json.Marshal(val.Value)
		if err != nil {
			b = []byte(fmt.Sprint(val.Value))
		}
		out = append(out, fmt.Sprintf("%s = %s (%s)", v.Name, b, val.From))
	}
	sort.Strings(out)
	return out
}
