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
	if out, ok := stripSpace(raw); ok {
		return out, nil
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

// stripSpace is json.Compact of raw when raw is valid JSON (as a value the
// decoder handed out is): its whitespace outside strings removed, every
// other byte kept. A lockfile of 10,000 jobs is 40 MB of indented JSON,
// and json.Compact checks its syntax once more on the way. ok is false
// when raw does not look like what the decoder gives (an unterminated
// string), and json.Compact decides.
func stripSpace(raw []byte) (json.RawMessage, bool) {
	// Twice: to size the copy, then to fill it (the record is kept: its
	// capacity is its size).
	n, ok := strip(raw, nil)
	if !ok {
		return nil, false
	}
	out := make(json.RawMessage, 0, n)
	_, _ = strip(raw, &out)
	return out, true
}

// strip counts the bytes raw keeps without its whitespace, appending them
// to out when it is not nil.
func strip(raw []byte, out *json.RawMessage) (int, bool) {
	n := 0
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			j := i + 1
			for ; j < len(raw) && raw[j] != '"'; j++ {
				if raw[j] == '\\' {
					j++
				}
			}
			if j >= len(raw) {
				return 0, false
			}
			n += j + 1 - i
			if out != nil {
				*out = append(*out, raw[i:j+1]...)
			}
			i = j
		default:
			n++
			if out != nil {
				*out = append(*out, c)
			}
		}
	}
	return n, true
}
