package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a YAML file. Line and Col are 1-based; a zero Line means
// the position is unknown.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostic is one problem in the configuration. Path is the keyed path of
// the offending value inside its job (for example
// `jobs.etl.tasks[task_key="ingest"].timeout_seconds`), empty for file-level
// problems such as malformed YAML.
type Diagnostic struct {
	Pos  Pos    `json:"pos"`
	Path string `json:"path,omitempty"`
	Msg  string `json:"message"`
}

func (d Diagnostic) Error() string {
	if d.Path == "" {
		return d.Pos.String() + ": " + d.Msg
	}
	return d.Pos.String() + ": " + d.Path + ": " + d.Msg
}

// Diagnostics is every problem found in a configuration. It is an error so
// that Load can return it, but callers are expected to print each entry.
type Diagnostics []Diagnostic

// Sort orders by file, line, column, then path and message, so output is
// stable whatever order the checks ran in.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
}

func (ds Diagnostics) Error() string {
	switch len(ds) {
	case 0:
		return "no problems"
	case 1:
		return ds[0].Error()
	}
	var b strings.Builder
	b.WriteString(ds[0].Error())
	fmt.Fprintf(&b, " (and %d more problems)", len(ds)-1)
	return b.String()
}

// Permission is one declared grant on a job. Exactly one of UserName,
// GroupName and ServicePrincipalName is set.
type Permission struct {
	UserName             string `json:"user_name,omitempty"`
	GroupName            string `json:"group_name,omitempty"`
	ServicePrincipalName string `json:"service_principal_name,omitempty"`
	PermissionLevel      string `json:"permission_level"`
}

// Lifecycle holds jobsync's own per-job controls; it is never sent to the API.
type Lifecycle struct {
	// IgnoreChanges lists keyed paths (as printed in plans, e.g.
	// `tasks[task_key="a"].timeout_seconds` or `schedule`) that jobsync leaves
	// alone once the job exists.
	IgnoreChanges  []string `json:"ignore_changes,omitempty"`
	PreventDestroy bool     `json:"prevent_destroy,omitempty"`
	// MovedFrom is the key the job had before it was renamed: a plan
	// renames the old key's job instead of deleting it and creating this
	// one.
	MovedFrom string `json:"moved_from,omitempty"`
	// MovedTasks maps old task keys to new ones, for tasks renamed in the
	// job: the plan renames each in the job's update instead of removing
	// one task and adding another.
	MovedTasks map[string]string `json:"moved_tasks,omitempty"`
}

// Job is one desired job.
type Job struct {
	// Key is the mapping key under `jobs:`: the job's identity in jobsync.
	Key string
	// File is the slash-separated path the job came from, as given.
	File string
	// Pos is where the key is written.
	Pos Pos
	// Settings is the JobSettings object as a JSON tree (map[string]any,
	// []any, string, bool, json.Number, nil) without jobsync's own fields.
	Settings map[string]any
	// raw is Settings as compact JSON when the job was loaded with
	// Options.Compact (Settings is then nil): see RawSettings and Tree.
	raw []byte
	// Permissions is nil when the job declares no `permissions:` key, and
	// non-nil (possibly empty) when it does.
	Permissions []Permission
	// PermissionsMode says how Permissions are applied: PermissionsAuthoritative
	// (the job's direct grants become exactly Permissions, plus its owner) or
	// PermissionsAdditive (Permissions are ensured; other grants are left
	// alone). "" means authoritative.
	PermissionsMode string
	Lifecycle       Lifecycle
	// Files are the workspace paths of the local files the job's settings
	// name (a bundle's uploads, Config.Uploads), sorted; nil for a job
	// that names none.
	Files []string
	// Secrets are the strings of Settings that were made with sensitive
	// variables (whole strings: "--token=s3cr3t" for "--token=${var.t}"),
	// sorted. The planner never shows them and seals them in the lockfile.
	Secrets []string

	// positions maps a JSON pointer relative to Settings ("/tasks/0/task_key")
	// to where it is written in File; "" is the job itself. It holds line
	// and column only: all of a job's values are in its own file, and
	// 10,000 jobs hold half a million positions.
	positions map[string]lineCol
	// table holds positions instead, in less memory, once the job is
	// compacted (Options.Compact); positions is then nil.
	table *posTable
	// foreign holds the positions of values that a project file put into
	// the job (target overrides, project-wide permissions): they are in
	// foreignFile, not File. It is nil for a job that nothing was merged into.
	foreign     map[string]lineCol
	foreignFile string
	// foreignAt holds the positions of a bundle job's values written in
	// other files than File (target overrides, presets, top-level
	// permissions), each with its file.
	foreignAt map[string]Pos
}

// Permission modes (Job.PermissionsMode).
const (
	PermissionsAuthoritative = "authoritative"
	PermissionsAdditive      = "additive"
)

// lineCol is a position inside a job's file.
type lineCol struct{ line, col int32 }

func toLineCol(p Pos) lineCol { return lineCol{int32(p.Line), int32(p.Col)} }

// PosOf returns the position of the value at the JSON pointer ptr (relative
// to Settings), or of its nearest ancestor that has one.
func (j *Job) PosOf(ptr string) Pos {
	for {
		if p, ok := j.foreignAt[ptr]; ok {
			return p
		}
		if p, ok := j.foreign[ptr]; ok {
			return Pos{File: j.foreignFile, Line: int(p.line), Col: int(p.col)}
		}
		if p, ok := j.positions[ptr]; ok {
			return Pos{File: j.File, Line: int(p.line), Col: int(p.col)}
		}
		if p, ok := j.table.find(ptr); ok {
			return Pos{File: j.File, Line: int(p.line), Col: int(p.col)}
		}
		if ptr == "" {
			return j.Pos
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return j.Pos
		}
		ptr = ptr[:i]
	}
}

// NewJob builds a Job from parts, for tests and for code (such as export)
// that makes jobs without reading YAML.
// Positions are taken to be in file.
func NewJob(key, file string, settings map[string]any, positions map[string]Pos) *Job {
	lc := make(map[string]lineCol, len(positions))
	for ptr, p := range positions {
		lc[ptr] = toLineCol(p)
	}
	return &Job{Key: key, File: file, Settings: settings, positions: lc, Pos: positions[""]}
}

// Config is everything loaded from the given paths.
type Config struct {
	// Jobs sorted by Key.
	Jobs []*Job
	// Files are the job files that were read, in the order they were read
	// (the project file is not among them).
	Files []string
	// Selection is the project file, target and variable values the jobs
	// were resolved with; nil when there is no project file.
	Selection *Selection
	// Skipped are the YAML files found in a directory that are not job
	// files (no top-level jobs: or resources:), as reported.
	Skipped []string
	// Warnings are problems that do not stop loading: what a bundle has
	// that jobsync skips, and (with Options.Strict) the conversions it made.
	Warnings Diagnostics
	// Uploads are the local files a bundle's jobs name, sorted by remote
	// path; the jobs name their workspace paths.
	Uploads []Upload
	// UserSubstituted says that a value came from Options.Identity (a
	// ${workspace.current_user.*}, the development-mode prefix, or a
	// workspace path in the user's folder).
	UserSubstituted bool
	// Paths are a bundle's resolved workspace paths for the selected
	// target; nil for other projects, and when they cannot be known (a
	// default root_path without the current user).
	Paths *WorkspacePaths
}

// Job returns the job with the given key, or nil.
func (c *Config) Job(key string) *Job {
	i := sort.Search(len(c.Jobs), func(i int) bool { return c.Jobs[i].Key >= key })
	if i < len(c.Jobs) && c.Jobs[i].Key == key {
		return c.Jobs[i]
	}
	return nil
}

// NoJobFilesError says that the paths hold no job file. Skipped are the
// YAML files found that are not job files.
type NoJobFilesError struct {
	Paths   []string
	Skipped []string
}

func (e *NoJobFilesError) Error() string {
	msg := "no job files (*.yml, *.yaml with a top-level jobs: or resources:) in " + strings.Join(e.Paths, ", ")
	if len(e.Skipped) > 0 {
		msg += fmt.Sprintf(" (%d YAML %s skipped, as not job files: %s)", len(e.Skipped), map[bool]string{true: "file", false: "files"}[len(e.Skipped) == 1], ShortList(e.Skipped, 5))
	}
	return msg
}

// ShortList names up to n items, and how many more there are.
func ShortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}
