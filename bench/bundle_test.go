package bench

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// TestSmokeBundle: a bundle's first apply uploads every file; after it, a
// no-change plan makes no workspace-files request but one listing per
// folder, and applying it sends nothing at all.
func TestSmokeBundle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := BundleWorkload{Jobs: 20, Folders: 4}
	b, err := NewBundleEnv(ctx, t.TempDir(), w)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.Cfg.Uploads) != 2*w.Jobs {
		t.Fatalf("%d uploads, want %d", len(b.Cfg.Uploads), 2*w.Jobs)
	}
	p, err := b.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Counts(); c["upload"] != 2*w.Jobs || c["create"] != w.Jobs {
		t.Fatalf("first plan %v", c)
	}
	if _, err := b.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	b.Emu.ResetRequests()
	p, err = b.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Fatalf("no-change plan has actions: %v", p.Counts())
	}
	ws := b.WorkspaceRequests()
	if ws["list"] != w.Folders || len(ws) != 1 {
		t.Errorf("no-change plan made workspace-files requests %v, want %d lists and nothing else", ws, w.Folders)
	}
	b.Emu.ResetRequests()
	if _, err := b.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, r := range b.Emu.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("applying the no-change plan sent %s %s", r.Method, r.Path)
		}
	}
}

// TestSmokeRunBundle runs the table's bundle scenario small: the first
// apply makes every upload and create, the plan after it lists each
// folder once.
func TestSmokeRunBundle(t *testing.T) {
	t.Parallel()
	// Above refresh's 48-job threshold, so the workspace is listed.
	res, err := RunBundle(context.Background(), smokeConfig(t), BundleWorkload{Jobs: 60, Folders: 2})
	if err != nil {
		t.Fatal(err)
	}
	if a := res.FirstApply[0]; a.Applied != 180 {
		t.Errorf("first apply applied %d actions, want 180 (120 uploads, 60 creates)", a.Applied)
	}
	// One jobs/list page and one workspace/list per folder.
	if got := res.NoChange.Requests(); got != 3 {
		t.Errorf("no-change plan made %d requests, want 3", got)
	}
}

// BenchmarkBundleNoChangePlan is the no-change plan of a bundle of 200
// jobs and 400 local files in 20 folders, at 20 ms per request; it
// reports the requests per plan, how many of them were workspace-files
// requests, and how long the first apply (400 uploads, 200 creates)
// took.
//
//	go test ./bench -run '^$' -bench BundleNoChangePlan -benchtime 5x
func BenchmarkBundleNoChangePlan(b *testing.B) {
	ctx := context.Background()
	w := BundleWorkload{Jobs: 200, Folders: 20}
	be, err := NewBundleEnv(ctx, b.TempDir(), w)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	p, err := be.Plan(ctx)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	be.Emu.SetLatency(*benchLatencyFlag)
	if _, err := be.Apply(ctx, p); err != nil {
		b.Fatal(err)
	}
	firstApply := time.Since(start)
	runtime.GC()
	be.Emu.ResetRequests()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := be.Plan(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !p.Empty() {
			b.Fatalf("not a no-change plan: %v", p.Counts())
		}
	}
	b.StopTimer()
	ws := be.WorkspaceRequests()
	b.ReportMetric(float64(len(be.Emu.Requests()))/float64(b.N), "requests/op")
	b.ReportMetric(float64(ws["list"])/float64(b.N), "folder-lists/op")
	other := 0
	for k, n := range ws {
		if k != "list" {
			other += n
		}
	}
	b.ReportMetric(float64(other)/float64(b.N), "other-file-requests/op")
	b.ReportMetric(float64(firstApply.Milliseconds()), "first-apply-ms")
}
