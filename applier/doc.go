// Package applier executes a planner.Plan against a workspace: it orders the
// actions by the references between jobs, runs independent ones in parallel
// with a bounded number in flight, resolves "${jobs.<key>.id}" as creates
// finish, sets permissions, and records every completed action in the
// lockfile's journal before it counts as done, so that an apply killed at any
// instant loses nothing and duplicates nothing.
//
// It also adopts a job on purpose (Import): the one write jobsync makes to
// a job that does not carry its ownership tag yet, which is that tag.
//
// It never decides what to change (that is the planner's job) and never
// prints (progress goes to Options.Progress; the CLI renders it).
package applier
