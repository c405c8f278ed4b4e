package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
