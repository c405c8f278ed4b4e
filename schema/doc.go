// Package schema loads job definitions from YAML, validates them against the
// embedded JSON schema and the semantic rules of the Jobs API, and keeps the
// file:line:col of every value so that each problem points at its source.
//
// It also reads the project file, jobsync.yaml (project.go): the project's
// name, its variables, project-wide permissions and targets. Select chooses
// a target and the variables' values; LoadWith then resolves every job with
// them — ${var.NAME} substituted (vars.go), project-wide permissions and the
// target's presets and overrides merged (merge.go) — before validating it,
// so that validation sees exactly what will be planned, and a value that came
// from jobsync.yaml is reported at its place there.
//
// A folder with databricks.yml is an Asset Bundle (bundle*.go): its root
// file and includes are read as the project and its jobs, with the bundle
// CLI's merge rules, substitutions, presets and conversions, and the local
// files its jobs name become Config.Uploads (digested, with their
// workspace paths); the current user comes in through Options.Identity.
//
// It must not talk to the network or import any other jobsync package: it is
// the part of jobsync that runs before anything touches a workspace.
package schema
