package planner

import (
	"bytes"

	"github.com/jobsync/jobsync/schema"
)

// desiredSettings is the settings tree of a configured job: Settings, or,
// for a job loaded with schema.Options.Compact, its JSON decoded afresh
// (strings shared through texts, which may be nil). A plan decodes each
// compacted job once, while planning it, so that the YAML of 10,000 jobs
// is not held as trees for the whole plan.
func desiredSettings(job *schema.Job, texts *textCache) (map[string]any, error) {
	raw := job.RawSettings()
	if raw == nil {
		return job.Settings, nil
	}
	if m, ok := decodeObjectWith(raw, texts); ok {
		return m, nil
	}
	return job.Tree()
}

// desiredRefs is refsOf of a configured job, without decoding a compacted
// job that names no other.
func desiredRefs(job *schema.Job, texts *textCache) ([]string, error) {
	if raw := job.RawSettings(); raw != nil && !bytes.Contains(raw, []byte("${jobs.")) {
		return nil, nil
	}
	m, err := desiredSettings(job, texts)
	if err != nil {
		return nil, err
	}
	return refsOf(m), nil
}

// settings is the job's desired settings tree, decoded once per plan of
// the job (desiredSettings).
func (jp *jobPlanner) settings() (map[string]any, error) {
	if jp.tree == nil {
		m, err := desiredSettings(jp.job, jp.texts)
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = map[string]any{}
		}
		jp.tree = m
	}
	return jp.tree, nil
}
