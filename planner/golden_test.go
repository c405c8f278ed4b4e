package planner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/*.txtar")

// goldenInput is one test case: the archive's comment holds options as
// "name: value" lines (project, prune, destroy, only).
func goldenInput(t *testing.T, ar *txtar.Archive) planner.Input {
	in := planner.Input{
		Project:     "acme",
		Workspace:   "https://example.cloud.databricks.com",
		Now:         time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		ToolVersion: "test",
	}
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "project":
			in.Project = v
		case "prune":
			in.Prune = v == "true"
		case "destroy":
			in.Destroy = v == "true"
		case "only":
			in.Only = strings.Split(v, ",")
		}
	}
	for _, f := range ar.Files {
		switch f.Name {
		case "desired.yaml":
			in.Desired = loadYAML(t, "desired.yaml", f.Data)
		case "live.json":
			in.Live = decodeLive(t, f.Data)
		case "lock.json":
			in.Lock = decodeLock(t, f.Data)
		}
	}
	return in
}

// TestGolden runs every testdata/*.txtar case: desired.yaml + live.json
// (+ lock.json) must plan to plan.txt, plan.md and plan.json (or fail
// with error.txt); text and markdown must be the same when rendered from
// the decoded JSON; and applying the plan to a simulated workspace, then
// planning again, must give an empty plan (the convergence invariant).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	compacted := 0
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			in := goldenInput(t, ar)
			got := map[string][]byte{}
			p, err := planner.Build(in)
			if err != nil {
				got["error.txt"] = []byte(err.Error() + "\n")
			} else {
				var txt, md, js bytes.Buffer
				if err := render.Text(&txt, p, render.Options{}); err != nil {
					t.Fatal(err)
				}
				if err := render.Markdown(&md, p); err != nil {
					t.Fatal(err)
				}
				if err := render.JSON(&js, p); err != nil {
					t.Fatal(err)
				}
				got["plan.txt"], got["plan.md"], got["plan.json"] = txt.Bytes(), md.Bytes(), js.Bytes()
				checkRoundTrip(t, p, txt.String(), md.String())
				checkSlowRecords(t, in, p)
				compacted += checkCompacted(t, ar, in)
				checkConverges(t, in, p)
			}
			compareGolden(t, file, ar, got)
		})
	}
	if compacted == 0 {
		t.Errorf("no golden case had a job whose settings schema.Options.Compact keeps as JSON")
	}
}

// checkCompacted loads the case's desired.yaml with schema.LoadWith twice,
// as trees and with Compact (settings kept as JSON, decoded by the planner),
// and plans both against the case's workspace and lockfile: the plans must
// be the same. It returns how many jobs were compacted.
func checkCompacted(t *testing.T, ar *txtar.Archive, in planner.Input) int {
	t.Helper()
	var data []byte
	for _, f := range ar.Files {
		if f.Name == "desired.yaml" {
			data = f.Data
		}
	}
	if data == nil {
		return 0
	}
	path := filepath.Join(t.TempDir(), "desired.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var plans [2]bytes.Buffer
	compacted := 0
	for i, compact := range []bool{false, true} {
		cfg, err := schema.LoadWith(context.Background(), []string{path}, schema.Options{Compact: compact})
		if err != nil {
			t.Fatalf("schema.LoadWith (Compact %v): %v", compact, err)
		}
		for _, j := range cfg.Jobs {
			if j.RawSettings() != nil {
				compacted++
			}
		}
		in.Desired = cfg.Jobs
		p, err := planner.Build(in)
		if err != nil {
			plans[i].WriteString("error: " + err.Error())
			continue
		}
		planner.WritePlan(&plans[i], p)
	}
	if plans[0].String() != plans[1].String() {
		t.Errorf("the plan differs with compacted settings:\n--- trees\n%s\n--- compacted\n%s", plans[0].String(), plans[1].String())
	}
	return compacted
}

func checkRoundTrip(t *testing.T, p *planner.Plan, txt, md string) {
	t.Helper()
	var js bytes.Buffer
	if err := planner.WritePlan(&js, p); err != nil {
		t.Fatal(err)
	}
	q, err := planner.ReadPlan(&js)
	if err != nil {
		t.Fatal(err)
	}
	var txt2, md2, js2 bytes.Buffer
	render.Text(&txt2, q, render.Options{})
	render.Markdown(&md2, q)
	planner.WritePlan(&js2, q)
	if txt2.String() != txt || md2.String() != md {
		t.Errorf("rendering the decoded plan differs from rendering the built plan")
	}
	var js1 bytes.Buffer
	planner.WritePlan(&js1, p)
	if js1.String() != js2.String() {
		t.Errorf("the plan JSON does not survive a round trip")
	}
}

func checkConverges(t *testing.T, in planner.Input, p *planner.Plan) {
	t.Helper()
	s := newSim(t, in.Live)
	lock := s.apply(p, in.Lock)
	in.Live, in.Lock = s.live(), lock
	again, err := planner.Build(in)
	if err != nil {
		t.Fatalf("planning after apply: %v", err)
	}
	checkSlowRecords(t, in, again)
	if !again.Empty() || len(again.Records) > 0 {
		t.Errorf("the plan does not converge: after apply, planning again gives\n%s", fmtActions(again))
	}
	// Applying the second plan is a no-op, and so is a third plan.
	lock = s.apply(again, lock)
	in.Live, in.Lock = s.live(), lock
	if third, err := planner.Build(in); err != nil || !third.Empty() {
		t.Errorf("third plan not empty: %v\n%s", err, fmtActions(third))
	}
}

func compareGolden(t *testing.T, file string, ar *txtar.Archive, got map[string][]byte) {
	t.Helper()
	outputs := []string{"plan.txt", "plan.md", "plan.json", "error.txt"}
	if *update {
		var files []txtar.File
		for _, f := range ar.Files {
			if !contains(outputs, f.Name) {
				files = append(files, f)
			}
		}
		for _, name := range outputs {
			if b, ok := got[name]; ok {
				files = append(files, txtar.File{Name: name, Data: b})
			}
		}
		ar.Files = files
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := map[string][]byte{}
	for _, f := range ar.Files {
		if contains(outputs, f.Name) {
			want[f.Name] = f.Data
		}
	}
	for _, name := range outputs {
		g, gok := got[name]
		w, wok := want[name]
		switch {
		case gok && !wok:
			t.Errorf("%s: unexpected %s (run go test -update):\n%s", file, name, g)
		case !gok && wok:
			t.Errorf("%s: expected %s, got none", file, name)
		case gok && !bytes.Equal(g, w):
			t.Errorf("%s: %s differs (run go test ./planner -update to accept):\n--- got\n%s\n--- want\n%s", file, name, g, w)
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// checkSlowRecords plans in again with every lockfile record written with
// escapes, which the planner's shortcut for a record equal to what it
// would record (equalJSON) leaves to the full decode: both ways must give
// p, the plan of in.
func checkSlowRecords(t *testing.T, in planner.Input, p *planner.Plan) {
	t.Helper()
	if in.Lock == nil {
		return
	}
	lock := *in.Lock
	lock.Jobs = make(map[string]state.Job, len(in.Lock.Jobs))
	for k, j := range in.Lock.Jobs {
		j.Applied = escapeFirst(j.Applied)
		lock.Jobs[k] = j
	}
	in.Lock = &lock
	slow, err := planner.Build(in)
	if err != nil {
		t.Fatalf("planning with escaped lockfile records: %v", err)
	}
	var a, b bytes.Buffer
	planner.WritePlan(&a, p)
	planner.WritePlan(&b, slow)
	if a.String() != b.String() {
		t.Errorf("the plan differs when the lockfile records are decoded in full:\n--- shortcut\n%s\n--- decoded\n%s", a.String(), b.String())
	}
}

// escapeFirst writes the first character of every JSON string in doc as
// a \u escape: the same document to a decoder.
func escapeFirst(doc json.RawMessage) json.RawMessage {
	if doc == nil {
		return nil
	}
	var out []byte
	in, esc := false, false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		out = append(out, c)
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
			if in && i+1 < len(doc) && doc[i+1] != '\\' && doc[i+1] != '"' && doc[i+1] < 0x80 {
				out = append(out, fmt.Sprintf("\\u%04x", doc[i+1])...)
				i++
			}
		}
	}
	return out
}
