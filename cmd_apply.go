package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

func applyFlags() []cli.Flag {
	return append(planFlags(),
		&cli.BoolFlag{Name: "auto-approve", Usage: "apply without asking for confirmation"},
		&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "wait this long for another apply's lock before giving up"},
		&cli.BoolFlag{Name: "progress", Usage: "print progress on stderr even when it is not a terminal"},
	)
}

func applyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "make the workspace match the YAML (or apply a saved plan exactly)",
		ArgsUsage: "[PATH... | PLANFILE]",
		Description: `Without a plan file: plans, shows the plan and asks for "yes" (--auto-approve skips).
With a saved plan (jobsync plan -out FILE): applies exactly that plan, refusing it when the
lockfile changed since, or when a job it touches changed in the workspace since.
The lockfile is saved after every completed action; Ctrl-C stops cleanly (exit 130).`,
		Flags: applyFlags(),
		Action: func(c *cli.Context) error {
			ctx := c.Context
			plan, err := savedPlanArg(c.Args().Slice())
			if err != nil {
				return err
			}
			saved := plan != nil
			var cfg *schema.Config
			var st *state.Store
			openIt := func() (*workspace, error) {
				w, s, err := openLocked(ctx, c, e)
				st = s
				return w, err
			}
			var w *workspace
			if saved {
				w, err = openIt()
			} else {
				cfg, w, err = loadAndOpen(c, e, openIt)
			}
			if err != nil {
				return err
			}
			defer w.Close()
			if saved {
				if plan.Workspace != w.name {
					return fmt.Errorf("the plan was made for workspace %s, not %s: run jobsync plan against this workspace", plan.Workspace, w.name)
				}
				if plan.Project != w.project {
					return fmt.Errorf("the plan was made for project %q, not %q: %s", plan.Project, w.project, projectHint(c, plan.Project))
				}
				if err := planner.CheckFresh(plan, st.File()); err != nil {
					return err
				}
			} else {
				p, err := makePlan(ctx, c, e, w, st.File(), cfg)
				if err != nil {
					return err
				}
				plan = p
				if err := render.Text(e.out, plan, render.Options{Color: useColor(e)}); err != nil {
					return err
				}
				if plan.Empty() && len(plan.Records) == 0 {
					// A journal left by an apply that could not finish
					// its lockfile was replayed on open: fold it in, so
					// the committed lockfile catches up.
					return st.Commit(ctx)
				}
				// Lockfile-only records (adopted jobs) change nothing in
				// the workspace, so they need no approval.
				if !plan.Empty() && !c.Bool("auto-approve") {
					ok, err := confirm(ctx, e, "\nDo you want to apply these changes? Only 'yes' will be accepted: ")
					if err != nil {
						return err
					}
					if !ok {
						return errAborted
					}
				}
			}
			if plan.Empty() && len(plan.Records) == 0 {
				fmt.Fprintln(e.out, "No changes to apply.")
				return st.Commit(ctx)
			}
			if st.File() == nil {
				st.Init(w.name, w.project)
			}
			return runApply(ctx, c, e, w, st, plan, saved)
		},
	}
}

func runApply(ctx context.Context, c *cli.Context, e *env, w *workspace, st *state.Store, plan *planner.Plan, saved bool) error {
	start := time.Now()
	prog := newProgress(e, c.Bool("progress"), len(plan.Actions))
	res, err := applier.Apply(ctx, plan, w.client, st, applier.Options{
		Parallelism: c.Int("parallelism"),
		CheckLive:   saved,
		Progress:    prog.event,
	})
	if res != nil {
		recorded := ""
		if len(res.Recorded) > 0 {
			recorded = fmt.Sprintf(", %d recorded in the lockfile", len(res.Recorded))
		}
		fmt.Fprintf(e.out, "\nApply %s: %d applied%s, %d failed, %d not started (%s, %d API requests).\n",
			outcome(res, err), len(res.Applied), recorded, len(res.Failed), len(res.NotStarted),
			time.Since(start).Round(time.Millisecond), w.client.Stats().Requests)
		if len(res.NotStarted) > 0 {
			fmt.Fprintln(e.out, "Run jobsync apply again to finish: the lockfile records everything that was applied.")
		}
	}
	// Each failure was printed as it happened; the last word names them.
	if res != nil && len(res.Failed) > 0 && !errors.Is(err, context.Canceled) {
		keys := make([]string, len(res.Failed))
		for i, f := range res.Failed {
			keys[i] = f.Key
		}
		return &exitErr{code: exitError, msg: fmt.Sprintf("%s failed (%s): see above", plural(len(res.Failed), "action", "actions"), strings.Join(keys, ", "))}
	}
	return err
}

func outcome(res *applier.Result, err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case err != nil || len(res.Failed) > 0:
		return "stopped"
	}
	return "complete"
}

// progress prints one line per finished action on stderr when stderr is a
// terminal (or --progress), and failures always.
type progress struct {
	e       *env
	verbose bool
	total   int
	start   time.Time
	mu      sync.Mutex
}

func newProgress(e *env, force bool, total int) *progress {
	verbose := force
	if isTerminal(e.err) {
		verbose = true
	}
	return &progress{e: e, verbose: verbose, total: total, start: time.Now()}
}

func (p *progress) event(ev applier.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Phase {
	case applier.PhaseNotice:
		fmt.Fprintf(p.e.err, "note: %s\n", ev.Note)
	case "failed":
		fmt.Fprintf(p.e.err, "[%d/%d] %s %s failed: %v\n", ev.Done, p.total, ev.Op, ev.Key, ev.Err)
	case "done":
		if !p.verbose {
			return
		}
		rate := float64(ev.Done) / time.Since(p.start).Seconds()
		fmt.Fprintf(p.e.err, "[%d/%d] %s %s (%.0f/s)\n", ev.Done, p.total, ev.Op, ev.Key, rate)
	}
}
