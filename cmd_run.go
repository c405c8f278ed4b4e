package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/jobsapi"
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
			// c.Context ends at --timeout (withTimeouts).
			run, err := w.client.WaitRun(c.Context, r.RunID, c.Duration("poll-interval"), func(run *jobsapi.Run) {
				fmt.Fprint(e.out, run.State.LifeCycleState)
				if m := run.State.StateMessage; m != "" {
					fmt.Fprint(e.out, ": "+m)
				}
				fmt.Fprintln(e.out)
			})
			if err != nil {
				return err
			}
			for _, t := range run.Tasks {
				fmt.Fprintf(e.out, "  %s: %s\n", t.TaskKey, t.State.ResultState)
			}
			if s := run.State; s.ResultState != "SUCCESS" {
				return &exitErr{code: exitError, msg: fmt.Sprintf("run %d of %s ended %s %s", r.RunID, key, s.LifeCycleState, s.ResultState)}
			}
			fmt.Fprintf(e.out, "Run %d succeeded.\n", r.RunID)
			return nil
		},
	}
}
