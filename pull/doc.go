package pull

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
)

// Doc is the report as a JSON document (pull --format json): what went, or
// would go, into the YAML, what was left and why, and each file's diff.
type Doc struct {
	Workspace string    `json:"workspace"`
	Project   string    `json:"project"`
	DryRun    bool      `json:"dry_run"`
	Written   bool      `json:"written"`
	Jobs      []DocJob  `json:"jobs"`
	Deleted   []DocJob  `json:"deleted_outside"`
	Files     []DocFile `json:"files"`
	// Unresolved counts what is still drift afterwards (decisions,
	// conflicts, deleted jobs).
	Unresolved int `json:"unresolved"`
}

// DocJob is one job of a Doc.
type DocJob struct {
	Key    string             `json:"key"`
	JobID  int64              `json:"job_id"`
	File   string             `json:"file,omitempty"`
	Pulled []planner.PullEdit `json:"pulled,omitempty"`
	Left   []planner.PullLeft `json:"left,omitempty"`
}

// DocFile is one edited file.
type DocFile struct {
	File string `json:"file"`
	Diff string `json:"diff"`
}

// Doc returns the report as a document; written says the files were
// written, dryRun that they were not meant to be.
func (r *Report) Doc(dryRun, written bool) Doc {
	d := Doc{Workspace: r.Workspace, Project: r.Project, DryRun: dryRun, Written: written,
		Jobs: []DocJob{}, Deleted: []DocJob{}, Files: []DocFile{}, Unresolved: r.Unresolved()}
	for _, j := range r.Jobs {
		d.Jobs = append(d.Jobs, DocJob{Key: j.Key, JobID: j.JobID, File: j.File, Pulled: j.Written, Left: j.Left})
	}
	for _, j := range r.Deleted {
		d.Deleted = append(d.Deleted, DocJob{Key: j.Key, JobID: j.JobID, File: j.File})
	}
	for _, f := range r.Files {
		if f.Changed() {
			d.Files = append(d.Files, DocFile{File: f.File, Diff: f.Diff()})
		}
	}
	return d
}

// WriteMarkdown writes the report for a pull-request description: the
// summary, a table per job, what needs a decision, and the diff.
func (r *Report) WriteMarkdown(w io.Writer, dryRun bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "### jobsync pull from `%s`\n\n", r.Workspace)
	files := r.ChangedFiles()
	for i, f := range files {
		files[i] = "`" + f + "`"
	}
	jobs := 0
	for _, j := range r.Jobs {
		if len(j.Written) > 0 {
			jobs++
		}
	}
	switch n := r.Written(); {
	case n == 0 && r.Unresolved() == 0:
		b.WriteString("Nothing to pull: no managed job changed in the workspace since the last apply.\n")
	case n == 0:
		b.WriteString("Nothing could be pulled automatically.\n")
	default:
		verb := "pulled into"
		if dryRun {
			verb = "to pull into"
		}
		fmt.Fprintf(&b, "**%s of %s %s %s.**\n", render.Plural(n, "change", "changes"), render.Plural(jobs, "job", "jobs"), verb, strings.Join(files, ", "))
	}
	if n := r.Unresolved(); n > 0 {
		fmt.Fprintf(&b, "\n> [!WARNING]\n> %s in the workspace %s a decision: see below.\n", render.Plural(n, "change", "changes"), map[bool]string{true: "needs", false: "need"}[n == 1])
	}
	for _, j := range r.Jobs {
		if len(j.Written) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary><code>%s</code> (job %d): %s</summary>\n\n| path | YAML | workspace |\n|---|---|---|\n",
			html.EscapeString(j.Key), j.JobID, render.Plural(len(j.Written), "change", "changes"))
		for _, e := range j.Written {
			from, to := cell(e.From), cell(e.To)
			switch e.Kind {
			case planner.KindAdd:
				from = "(none)"
			case planner.KindRemove:
				to = "(removed)"
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | `%s` |\n", mdCell(e.Path), mdCell(from), mdCell(to))
		}
		b.WriteString("\n</details>\n")
	}
	left := func(title string, kind string) {
		first := true
		for _, j := range r.Jobs {
			for _, l := range j.Left {
				if l.Kind != kind {
					continue
				}
				if first {
					fmt.Fprintf(&b, "\n#### %s\n\n", title)
					first = false
				}
				at := ""
				if l.Source != "" {
					at = " (`" + l.Source + "`)"
				}
				path := l.Path
				if path == "" {
					path = "(the whole job)"
				}
				fmt.Fprintf(&b, "- `%s` `%s`%s: %s\n", j.Key, mdCell(path), at, mdCell(l.Reason))
			}
		}
	}
	left("Needs a decision (not pulled)", planner.LeftDecision)
	left("Changed in both the YAML and the workspace (the YAML is kept)", planner.LeftConflict)
	left("Changed in the YAML since the last apply (apply sends these)", planner.LeftPending)
	for i, d := range r.Deleted {
		if i == 0 {
			b.WriteString("\n#### Deleted outside jobsync (the YAML stays; the next apply creates them again)\n\n")
		}
		fmt.Fprintf(&b, "- `%s` (job %d)\n", d.Key, d.JobID)
	}
	if diff := r.Diff(); diff != "" {
		fence := "```"
		for strings.Contains(diff, fence) {
			fence += "`"
		}
		fmt.Fprintf(&b, "\n<details><summary>Diff</summary>\n\n%sdiff\n%s%s\n\n</details>\n", fence, diff, fence)
	}
	io.WriteString(w, b.String())
}

// cell is a value for a table cell: scalars as JSON, anything bigger
// pointed at (the diff shows it).
func cell(v any) string {
	if !isScalar(v) {
		return "(see the diff)"
	}
	return render.OneLine(v)
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
