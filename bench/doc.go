// Package bench is jobsync's performance harness: it serves the Jobs API
// emulator on a loopback port with a fixed added latency per request, seeds
// it with generated workloads (N jobs of 3 tasks, or a few of 500 tasks),
// and measures what DESIGN.md §8 sets targets for — the no-change plan, the
// plan after drift, applies that create, update and delete, and an apply
// under a server rate limit — in process and through the jobsync binary run
// as a child process (wall time, API requests, peak RSS, CPU).
//
// RunTable runs everything and renders the table of BENCHMARKS.md;
// `go run ./bench/cmd/benchtable` regenerates it. The package's tests only
// run a small, quick smoke of each scenario and assert request counts, which
// are deterministic; timings are reported, never asserted.
//
// It talks only to loopback and never to a real workspace.
package bench
