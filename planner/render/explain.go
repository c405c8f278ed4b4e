package render

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/jobsync/jobsync/planner"
)

// ExplanationText writes what `jobsync explain` prints: the verdict, the
// values the YAML and the last apply hold, the rows of the table that apply
// with their evidence, and the general rules.
func ExplanationText(w io.Writer, e *planner.Explanation) error {
	t := &textWriter{w: bufio.NewWriter(w)}
	t.line("%s of job %s", e.Path, e.Key)
	t.line("  %s.", e.Verdict)
	t.line("")
	t.line("  YAML:       %s", valueOr(e.Configured, e.Set, "not set"))
	recorded := "no record of this job in the lockfile"
	if e.HasRecord {
		recorded = valueOr(e.Recorded, e.Applied, "not recorded")
	}
	t.line("  last apply: %s", recorded)
	if e.Ignored != "" {
		t.line("  lifecycle.ignore_changes: %s", e.Ignored)
	}
	t.line("")
	if len(e.Rows) == 0 {
		t.line("No row of the normalisation table names this field.")
	} else {
		t.line("Rows of the normalisation table (planner/FIDELITY.md):")
		for _, r := range e.Rows {
			head := fmt.Sprintf("  %s:%s  %s", r.Scope, r.Path, r.Kind)
			if r.Value != "" {
				head += " " + r.Value
			}
			if r.At != "" && r.At != e.Path {
				head += "  (at " + r.At + ")"
			}
			t.line("%s", head)
			if r.Note != "" {
				t.line("    %s", r.Note)
			}
			t.line("    evidence: %s", r.Evidence)
		}
	}
	t.line("")
	t.line("General rules:")
	for _, g := range e.General {
		t.line("  %s: %s", g.Path, g.Value)
	}
	return t.w.Flush()
}

// ExplanationJSON writes e as one indented JSON object.
func ExplanationJSON(w io.Writer, e *planner.Explanation) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}

func valueOr(v any, ok bool, none string) string {
	if !ok {
		return none
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
