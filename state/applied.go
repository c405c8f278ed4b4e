package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// AppliedSettings decodes j.Applied: a fresh tree on every call (callers may
// change it), numbers as json.Number, nil when nothing was recorded.
func (j Job) AppliedSettings() (map[string]any, error) {
	if len(j.Applied) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(j.Applied))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("the applied settings of job %d are not a JSON object: %v", j.JobID, err)
	}
	return m, nil
}

// EncodeApplied is the compact JSON form of settings for Job.Applied: map
// keys sorted, HTML characters left as they are (as Write writes them), nil
// for nil settings. It fails on values JSON cannot hold.
func EncodeApplied(settings map[string]any) (json.RawMessage, error) {
	if settings == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(settings); err != nil {
		return nil, fmt.Errorf("encoding applied settings: %w", err)
	}
	return json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// compactApplied makes a decoded entry's Applied compact and its own copy
// (a decoder hands out slices of indented input), nil for JSON null, and
// refuses anything that is not an object, so that a bad entry is reported
// when the lockfile is read, not when a plan first decodes it.
func compactApplied(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, errors.New(`"applied" is not a JSON object`)
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	out := make(json.RawMessage, buf.Len())
	copy(out, buf.Bytes())
	return out, nil
}
