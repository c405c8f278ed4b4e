package reliability

import (
	"strconv"
	"testing"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
)

// TestLoadFaultyApply applies 5,000 jobs 16-way while the emulator fails
// 5% of all requests at random (500 or 503, before doing anything) and
// drops the connection after committing 20 creates. Re-applying, a
// bounded number of times, must converge with no duplicate job and an
// empty plan. It runs in about 15 s on 2 CPUs.
func TestLoadFaultyApply(t *testing.T) {
	t.Parallel()
	const jobs, rounds = 5000, 15
	start := time.Now()
	w := newWorld(t, worldOptions{jobs: jobs, emulator: emulator.Options{Seed: 7},
		client: jobsapi.Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}})
	w.emu.SetFailRate(0.05)
	w.emu.InjectFault(emulator.Fault{Endpoint: "jobs/create", DropAfterCommit: true, Count: 20})

	applies, failed := 0, 0
	var firstErrs []string
	for ; applies < rounds; applies++ {
		p, res, err := w.apply(applier.Options{Parallelism: 16})
		if p == nil {
			// The plan itself failed (a read beyond its retries): try again.
			firstErrs = append(firstErrs, err.Error())
			continue
		}
		w.checkAfterFault(p, res)
		if err == nil && len(p.Actions) == 0 {
			break
		}
		if res != nil {
			failed += len(res.Failed)
		}
		if err != nil && len(firstErrs) < 3 {
			firstErrs = append(firstErrs, err.Error())
		}
	}
	if applies == rounds {
		t.Fatalf("not converged after %d applies under 5%% faults; first errors: %q", rounds, firstErrs)
	}
	faults := w.count(func(r emulator.Request) bool { return r.Status >= 500 || r.Status == 0 })
	requests := w.emu.RequestCount()
	w.emu.SetFailRate(0)
	if n := w.jobCount(); n != jobs {
		t.Errorf("%d jobs in the workspace, want %d", n, jobs)
	}
	p, err := w.plan()
	must(t, err)
	if !p.Empty() || len(p.Records) != 0 {
		t.Errorf("re-plan after convergence is not empty: %v, %d records", p.Counts(), len(p.Records))
	}
	w.checkConverged()
	took := time.Since(start)
	t.Logf("converged in %d applies (%d actions failed on the way), %d requests, %d faults, %s; first errors: %q",
		applies, failed, requests, faults, took.Round(time.Millisecond), firstErrs)
	if c := p.Counts(); c[planner.OpCreate] != 0 {
		t.Errorf("creates left: %d", c[planner.OpCreate])
	}
	fileRow(t, row{Fault: "load: 5,000 creates, 16-way, 5% random 500/503 + 20 connections dropped after commit",
		Behaviour: "each apply stops at its first failed action; re-applying converged in " + strconv.Itoa(applies) + " applies with no duplicate and an empty plan",
		Injected:  faults})
}
