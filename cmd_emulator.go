package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/emulator"
)

func emulatorCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "emulator",
		Usage: "serve the built-in workspace emulator",
		Description: `Serves an emulated Databricks workspace: the Jobs API 2.2 and 2.1
(/api/2.2/jobs/..., /api/2.1/jobs/...), the job permissions API
(/api/2.0/permissions/jobs/...), the workspace files API
(/api/2.0/workspace/..., /api/2.0/workspace-files/import-file/...), SCIM /Me,
host metadata and an OAuth M2M token endpoint, with the service's defaults,
quirks, paging and errors. It runs until interrupted (Ctrl-C); with --data its
state is loaded at start and saved on exit (and shortly after every change).

Any token is accepted and authenticates as --user; --token maps a token to
another principal of the directory (--principal, --principals).

Point jobsync or curl at it with DATABRICKS_HOST=http://ADDR and any
DATABRICKS_TOKEN. Runs go PENDING -> RUNNING -> TERMINATED within a few
seconds; a task fails when its task_key ends in "_fail" or its
notebook_task.base_parameters has "emulator_fail": "true".`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8089", Usage: "address to listen on (loopback only, unless --allow-remote)"},
			&cli.StringFlag{Name: "data", Usage: "file holding the emulator's state (default: in memory only)"},
			&cli.DurationFlag{Name: "latency", Usage: "delay added to every request, e.g. 20ms"},
			&cli.Float64Flag{Name: "rate-limit", Usage: "requests per second allowed across all endpoints; more get 429 with Retry-After (0 = no limit)"},
			&cli.Float64Flag{Name: "fail-rate", Usage: "fraction (0..1) of requests that fail with a random 500 or 503"},
			&cli.BoolFlag{Name: "reorder", Usage: "return tasks, depends_on and webhook lists in the service's own order, as real workspaces may"},
			&cli.StringFlag{Name: "user", Value: "user@example.com", Usage: "the default user (a workspace admin): every token not mapped by --token authenticates as it"},
			&cli.StringSliceFlag{Name: "principal", Usage: "add a principal: user:NAME[:GROUP,...], group:NAME or sp:APPLICATION_ID[:GROUP,...] (repeatable)"},
			&cli.StringFlag{Name: "principals", Usage: "JSON file of users, groups, service principals and tokens to add (see emulator/README.md)"},
			&cli.StringSliceFlag{Name: "token", Usage: "TOKEN=NAME: requests with this bearer token authenticate as the user or service principal NAME (repeatable)"},
			&cli.StringFlag{Name: "workspaces", Value: "shared", Usage: "shared (every token sees one workspace) or per-token (each token its own jobs, runs, permissions and files)"},
			&cli.Int64Flag{Name: "workspace-id", Usage: "the workspace id of host metadata and /Me (default 7474650000000001)"},
			&cli.BoolFlag{Name: "allow-remote", Usage: "allow a non-loopback --addr (the emulator has no real authentication)"},
			&cli.StringFlag{Name: "without", Usage: "comma-separated behaviours of the real service to turn off (all are on; names in emulator/README.md), e.g. sorted-tasks"},
			&cli.BoolFlag{Name: "log-requests", Usage: "print every request and its status to stderr (to see what another tool sends)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("emulator takes no arguments")
			}
			without, err := emulator.ParseBehaviours(c.String("without"))
			if err != nil {
				return usageError(err.Error())
			}
			dir, err := emulator.DirectoryOf(c.String("principals"), c.StringSlice("principal"), c.StringSlice("token"))
			if err != nil {
				return usageError(err.Error())
			}
			s := emulator.Standalone{
				Options: emulator.Options{DataFile: c.String("data"), Latency: c.Duration("latency"), ReorderReads: c.Bool("reorder"),
					User: c.String("user"), Directory: dir, WorkspaceID: c.Int64("workspace-id"), Workspaces: c.String("workspaces"), Without: without},
				Addr: c.String("addr"), RateLimit: c.Float64("rate-limit"), FailRate: c.Float64("fail-rate"), AllowRemote: c.Bool("allow-remote"),
			}
			if err := s.Check(); err != nil {
				return usageError(err.Error())
			}
			if c.Bool("log-requests") {
				s.OnRequest = printRequests(e.err)
			}
			return runEmulator(c.Context, e, s, nil)
		},
	}
}

// runEmulator serves until ctx ends, saying where and how to use it;
// ready (tests) is called once it serves.
func runEmulator(ctx context.Context, e *env, s emulator.Standalone, ready func(url string)) error {
	err := s.Serve(ctx, func(url string) {
		state := "state: in memory only (use --data FILE to keep it)"
		if s.DataFile != "" {
			state = "state: " + s.DataFile + " (saved on exit)"
		}
		if s.Workspaces == emulator.WorkspacesPerToken {
			state += "\n  workspaces: one per token"
		}
		fmt.Fprintf(e.out, `jobsync emulator: serving an emulated Databricks workspace on %s
  %s
Point jobsync at it:
  export DATABRICKS_HOST=%s DATABRICKS_TOKEN=anything
  jobsync plan
or curl:
  curl -s -H 'Authorization: Bearer anything' %s/api/2.2/jobs/list
Press Ctrl-C to stop.
`, url, state, url, url)
		if ready != nil {
			ready(url)
		}
	})
	if err != nil {
		return err
	}
	if s.DataFile != "" {
		fmt.Fprintf(e.out, "Stopped; state saved to %s.\n", s.DataFile)
	} else {
		fmt.Fprintln(e.out, "Stopped.")
	}
	return nil
}

// printRequests is --log-requests: each request's line (emulator.Request
// String) on w, one at a time.
func printRequests(w io.Writer) func(emulator.Request) {
	var mu sync.Mutex
	return func(r emulator.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, r)
	}
}
