package refresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/state"
)

// TestStaleLockfileNeverDuplicates: a job deleted and re-created under our
// tag with another id since the lockfile was written is adopted, never
// created a second time, whatever the refresh strategy and the project's
// size (auto reads a project of up to 48 jobs with per-job gets, which
// cannot see the new id by itself).
func TestStaleLockfileNeverDuplicates(t *testing.T) {
	for _, n := range []int{5, 60} {
		for _, s := range []refresh.Strategy{refresh.Auto, refresh.Get, refresh.List} {
			t.Run(fmt.Sprintf("%d jobs/%s", n, s), func(t *testing.T) {
				w := newWorld(t)
				ctx := context.Background()
				desired := jobs(n, nil, nil)
				p, _ := w.plan(desired, refresh.List)
				w.apply(p)
				if err := w.store.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				key := desired[2].Key
				old := w.store.File().Jobs[key].JobID
				j, err := w.client.GetJob(ctx, old)
				if err != nil {
					t.Fatal(err)
				}
				if err := w.client.DeleteJob(ctx, old); err != nil {
					t.Fatal(err)
				}
				body, _ := json.Marshal(j.Settings)
				moved, err := w.client.CreateJob(ctx, body)
				if err != nil {
					t.Fatal(err)
				}

				p, _ = w.plan(desired, s)
				if c := p.Counts()[planner.OpCreate]; c != 0 {
					t.Fatalf("%s: %d creates, want none (job %d carries the tag of %s)", p.Refresh.Strategy, c, moved, key)
				}
				// A per-job read cannot see the new id: it must have listed too.
				wantStrategy := "list"
				if s == refresh.Get || s == refresh.Auto && n <= 48 {
					wantStrategy = "get+list"
				}
				if p.Refresh.Strategy != wantStrategy {
					t.Errorf("strategy %s, want %s", p.Refresh.Strategy, wantStrategy)
				}
				if len(p.Records) != 1 || p.Records[0].Key != key || p.Records[0].JobID != moved {
					t.Fatalf("%s: records %+v, want %s adopted as job %d", p.Refresh.Strategy, p.Records, key, moved)
				}
				w.apply(p)
				if got := w.store.File().Jobs[key].JobID; got != moved {
					t.Fatalf("the lockfile maps %s to %d, want %d", key, got, moved)
				}
				if got := len(w.emu.JobIDs()); got != n {
					t.Fatalf("%d jobs in the workspace, want %d", got, n)
				}
				if p, _ := w.plan(desired, s); !p.Empty() || len(p.Records) > 0 {
					t.Fatalf("plan after adopting is not empty: %+v %+v", p.Actions, p.Records)
				}
			})
		}
	}
}

// TestForeignLockfileEntryUnderEveryStrategy: whichever way the workspace
// is read, a lockfile entry naming a job without the key's tag (none, or
// another project's) stops the plan with an *OwnershipError, and a gone
// job whose key's tag now sits on another id is adopted, not refused.
func TestForeignLockfileEntryUnderEveryStrategy(t *testing.T) {
	for _, tag := range []string{"", "other-project/job_0001"} {
		for _, s := range []refresh.Strategy{refresh.Auto, refresh.Get, refresh.List} {
			t.Run(fmt.Sprintf("%q/%s", tag, s), func(t *testing.T) {
				w := newWorld(t)
				ctx := context.Background()
				desired := jobs(3, nil, nil)
				p, _ := w.plan(desired, refresh.List)
				w.apply(p)
				settings := map[string]any{"name": "someone else's"}
				if tag != "" {
					settings["tags"] = map[string]any{"jobsync": tag}
				}
				body, _ := json.Marshal(settings)
				foreign, err := w.client.CreateJob(ctx, body)
				if err != nil {
					t.Fatal(err)
				}
				key := desired[1].Key
				if err := w.store.Record(ctx, key, state.Job{JobID: foreign}); err != nil {
					t.Fatal(err)
				}
				_, _, err = refresh.Plan(ctx, w.client, planner.Input{
					Desired: desired, Lock: w.store.File(), Project: project, Workspace: "https://emulator",
				}, refresh.Options{Strategy: s})
				var oe *planner.OwnershipError
				if !errors.As(err, &oe) || oe.Key != key || oe.JobID != foreign || oe.Tag != tag {
					t.Fatalf("want an ownership error for %s and job %d, got %v", key, foreign, err)
				}
				// The key's real job still carries its tag: a list names it.
				if oe.Tagged == 0 {
					t.Errorf("the message does not name the job that carries the key's tag: %v", err)
				}
			})
		}
	}
}
