package schema

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

var updateGolden = flag.Bool("update", false, "rewrite the copy of examples/jobs in ../testdata/golden/validate_examples.txtar")

const examplesGolden = "../testdata/golden/validate_examples.txtar"

// TestGoldenExamplesMatch checks that the CLI scenario validating the
// examples (a txtar archive, which cannot refer to files outside itself)
// holds exactly the files of examples/jobs. With -update it rewrites the
// archive's copy.
func TestGoldenExamplesMatch(t *testing.T) {
	ar, err := txtar.ParseFile(examplesGolden)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(examplesDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		want["examples/jobs/"+e.Name()] = b
	}
	const prefix = "examples/jobs/"
	var kept []txtar.File
	var problems []string
	seen := map[string]bool{}
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, prefix) {
			kept = append(kept, f)
			continue
		}
		seen[f.Name] = true
		w, ok := want[f.Name]
		switch {
		case !ok:
			problems = append(problems, f.Name+" is not in examples/jobs")
		case string(w) != string(f.Data):
			problems = append(problems, f.Name+" differs from examples/jobs")
		}
	}
	var names []string
	for name := range want {
		names = append(names, name)
		if !seen[name] {
			problems = append(problems, name+" is missing from the archive")
		}
	}
	if len(problems) == 0 {
		return
	}
	if !*updateGolden {
		t.Fatalf("%s is out of date with examples/jobs (go test ./schema -run TestGoldenExamplesMatch -update rewrites it, then go test . -run TestGolden -update):\n  %s",
			examplesGolden, strings.Join(problems, "\n  "))
	}
	sort.Strings(names)
	for _, name := range names {
		kept = append(kept, txtar.File{Name: name, Data: want[name]})
	}
	ar.Files = kept
	if err := os.WriteFile(examplesGolden, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote %s: %s", examplesGolden, strings.Join(problems, "; "))
}
