package pull

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
)

// WriteText writes the report for people: per job, each change going into
// the YAML; then what needs a decision (with its file:line:col), what is
// kept in the YAML, and the jobs deleted outside jobsync.
func (r *Report) WriteText(w io.Writer) {
	files := r.ChangedFiles()
	jobs := 0
	for _, j := range r.Jobs {
		if len(j.Written) > 0 {
			jobs++
		}
	}
	switch n := r.Written(); {
	case n == 0 && r.Unresolved() == 0:
		fmt.Fprintln(w, "Nothing to pull: no managed job changed in the workspace since the last apply.")
	case n == 0:
		fmt.Fprintln(w, "Nothing could be pulled automatically.")
	default:
		fmt.Fprintf(w, "Pull: %s of %s into %s.\n", render.Plural(n, "change", "changes"), render.Plural(jobs, "job", "jobs"), strings.Join(files, ", "))
	}
	for _, j := range r.Jobs {
		if len(j.Written) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n~ %s [job %d]  %s\n", j.Key, j.JobID, j.File)
		for _, e := range j.Written {
			switch e.Kind {
			case planner.KindAdd:
				if isScalar(e.To) {
					fmt.Fprintf(w, "    + %s: %s\n", e.Path, render.OneLine(e.To))
				} else {
					fmt.Fprintf(w, "    + %s\n", e.Path)
				}
			case planner.KindRemove:
				fmt.Fprintf(w, "    - %s\n", e.Path)
			default:
				fmt.Fprintf(w, "    ~ %s: %s → %s\n", e.Path, render.OneLine(e.From), render.OneLine(e.To))
			}
		}
	}
	r.writeLeft(w, "Needs a decision (not pulled):", func(l planner.PullLeft) bool { return l.Kind == planner.LeftDecision })
	r.writeLeft(w, "Changed in both the YAML and the workspace (the YAML is kept):", func(l planner.PullLeft) bool { return l.Kind == planner.LeftConflict })
	r.writeLeft(w, "Changed in the YAML since the last apply (apply sends these):", func(l planner.PullLeft) bool { return l.Kind == planner.LeftPending })
	for _, d := range r.Deleted {
		fmt.Fprintf(w, "\n- %s [job %d] was deleted outside jobsync: its YAML (%s) stays, and the next apply creates it again; remove the YAML to let it go.\n", d.Key, d.JobID, d.Source)
	}
}

func (r *Report) writeLeft(w io.Writer, title string, keep func(planner.PullLeft) bool) {
	type line struct{ key, path, src, reason string }
	var lines []line
	for _, j := range r.Jobs {
		for _, l := range j.Left {
			if keep(l) {
				lines = append(lines, line{j.Key, l.Path, l.Source, l.Reason})
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	sort.SliceStable(lines, func(a, b int) bool { return lines[a].key < lines[b].key })
	fmt.Fprintf(w, "\n%s\n", title)
	for _, l := range lines {
		at := ""
		if l.src != "" {
			at = "  (" + l.src + ")"
		}
		path := l.path
		if path == "" {
			path = "(the whole job)"
		}
		fmt.Fprintf(w, "  %s %s%s\n      %s\n", l.key, path, at, l.reason)
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}
