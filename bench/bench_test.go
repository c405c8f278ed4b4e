package bench

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Go benchmarks of the same scenarios as the table, for profiling one of
// them at a time, e.g.
//
//	go test ./bench -run '^$' -bench 'NoChangePlan/jobs=10000' -benchtime 3x -cpuprofile cpu.out -memprofile mem.out
//
// They are not run by `go test ./...` (no -bench).

// benchLatency is the emulator's added latency per request; -latency 0
// shows the CPU-bound floor of a scenario.
var benchLatencyFlag = flag.Duration("latency", 20*time.Millisecond, "latency the emulator adds to every request in the benchmarks")

var benchSizes = []int{100, 1000, 10000}

// seeded returns an environment whose workspace and lockfile match w.
func seeded(b *testing.B, w Workload) (*Env, Workload, []*schema.Job) {
	b.Helper()
	dir := b.TempDir()
	ctx := context.Background()
	desired, err := w.Desired(ctx, filepath.Join(dir, "jobs"))
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEnv(EnvOptions{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	if _, err := e.Converge(ctx, desired, false, 3); err != nil {
		b.Fatal(err)
	}
	return e, w, desired
}

// BenchmarkNoChangePlan is refresh.Plan of a workspace that matches the
// YAML, at 20 ms per request.
func BenchmarkNoChangePlan(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			e, _, desired := seeded(b, Workload{Jobs: n, Tasks: 3})
			e.Emu.SetLatency(*benchLatencyFlag)
			ctx := context.Background()
			runtime.GC()
			e.Emu.ResetRequests()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, _, err := e.Plan(ctx, desired, false)
				if err != nil || !p.Empty() {
					b.Fatalf("plan: %v", err)
				}
			}
			b.ReportMetric(float64(e.Emu.RequestCount())/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkBuildCPU is planner.Build alone on the live jobs a no-change
// refresh read (no network); DESIGN.md §8: ≤ 0.2 ms per job.
func BenchmarkBuildCPU(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			e, _, desired := seeded(b, Workload{Jobs: n, Tasks: 3})
			ctx := context.Background()
			_, live, err := e.Plan(ctx, desired, false)
			if err != nil {
				b.Fatal(err)
			}
			st, err := state.Open(ctx, e.LockPath)
			if err != nil {
				b.Fatal(err)
			}
			in := e.Input(desired, st.File(), false)
			in.Live = live
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				if p, err := planner.Build(in); err != nil || !p.Empty() {
					b.Fatalf("build: %v", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N*n), "wall-ms/job")
			if cpu := processCPU() - cpu0; cpu0 > 0 {
				b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N*n), "cpu-ms/job")
			}
		})
	}
}

// BenchmarkApplyCreate is applier.Apply of the creation of every job into
// an empty workspace, at 20 ms per request.
func BenchmarkApplyCreate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			ctx := context.Background()
			w := Workload{Jobs: n, Tasks: 3}
			desired, err := w.Desired(ctx, filepath.Join(b.TempDir(), "jobs"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e, err := NewEnv(EnvOptions{Dir: b.TempDir(), Emulator: emuWithLatency(*benchLatencyFlag)})
				if err != nil {
					b.Fatal(err)
				}
				p, _, err := e.Plan(ctx, desired, false)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				b.StartTimer()
				res, err := e.Apply(ctx, p, applier.Options{})
				b.StopTimer()
				if err != nil || len(res.Failed) > 0 {
					b.Fatalf("apply: %v", err)
				}
				e.Close()
				b.StartTimer()
			}
		})
	}
}
