// Package planner turns desired jobs, live jobs and the lockfile into a Plan:
// the normalisation table, the keyed diff, the choice between create, update,
// reset and delete, their order, and the saved-plan format.
//
// It is pure: no network, no files, no clock (time comes in through Input).
// Everything it knows about the workspace is handed to it, and it imports
// only schema and state (for their types). It must stay that way: plans are
// built in CI from recorded inputs, and tests build thousands of them.
//
// # How a job is compared
//
// Desired and live settings are both put through Normalize, one data table
// of server defaults, read-only fields and canonical forms (normalize.go,
// each row with its evidence in ../shared/reference/jobs-api.md). Arrays
// with identity are compared by key — tasks by task_key, job_clusters by
// job_cluster_key, parameters by name, environments by environment_key,
// depends_on by task_key, webhook lists by id — never by position.
//
// The comparison is authoritative: a field the YAML does not set is removed
// from the job, unless the server fills it in itself (cluster cloud
// attributes, data_security_mode, run_as, ...), in which case it is only
// compared where the YAML sets it or did at the last apply. Paths listed in
// lifecycle.ignore_changes are left as the workspace has them, in the
// comparison and in every request.
//
// Permissions are compared with the job's direct grants, by principal, in
// the job's mode (schema.Job.PermissionsMode): authoritative (the grants
// become exactly the declared ones, plus the owner) or additive (the
// declared grants are ensured; any other grant is neither shown nor removed,
// and the PUT, which replaces the whole list, carries it as it is). Either
// way the PUT holds exactly one IS_OWNER: the declared one, else the
// current owner.
//
// Each change is labelled with its origin: "config" when the YAML differs
// from what the lockfile recorded at the last apply, "drift" when only the
// workspace moved.
//
// # The JSON plan (format_version 1)
//
// WritePlan writes, and `jobsync plan -out` saves, one JSON object:
//
//	format_version  1; ReadPlan refuses any other
//	tool_version, created_at, workspace, project
//	state           {lineage, serial} of the lockfile the plan was made against (CheckFresh)
//	actions[]       in apply order:
//	  op            create | update | reset | delete | permissions
//	  key, job_id   the YAML key and the job (none for a create)
//	  reason        why, for people; never for decisions
//	  source        file:line:col of the key in the YAML
//	  changes[]     {path, kind: add|remove|modify, before, after, origin: config|drift, source}
//	                path is keyed: tasks[task_key="load"].timeout_seconds;
//	                secret-looking values are "(sensitive)"
//	  request       the exact body of jobs/create, jobs/update, jobs/reset or jobs/delete;
//	                "${jobs.<key>.id}" where the id is known only after an earlier create
//	  permissions   the exact body of the permissions PUT, when permissions change
//	  applied, applied_permissions
//	                what the lockfile records once the action succeeds
//	  live_digest   Digest of the live settings planned against (apply refuses a moved job)
//	  needs         keys whose creates must succeed first
//	skipped[]       deletes not enabled (no --prune), same shape
//	records[]       lockfile-only changes: {key, job_id, forget, reason, applied, applied_permissions}
//	refresh         {requests, jobs_read, duration_ms, strategy}, filled by the caller
//
// request, permissions and applied hold secrets as they will be sent: a
// plan file must be written with mode 0600 and not be published. Only
// changes are redacted; the text and markdown renderings show only changes.
package planner
