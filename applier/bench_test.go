package applier

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/schema"
)

// BenchmarkApplyCreate1000 is the design target "apply creating 1,000 jobs
// at 20 ms latency: ≤ 5 s" (DESIGN.md §8): Apply only, the plan made
// beforehand, every action journalled and the lockfile committed.
func BenchmarkApplyCreate1000(b *testing.B) {
	desired := make([]*schema.Job, 1000)
	for i := range desired {
		desired[i] = job(fmt.Sprintf("j%04d", i))
	}
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, emulator.Options{})
		p := e.plan(desired, false)
		e.emu.SetLatency(20 * time.Millisecond)
		st := e.store()
		b.StartTimer()
		res, err := Apply(context.Background(), p, e.client, st, Options{})
		if err != nil || len(res.Applied) != 1000 {
			b.Fatalf("%v %d", err, len(res.Applied))
		}
	}
}
