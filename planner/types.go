package planner

import (
	"encoding/json"
	"time"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// FormatVersion is the version of the JSON plan document. It goes up whenever
// a consumer of the JSON would have to change.
// Version 2 added the file actions (upload, delete-file) of a bundle's
// local files.
const FormatVersion = 2

// Op is what an action does to one job. The string values are the JSON form.
type Op string

const (
	OpCreate Op = "create"
	OpUpdate Op = "update" // POST jobs/update: partial, merged by key
	OpReset  Op = "reset"  // POST jobs/reset: full replace
	OpDelete Op = "delete"
	OpNoop   Op = "no-op"
	// OpPermissions is an action that only changes a job's permissions.
	OpPermissions Op = "permissions"
	// OpUpload writes a local file to the workspace (Action.File); its Key
	// is the workspace path.
	OpUpload Op = "upload"
	// OpDeleteFile removes a file jobsync uploaded that no job uses any
	// more (with Prune, or Destroy).
	OpDeleteFile Op = "delete-file"
)

// Live is a job as read from the workspace, handed to Build by the caller.
type Live struct {
	JobID           int64
	CreatorUserName string
	RunAsUserName   string
	Settings        map[string]any
	// RawSettings is Settings as JSON, for a caller that reads many jobs
	// and keeps them undecoded (refresh does for jobs/list: ~1.2 KB a job
	// against ~11 KB as a tree). It is used only when Settings is nil;
	// Build then decodes one job at a time. Read either with Decoded.
	RawSettings json.RawMessage
	// Partial is true when Settings came from a list view whose arrays were
	// truncated (has_more); such a job must be re-read before it is planned.
	Partial bool
	// Permissions is the direct (non-inherited) ACL, nil when not read.
	Permissions []schema.Permission
}

// Input is everything Build needs.
type Input struct {
	Desired []*schema.Job
	// Live holds every job of the workspace that the caller read (managed or
	// not); Build picks the managed ones by lockfile id and ownership tag.
	Live []Live
	// Lock is the lockfile, nil when there is none.
	Lock *state.File
	// Project is the ownership scope written into each job's tag.
	Project string
	// Target is the project file's target the configuration was resolved
	// for ("" for none); Project already ends in "/<target>". Renderings
	// name it.
	Target    string
	Workspace string
	Prune     bool
	// Destroy plans the deletion of every managed job, configured or not
	// (jobsync destroy); lifecycle.prevent_destroy makes Build fail.
	Destroy     bool
	Only        []string
	Now         time.Time
	ToolVersion string

	// Uploads are the local files the desired jobs name (a bundle's,
	// schema.Config.Uploads). FilesRoot is the folder they go under
	// (workspace.file_path): a file deleted takes its emptied folders up
	// to it along.
	Uploads   []schema.Upload
	FilesRoot string
	// LiveFiles are the files found in the workspace (workspace path to
	// object type) in the folders of the uploads the lockfile already
	// records; nil when the caller did not look. A recorded file that is
	// missing there is uploaded again.
	LiveFiles map[string]string

	// observe, when set, sees each configured job once it is planned
	// (Pull reads the raw differences this way; they never go into a Plan).
	observe func(*jobPlanner)
}

// StateRef names the lockfile a plan was made against.
type StateRef struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// Plan is the outcome of Build, and the saved-plan document.
type Plan struct {
	FormatVersion int       `json:"format_version"`
	ToolVersion   string    `json:"tool_version"`
	CreatedAt     time.Time `json:"created_at"`
	Workspace     string    `json:"workspace"`
	Project       string    `json:"project"`
	// Target is Input.Target: the project file's target, "" for none.
	Target string   `json:"target,omitempty"`
	State  StateRef `json:"state"`
	// Redacted marks a document whose secret-looking values were replaced
	// (RedactPlan): printed to be read, never to be applied.
	Redacted bool `json:"redacted,omitempty"`
	// Actions in apply order; no-ops are left out.
	Actions []Action `json:"actions"`
	// Skipped are deletes that were not enabled (no --prune).
	Skipped []Action `json:"skipped,omitempty"`
	// Records are lockfile-only changes that need no API call: a job adopted
	// by its ownership tag that already matches the configuration, or a key
	// whose job is gone and that is no longer configured. Apply writes them;
	// they do not make a plan non-empty.
	Records []Record `json:"records,omitempty"`
	// Refresh says how the workspace was read; filled in by the caller.
	Refresh *RefreshReport `json:"refresh,omitempty"`
}

// RefreshReport is how the live state was read.
type RefreshReport struct {
	Requests int64 `json:"requests"`
	JobsRead int   `json:"jobs_read"`
	// Folders is how many workspace folders were listed to check uploads.
	Folders    int    `json:"folders_listed,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Strategy   string `json:"strategy"`
}

// Action is one step of a plan.
type Action struct {
	Op     Op     `json:"op"`
	Key    string `json:"key"`
	JobID  int64  `json:"job_id,omitempty"`
	Reason string `json:"reason"`
	// Source is the file:line:col of the job's key in the YAML.
	Source  string   `json:"source,omitempty"`
	Changes []Change `json:"changes,omitempty"`
	// Request is the exact JSON body of the write (create, update, reset or
	// delete). References to jobs being created are the strings
	// "${jobs.<key>.id}", replaced by their ids at apply time.
	Request json.RawMessage `json:"request,omitempty"`
	// Permissions is the exact body of the permissions PUT, when the
	// job's permissions change.
	Permissions json.RawMessage `json:"permissions,omitempty"`
	// Applied is what the lockfile records for this key once the action
	// succeeds (normalised desired settings, references resolved at apply).
	Applied map[string]any `json:"applied,omitempty"`
	// AppliedPermissions is the normalised ACL recorded with it.
	AppliedPermissions []any `json:"applied_permissions,omitempty"`
	// AppliedPermissionsMode is recorded with them: "additive", or empty
	// for authoritative.
	AppliedPermissionsMode string `json:"applied_permissions_mode,omitempty"`
	// LiveDigest is the digest of the normalised live settings the action was
	// planned against; apply of a saved plan refuses a job whose digest moved.
	LiveDigest string `json:"live_digest,omitempty"`
	// Needs are the keys whose job ids this action's request refers to.
	Needs []string `json:"needs,omitempty"`
	// MovedFrom is the job's old key when the action renames it
	// (lifecycle.moved_from): the job keeps its id, its ownership tag moves
	// to Key, and the lockfile entry of MovedFrom becomes Key's.
	MovedFrom string `json:"moved_from,omitempty"`
	// Files are the uploads of this plan (their keys, workspace paths)
	// that the job's request names: apply makes them first.
	Files []string `json:"files,omitempty"`
	// File is the file of an upload or delete-file action.
	File *FileAction `json:"file,omitempty"`

	// secrets are the job's strings made with sensitive variables, for
	// RedactPlan; a plan read from a file has none (its request bodies are
	// then redacted by the rules of redact alone).
	secrets []string
}

// FileAction is what an upload or delete-file action does.
type FileAction struct {
	// Path is the workspace path.
	Path string `json:"path"`
	// Name is the file's path in the bundle, as shown; Local is where
	// apply reads it (an OS path, relative to where the plan was made).
	Name  string `json:"name,omitempty"`
	Local string `json:"local,omitempty"`
	Size  int64  `json:"size,omitempty"`
	// Digest is the content's (schema.Upload.Digest); apply refuses a
	// file whose content changed since the plan.
	Digest string `json:"digest,omitempty"`
	// Format is how it is imported: SOURCE (a source notebook, with
	// Language) or JUPYTER (an .ipynb) through workspace/import; empty for
	// a plain file, written through workspace-files/import-file.
	Format   string `json:"format,omitempty"`
	Language string `json:"language,omitempty"`
	// Root is the folder the uploads go under: deleting the last file of
	// a folder below it removes the folder too.
	Root string `json:"root,omitempty"`
}

// Record is one lockfile-only change (see Plan.Records).
type Record struct {
	Key   string `json:"key"`
	JobID int64  `json:"job_id,omitempty"`
	// Forget removes Key from the lockfile; otherwise Key is recorded with
	// JobID, Applied and AppliedPermissions.
	Forget             bool           `json:"forget,omitempty"`
	Reason             string         `json:"reason"`
	Applied            map[string]any `json:"applied,omitempty"`
	AppliedPermissions []any          `json:"applied_permissions,omitempty"`
	// AppliedPermissionsMode: see Action.
	AppliedPermissionsMode string `json:"applied_permissions_mode,omitempty"`
}

// Change is one changed keyed path.
type Change struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"` // add, remove, modify
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
	// Origin is "config" (the YAML changed since the last apply) or "drift"
	// (the workspace changed since the last apply).
	Origin string `json:"origin"`
	// Source is file:line:col of the value in the YAML, when it is there.
	Source string `json:"source,omitempty"`
}
