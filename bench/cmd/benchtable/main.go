// Command benchtable runs jobsync's benchmark harness (package bench) and
// writes its table into BENCHMARKS.md between the bench markers, leaving the
// rest of the file alone.
//
//	go run ./bench/cmd/benchtable                 # full table, ~5 minutes on 2 CPUs
//	go run ./bench/cmd/benchtable -sizes 100 -runs 1 -rate-jobs 40 -out /tmp/quick.md
//
// It builds the jobsync binary into a temporary directory (for the CLI
// child-process measurements), so it must run inside the repository. It
// must not change any file of the repository but its output (BENCHMARKS.md,
// or -out; -cpuprofile writes where it is told), nor reach beyond loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/jobsync/jobsync/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	out := fs.String("out", "BENCHMARKS.md", "file to write the table into (between the bench markers); - for stdout")
	sizes := fs.String("sizes", "100,1000,10000", "job counts of the 3-task workloads")
	wide := fs.String("wide", "10x500", "a few wide jobs: JOBSxTASKS, or empty to skip")
	runs := fs.Int("runs", 3, "runs per measurement (medians are reported)")
	latency := fs.Duration("latency", 20*time.Millisecond, "latency the emulator adds to every request")
	rateJobs := fs.Int("rate-jobs", 400, "jobs created under the server rate limit (0 skips)")
	rate := fs.Float64("rate", 20, "server limit of jobs/create per second")
	noCLI := fs.Bool("no-cli", false, "skip the child-process runs of the jobsync binary")
	apply := fs.Bool("apply", true, "run the apply scenarios (-apply=false: plans only)")
	bundle := fs.String("bundle", "200x20", "an Asset Bundle with local files: JOBSxFOLDERS, or empty to skip")
	cliEnv := fs.String("cli-env", "", "comma-separated NAME=VALUE added to the jobsync child's environment (e.g. GOMEMLIMIT=off)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the harness process (in-process scenarios) to this file")
	commit := fs.String("commit", "", "commit to record in the table (default: git rev-parse HEAD of the working directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tc := bench.TableConfig{
		Config:        bench.Config{Latency: *latency, Runs: *runs, Log: os.Stderr},
		RateJobs:      *rateJobs,
		RatePerSecond: *rate,
		SkipApply:     !*apply,
		Command:       "go run ./bench/cmd/benchtable " + strings.Join(args, " "),
	}
	if len(args) == 0 {
		tc.Command = "go run ./bench/cmd/benchtable"
	}
	for _, s := range strings.Split(*sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		tc.Sizes = append(tc.Sizes, n)
	}
	if *wide != "" {
		j, t, ok := strings.Cut(*wide, "x")
		nj, err1 := strconv.Atoi(j)
		nt, err2 := strconv.Atoi(t)
		if !ok || err1 != nil || err2 != nil || nj <= 0 || nt <= 0 || nt > 1000 {
			return fmt.Errorf("-wide: %q is not JOBSxTASKS (tasks at most 1000)", *wide)
		}
		tc.Wide = bench.Workload{Jobs: nj, Tasks: nt}
	}

	if *bundle != "" {
		j, f, ok := strings.Cut(*bundle, "x")
		nj, err1 := strconv.Atoi(j)
		nf, err2 := strconv.Atoi(f)
		if !ok || err1 != nil || err2 != nil || nj <= 0 || nf <= 0 {
			return fmt.Errorf("-bundle: %q is not JOBSxFOLDERS", *bundle)
		}
		tc.Bundle = bench.BundleWorkload{Jobs: nj, Folders: nf}
	}

	scratch, err := os.MkdirTemp("", "jobsync-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	tc.Dir = scratch
	if !*noCLI {
		repo, err := bench.FindRepo()
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "building the jobsync binary")
		if tc.CLI, err = bench.BuildCLI(ctx, repo, scratch); err != nil {
			return err
		}
		for _, kv := range strings.Split(*cliEnv, ",") {
			if kv = strings.TrimSpace(kv); kv != "" {
				if !strings.Contains(kv, "=") {
					return fmt.Errorf("-cli-env: %q is not NAME=VALUE", kv)
				}
				tc.CLI.Env = append(tc.CLI.Env, kv)
			}
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	t, err := bench.RunTable(ctx, tc)
	if err != nil {
		return err
	}
	if *commit != "" {
		t.Machine.Commit = *commit
	}
	md := t.Markdown()
	if *out == "-" {
		_, err := os.Stdout.Write(md)
		return err
	}
	doc, err := os.ReadFile(*out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc, err = bench.Splice(doc, md)
	if err != nil {
		return fmt.Errorf("%s: %w", *out, err)
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	for _, r := range append(t.Targets(), t.Issue16()...) {
		mark := "met"
		if !r.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(os.Stderr, "%-7s %s: %s\n", mark, r.Target, r.Measured)
	}
	return nil
}
