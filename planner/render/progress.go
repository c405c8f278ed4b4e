package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/planner"
)

// ProgressMode is how apply progress is shown (--progress).
type ProgressMode string

const (
	// ProgressPlain is one line per finished action, for CI logs and
	// other non-terminals: "[3/9] created etl_daily (job 123) in 0.4s".
	ProgressPlain ProgressMode = "plain"
	// ProgressTTY is one status line, rewritten in place, for a terminal;
	// failures still get a line of their own.
	ProgressTTY ProgressMode = "tty"
	// ProgressNone shows no progress. Failures are still shown: they are
	// errors, not progress.
	ProgressNone ProgressMode = "none"
)

// Progress renders applier events as they come (its Event method is an
// applier.Options.Progress). It is safe for concurrent use.
type Progress struct {
	w     io.Writer
	mode  ProgressMode
	now   func() time.Time
	start time.Time

	mu      sync.Mutex
	started map[string]time.Time
	status  bool // a TTY status line is on screen
}

// NewProgress shows progress on w in mode; now is the clock (time.Now).
func NewProgress(w io.Writer, mode ProgressMode, now func() time.Time) *Progress {
	return &Progress{w: w, mode: mode, now: now, start: now(), started: map[string]time.Time{}}
}

var pastTense = map[planner.Op]string{
	planner.OpCreate: "created", planner.OpUpdate: "updated", planner.OpReset: "reset",
	planner.OpDelete: "deleted", planner.OpPermissions: "set the permissions of",
	planner.OpUpload: "uploaded", planner.OpDeleteFile: "deleted the file",
}

var infinitive = map[planner.Op]string{
	planner.OpCreate: "create", planner.OpUpdate: "update", planner.OpReset: "reset",
	planner.OpDelete: "delete", planner.OpPermissions: "set the permissions of",
	planner.OpUpload: "upload", planner.OpDeleteFile: "delete the file",
}

// verb is the word for op in tense (an op added later reads as itself).
func verb(tense map[planner.Op]string, op planner.Op) string {
	if v, ok := tense[op]; ok {
		return v
	}
	return string(op)
}

// Event shows one applier event.
func (p *Progress) Event(ev applier.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	switch ev.Phase {
	case applier.PhaseStart:
		p.started[ev.Key] = now
		return
	case applier.PhaseNotice:
		// About the whole apply (updates sent as resets from now on):
		// shown in every mode.
		p.clearLocked()
		fmt.Fprintf(p.w, "note: %s\n", ev.Note)
		return
	}
	took := ""
	if t, ok := p.started[ev.Key]; ok {
		took = seconds(now.Sub(t))
		delete(p.started, ev.Key)
	}
	job := ev.Key
	if ev.JobID != 0 {
		job += fmt.Sprintf(" (job %d)", ev.JobID)
	}
	count := fmt.Sprintf("[%d/%d] ", ev.Done, ev.Total)
	var line string
	switch ev.Phase {
	case applier.PhaseFailed:
		line = fmt.Sprintf("%sfailed to %s %s", count, verb(infinitive, ev.Op), job)
		if took != "" {
			line += " after " + took
		}
		line += ": " + errText(ev.Err)
	case applier.PhaseDone:
		if p.mode == ProgressNone {
			return
		}
		line = fmt.Sprintf("%s%s %s", count, verb(pastTense, ev.Op), job)
		if took != "" {
			line += " in " + took
		}
	default:
		return
	}
	if ev.Note != "" {
		line += " (" + ev.Note + ")"
	}
	if p.mode != ProgressTTY {
		fmt.Fprintln(p.w, line)
		return
	}
	// A terminal: failures stay on screen, successes only update the
	// status line.
	p.clearLocked()
	if ev.Phase == applier.PhaseFailed {
		fmt.Fprintln(p.w, line)
	}
	rate := float64(ev.Done) / now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "Applying: %d of %d done (%.0f/s); last: %s", ev.Done, ev.Total, rate, strings.TrimPrefix(line, count))
	p.status = true
}

// Finish takes the status line off a terminal, before the summary.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *Progress) clearLocked() {
	if p.status {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.status = false
	}
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// seconds renders a duration as people read one in a log: 0.4s, 12s, 3m5s.
func seconds(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// ApplySummary is the last word of an apply: what was applied, recorded,
// failed (each with its message) and not started, how long it took and how
// many requests it made, and what to do next.
// err is what the apply returned.
func ApplySummary(w io.Writer, res *applier.Result, err error, took time.Duration, requests int64) error {
	var b strings.Builder
	outcome := "complete"
	switch {
	case errors.Is(err, context.Canceled):
		outcome = "interrupted"
	case err != nil || len(res.Failed) > 0 || len(res.NotStarted) > 0:
		outcome = "stopped"
	}
	recorded := ""
	if len(res.Recorded) > 0 {
		recorded = fmt.Sprintf(", %d recorded in the lockfile", len(res.Recorded))
	}
	fmt.Fprintf(&b, "\nApply %s: %d applied%s, %d failed, %d not started (%s, %s).\n",
		outcome, len(res.Applied), recorded, len(res.Failed), len(res.NotStarted),
		took.Round(time.Millisecond), Plural(int(requests), "API request", "API requests"))
	for _, f := range res.Failed {
		fmt.Fprintf(&b, "  failed: %s: %s\n", f.Key, errText(f.Err))
	}
	if len(res.NotStarted) > 0 {
		b.WriteString("Run jobsync apply again to finish: the lockfile records everything that was applied.\n")
	}
	_, werr := io.WriteString(w, b.String())
	return werr
}

// Refresh is the line that says how the workspace was read.
func Refresh(w io.Writer, p *planner.Plan) error {
	r := p.Refresh
	if r == nil {
		return nil
	}
	read := Plural(r.JobsRead, "job", "jobs")
	if r.Folders > 0 {
		read += " and " + Plural(r.Folders, "workspace folder", "workspace folders")
	}
	_, err := fmt.Fprintf(w, "Read %s from %s with %s in %s (%s).\n",
		read, p.Workspace, Plural(int(r.Requests), "API request", "API requests"),
		(time.Duration(r.DurationMS) * time.Millisecond).String(), r.Strategy)
	return err
}
