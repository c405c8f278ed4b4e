package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestWalkMatching: walkMatching gives the strings walkStrings gives that
// match, with the same pointers, in the same order, on a job written with
// keys that need escaping, lists in lists and strings at every depth.
func TestWalkMatching(t *testing.T) {
	v := map[string]any{
		"name": "${jobs.a.id}",
		"a/b":  []any{"x", []any{"${jobs.b.id}", map[string]any{"~k": "${jobs.c.id}"}}, 3},
		"tags": map[string]any{"z": "${jobs.d.id} and", "y": "plain"},
		"":     "empty key",
	}
	type hit struct{ ptr, s string }
	collect := func(walk func(fn func(ptr, s string)), match func(string) bool) []hit {
		var out []hit
		walk(func(ptr, s string) {
			if match(s) {
				out = append(out, hit{ptr, s})
			}
		})
		return out
	}
	for _, match := range []func(string) bool{
		func(string) bool { return true },
		func(s string) bool { return strings.HasPrefix(s, "${jobs.") },
	} {
		want := collect(func(fn func(ptr, s string)) { walkStrings(v, "", fn) }, match)
		got := collect(func(fn func(ptr, s string)) { walkMatching(v, match, fn) }, func(string) bool { return true })
		if !slices.Equal(got, want) {
			t.Errorf("walkMatching gave\n%v\nwalkStrings\n%v", got, want)
		}
	}
	var root []string
	walkMatching("${jobs.x.id}", func(string) bool { return true }, func(ptr, _ string) { root = append(root, ptr) })
	if !slices.Equal(root, []string{""}) {
		t.Errorf("a string at the root has pointers %q, want [\"\"]", root)
	}
}
