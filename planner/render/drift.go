package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/planner"
)

// DriftText writes a drift report for a terminal or a CI log. The report
// is shown as given: the caller redacts it (planner.DriftReport.Redacted)
// unless told not to.
func DriftText(w io.Writer, r *planner.DriftReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Drift report for project %s on %s.\n", r.Project, r.Workspace)
	if !r.Found() {
		b.WriteString("No drift: every managed job matches the last apply.\n")
	} else {
		fmt.Fprintf(&b, "Drift: %s changed outside jobsync, %s deleted outside jobsync.\n",
			Plural(len(r.Changed), "job", "jobs"), Plural(len(r.Deleted), "job", "jobs"))
	}
	for _, j := range r.Changed {
		fmt.Fprintf(&b, "\n~ %s [job %d] changed outside jobsync\n", j.Key, j.JobID)
		for _, ch := range j.Changes {
			fmt.Fprintf(&b, "    %s: %s → %s\n", ch.Path, OneLine(ch.Applied), OneLine(ch.Live))
		}
	}
	for _, j := range r.Deleted {
		fmt.Fprintf(&b, "\n- %s [job %d] deleted outside jobsync (the next apply creates it again)\n", j.Key, j.JobID)
	}
	if len(r.Unmanaged) > 0 {
		fmt.Fprintf(&b, "\nUnmanaged jobs in the workspace (%d): jobsync never changes these.\n", len(r.Unmanaged))
		for _, u := range r.Unmanaged {
			fmt.Fprintf(&b, "    %d  %s\n", u.JobID, u.Name)
		}
	}
	if len(r.OtherProjects) > 0 {
		fmt.Fprintf(&b, "\n%s of other jobsync projects or targets (%s), left to them.\n",
			Plural(len(r.OtherProjects), "job", "jobs"), strings.Join(owners(r.OtherProjects), ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DriftMarkdown writes a drift report for an issue or a chat message.
func DriftMarkdown(w io.Writer, r *planner.DriftReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### jobsync drift report: project `%s` on `%s`\n\n", r.Project, r.Workspace)
	if !r.Found() {
		b.WriteString("No drift: every managed job matches the last apply.\n")
	} else {
		fmt.Fprintf(&b, "**%s changed, %s deleted outside jobsync.**\n",
			Plural(len(r.Changed), "job", "jobs"), Plural(len(r.Deleted), "job", "jobs"))
	}
	for _, j := range r.Changed {
		fmt.Fprintf(&b, "\n<details><summary><code>%s</code> (job %d): %s</summary>\n\n| path | last applied | live |\n|---|---|---|\n",
			j.Key, j.JobID, Plural(len(j.Changes), "change", "changes"))
		for _, ch := range j.Changes {
			fmt.Fprintf(&b, "| `%s` | `%s` | `%s` |\n", ch.Path, mdCell(OneLine(ch.Applied)), mdCell(OneLine(ch.Live)))
		}
		b.WriteString("\n</details>\n")
	}
	for _, j := range r.Deleted {
		fmt.Fprintf(&b, "\n- `%s` (job %d) was deleted outside jobsync\n", j.Key, j.JobID)
	}
	if len(r.Unmanaged) > 0 {
		fmt.Fprintf(&b, "\n%s in the workspace.\n", Plural(len(r.Unmanaged), "unmanaged job", "unmanaged jobs"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// owners counts the jobs of each other project: "analytics/prod: 3".
func owners(us []planner.Unmanaged) []string {
	n := map[string]int{}
	var order []string
	for _, u := range us {
		p := u.Owner
		if i := strings.LastIndexByte(p, '/'); i > 0 {
			p = p[:i]
		}
		if n[p] == 0 {
			order = append(order, p)
		}
		n[p]++
	}
	sort.Strings(order)
	out := make([]string, len(order))
	for i, p := range order {
		out[i] = fmt.Sprintf("%s: %d", p, n[p])
	}
	return out
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// OneLine renders a value on one line, as JSON cut at 120 bytes: what every
// report shows of a value in a list of changes.
func OneLine(v any) string {
	if v == nil {
		return "(none)"
	}
	s := compactJSON(v)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
