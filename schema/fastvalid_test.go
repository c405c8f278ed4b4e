package schema

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// corpusJobs are the job values of every job file the repository holds:
// the examples, the bundles and the YAML files of the golden scenarios
// (some of them invalid on purpose), built as Load builds them.
func corpusJobs(t *testing.T) []any {
	t.Helper()
	type file struct {
		name string
		data []byte
	}
	var files []file
	for _, root := range []string{"../examples", "testdata"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, file{p, data})
			}
			return nil
		})
	}
	goldens, _ := filepath.Glob("../testdata/golden/*.txtar")
	for _, g := range goldens {
		a, err := txtar.ParseFile(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if strings.HasSuffix(f.Name, ".yml") || strings.HasSuffix(f.Name, ".yaml") {
				files = append(files, file{g + "/" + f.Name, f.Data})
			}
		}
	}
	var out []any
	for _, f := range files {
		var l loader
		l.maxJobs = MaxJobs
		l.parseFile(f.name, string(f.data), true)
		for _, lj := range l.jobs {
			out = append(out, lj.value)
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d jobs in the corpus", len(out))
	}
	return out
}

// TestFastSchemaAgrees: where the fast check gives an answer, it is the
// library's, for the corpus's jobs and for many mutations of them (wrong
// types, missing and unknown fields, values out of range, bad enums, a
// reserved tag); and it does answer for the valid ones, so that Load
// takes the fast path on real jobs.
func TestFastSchemaAgrees(t *testing.T) {
	v, err := compiledValidator()
	if err != nil {
		t.Fatal(err)
	}
	jobs := corpusJobs(t)
	rng := rand.New(rand.NewSource(16))
	checked, fastValid, libValid := 0, 0, 0
	compare := func(what string, val any) {
		checked++
		lib := v.job.Validate(val) == nil
		if lib {
			libValid++
		}
		switch v.fast.check(val) {
		case valid:
			fastValid++
			if !lib {
				t.Errorf("%s: fast check says valid, the library does not: %s", what, jsonText(val))
			}
		case invalid:
			if lib {
				t.Errorf("%s: fast check says invalid, the library says valid: %s", what, jsonText(val))
			}
		}
	}
	for i, j := range jobs {
		lib := v.job.Validate(j) == nil
		if lib && v.fast.check(j) != valid {
			t.Errorf("job %d of the corpus is valid, but the fast check cannot tell: %s", i, jsonText(j))
		}
		compare("corpus job", j)
		for m := 0; m < 12; m++ {
			compare("mutated job", mutate(rng, deepCopy(j)))
		}
	}
	t.Logf("%d values checked: %d valid for the library, %d of them found valid by the fast check", checked, libValid, fastValid)
	if fastValid == 0 || fastValid < libValid/2 {
		t.Errorf("the fast check found only %d of %d valid values valid", fastValid, libValid)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// mutate changes one place of v (a copy) in one of the ways users get
// jobs wrong.
func mutate(rng *rand.Rand, v any) any {
	type place struct {
		parent any
		key    string
		index  int
	}
	var places []place
	var walk func(x any)
	walk = func(x any) {
		switch c := x.(type) {
		case map[string]any:
			keys := make([]string, 0, len(c))
			for k := range c {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			places = append(places, place{parent: c, index: -1})
			for _, k := range keys {
				places = append(places, place{parent: c, key: k, index: -2})
				walk(c[k])
			}
		case []any:
			places = append(places, place{parent: c, index: -1})
			for i, e := range c {
				places = append(places, place{parent: c, index: i})
				walk(e)
			}
		}
	}
	walk(v)
	if len(places) == 0 {
		return v
	}
	scalars := []any{"x", "", "ALWAYS", "jobsync", strings.Repeat("long ", 6000), json.Number("5"), json.Number("-1"),
		json.Number("1.5"), json.Number("2.0"), json.Number("100000"), json.Number("99999999999999999999"), json.Number("1e3"),
		true, false, nil, map[string]any{}, []any{}, []any{"a"}, map[string]any{"zzz": 1}}
	p := places[rng.Intn(len(places))]
	switch c := p.parent.(type) {
	case map[string]any:
		switch {
		case p.index == -1:
			// Add a field: unknown, or a known name with a wrong value.
			names := []string{"zzz", "jobsync", "task_key", "notebook_task", "spark_python_task", "user_name", "group_name", "mode", "grants"}
			c[names[rng.Intn(len(names))]] = scalars[rng.Intn(len(scalars))]
		case rng.Intn(3) == 0:
			delete(c, p.key)
		default:
			c[p.key] = scalars[rng.Intn(len(scalars))]
		}
	case []any:
		if p.index >= 0 {
			c[p.index] = scalars[rng.Intn(len(scalars))]
		} else if len(c) > 0 {
			c[0] = deepCopy(c[len(c)-1])
		}
	}
	return v
}

// TestCharClass: the table stands in for the regexp exactly, on the
// schema's own key patterns and on strings over an alphabet of what is in
// them and what is not (multi-byte characters included); patterns of any
// other form are left to the regexp.
func TestCharClass(t *testing.T) {
	for _, p := range []string{"^[a-z0-9_-]+$", "^[A-Za-z0-9_-]+$", "^[A-Za-z0-9_.-]+$", "^[a-c]+$", "^[x.]+$"} {
		c, ok := charClass(p)
		if !ok {
			t.Fatalf("charClass(%q) refused it", p)
		}
		re := regexp.MustCompile(p)
		rng := rand.New(rand.NewSource(16))
		alphabet := []string{"a", "z", "A", "Z", "0", "9", "_", "-", ".", "/", " ", "$", "é", "\n", "~", "b", "c", "x", "`", "{"}
		for range 20_000 {
			var b strings.Builder
			for n := rng.Intn(6); n > 0; n-- {
				b.WriteString(alphabet[rng.Intn(len(alphabet))])
			}
			s := b.String()
			if got, want := c.matches(s), re.MatchString(s); got != want {
				t.Errorf("pattern %s, %q: table says %v, regexp %v", p, s, got, want)
			}
		}
	}
	for _, p := range []string{"^dbt( |$)", `^\$\{jobs\.[a-z0-9_-]+\.id\}$`, "^[a-z]*$", "[a-z]+$", "^[a-z]+", "^[^a-z]+$", `^[\w]+$`, "^[]+$", "^[a-z]+$|x"} {
		if _, ok := charClass(p); ok {
			t.Errorf("charClass(%q) took a pattern it cannot stand in for", p)
		}
	}
}
