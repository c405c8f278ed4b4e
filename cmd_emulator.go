package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

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
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("emulator takes no arguments")
			}
			o := emulatorOpts{
				addr:        c.String("addr"),
				data:        c.String("data"),
				latency:     c.Duration("latency"),
				rateLimit:   c.Float64("rate-limit"),
				failRate:    c.Float64("fail-rate"),
				reorder:     c.Bool("reorder"),
				user:        c.String("user"),
				workspaceID: c.Int64("workspace-id"),
				workspaces:  c.String("workspaces"),
				allowRemote: c.Bool("allow-remote"),
			}
			if err := o.validate(); err != nil {
				return err
			}
			dir, err := emulatorDirectory(c.String("principals"), c.StringSlice("principal"), c.StringSlice("token"))
			if err != nil {
				return err
			}
			o.directory = dir
			return runEmulator(c.Context, e, o)
		},
	}
}

type emulatorOpts struct {
	addr, data, user    string
	directory           emulator.Directory
	workspaceID         int64
	workspaces          string
	latency             time.Duration
	rateLimit, failRate float64
	reorder             bool
	allowRemote         bool
	ready               func(url string) // called once serving (tests)
}

// emulatorDirectory builds the principal directory of the flags: the file
// first, then each --principal and --token.
func emulatorDirectory(file string, principals, tokens []string) (emulator.Directory, error) {
	var d emulator.Directory
	if file != "" {
		var err error
		if d, err = emulator.ReadDirectory(file); err != nil {
			return d, usageError(err.Error())
		}
	}
	for _, p := range principals {
		if err := d.AddPrincipal(p); err != nil {
			return d, usageError("--principal " + err.Error())
		}
	}
	for _, t := range tokens {
		if err := d.AddToken(t); err != nil {
			return d, usageError("--token: " + err.Error())
		}
	}
	return d, nil
}

func (o emulatorOpts) validate() error {
	if o.workspaceID < 0 {
		return usageError("--workspace-id must be a positive number")
	}
	if o.workspaces != "" && o.workspaces != emulator.WorkspacesShared && o.workspaces != emulator.WorkspacesPerToken {
		return usageError(fmt.Sprintf("--workspaces %q: use shared or per-token", o.workspaces))
	}
	if o.latency < 0 {
		return usageError("--latency must not be negative")
	}
	if o.rateLimit < 0 {
		return usageError("--rate-limit must not be negative")
	}
	if o.failRate < 0 || o.failRate > 1 {
		return usageError("--fail-rate must be between 0 and 1, e.g. 0.05")
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usageError(fmt.Sprintf("--addr %q is not HOST:PORT, e.g. 127.0.0.1:8089", o.addr))
	}
	if o.allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return usageError(fmt.Sprintf("--addr %q is not a loopback address: the emulator accepts any token, so anyone who can reach it can change its jobs; use 127.0.0.1, or pass --allow-remote", o.addr))
	}
	return nil
}

// runEmulator serves until ctx is cancelled, then saves the state.
func runEmulator(ctx context.Context, e *env, o emulatorOpts) error {
	// A standalone server's request log is never read: keep it small.
	srv, err := emulator.New(emulator.Options{DataFile: o.data, Latency: o.latency, ReorderReads: o.reorder, User: o.user,
		Directory: o.directory, WorkspaceID: o.workspaceID, Workspaces: o.workspaces, RequestLogLimit: 100})
	if err != nil {
		return err
	}
	srv.SetRateLimit("", o.rateLimit)
	srv.SetFailRate(o.failRate)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.addr)
	if err != nil {
		return fmt.Errorf("emulator: cannot listen on %s: %w (is another emulator running? choose another --addr)", o.addr, err)
	}
	url := "http://" + ln.Addr().String()
	hs := srv.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	stateLine := "state: in memory only (use --data FILE to keep it)"
	if o.data != "" {
		stateLine = "state: " + o.data + " (saved on exit)"
	}
	if o.workspaces == emulator.WorkspacesPerToken {
		stateLine += "\n  workspaces: one per token"
	}
	fmt.Fprintf(e.out, `jobsync emulator: serving an emulated Databricks workspace on %s
  %s
Point jobsync at it:
  export DATABRICKS_HOST=%s DATABRICKS_TOKEN=anything
  jobsync plan
or curl:
  curl -s -H 'Authorization: Bearer anything' %s/api/2.2/jobs/list
Press Ctrl-C to stop.
`, url, stateLine, url, url)
	if o.ready != nil {
		o.ready(url)
	}

	select {
	case <-ctx.Done():
	case err = <-served:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx) // lets in-flight requests finish, so that their writes are saved
	if cerr := srv.Close(); cerr != nil {
		return cerr
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: %w", err)
	}
	if o.data != "" {
		fmt.Fprintf(e.out, "Stopped; state saved to %s.\n", o.data)
	} else {
		fmt.Fprintln(e.out, "Stopped.")
	}
	return nil
}
