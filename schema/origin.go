package schema

// InProjectFile says whether the value at the JSON pointer ptr (relative to
// Settings), or its nearest ancestor that has a position, was put into the
// job by the project file (a target's overrides, the project-wide
// permissions, pause_triggers; for an Asset Bundle also its presets, mode:
// development's defaults and top-level run_as, written in databricks.yml
// or a file it includes) rather than written in the job's own file, and
// where. Tools that write back into the YAML (jobsync pull) must not edit
// the job's file for such a value.
func (j *Job) InProjectFile(ptr string) (Pos, bool) {
	p := j.PosOf(ptr)
	if j.foreignAt != nil && p.File != "" && p.File != j.File {
		return p, true
	}
	return p, j.foreign != nil && p.File == j.foreignFile && j.foreignFile != j.File
}
