// Command jobsync keeps Databricks jobs as code: it validates job YAML, plans
// the changes that would make a workspace match it, and applies them.
//
// Package main is wiring: flags, the order of the steps of each command, what
// is printed and the exit code. It is the only package that prints or decides
// exit codes (see report in app.go), and it holds no logic of its own that a
// package could: loading is schema's, planning planner's, reading the
// workspace refresh's, writing it applier's.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// stdio is the process's standard streams, passed in so that tests run the
// whole CLI in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is unset. With GOGC=100 alone the heap grows to twice the live set between
// collections: a no-change plan of 10,000 jobs (~150 MB live: the YAML trees,
// the lockfile, the listed jobs as JSON) peaked at 430 MiB RSS, and loading
// the YAML alone at 350 MiB. Under this limit it peaks at ~270 MiB for about
// a second more CPU. It is soft: when the live set itself exceeds it, the
// runtime caps the GC's share of CPU (at about half) instead of failing, so
// a far bigger workspace runs slower, never out of memory because of it.
// GOMEMLIMIT (a size, or "off") overrides it.
const defaultMemoryLimit = 256 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, stdio{os.Stdin, os.Stdout, os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
