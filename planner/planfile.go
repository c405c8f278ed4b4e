package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/jobsync/jobsync/state"
)

// Empty reports whether applying the plan would call the API at all.
// Skipped deletes and lockfile-only Records do not count.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 }

// Counts is the number of actions per op.
func (p *Plan) Counts() map[Op]int {
	m := map[Op]int{}
	for _, a := range p.Actions {
		m[a.Op]++
	}
	return m
}

// WritePlan writes the saved-plan document: indented JSON, every
// collection in a deterministic order. The document holds the exact request
// bodies apply will send (secrets included: only Changes are redacted), so
// callers write plan files with mode 0600.
func WritePlan(w io.Writer, p *Plan) error {
	q := *p
	if q.Actions == nil {
		q.Actions = []Action{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&q); err != nil {
		return fmt.Errorf("encoding the plan: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// IsPlan tells whether data is a saved-plan document (of any
// format_version), whatever the file it came from is called: a JSON object
// with a top-level format_version. A job file never is one, in YAML or in
// JSON, since a job file's top level holds only jobs, resources and x- keys.
func IsPlan(data []byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	var head struct {
		FormatVersion json.RawMessage `json:"format_version"`
	}
	return json.Unmarshal(data, &head) == nil && head.FormatVersion != nil
}

// ReadPlan reads a saved plan. It refuses a document of another
// format_version (made by another jobsync release) rather than guess at it.
func ReadPlan(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	var head struct {
		FormatVersion *json.Number `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("this is not a jobsync plan file (not a JSON object: %v)", err)
	}
	if head.FormatVersion == nil {
		return nil, fmt.Errorf("this is not a jobsync plan file (no format_version)")
	}
	if string(*head.FormatVersion) != fmt.Sprint(FormatVersion) {
		return nil, fmt.Errorf("the plan file has format_version %s, but this jobsync reads only format_version %d; make the plan again with this jobsync (jobsync plan -out FILE)", *head.FormatVersion, FormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("the plan file is damaged: %v; make the plan again", err)
	}
	if p.Actions == nil {
		p.Actions = []Action{}
	}
	return &p, nil
}

// StaleError says a saved plan no longer fits the lockfile.
type StaleError struct {
	// Want is the lockfile the plan was made against; Got is the one now.
	Want, Got StateRef
	// Lineage is true when the lockfile is another one altogether (or was
	// created or removed since), false when it only moved on (serial).
	Lineage bool
}

func (e *StaleError) Error() string {
	if e.Lineage {
		return fmt.Sprintf("the saved plan does not match the lockfile: it was made against lockfile lineage %s, but the lockfile now has lineage %s; the lockfile changed since this plan was made; run jobsync plan again",
			orNone(e.Want.Lineage), orNone(e.Got.Lineage))
	}
	return fmt.Sprintf("the saved plan is stale: the lockfile changed since this plan was made (serial %d, now %d); run jobsync plan again", e.Want.Serial, e.Got.Serial)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// CheckFresh reports, as a *StaleError, whether the lockfile moved since the
// plan was made: another lineage, or the same lineage with another serial.
// A plan made without a lockfile is fresh against no lockfile or a new
// empty one (serial 0, no jobs), so the caller may initialise the lockfile
// before checking.
func CheckFresh(p *Plan, lock *state.File) error {
	var got StateRef
	if lock != nil {
		got = StateRef{Lineage: lock.Lineage, Serial: lock.Serial}
	}
	if p.State.Lineage == "" {
		if lock == nil || (lock.Serial == 0 && len(lock.Jobs) == 0) {
			return nil
		}
		return &StaleError{Want: p.State, Got: got, Lineage: true}
	}
	if lock == nil || lock.Lineage != p.State.Lineage {
		return &StaleError{Want: p.State, Got: got, Lineage: true}
	}
	if lock.Serial != p.State.Serial {
		return &StaleError{Want: p.State, Got: got}
	}
	return nil
}
