// Package applier executes a planner.Plan against a workspace: it orders the
// actions by the references between jobs, runs independent ones in parallel
// with a bounded number in flight, resolves "${jobs.<key>.id}" as creates
// finish, sets permissions, and records every completed action in the
// lockfile's journal before it counts as done, so that an apply killed at any
// instant loses nothing and duplicates nothing. When the workspace does not
// implement jobs/update (404 or 501), it sends the updates as resets of each
// job's current settings with the update applied, and says so once.
//
// A bundle's local files are actions too: uploads run first (each job
// write waits for the uploads it names), file deletes last, each recorded
// in the journal once the workspace took it (files.go). It writes files
// only inside the action's files folder (planner.InFilesRoot), and deletes
// only files the lockfile records as uploaded there.
//
// It also makes the two writes to a managed job that are not plan actions:
// Import, which adopts a job on purpose by writing its ownership tag, and
// RunNow. Every write it makes goes to a job whose live settings, read in
// this run, carry the ownership tag of the action's key (for a saved plan,
// re-read at apply time; for a fresh plan, planned from that read).
//
// It never decides what to change (that is the planner's job) and never
// prints (progress goes to Options.Progress; the CLI renders it).
package applier
