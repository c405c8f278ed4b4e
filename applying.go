package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/state"
)

// What apply and destroy share: approval, progress and the summary.

var errAborted = errors.New("apply cancelled: nothing was changed")

func writeFlags(approve string) []cli.Flag {
	return append([]cli.Flag{
		&cli.BoolFlag{Name: "auto-approve", Usage: approve + " without asking for confirmation"},
		&cli.StringFlag{Name: "progress", Value: "auto", Usage: "progress on stderr: plain (a line per finished action, for CI logs), tty (one status line), none (failures only), or auto: tty on a terminal, else plain"},
	}, lockFlags()...)
}

// progressOf is --progress, auto resolved against stderr.
func progressOf(c *cli.Context, e *env) (render.ProgressMode, error) {
	switch m := c.String("progress"); m {
	case "plain", "tty", "none":
		return render.ProgressMode(m), nil
	case "auto":
		if isTerminal(e.err) && e.getenv("TERM") != "dumb" {
			return render.ProgressTTY, nil
		}
		return render.ProgressPlain, nil
	default:
		return "", usageError(fmt.Sprintf("unknown --progress %q: want auto, plain, tty or none", m))
	}
}

// approved asks for "yes" unless --auto-approve.
func approved(c *cli.Context, e *env, question string) error {
	if c.Bool("auto-approve") {
		return nil
	}
	ok, err := confirm(c.Context, e, "\n"+question+" Only 'yes' will be accepted: ")
	if err == nil && !ok {
		err = errAborted
	}
	return err
}

// runApply applies the plan (applier.Apply) with progress on stderr and
// the summary on stdout.
func runApply(ctx context.Context, c *cli.Context, e *env, w *workspace, st *state.Store, plan *planner.Plan, saved bool) error {
	mode, err := progressOf(c, e)
	if err != nil {
		return err
	}
	if st.File() == nil {
		st.Init(w.name, w.project)
	}
	start, before := time.Now(), w.client.Stats().Requests
	prog := render.NewProgress(e.err, mode, time.Now)
	res, err := applier.Apply(ctx, plan, w.client, st, applier.Options{
		Parallelism: c.Int("parallelism"),
		CheckLive:   saved,
		Progress:    prog.Event,
	})
	prog.Finish()
	if res == nil {
		return err
	}
	if serr := render.ApplySummary(e.out, res, err, time.Since(start), w.client.Stats().Requests-before); serr != nil && err == nil {
		err = serr
	}
	// Each failure is in the summary with its message; the last word
	// names them for the exit.
	if len(res.Failed) > 0 && !errors.Is(err, context.Canceled) {
		keys := make([]string, len(res.Failed))
		for i, f := range res.Failed {
			keys[i] = f.Key
		}
		return &exitErr{code: exitError, msg: fmt.Sprintf("%s failed (%s): see above", render.Plural(len(res.Failed), "action", "actions"), strings.Join(keys, ", "))}
	}
	return leaseStopped(ctx, err)
}
