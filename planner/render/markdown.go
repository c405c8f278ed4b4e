package render

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/jobsync/jobsync/planner"
)

// commentLimit is GitHub's limit on a comment's length. Past
// commentBudget, jobs are listed without their diffs, and the list itself
// stops short of the limit.
const (
	commentLimit  = 65536
	commentBudget = 50000
)

// Markdown writes the plan for a pull-request comment: the summary, a
// warning banner when jobs are deleted or reset, the changes made outside
// jobsync, then one collapsible <details> block per job holding a ```diff
// of its changes.
func Markdown(w io.Writer, p *planner.Plan) error {
	p, err := decoded(p)
	if err != nil {
		return err
	}
	var out strings.Builder
	out.WriteString(Marker(p) + "\n")
	fmt.Fprintf(&out, "### jobsync plan: `%s`", baseProject(p))
	if p.Target != "" {
		fmt.Fprintf(&out, " (target `%s`)", p.Target)
	}
	if p.Workspace != "" {
		fmt.Fprintf(&out, " on `%s`", p.Workspace)
	}
	out.WriteString("\n\n")
	fmt.Fprintf(&out, "**%s**\n", summary(p))

	var deletes, resets []string
	var driftN int
	for _, a := range p.Actions {
		switch a.Op {
		case planner.OpDelete:
			deletes = append(deletes, "`"+actionLabel(a)+"`")
		case planner.OpReset:
			resets = append(resets, "`"+actionLabel(a)+"`")
		}
		_, d := split(a)
		driftN += len(d)
	}
	if len(deletes)+len(resets) > 0 {
		out.WriteString("\n> [!WARNING]\n")
		if len(deletes) > 0 {
			fmt.Fprintf(&out, "> This plan **deletes** %s: %s. Their run history goes with them.\n", Plural(len(deletes), "job", "jobs"), strings.Join(deletes, ", "))
		}
		if len(deletes) > 0 && len(resets) > 0 {
			out.WriteString(">\n")
		}
		if len(resets) > 0 {
			fmt.Fprintf(&out, "> This plan **resets** %s (every setting is rewritten): %s.\n", Plural(len(resets), "job", "jobs"), strings.Join(resets, ", "))
		}
	}
	if driftN > 0 {
		fmt.Fprintf(&out, "\n> [!NOTE]\n> %s made in the workspace outside jobsync; applying this plan reverts %s.\n",
			Plural(driftN, "change was", "changes were"), map[bool]string{true: "it", false: "them"}[driftN == 1])
	}

	var rest []string
	section := func(title string) { fmt.Fprintf(&out, "\n#### %s\n", title) }
	details := func(summaryHTML string, cs []planner.Change, note string) {
		if out.Len() > commentBudget {
			rest = append(rest, summaryHTML)
			return
		}
		fmt.Fprintf(&out, "\n<details><summary>%s</summary>\n\n", summaryHTML)
		if len(cs) > 0 {
			out.WriteString(diffBlock(cs))
		}
		if note != "" {
			fmt.Fprintf(&out, "%s\n\n", note)
		}
		out.WriteString("</details>\n")
	}

	first := true
	for _, a := range p.Actions {
		_, d := split(a)
		if len(d) == 0 {
			continue
		}
		if first {
			section("Changed outside jobsync")
			first = false
		}
		details("<code>"+html.EscapeString(actionLabel(a))+"</code>", d, "")
	}
	if len(p.Actions) > 0 {
		section("Actions")
	}
	for _, a := range p.Actions {
		if isFileOp(a.Op) {
			line := fmt.Sprintf("<code>%s %s</code>", glyphs[a.Op], html.EscapeString(fileLine(a)))
			if out.Len() > commentBudget {
				rest = append(rest, line)
				continue
			}
			fmt.Fprintf(&out, "\n%s\n", line)
			continue
		}
		c, d := split(a)
		s := fmt.Sprintf("<code>%s %s</code> %s", glyphs[a.Op], html.EscapeString(actionLabel(a)), html.EscapeString(string(a.Op)))
		if a.Reason != "" {
			s += ": " + html.EscapeString(a.Reason)
		}
		note := ""
		if len(d) > 0 {
			note = fmt.Sprintf("_Also reverts %s made outside jobsync (above)._", Plural(len(d), "change", "changes"))
		}
		if len(c) == 0 && note == "" {
			// Nothing to expand (a delete): a plain line reads better.
			if out.Len() > commentBudget {
				rest = append(rest, s)
				continue
			}
			fmt.Fprintf(&out, "\n%s\n", s)
			continue
		}
		details(s, c, note)
	}
	if len(rest) > 0 {
		fmt.Fprintf(&out, "\n_The plan is too long for a comment; %s shown without diffs (run `jobsync show` on the saved plan for everything):_\n\n", Plural(len(rest), "job is", "jobs are"))
		for i, s := range rest {
			if out.Len() > commentLimit-2000 {
				fmt.Fprintf(&out, "- … and %d more\n", len(rest)-i)
				break
			}
			fmt.Fprintf(&out, "- %s\n", s)
		}
	}
	if len(p.Skipped) > 0 {
		var names []string
		for _, a := range p.Skipped {
			if isFileOp(a.Op) {
				names = append(names, "`"+fileLabel(a)+"`")
			} else {
				names = append(names, "`"+actionLabel(a)+"`")
			}
		}
		fmt.Fprintf(&out, "\nLeft in place, because `--prune` was not given: %s.\n", strings.Join(names, ", "))
	}
	if len(p.Records) > 0 {
		fmt.Fprintf(&out, "\nThe lockfile will also record %s (no API call).\n", Plural(len(p.Records), "entry", "entries"))
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(out.String())
	return bw.Flush()
}

// diffBlock renders changes as a fenced ```diff block: added and removed
// lines get + and -, a modification is its old and new line.
func diffBlock(cs []planner.Change) string {
	var lines []string
	for _, c := range cs {
		src := ""
		if c.Source != "" {
			src = "  # " + c.Source
		}
		head, body := changeLines(c)
		switch {
		case body == nil && c.Kind == planner.KindModify && !strings.HasSuffix(head, " value changed"):
			b, _ := inline(c.Before)
			a, _ := inline(c.After)
			lines = append(lines, "- "+c.Path+": "+b, "+ "+c.Path+": "+a+src)
		case body == nil:
			lines = append(lines, signs[c.Kind]+" "+head+src)
		default:
			lead := "  "
			if c.Kind != planner.KindModify {
				lead = signs[c.Kind] + " "
			}
			lines = append(lines, lead+head+src)
			for _, l := range body {
				switch l.op {
				case '…':
					lines = append(lines, "    … "+l.text)
				case ' ':
					lines = append(lines, strings.TrimRight("      "+l.text, " "))
				default:
					lines = append(lines, string(l.op)+"     "+l.text)
				}
			}
		}
	}
	text := strings.Join(lines, "\n")
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	return fence + "diff\n" + text + "\n" + fence + "\n\n"
}
