package main

import (
	"slices"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	app := newApp(&env{getenv: func(string) string { return "" }})
	cases := []struct{ in, want string }{
		{"plan examples/jobs -o p.json", "plan -o p.json -- examples/jobs"},
		{"plan --emulator examples/jobs --format json", "plan --emulator --format json -- examples/jobs"},
		{"run KEY --wait", "run --wait -- KEY"},
		{"run KEY --poll-interval 1s --wait", "run --poll-interval 1s --wait -- KEY"},
		{"plan a --out=x b", "plan --out=x -- a b"},
		// A flag's value is never taken for an argument, even when it looks like a flag.
		{"plan --only -weird a", "plan --only -weird -- a"},
		// "--" ends the flags.
		{"validate a -- -dir --format", "validate -- a -dir --format"},
		{"validate - --format json", "validate --format json -- -"},
		{"state list --emulator", "state list --emulator"},
		{"state show KEY --emulator", "state show --emulator -- KEY"},
		{"state --emulator show KEY", "state show --emulator -- KEY"},
		{"import k 12 jobs --emulator", "import --emulator -- k 12 jobs"},
		// Unknown flags stay flags (urfave/cli reports them); unknown commands are left alone.
		{"plan a --nope b", "plan --nope -- a b"},
		{"nosuch a --x", "nosuch a --x"},
		{"--help", "--help"},
		{"plan", "plan"},
		// --progress alone still means what it meant as a boolean.
		{"apply --progress jobs", "apply --progress=plain -- jobs"},
		{"apply jobs --progress", "apply --progress=plain -- jobs"},
		{"apply --progress none jobs", "apply --progress none -- jobs"},
	}
	for _, c := range cases {
		got := flagsFirst(app, append([]string{"jobsync"}, strings.Fields(c.in)...))
		want := append([]string{"jobsync"}, strings.Fields(c.want)...)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", c.in, got[1:], want[1:])
		}
	}
}
