package render

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/planner"
)

// fakeClock advances by step on every reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, ProgressPlain, fakeClock(200*time.Millisecond))
	p.Event(applier.Event{Key: "etl_daily", Op: planner.OpCreate, Phase: applier.PhaseStart, Total: 2})
	p.Event(applier.Event{Key: "etl_daily", Op: planner.OpCreate, Phase: applier.PhaseDone, Done: 1, Total: 2, JobID: 123})
	p.Event(applier.Event{Key: "report", Op: planner.OpUpdate, Phase: applier.PhaseStart, Total: 2, JobID: 7})
	p.Event(applier.Event{Key: "report", Op: planner.OpUpdate, Phase: applier.PhaseFailed, Done: 2, Total: 2, JobID: 7, Err: errors.New("HTTP 400: bad")})
	p.Event(applier.Event{Key: "/Workspace/f/src/a.py", Op: planner.OpUpload, Phase: applier.PhaseDone, Done: 3, Total: 3})
	p.Finish()
	want := "[1/2] created etl_daily (job 123) in 0.2s\n[2/2] failed to update report (job 7) after 0.2s: HTTP 400: bad\n[3/3] uploaded /Workspace/f/src/a.py\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// The applier's notice (jobs/update not implemented, updates sent as
// resets) is printed whatever the mode; successes are not under none.
func TestProgressNoneShowsNoticesAndFailures(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, ProgressNone, fakeClock(time.Millisecond))
	p.Event(applier.Event{Key: "a", Phase: applier.PhaseNotice, Note: "the workspace does not implement jobs/update (HTTP 404)"})
	p.Event(applier.Event{Key: "a", Op: planner.OpReset, Phase: applier.PhaseDone, Done: 1, Total: 2})
	p.Event(applier.Event{Key: "b", Op: planner.OpDelete, Phase: applier.PhaseFailed, Done: 2, Total: 2, Err: errors.New("gone")})
	want := "note: the workspace does not implement jobs/update (HTTP 404)\n[2/2] failed to delete b: gone\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

func TestProgressTTYKeepsOneStatusLine(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, ProgressTTY, fakeClock(time.Second))
	p.Event(applier.Event{Key: "a", Op: planner.OpCreate, Phase: applier.PhaseDone, Done: 1, Total: 2, JobID: 1})
	p.Event(applier.Event{Key: "b", Op: planner.OpCreate, Phase: applier.PhaseFailed, Done: 2, Total: 2, Err: errors.New("no")})
	p.Finish()
	want := "Applying: 1 of 2 done (1/s); last: created a (job 1)" +
		"\r\x1b[K[2/2] failed to create b: no\nApplying: 2 of 2 done (1/s); last: failed to create b: no" +
		"\r\x1b[K"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}
