// Command benchserve seeds an emulated workspace with a benchmark workload
// and serves it until interrupted, so that one `jobsync plan` of the
// workload can be run, traced and profiled by hand (benchtable only
// reports medians). It prints the environment and the command to run.
//
// It must not be used for the numbers in BENCHMARKS.md: those come from
// benchtable, which runs each measurement several times.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/jobsync/jobsync/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchserve:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("benchserve", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the YAML (DIR/jobs) and the lockfile (required; created)")
	jobs := fs.Int("jobs", 10000, "jobs in the workload")
	tasks := fs.Int("tasks", 3, "tasks per job")
	latency := fs.Duration("latency", 20*time.Millisecond, "latency the emulator adds to every request once seeded")
	drift := fs.Int("drift-every", 0, "after seeding, change every Nth job in the workspace (100: 1% drift; 0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("-dir is required")
	}
	w := bench.Workload{Jobs: *jobs, Tasks: *tasks}
	yamlDir := filepath.Join(*dir, "jobs")
	desired, err := w.Desired(ctx, yamlDir)
	if err != nil {
		return err
	}
	e, err := bench.NewEnv(bench.EnvOptions{Dir: *dir})
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.Converge(ctx, desired, false, 3); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	if *drift > 0 {
		if err := bench.Drift(ctx, e, bench.Every(*jobs, *drift)); err != nil {
			return err
		}
	}
	e.Emu.SetLatency(*latency)
	fmt.Printf("DATABRICKS_HOST=%s DATABRICKS_TOKEN=%s jobsync plan --project %s --lockfile %s --detailed-exitcode %s\n",
		e.Host, bench.Token, bench.Project, e.LockPath, yamlDir)
	<-ctx.Done()
	return nil
}
