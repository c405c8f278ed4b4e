package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/state"
)

func runCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "start a run of a managed job (run-now) and, with --wait, follow it to the end",
		ArgsUsage: "KEY",
		Flags: append(workspaceFlags(),
			&cli.BoolFlag{Name: "wait", Usage: "follow the run until it ends; exit 1 unless it succeeded"},
			&cli.DurationFlag{Name: "poll-interval", Value: 5 * time.Second, Usage: "how often to read the run's state with --wait"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("run takes one job key")
			}
			key := c.Args().First()
			w, err := openWorkspace(c.Context, c, e)
			if err != nil {
				return err
			}
			defer w.Close()
			st, err := state.Open(c.Context, w.lockPath)
			if err != nil {
				return err
			}
			f := st.File()
			if f == nil || f.Jobs[key].JobID == 0 {
				return fmt.Errorf("no managed job %q in %s: apply it first (jobsync state list shows the keys)", key, w.lockPath)
			}
			id := f.Jobs[key].JobID
			r, err := applier.RunNow(c.Context, w.client, w.project, key, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.out, "Started run %d of %s (job %d).\n", r.RunID, key, id)
			if !c.Bool("wait") {
				return nil
			}
			ctx := c.Context // ends at --timeout (withTimeouts)
			last := ""
			tick := time.NewTicker(c.Duration("poll-interval"))
			defer tick.Stop()
			for {
				run, err := w.client.GetRun(ctx, r.RunID)
				if err != nil {
					return err
				}
				s := run.State
				if s.LifeCycleState != last {
					fmt.Fprintf(e.out, "%s", s.LifeCycleState)
					if s.StateMessage != "" {
						fmt.Fprintf(e.out, ": %s", s.StateMessage)
					}
					fmt.Fprintln(e.out)
					last = s.LifeCycleState
				}
				switch s.LifeCycleState {
				case "TERMINATED", "SKIPPED", "INTERNAL_ERROR":
					for _, t := range run.Tasks {
						fmt.Fprintf(e.out, "  %s: %s\n", t.TaskKey, t.State.ResultState)
					}
					if s.ResultState != "SUCCESS" {
						return &exitErr{code: exitError, msg: fmt.Sprintf("run %d of %s ended %s %s", r.RunID, key, s.LifeCycleState, s.ResultState)}
					}
					fmt.Fprintf(e.out, "Run %d succeeded.\n", r.RunID)
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("stopped waiting for run %d: %w (the run goes on; cancel it in the workspace if needed)", r.RunID, ctx.Err())
				case <-tick.C:
				}
			}
		},
	}
}
