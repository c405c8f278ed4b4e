// Package emulator is a local, in-memory emulation of a Databricks
// workspace: the Jobs API 2.2 (and the 2.1 paths), the job permissions API
// 2.0, the workspace files API, SCIM /Me, host metadata and the OAuth M2M
// token endpoint. It is a product feature (`jobsync emulator`, the
// `--emulator` flag) as well as the server every jobsync test and benchmark
// talks to over loopback HTTP, and it is meant to be driven unchanged by the
// Databricks CLI, the Terraform provider and the SDKs.
//
// Where each endpoint is answered (routes.go lists them all):
//
//	jobs.go, list.go          jobs/create, get, list, reset, update, delete
//	runs.go, runview.go       jobs/run-now, jobs/runs/* (runmodel.go: run life cycle)
//	permissions.go            /api/2.0/permissions/jobs/{id}[/permissionLevels]
//	workspace.go              /api/2.0/workspace/{mkdirs,get-status,list,import,export,delete},
//	                          /api/2.0/workspace-files/import-file/{path}
//	                          (workspace_tree.go: the tree and notebook formats)
//	identity.go               /.well-known/databricks-config, /oidc/..., /api/2.0/preview/scim/v2/Me,
//	                          the principal directory and token -> principal mapping
//	telemetry.go              /telemetry-ext (the Databricks CLI's usage logs, dropped)
//
// Shared and apart: server.go (Options, dispatch), routes.go, store.go (the
// state of one workspace), tenancy.go (which workspace a token sees),
// persist.go (the --data file), knobs.go (latency, rate limits, faults),
// decode.go/encode.go/validate.go/render.go (typed JSON of the Jobs API).
//
// It reproduces the documented behaviour and quirks collected in the team's
// reference (jobs-api.md, cited below as "§n") and in the public SDK and CLI
// sources (cited as [SDK] databricks-sdk-go and [CLI] databricks/cli with
// their paths and commits): server defaults added on read (§7), jobs/update
// merge by key and jobs/reset quirks (§4), 2.2 pagination with opaque tokens
// (§5), the real error codes and messages (§6), request validation (§11.4),
// permissions with exactly one owner (§3.4), runs that move through their
// life-cycle states on a clock, workspace objects with the service's
// extension stripping, formats and errors. Every emulated quirk names its
// evidence in a comment; behaviour that no source documents is marked
// "assumed", and README.md lists all of those.
//
// Knobs for tests and benchmarks: latency, per-endpoint rate limits (429 with
// Retry-After), random 500/503s, injected faults including dropped
// connections before or after a write commits, deterministic reordering of
// arrays the real service reorders, and a request log.
//
// The package is self-contained: it imports only the standard library and no
// other jobsync package (it must stay usable as a neutral stand-in for a
// workspace), and it never prints.
package emulator
