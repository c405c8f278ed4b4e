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
	"errors"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"golang.org/x/term"
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

// spareProcs is how many Ps the process has beyond its CPUs when GOMAXPROCS
// is unset. A plan loads the YAML on every CPU (and the lockfile on one
// more goroutine) while it lists the workspace; when no P is idle, Go
// polls the network only from its monitor thread, every 10 ms or so, and a
// page of jobs/list waits that long several times over (the response
// arrives in parts). A plan of 10,000 jobs read its pages at 43 ms each
// while loading, 22 ms after; with two Ps to spare, at 33 ms while loading
// (BENCHMARKS.md): a goroutine whose response arrived runs at once, and
// the kernel shares the CPUs.
const spareProcs = 2

// stopSignals stop a command cleanly: no new action starts, the ones in
// flight finish and are recorded, the journal is folded into the lockfile
// and the lock released. SIGHUP (the terminal or the CI runner's session
// went away) and SIGQUIT would otherwise kill the process on the spot (and
// SIGQUIT dump every goroutine), leaving the journal behind.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	cpus := runtime.GOMAXPROCS(0)
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(cpus + spareProcs)
	}
	// A write to a closed stdout or stderr (`jobsync apply | head`) raises
	// SIGPIPE, which kills a Go program mid-apply unless ignored. Ignored,
	// the write fails with EPIPE instead, and closedOutput turns that into
	// a clean stop. (Notify would not do: it also receives the SIGPIPEs of
	// sockets, which the HTTP client handles itself.)
	signal.Ignore(syscall.SIGPIPE)
	sigCtx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	ctx, cancel := context.WithCancelCause(sigCtx)
	code := runOn(ctx, os.Args, stdio{os.Stdin, &closedOutput{os.Stdout, cancel}, &closedOutput{os.Stderr, cancel}}, os.Getenv, cpus)
	cancel(nil)
	stop()
	os.Exit(code)
}

// errOutputClosed is why a command stops when its output has nowhere to go.
var errOutputClosed = errors.New("the output was closed (its reader went away)")

// closedOutput is stdout or stderr, stopping the command (as a signal would)
// once a write finds its reader gone.
type closedOutput struct {
	f    *os.File
	stop context.CancelCauseFunc
}

func (o *closedOutput) Write(b []byte) (int, error) {
	n, err := o.f.Write(b)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		o.stop(errOutputClosed)
	}
	return n, err
}

// Fd lets isTerminal see the file.
func (o *closedOutput) Fd() uintptr { return o.f.Fd() }

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
