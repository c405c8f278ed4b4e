// Package render turns a planner.Plan into what people read: the text
// plan for terminals and CI logs, markdown for pull-request comments, and
// the JSON saved-plan document.
//
// Text and markdown are always rendered from the plan as it decodes from
// its JSON document, never from Build's in-memory values, so `jobsync show
// plan.json` prints exactly what `jobsync plan` printed. Renderers print
// only what the plan's changes hold — already redacted — and redact again
// on the way out, so no rendering ever shows a secret-looking value. They
// do no I/O besides writing to w and never decide about colour themselves:
// the caller says (TTY and NO_COLOR are the CLI's business).
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/jobsync/jobsync/planner"
)

// Options tune the text rendering.
type Options struct {
	// Color adds ANSI colours. The CLI sets it only on a terminal and never
	// under NO_COLOR.
	Color bool
}

// JSON writes the saved-plan document (planner.WritePlan).
func JSON(w io.Writer, p *planner.Plan) error { return planner.WritePlan(w, p) }

// decoded is p as a reader of its JSON document sees it. Only what the
// renderers read takes the round trip: request bodies and lockfile records
// are most of a large plan's bytes (80 MB for 10,000 creates) and are never
// rendered, so they are left out of the copy rather than encoded and parsed
// again.
func decoded(p *planner.Plan) (*planner.Plan, error) {
	var buf bytes.Buffer
	if err := planner.WritePlan(&buf, renderedPart(p)); err != nil {
		return nil, err
	}
	return planner.ReadPlan(&buf)
}

// renderedPart is a shallow copy of p without the fields no renderer reads.
func renderedPart(p *planner.Plan) *planner.Plan {
	q := *p
	q.Actions = slim(p.Actions)
	q.Skipped = slim(p.Skipped)
	q.Records = make([]planner.Record, len(p.Records))
	for i, r := range p.Records {
		r.Applied, r.AppliedPermissions = nil, nil
		q.Records[i] = r
	}
	return &q
}

func slim(actions []planner.Action) []planner.Action {
	if actions == nil {
		return nil
	}
	out := make([]planner.Action, len(actions))
	for i, a := range actions {
		a.Request, a.Permissions, a.Applied, a.AppliedPermissions = nil, nil, nil, nil
		out[i] = a
	}
	return out
}

var glyphs = map[planner.Op]string{
	planner.OpCreate:      "+",
	planner.OpUpdate:      "~",
	planner.OpReset:       "±",
	planner.OpDelete:      "-",
	planner.OpPermissions: "!",
	planner.OpUpload:      "+",
	planner.OpDeleteFile:  "-",
}

var signs = map[string]string{planner.KindAdd: "+", planner.KindRemove: "-", planner.KindModify: "~", planner.KindRename: "~"}

// summary is the one-line count of a plan.
func summary(p *planner.Plan) string {
	switch {
	case p.Empty() && len(p.Skipped) > 0:
		return "No changes to apply; " + skippedSummary(p)
	case p.Empty():
		return "No changes. The workspace matches the configuration."
	}
	c := p.Counts()
	s := fmt.Sprintf("Plan: %d to create, %d to update, %d to reset, %d to delete", c[planner.OpCreate], c[planner.OpUpdate], c[planner.OpReset], c[planner.OpDelete])
	if n := c[planner.OpPermissions]; n > 0 {
		s += fmt.Sprintf(", %d permissions to set", n)
	}
	s += filesSummary(c, p)
	renames := 0
	for _, a := range p.Actions {
		if a.MovedFrom != "" {
			renames++
		}
	}
	if renames > 0 {
		s += fmt.Sprintf(" (%s renamed, not re-created)", Plural(renames, "job", "jobs"))
	}
	return s + "."
}

// actionLabel is the job an action is about: "old → new [job id]" for a
// rename (lifecycle.moved_from), else its key and id.
func actionLabel(a planner.Action) string {
	if a.MovedFrom != "" {
		return jobLabel(a.MovedFrom+" → "+a.Key, a.JobID)
	}
	return jobLabel(a.Key, a.JobID)
}

func jobLabel(key string, id int64) string {
	if id == 0 {
		return key
	}
	return fmt.Sprintf("%s [job %d]", key, id)
}

// Plural counts: "1 job", "3 jobs".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// split separates an action's changes by origin.
func split(a planner.Action) (config, drift []planner.Change) {
	for _, c := range a.Changes {
		c = planner.Redacted(c)
		if c.Origin == planner.OriginDrift {
			drift = append(drift, c)
		} else {
			config = append(config, c)
		}
	}
	return config, drift
}

var wholeRef = regexp.MustCompile(`^\$\{jobs\.[A-Za-z0-9_-]+\.id\}$`)

// inline renders a value on one line, or returns ok=false when it needs
// several (multi-line strings, large objects).
func inline(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case string:
		switch {
		case x == planner.Sensitive:
			return planner.Sensitive, true
		case wholeRef.MatchString(x):
			return "(known after apply: " + x + ")", true
		case strings.Contains(x, "\n"):
			return "", false
		}
		return quote(x), true
	case map[string]any, []any:
		s := compactJSON(v)
		if len(s) > inlineWidth || holdsRef(v) {
			return "", false
		}
		return s, true
	}
	return fmt.Sprint(v), true
}

// holdsRef says whether v holds a job id known only after apply: shown
// inline as JSON it would read "${jobs.x.id}", as if that were sent, so
// such a value is shown as a block, where it reads (known after apply).
func holdsRef(v any) bool {
	switch x := v.(type) {
	case string:
		return wholeRef.MatchString(x)
	case map[string]any:
		for _, e := range x {
			if holdsRef(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if holdsRef(e) {
				return true
			}
		}
	}
	return false
}

// block renders a value over several lines, in the YAML-like shape people
// write jobs in: one "key: value" per line, nested objects indented, short
// values inline as JSON, multi-line strings as their lines.
func block(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	writeBlock(&b, v, "")
	return strings.TrimSuffix(b.String(), "\n")
}

const inlineWidth = 60

// short renders v inline when it is short and has no line breaks.
func short(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "\n") {
			return "", false
		}
	case map[string]any, []any:
		s := compactJSON(v)
		return s, len(s) <= inlineWidth && !holdsRef(v)
	}
	s, ok := inline(v)
	return s, ok
}

func writeBlock(b *strings.Builder, v any, indent string) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			e := x[k]
			if s, ok := short(e); ok {
				fmt.Fprintf(b, "%s%s: %s\n", indent, k, s)
				continue
			}
			if str, ok := e.(string); ok {
				fmt.Fprintf(b, "%s%s: |\n", indent, k)
				for _, l := range strings.Split(str, "\n") {
					fmt.Fprintf(b, "%s  %s\n", indent, l)
				}
				continue
			}
			fmt.Fprintf(b, "%s%s:\n", indent, k)
			writeBlock(b, e, indent+"  ")
		}
	case []any:
		for _, e := range x {
			if s, ok := short(e); ok {
				fmt.Fprintf(b, "%s- %s\n", indent, s)
				continue
			}
			var sub strings.Builder
			writeBlock(&sub, e, indent+"  ")
			text := sub.String()
			// The first line goes after the dash.
			fmt.Fprintf(b, "%s- %s", indent, strings.TrimPrefix(text, indent+"  "))
		}
	default:
		s, _ := inline(v)
		fmt.Fprintf(b, "%s%s\n", indent, s)
	}
}

func quote(s string) string { return compactJSON(s) }

// compactJSON is v as one line of JSON, without json.Marshal's escaping of
// <, > and & (plans are read by people).
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// diffLine is one line of a line diff: op is '+', '-' or ' ', or '…' for an
// elided run of unchanged lines (text then says how many).
type diffLine struct {
	op   rune
	text string
}

// lineDiff diffs two texts line by line with go-diff's line mode
// (DiffLinesToRunes → DiffMainRunes → DiffCharsToLines; v1.4.0 or later,
// earlier line modes are wrong) and keeps two lines of context around each
// change.
func lineDiff(before, after string) []diffLine {
	if !strings.HasSuffix(before, "\n") {
		before += "\n"
	}
	if !strings.HasSuffix(after, "\n") {
		after += "\n"
	}
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToRunes(before, after)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(a, b, false), lines)
	var all []diffLine
	for _, d := range diffs {
		op := rune(' ')
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			op = '+'
		case diffmatchpatch.DiffDelete:
			op = '-'
		}
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l == "" {
				continue
			}
			all = append(all, diffLine{op, strings.TrimSuffix(l, "\n")})
		}
	}
	const context = 2
	keep := make([]bool, len(all))
	for i, l := range all {
		if l.op == ' ' {
			continue
		}
		for j := max(0, i-context); j <= min(len(all)-1, i+context); j++ {
			keep[j] = true
		}
	}
	var out []diffLine
	for i := 0; i < len(all); {
		if keep[i] {
			out = append(out, all[i])
			i++
			continue
		}
		j := i
		for j < len(all) && !keep[j] {
			j++
		}
		if j-i == 1 {
			out = append(out, all[i])
		} else {
			out = append(out, diffLine{'…', fmt.Sprintf("%d unchanged lines", j-i)})
		}
		i = j
	}
	return out
}

// changeLines renders one change as a head line (without sign and source)
// plus, for values that need several lines, a body of diff lines.
func changeLines(c planner.Change) (head string, body []diffLine) {
	if c.Kind == planner.KindModify && compactJSON(c.Before) == compactJSON(c.After) {
		// Both sides redacted to the same text.
		return c.Path + ": " + planner.Sensitive + " value changed", nil
	}
	if c.Kind == planner.KindRename {
		old, _ := c.Before.(string)
		return fmt.Sprintf("tasks[task_key=%s] → %s: renamed (one update removes the old key and adds the new)", strconv.Quote(old), c.Path), nil
	}
	b, bok := inline(c.Before)
	a, aok := inline(c.After)
	switch c.Kind {
	case planner.KindAdd:
		if aok {
			return c.Path + ": " + a, nil
		}
		return c.Path + ":", prefixed('+', block(c.After))
	case planner.KindRemove:
		if bok {
			return c.Path + ": " + b, nil
		}
		return c.Path + ":", prefixed('-', block(c.Before))
	}
	if aok && bok {
		return c.Path + ": " + b + " → " + a, nil
	}
	return c.Path + ":", lineDiff(block(c.Before), block(c.After))
}

func prefixed(op rune, s string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(s, "\n") {
		out = append(out, diffLine{op, l})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Summary writes the plan's heading and its one-line count: what a saved
// plan says before it is applied.
func Summary(w io.Writer, p *planner.Plan) error {
	_, err := fmt.Fprintf(w, "%s\n%s\n", heading(p), summary(p))
	return err
}
