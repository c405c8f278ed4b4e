package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decoded returns the job's settings: Settings, or else RawSettings decoded
// into a fresh tree (numbers as json.Number), nil when there are none.
func (l *Live) Decoded() (map[string]any, error) {
	if l.Settings != nil || len(l.RawSettings) == 0 {
		return l.Settings, nil
	}
	if m, ok := decodeObject(l.RawSettings); ok {
		return m, nil
	}
	dec := json.NewDecoder(bytes.NewReader(l.RawSettings))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("the settings of job %d as read from the workspace are not a JSON object: %v", l.JobID, err)
	}
	return m, nil
}

// OwnedKey is OwnedKey of the job's settings. For raw settings only the
// tags are decoded.
func (l *Live) OwnedKey(project string) (key string, ok bool) {
	return ownedKey(project, l.ownerTag())
}

// ownerTag is the value of the job's ownership tag, "" when it has none.
func (l *Live) ownerTag() string {
	if l.Settings != nil || len(l.RawSettings) == 0 {
		return ownerTag(l.Settings)
	}
	if v, ok := ownerTagOf(l.RawSettings); ok {
		return v
	}
	// Keys match exactly, as in the tree (a struct field would also take
	// "Tags"); values other than tags stay undecoded bytes.
	var top, tags map[string]json.RawMessage
	if json.Unmarshal(l.RawSettings, &top) != nil || json.Unmarshal(top["tags"], &tags) != nil {
		// No readable tags: no tag we could trust. Build reports
		// unreadable settings when it decodes a job it plans.
		return ""
	}
	var v string
	if json.Unmarshal(tags[OwnerTagKey], &v) != nil {
		return ""
	}
	return v
}

// decodedLive is l with Settings decoded, for planning one job; l itself
// is left raw, so that the tree is garbage once that job is planned.
// texts shares the decoded strings (nil: none).
func decodedLive(l *Live, texts *textCache) (*Live, error) {
	if l == nil || l.Settings != nil || len(l.RawSettings) == 0 {
		return l, nil
	}
	m, ok := decodeObjectWith(l.RawSettings, texts)
	var err error
	if !ok {
		m, err = l.Decoded()
	}
	if err != nil {
		return nil, err
	}
	c := *l
	c.Settings = m
	return &c, nil
}
