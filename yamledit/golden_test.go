package yamledit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txtar")

// TestGolden runs the cases in testdata: each archive holds in.yaml, the
// edits (one JSON object a line: {"job", "path", "value"} or "delete":
// true), and the expected out.yaml and decisions. out.yaml is compared
// byte for byte, and so is every line of in.yaml that no edit touches: the
// test also checks that the lines around the changes are the old ones.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sec := map[string][]byte{}
			for _, f := range ar.Files {
				sec[f.Name] = f.Data
			}
			in := sec["in.yaml"]
			if crlf := sec["in.crlf.yaml"]; crlf != nil {
				in = bytes.ReplaceAll(crlf, []byte("\n"), []byte("\r\n"))
			}
			edits := parseEdits(t, sec["edits"])
			res, err := Apply("in.yaml", in, edits)
			if err != nil {
				t.Fatal(err)
			}
			out := res.New
			if sec["in.crlf.yaml"] != nil {
				if bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
					t.Errorf("a line break of the CRLF file is not CRLF:\n%q", out)
				}
				out = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
			}
			var dec strings.Builder
			for _, d := range res.Decisions {
				fmt.Fprintf(&dec, "%s %s: %s\n", d.Pos(), d.Edit.PathString(), d.Reason)
			}
			if *update {
				for i, f := range ar.Files {
					switch f.Name {
					case "out.yaml":
						ar.Files[i].Data = out
					case "decisions":
						ar.Files[i].Data = []byte(dec.String())
					case "diff":
						ar.Files[i].Data = []byte(res.Diff())
					}
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := sec["out.yaml"]; !bytes.Equal(out, want) {
				t.Errorf("out.yaml:\n%s\nwant:\n%s", out, want)
			}
			if want := string(sec["decisions"]); dec.String() != want {
				t.Errorf("decisions:\n%s\nwant:\n%s", dec.String(), want)
			}
			if want, ok := sec["diff"]; ok && res.Diff() != string(want) {
				t.Errorf("diff:\n%s\nwant:\n%s", res.Diff(), want)
			}
			checkUntouched(t, ar.Comment, in, res.New)
		})
	}
}

// checkUntouched checks that the edit rewrote at most max old lines: the
// old lines that are not in the longest common subsequence of the two
// texts' lines are the ones changed or removed, and everything else is, by
// construction, byte for byte what it was. max comes from the archive's
// comment ("touches: N"); it is the number of lines a person would change.
func checkUntouched(t *testing.T, comment, old, new []byte) {
	t.Helper()
	max := -1
	for _, l := range strings.Split(string(comment), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "touches:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("touches: %v", err)
			}
			max = n
		}
	}
	if max < 0 {
		t.Fatalf("the case does not say how many lines it touches (touches: N)")
	}
	a, b := strings.SplitAfter(string(old), "\n"), strings.SplitAfter(string(new), "\n")
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = lcs[i+1][j]
				if lcs[i][j+1] > lcs[i][j] {
					lcs[i][j] = lcs[i][j+1]
				}
			}
		}
	}
	if changed := len(a) - lcs[0][0]; changed > max {
		t.Errorf("%d old lines changed or removed, the case allows %d", changed, max)
	}
}

func parseEdits(t *testing.T, data []byte) []Edit {
	t.Helper()
	var out []Edit
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var raw struct {
			Job    string          `json:"job"`
			Path   string          `json:"path"`
			Delete bool            `json:"delete"`
			Value  json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("edit %s: %v", line, err)
		}
		e := Edit{Job: raw.Job, Path: parsePath(t, raw.Path), Delete: raw.Delete}
		if len(raw.Value) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw.Value))
			dec.UseNumber()
			if err := dec.Decode(&e.Value); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, e)
	}
	return out
}

// parsePath reads tasks[task_key="a"].new_cluster.num_workers (no quoted
// map keys: the cases do not need them).
func parsePath(t *testing.T, s string) []Step {
	t.Helper()
	var out []Step
	for s != "" {
		switch {
		case s[0] == '.':
			s = s[1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			eq := strings.IndexByte(s, '=')
			v, err := strconv.Unquote(s[eq+1 : end])
			if err != nil {
				t.Fatalf("path %q: %v", s, err)
			}
			out = append(out, Step{KeyField: s[1:eq], KeyValue: v})
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			out = append(out, Step{Field: s[:end]})
			s = s[end:]
		}
	}
	return out
}
