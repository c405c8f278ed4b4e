package render

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/jobsync/jobsync/planner"
)

// heading names what a plan is for: the project, the target and the
// workspace, so that a log or a comment holding several plans (one per
// target, say) says which is which.
func heading(p *planner.Plan) string {
	s := "Project " + baseProject(p)
	if p.Target != "" {
		s += ", target " + p.Target
	}
	if p.Workspace != "" {
		s += ", workspace " + p.Workspace
	}
	return s + "."
}

// baseProject is the project name without its target.
func baseProject(p *planner.Plan) string {
	if p.Target != "" {
		return strings.TrimSuffix(p.Project, "/"+p.Target)
	}
	return p.Project
}

// Marker is the hidden first line of a markdown plan: an HTML comment
// that names the project and the target (percent-encoded), so that a CI
// step finds the pull-request comment it made for them and updates it
// instead of adding another, or overwriting another target's:
//
//	<!-- jobsync:plan project=analytics target=prod -->
//
// target= is left out for the base configuration. The workspace is not
// part of it: a target names its workspace.
func Marker(p *planner.Plan) string {
	s := "<!-- jobsync:plan project=" + markerValue(baseProject(p))
	if p.Target != "" {
		s += " target=" + markerValue(p.Target)
	}
	return s + " -->"
}

// markerValue keeps a marker one token that cannot end the comment.
func markerValue(s string) string {
	return strings.NewReplacer("+", "%20").Replace(url.QueryEscape(s))
}

// skippedSummary says what a plan leaves out without --prune.
func skippedSummary(p *planner.Plan) string {
	jobs, files := splitSkipped(p.Skipped)
	var parts []string
	if len(jobs) > 0 {
		parts = append(parts, Plural(len(jobs), "managed job is", "managed jobs are")+" no longer in the configuration")
	}
	if len(files) > 0 {
		parts = append(parts, Plural(len(files), "uploaded file is", "uploaded files are")+" no longer used")
	}
	if len(parts) == 0 {
		return ""
	}
	it := "them"
	if len(p.Skipped) == 1 {
		it = "it"
	}
	return fmt.Sprintf("%s and left in place (pass --prune to delete %s).", strings.Join(parts, "; "), it)
}
