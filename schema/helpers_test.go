package schema

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// loadFiles writes files into a fresh directory, changes into it and loads
// ".", returning the config and the diagnostics as printed.
func loadFiles(t *testing.T, files map[string]string) (*Config, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	cfg, err := Load(context.Background(), []string{"."})
	compactAgrees(t, []string{"."}, cfg, err)
	if err == nil {
		return cfg, nil
	}
	var ds Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("Load: want Diagnostics or nil, got %T: %v", err, err)
	}
	if cfg != nil {
		t.Errorf("Load returned a config together with problems")
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Error()
	}
	return nil, out
}

// expectDiags checks that got has exactly len(want) entries and that each
// want is a substring of the entry at the same index (diagnostics are
// sorted, so the order is part of what is tested).
func expectDiags(t *testing.T, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.Contains(got[i], want[i])
	}
	if !ok {
		t.Errorf("diagnostics:\n  got:\n    %s\n  want (substrings):\n    %s", strings.Join(got, "\n    "), strings.Join(want, "\n    "))
	}
}

// job wraps the body of one job (indented by four spaces) as a file.
func job(key, body string) string {
	return "jobs:\n  " + key + ":\n" + indent(body, "    ")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// compactAgrees loads paths again with Options.Compact and checks that it
// gives what Load gave (cfg, err): the same diagnostics, or the same jobs
// once the compacted settings are decoded. It returns how many jobs were
// compacted.
func compactAgrees(t testing.TB, paths []string, cfg *Config, err error) int {
	t.Helper()
	got, gerr := load(context.Background(), paths, true)
	if fmt.Sprint(gerr) != fmt.Sprint(err) {
		t.Fatalf("with Compact, Load says\n%v\nwithout:\n%v", gerr, err)
	}
	if err != nil {
		return 0
	}
	if len(got.Jobs) != len(cfg.Jobs) {
		t.Fatalf("with Compact, %d jobs; without, %d", len(got.Jobs), len(cfg.Jobs))
	}
	compacted := 0
	for i, j := range got.Jobs {
		c := *j
		if c.raw != nil {
			compacted++
			if c.Settings != nil {
				t.Fatalf("job %s: compacted, yet its tree is kept", c.Key)
			}
			tree, err := c.Tree()
			if err != nil {
				t.Fatal(err)
			}
			c.Settings, c.raw = tree, nil
			if c.positions != nil || c.table == nil {
				t.Fatalf("job %s: compacted, but its positions are not in a table", c.Key)
			}
			c.positions = map[string]lineCol{}
			c.table.each(func(i int, p []byte) bool {
				c.positions[string(p)] = c.table.at[i]
				return true
			})
			for p, at := range c.positions {
				if lc, ok := c.table.find(p); !ok || lc != at {
					t.Fatalf("job %s: the table does not find %q", c.Key, p)
				}
				if _, ok := c.table.find(p + "~"); ok {
					t.Fatalf("job %s: the table finds %q, which it does not hold", c.Key, p+"~")
				}
			}
			if _, ok := c.table.find("/no/such/value"); ok {
				t.Fatalf("job %s: the table finds a pointer it does not hold", c.Key)
			}
			c.table = nil
		}
		if !reflect.DeepEqual(&c, cfg.Jobs[i]) {
			t.Fatalf("job %s differs with Compact:\n%#v\nwithout:\n%#v", c.Key, &c, cfg.Jobs[i])
		}
	}
	cfg2 := *got
	cfg2.Jobs = cfg.Jobs
	if !reflect.DeepEqual(&cfg2, cfg) {
		t.Fatalf("with Compact, the config differs beyond its jobs")
	}
	return compacted
}
