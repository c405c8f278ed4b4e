package main

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from the actual output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"jobsync": func() {
			os.Exit(run(context.Background(), os.Args, stdio{os.Stdin, os.Stdout, os.Stderr}, os.Getenv))
		},
	})
}

// TestGolden runs the end-to-end CLI scenarios in testdata/golden. Run with
// -update to rewrite their expected output, and read the diff before
// committing it.
func TestGolden(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/golden",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
	})
}
