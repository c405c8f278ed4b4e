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
	// A write to a closed stdout or stderr (`jobsync apply | head`) raises
	// SIGPIPE, which kills a Go program mid-apply unless ignored. Ignored,
	// the write fails with EPIPE instead, and closedOutput turns that into
	// a clean stop. (Notify would not do: it also receives the SIGPIPEs of
	// sockets, which the HTTP client handles itself.)
	signal.Ignore(syscall.SIGPIPE)
	sigCtx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	ctx, cancel := context.WithCancelCause(sigCtx)
	code := run(ctx, os.Args, stdio{os.Stdin, &closedOutput{os.Stdout, cancel}, &closedOutput{os.Stderr, cancel}}, os.Getenv)
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
