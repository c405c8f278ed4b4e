package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/jobsync/jobsync/planner"
)

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
)

var colours = map[string]string{
	"+": ansiGreen, "-": ansiRed, "~": ansiYellow, "±": ansiMagenta, "!": ansiCyan,
}

type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || code == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) line(format string, args ...any) {
	fmt.Fprintf(t.w, format, args...)
	t.w.WriteByte('\n')
}

// Text writes the human plan: the summary line; the changes made outside
// jobsync, in their own section; one block per action (glyph, key, job id,
// op and reason) with one line per changed keyed path (before → after, and
// where the YAML sets it); long or multi-line values as line diffs; then
// the deletes left out without --prune and lockfile-only records.
func Text(w io.Writer, p *planner.Plan, o Options) error {
	p, err := decoded(p)
	if err != nil {
		return err
	}
	t := &textWriter{w: bufio.NewWriter(w), color: o.Color}
	t.line("%s", heading(p))
	t.line("%s", t.paint(ansiBold, summary(p)))

	var drifted []planner.Action
	for _, a := range p.Actions {
		if _, d := split(a); len(d) > 0 {
			drifted = append(drifted, a)
		}
	}
	if len(drifted) > 0 {
		t.line("")
		t.line("%s", t.paint(ansiBold, "Changed outside jobsync (apply reverts these):"))
		for _, a := range drifted {
			_, d := split(a)
			t.line("")
			t.line("  %s", t.paint(ansiBold, actionLabel(a)))
			for _, c := range d {
				t.change("      ", c)
			}
		}
	}

	for i, a := range p.Actions {
		g := glyphs[a.Op]
		if isFileOp(a.Op) {
			if i == 0 || !isFileOp(p.Actions[i-1].Op) {
				t.line("")
			}
			t.line("%s %s", t.paint(colours[g], g), fileLine(a))
			continue
		}
		config, drift := split(a)
		t.line("")
		head := t.paint(colours[g], g) + " " + t.paint(ansiBold, actionLabel(a)) + "  " + string(a.Op)
		if a.Reason != "" {
			head += ": " + a.Reason
		}
		t.line("%s", head)
		for _, c := range config {
			t.change("    ", c)
		}
		if n := len(drift); n > 0 {
			t.line("    %s", t.paint(ansiDim, fmt.Sprintf("(and %s made outside jobsync, listed above)", Plural(n, "change", "changes"))))
		}
	}

	skippedJobs, skippedFiles := splitSkipped(p.Skipped)
	if len(skippedJobs) > 0 {
		t.line("")
		t.line("Left in place (not in the configuration; pass --prune to delete):")
		for _, a := range skippedJobs {
			t.line("  %s %s  %s", t.paint(ansiRed, "-"), actionLabel(a), a.Reason)
		}
	}
	if len(skippedFiles) > 0 {
		t.line("")
		t.line("%s no job names any more, not deleted (pass --prune to delete):", Plural(len(skippedFiles), "uploaded file", "uploaded files"))
		for _, a := range skippedFiles {
			t.line("  %s %s  %s", t.paint(ansiRed, "-"), fileLabel(a), a.Key)
		}
	}
	if len(p.Records) > 0 {
		t.line("")
		t.line("The lockfile will also record (no API call):")
		for _, r := range p.Records {
			verb := "record"
			if r.Forget {
				verb = "forget"
			}
			t.line("  %s %s: %s", verb, jobLabel(r.Key, r.JobID), r.Reason)
		}
	}
	return t.w.Flush()
}

func (t *textWriter) change(indent string, c planner.Change) {
	head, body := changeLines(c)
	sign := signs[c.Kind]
	src := ""
	if c.Source != "" {
		src = "  " + t.paint(ansiDim, "("+c.Source+")")
	}
	t.line("%s%s %s%s", indent, t.paint(colours[sign], sign), head, src)
	for _, l := range body {
		switch l.op {
		case '…':
			t.line("%s    %s", indent, t.paint(ansiDim, "… "+l.text))
		case '+':
			t.line("%s    %s", indent, t.paint(ansiGreen, "+ "+l.text))
		case '-':
			t.line("%s    %s", indent, t.paint(ansiRed, "- "+l.text))
		default:
			t.line("%s", strings.TrimRight(indent+"      "+l.text, " "))
		}
	}
}
