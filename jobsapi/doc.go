// Package jobsapi is jobsync's HTTP client of a Databricks workspace: the
// Jobs API 2.2, the job permissions API 2.0, the workspace files API
// (workspace.go: mkdirs, get-status, list, import, import-file, export,
// delete) and the current user (me.go: SCIM /Me). It owns authentication,
// retries, rate limiting and pagination.
//
// Settings travel as generic JSON trees so that fields this package does not
// know survive a round trip. It must not import any other jobsync package, and
// it must never print: it returns typed errors and lets the caller decide.
// The only programs it runs are the Databricks and Azure CLIs, for their
// tokens, and only when that auth type is in use.
//
// Configuration (ResolveConfig) follows the Databricks SDKs: flags, then
// DATABRICKS_* and ARM_* variables, then a profile of ~/.databrickscfg; a
// personal access token, an OAuth M2M service principal, a developer's
// Databricks CLI or Azure CLI login (run as another program:
// auth_external.go), or an Azure service principal's client secret.
// Credentials never appear in an error, a String or the debug log.
//
// Every call is bounded by Options.Parallelism and a per-endpoint token bucket
// that halves on HTTP 429 and recovers slowly. Failed attempts are retried
// with jittered exponential backoff, honouring an integer Retry-After, within
// Options.RetryTimeout:
//
//   - 429 and 503 for every request (the workspace did not take it);
//   - transport errors, 502 and 504 only for requests that are safe to repeat
//     (reads, reset, update, delete, permissions, cancels, run-now and
//     runs/submit with an idempotency_token);
//   - 500 for the same requests safe to repeat (a passing 500 need not fail an apply).
//
// A request that is not safe to repeat (jobs/create, runs/repair, run-now
// and runs/submit without a token, a workspace import without overwrite)
// and may have reached the workspace is never repeated: its error matches
// ErrMaybeCommitted, and the caller must look at the workspace before trying
// again.
//
// Errors of the workspace match ErrNotFound, ErrAlreadyExists and
// ErrDirectoryNotEmpty with errors.Is, whichever of its several shapes the
// answer had.
package jobsapi
