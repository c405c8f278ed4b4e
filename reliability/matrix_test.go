package reliability

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The fault matrix: every fault test files one row saying what was
// injected, how often, what jobsync did and what the user saw. With
//
//	go test ./reliability -args -matrix /tmp/matrix.md
//
// the rows are written as the markdown table that RELIABILITY.md quotes.

var matrixOut = flag.String("matrix", "", "write the fault matrix as a markdown table to this file")

type row struct {
	Fault     string // what was injected
	Behaviour string // what jobsync did about it
	Sees      string // what the user is shown (error text), "" when nothing failed
	Injected  int    // faulty answers (or events) the run went through
	Test      string
	Survived  bool // no loss, no duplicate, converged (the test passed)
	// Known names a known issue (RELIABILITY.md) that this row reproduces:
	// the fault was not survived cleanly.
	Known string
}

// rows collects the matrix across the package's tests (test-only state:
// the package has no other).
var rows struct {
	sync.Mutex
	list []*row
}

// fileRow records r for the current test; it counts as survived when the
// test passes.
func fileRow(t *testing.T, r row) {
	t.Helper()
	if r.Injected <= 0 {
		t.Errorf("fault matrix row %q: no fault was injected (%d)", r.Fault, r.Injected)
	}
	r.Test = t.Name()
	rp := &r
	rows.Lock()
	rows.list = append(rows.list, rp)
	rows.Unlock()
	t.Cleanup(func() { rp.Survived = !t.Failed() && r.Known == "" })
	t.Logf("matrix: %s — %s — user sees: %q (%d injected)", r.Fault, r.Behaviour, r.Sees, r.Injected)
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	removeBinary()
	if *matrixOut != "" {
		if err := writeMatrix(*matrixOut); err != nil {
			fmt.Fprintln(os.Stderr, "writing the fault matrix:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func writeMatrix(path string) error {
	rows.Lock()
	defer rows.Unlock()
	list := append([]*row(nil), rows.list...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Test < list[j].Test })
	var b strings.Builder
	b.WriteString("| Fault | Behaviour | What the user sees | Injected | Survived | Test |\n|---|---|---|---|---|---|\n")
	injected, survived := 0, 0
	for _, r := range list {
		s := 0
		if r.Survived {
			s = r.Injected
		}
		injected += r.Injected
		survived += s
		shown := fmt.Sprint(s)
		if r.Known != "" {
			shown += " (known issue " + r.Known + ")"
		}
		sees := r.Sees
		if sees == "" {
			sees = "nothing (the apply succeeds)"
		} else {
			sees = "`" + strings.ReplaceAll(sees, "|", `\|`) + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | `%s` |\n", r.Fault, r.Behaviour, sees, r.Injected, shown, r.Test)
	}
	fmt.Fprintf(&b, "| **total** (%d rows) | | | **%d** | **%d** | |\n", len(list), injected, survived)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
