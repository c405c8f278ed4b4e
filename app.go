package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes. They are part of jobsync's interface: CI pipelines branch on
// them, so they never change meaning.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan --detailed-exitcode: the plan has changes
	exitDrift   = 3 // drift: the workspace changed outside jobsync
	exitSignal  = 130
)

// exitErr carries an exit code other than 1, and optionally no message (the
// command already printed what it had to say).
type exitErr struct {
	code int
	msg  string
}

func (e *exitErr) Error() string { return e.msg }

// env is what every command may use of the outside world.
type env struct {
	stdio
	getenv func(string) string
	// cpus is how many goroutines CPU-bound work runs on (loading the
	// YAML): the process may have more Ps than that (main, spareProcs).
	cpus int
}

// withErr is e with its errors written to w: a copy, so that no field of
// e is lost on the way (cpus, dropped, would load the YAML on every P).
func (e *env) withErr(w io.Writer) *env {
	c := *e
	c.err = w
	return &c
}

// run is the whole program; main only adds the process around it.
func run(ctx context.Context, args []string, io stdio, getenv func(string) string) int {
	return runOn(ctx, args, io, getenv, runtime.GOMAXPROCS(0))
}

// runOn is run with CPU-bound work on cpus goroutines.
func runOn(ctx context.Context, args []string, io stdio, getenv func(string) string, cpus int) int {
	e := &env{stdio: io, getenv: getenv, cpus: cpus}
	app := newApp(e)
	err := app.RunContext(ctx, flagsFirst(app, args))
	return report(e, err, ctx)
}

// report maps an error to the exit code, printing it once. It is the only
// place that decides exit codes.
func report(e *env, err error, ctx context.Context) int {
	if err == nil {
		return exitOK
	}
	var xe *exitErr
	if errors.As(err, &xe) {
		if xe.msg != "" {
			fmt.Fprintln(e.err, "Error:", xe.msg)
		}
		return xe.code
	}
	// A write that failed because a signal or a closed output stopped the
	// command is the interruption, not a failure of its own.
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, syscall.EPIPE)) {
		fmt.Fprintln(e.err, "Interrupted.")
		return exitSignal
	}
	msg := err.Error()
	fmt.Fprintln(e.err, "Error:", msg)
	return exitError
}

func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:      "jobsync",
		Usage:     "keep Databricks jobs as code: validate, plan, apply",
		Version:   version,
		Reader:    e.in,
		Writer:    e.out,
		ErrWriter: e.err,
		// urfave/cli calls os.Exit for ExitCoder errors unless this is set;
		// exit codes are decided in report, nowhere else.
		ExitErrHandler:       func(*cli.Context, error) {},
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		Description: `Exit codes:
   0  success, or no changes
   1  error (invalid configuration, API failure, refused apply, ...)
   2  changes present (plan --detailed-exitcode)
   3  drift found (drift)
 130  interrupted`,
		Commands: withTimeouts(withUsageErrors(commands(e))),
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return usageError(err.Error())
		},

		// --var NAME=a,b is one value, not two.
		DisableSliceFlagSeparator: true,
	}
	return app
}

func usageError(msg string) error {
	return &exitErr{code: exitError, msg: msg + " (see --help)"}
}

// withUsageErrors makes every command report a bad flag as one line, like
// every other error, rather than urfave/cli's help page.
func withUsageErrors(cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return usageError(err.Error()) }
		}
		withUsageErrors(c.Subcommands)
	}
	return cmds
}

func commands(e *env) []*cli.Command {
	return []*cli.Command{
		validateCommand(e),
		planCommand(e),
		applyCommand(e),
		showCommand(e),
		driftCommand(e),
		pullCommand(e),
		importCommand(e),
		exportCommand(e),
		destroyCommand(e),
		stateCommand(e),
		runCommand(e),
		schemaCommand(e),
		explainCommand(e),
		versionCommand(e),
		emulatorCommand(e),
	}
}
