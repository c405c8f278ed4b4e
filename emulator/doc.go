// Package emulator is a local, in-memory emulation of the Databricks Jobs API
// 2.2 (and the 2.1 paths) and of the job permissions API 2.0. It is a product
// feature (`jobsync emulator`, the `--emulator` flag) as well as the server
// every jobsync test and benchmark talks to over loopback HTTP.
//
// It reproduces the documented behaviour and quirks collected in the team's
// reference (jobs-api.md, cited below as "§n"): server defaults added on read
// (§7), jobs/update merge by key and jobs/reset quirks (§4), 2.2 pagination
// with opaque tokens (§5), the real error codes and messages (§6), request
// validation (§11.4), permissions with exactly one owner (§3.4) and runs that
// move through their life-cycle states on a clock. Every emulated quirk names
// its evidence in a comment; behaviour that no source documents is marked
// "assumed".
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
