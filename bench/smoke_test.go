package bench

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The smoke tests run every scenario of the table at a small size and no
// added latency, so that `go test ./...` keeps the harness working. They
// assert what is deterministic — request counts, action counts, no failed
// action — never timings.

const smokeJobs = 120 // above refresh's 48-job threshold, so the list strategy is used

func smokeConfig(t *testing.T) Config {
	return Config{Dir: t.TempDir(), Runs: 1, BuildTime: time.Nanosecond}
}

func TestSmokePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	res, err := RunPlan(ctx, smokeConfig(t), Workload{Jobs: smokeJobs, Tasks: 3})
	if err != nil {
		t.Fatal(err)
	}
	// 120 jobs are two pages of jobs/list and nothing else.
	if got := res.NoChange.Requests(); got != 2 {
		t.Errorf("no-change plan of %d jobs made %d requests, want 2 (two list pages)", smokeJobs, got)
	}
	// Jobs 0 and 100 drifted: the two pages plus one jobs/get to confirm each.
	if res.DriftActions != 2 {
		t.Errorf("plan after drift has %d actions, want 2", res.DriftActions)
	}
	if got := res.Drift.Requests(); got != 4 {
		t.Errorf("plan after drift made %d requests, want 4", got)
	}
	if res.BuildPerJob <= 0 {
		t.Errorf("planning CPU per job not measured")
	}
}

func TestSmokeWidePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	res, err := RunPlan(ctx, smokeConfig(t), Workload{Jobs: 3, Tasks: 500})
	if err != nil {
		t.Fatal(err)
	}
	// A lockfile naming three jobs is read with jobs/get; 500 tasks are
	// five pages of 100 each.
	if got := res.NoChange.Requests(); got != 15 {
		t.Errorf("no-change plan of 3 × 500 tasks made %d requests, want 15", got)
	}
}

func TestSmokeApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	res, err := RunApply(ctx, smokeConfig(t), Workload{Jobs: smokeJobs, Tasks: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		ss       Samples
		requests int64
		applied  int
	}{
		{"create", res.Create, smokeJobs, smokeJobs},
		{"update 10%", res.Update, smokeJobs / 10, smokeJobs / 10},
		{"delete 10%", res.Delete, smokeJobs / 10, smokeJobs / 10},
	} {
		if got := c.ss.Requests(); got != c.requests {
			t.Errorf("%s: %d requests, want %d (one per action)", c.name, got, c.requests)
		}
		if got := c.ss.Applied(); got != c.applied {
			t.Errorf("%s: %d applied, want %d", c.name, got, c.applied)
		}
		if c.ss.Failed() != 0 {
			t.Errorf("%s: %d failed actions", c.name, c.ss.Failed())
		}
	}
}

func TestSmokeRateLimited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// 30 creates against a 20/s limit: the first 20 pass, the rest are
	// refused with 429 until the client's bucket has adapted.
	res, err := RunRateLimited(ctx, smokeConfig(t), 30, 20)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Samples[0]
	if s.Failed != 0 || s.Applied != 30 {
		t.Errorf("rate-limited apply: %d applied, %d failed; want 30, 0", s.Applied, s.Failed)
	}
	if s.Throttled == 0 {
		t.Errorf("no 429 was answered: the limit was not exercised")
	}
	if s.Requests != 30+s.Throttled {
		t.Errorf("%d requests for 30 creates and %d throttled answers: a create was sent twice", s.Requests, s.Throttled)
	}
}

func TestSmokeCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the jobsync binary")
	}
	t.Parallel()
	ctx := context.Background()
	repo, err := FindRepo()
	if err != nil {
		t.Fatal(err)
	}
	cfg := smokeConfig(t)
	if cfg.CLI, err = BuildCLI(ctx, repo, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	res, err := RunPlan(ctx, cfg, Workload{Jobs: smokeJobs, Tasks: 3})
	if err != nil {
		t.Fatal(err)
	}
	cli := res.NoChangeCLI
	if len(cli) != 1 || cli.Requests() != 2 {
		t.Fatalf("jobsync plan: %+v, want one run of 2 requests", cli)
	}
	if runtime.GOOS == "linux" && (cli.RSSKB() < 1024 || cli.RSSKB() > 1<<20) {
		t.Errorf("peak RSS %d KiB is not plausible for a %d-job plan", cli.RSSKB(), smokeJobs)
	}
	// After the drift of jobs 0 and 100: two pages, two confirming gets.
	if d := res.DriftCLI; len(d) != 1 || d.Requests() != 4 {
		t.Errorf("jobsync plan after drift: %+v, want one run of 4 requests", d)
	}
	ar, err := RunApply(ctx, cfg, Workload{Jobs: 20, Tasks: 3})
	if err != nil {
		t.Fatal(err)
	}
	// SCIM /Me and the workspace lease (a first create that finds no
	// state folder, mkdirs, the create, then the read and delete of the
	// release), one jobs/list, then twenty creates.
	if got := ar.CreateCLI.Requests(); got != 6+21 {
		t.Errorf("jobsync apply of 20 jobs made %d requests, want %d", got, 6+21)
	}
}

func TestTableMarkdown(t *testing.T) {
	t.Parallel()
	ms := func(d int) Samples { return Samples{{Wall: time.Duration(d) * time.Millisecond, Requests: 10}} }
	tab := &Table{
		Config:  TableConfig{Config: Config{Latency: 20 * time.Millisecond, Runs: 1}, Command: "go run ./bench/cmd/benchtable"},
		Machine: Machine{CPUs: 2, GoVersion: "go1.26"},
		Started: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		Plans: []*PlanResult{{Workload: Workload{Jobs: 1000, Tasks: 3}, NoChange: ms(600), Drift: ms(700), DriftActions: 10,
			BuildPerJob: 250 * time.Microsecond}},
		Applies: []*ApplyResult{{Workload: Workload{Jobs: 1000, Tasks: 3}, Create: ms(1700), Update: ms(400), Delete: ms(300)}},
		Rate:    &RateResult{Jobs: 400, PerSecond: 20, Samples: ms(21000)},
	}
	md := string(tab.Markdown())
	for _, want := range []string{
		"| no-change plan, 1,000 jobs: ≤ 2 s, ≤ 15 requests | 600 ms (CLI not run), 10 requests | yes |",
		"| planning CPU ≤ 0.2 ms/job | 0.250 ms/job (worst size, planner.Build) | **no** |",
		"| apply creating 1,000 jobs: ≤ 5 s | 1.70 s (CLI end to end not run) | yes |",
		"21.0 s vs 20.0 s (1.05×), 0 failed | yes |",
		"| 1,000 × 3 tasks | 10 | 700 ms | 10 | 1.17× | – | – | – | – |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestSplice(t *testing.T) {
	t.Parallel()
	gen := []byte("| table |\n")
	doc := []byte("# Benchmarks\n\nprose\n")
	once, err := Splice(doc, gen)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := Splice(once, []byte("| new |\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nprose\n" + Begin + "\n| new |\n" + End + "\n"
	if string(twice) != want {
		t.Errorf("splice twice:\n%s\nwant:\n%s", twice, want)
	}
	withTail := append(append([]byte(nil), once...), "\n## Other sections\n"...)
	again, err := Splice(withTail, gen)
	if err != nil || !bytes.HasSuffix(again, []byte("\n## Other sections\n")) || bytes.Count(again, []byte(Begin)) != 1 {
		t.Errorf("prose after the generated block was not kept: %v\n%s", err, again)
	}
	if _, err := Splice([]byte(End+"\n"+Begin+"\n"), gen); err == nil {
		t.Error("damaged markers were accepted")
	}
}
