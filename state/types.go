package state

import "encoding/json"

// Version is the lockfile format this build writes. Readers accept every
// version up to it and refuse newer ones.
const Version = 1

// File is the lockfile in memory.
type File struct {
	Version int `json:"version"`
	// Workspace is the normalised host (https://host) the jobs live in; a
	// lockfile is refused against any other workspace.
	Workspace string `json:"workspace"`
	// Project is the ownership scope (project, or project/target) whose
	// tag every managed job carries.
	Project string `json:"project"`
	// Lineage is made once, when the lockfile is first written, and never
	// changes; a saved plan is refused against another lineage.
	Lineage string `json:"lineage"`
	// Serial goes up by one each time the content changes.
	Serial uint64 `json:"serial"`
	// Jobs by key.
	Jobs map[string]Job `json:"jobs"`
	// Files are the local files jobsync uploaded for the jobs (a bundle's
	// notebooks, Python and SQL files, wheels), by workspace path: what it
	// sent, so that an unchanged file is never sent again, and what
	// --prune and destroy remove. A lockfile without files leaves it out,
	// so it reads as before.
	Files map[string]UploadedFile `json:"files,omitempty"`
}

// UploadedFile is what jobsync recorded for one workspace file it uploaded.
type UploadedFile struct {
	// Digest is the digest of the content and the way it was imported
	// (schema.Upload.Digest).
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// Source is the local file's path in the bundle, for messages.
	Source string `json:"source,omitempty"`
}

// Job is what jobsync recorded for one key at its last apply.
type Job struct {
	JobID int64 `json:"job_id"`
	// Applied is the normalised settings jobsync last sent (or adopted), as
	// compact JSON (a JSON object, or nil); the planner compares it with the
	// YAML (config changes) and with the live job (drift). It stays raw
	// until used: decoded trees of a 10,000-job lockfile cost ~55 MB of
	// heap against ~15 MB of bytes, and a plan decodes one job at a time.
	// Use AppliedSettings to read it and EncodeApplied to fill it.
	Applied json.RawMessage `json:"applied,omitempty"`
	// Permissions is the normalised direct ACL jobsync last set, if it
	// manages the job's permissions.
	Permissions []any `json:"permissions,omitempty"`
	// PermissionsMode is "additive" when jobsync ensured only the recorded
	// grants and left others alone; empty means authoritative (exactly the
	// recorded grants). Drift reads it to know which grants are jobsync's.
	PermissionsMode string `json:"permissions_mode,omitempty"`
}
