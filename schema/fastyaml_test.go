package schema

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"gopkg.in/yaml.v3"
)

// slowParse is what parseFast stands in for: every document of data, as
// yaml.v3 reads them.
func slowParse(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		doc := &yaml.Node{}
		err := decodeSafely(dec, doc)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		docs = append(docs, doc)
	}
}

// sameNode compares two node trees in everything but comments.
func sameNode(a, b *yaml.Node, path string) string {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || (a.Alias == nil) != (b.Alias == nil) || len(a.Content) != len(b.Content) ||
		(a.Content == nil) != (b.Content == nil) {
		return fmt.Sprintf("%s: fast {kind %d style %d tag %q value %q at %d:%d, %d children}, yaml.v3 {kind %d style %d tag %q value %q at %d:%d, %d children}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if d := sameNode(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkParseFast fails t when parseFast answers for data and its answer
// is not yaml.v3's. It returns whether parseFast answered.
func checkParseFast(t testing.TB, name string, data []byte) bool {
	t.Helper()
	var p fastParser
	fast, ok := parseFast(&p, string(data))
	if !ok {
		return false
	}
	slow, err := slowParse(data)
	if err != nil {
		t.Errorf("%s: parseFast read what yaml.v3 refuses (%v):\n%s", name, err, data)
		return true
	}
	if len(fast) != len(slow) {
		t.Errorf("%s: %d documents, yaml.v3 reads %d:\n%s", name, len(fast), len(slow), data)
		return true
	}
	for i := range fast {
		if d := sameNode(fast[i], slow[i], "doc"+fmt.Sprint(i)); d != "" {
			t.Errorf("%s: %s\n%s", name, d, data)
			return true
		}
	}
	return true
}

// yamlCorpus is every YAML file of the repository: the examples, the
// bundles, schema's test data and the golden scenarios' files, and a
// workload written the way the benchmarks write theirs.
func yamlCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, root := range []string{"../examples", "testdata", "../testdata"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			switch {
			case strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml"):
				data, err := os.ReadFile(p)
				if err == nil {
					out[p] = data
				}
			case strings.HasSuffix(p, ".txtar"):
				a, err := txtar.ParseFile(p)
				if err != nil {
					return nil
				}
				for _, f := range a.Files {
					if strings.HasSuffix(f.Name, ".yml") || strings.HasSuffix(f.Name, ".yaml") {
						out[p+"/"+f.Name] = f.Data
					}
				}
			}
			return nil
		})
	}
	dir := t.TempDir()
	writeSmallJobs(t, dir, 2, 20)
	files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		out["small/"+filepath.Base(f)] = data
	}
	var b strings.Builder
	b.WriteString("jobs:\n")
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&b, "    job_%d:\n        job_clusters:\n            - job_cluster_key: shared\n              new_cluster:\n                num_workers: 2\n                spark_conf:\n                    spark.sql.shuffle.partitions: \"64\"\n        tasks:\n            - depends_on:\n                - task_key: t000\n              libraries:\n                - pypi:\n                    package: pandas==2.2.2\n              notebook_task:\n                base_parameters:\n                    day: '{{job.start_time.iso_date}}'\n              task_key: t001\n", i)
	}
	out["marshalled.yml"] = []byte(b.String())
	if len(out) < 100 {
		t.Fatalf("only %d YAML files in the corpus", len(out))
	}
	return out
}

// TestParseFastAgrees: on every YAML file of the repository, and on many
// mutations of each (characters changed, inserted or removed; lines
// indented, outdented, dropped or repeated), parseFast gives yaml.v3's
// nodes or leaves the file to yaml.v3; and it does read most of the
// repository's job files itself.
func TestParseFastAgrees(t *testing.T) {
	corpus := yamlCorpus(t)
	names := make([]string, 0, len(corpus))
	for name := range corpus {
		names = append(names, name)
	}
	sort.Strings(names)
	seed := int64(16)
	if s := os.Getenv("JOBSYNC_FASTYAML_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	rounds := 30
	if s := os.Getenv("JOBSYNC_FASTYAML_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewSource(seed))
	answered := 0
	for _, name := range names {
		data := corpus[name]
		if checkParseFast(t, name, data) {
			answered++
		}
		for m := 0; m < rounds; m++ {
			checkParseFast(t, name+" (mutated)", mutateYAML(rng, data))
		}
	}
	t.Logf("parseFast read %d of %d files itself", answered, len(corpus))
	if answered < len(corpus)/2 {
		t.Errorf("parseFast read only %d of %d files", answered, len(corpus))
	}
}

var yamlPieces = []string{" ", "  ", "- ", ": ", ":", "#", " #", "'", "\"", "\\", "[", "]", "{", "}", ",", "\n", "---", "&a ", "*a", "!!str ",
	"|", ">", "~", "null", "true", "True", "FALSE", "NULL", "Null", "yes", "on", "Off", "y", "n", "nulls", "truex", "0x1F", "012", "1e3", ".inf", "<<", "? ", "é", "\u00a0", "\t", "%", "@", "`", "''", "\\u0041", "\\x", "-1", "2024-01-02"}

func mutateYAML(rng *rand.Rand, data []byte) []byte {
	if len(data) == 0 {
		return []byte(yamlPieces[rng.Intn(len(yamlPieces))])
	}
	b := []byte(string(data))
	for n := 1 + rng.Intn(3); n > 0; n-- {
		i := rng.Intn(len(b) + 1)
		switch rng.Intn(6) {
		case 0: // insert a piece
			b = append(b[:i], append([]byte(yamlPieces[rng.Intn(len(yamlPieces))]), b[i:]...)...)
		case 1: // delete a few bytes
			j := min(len(b), i+1+rng.Intn(4))
			b = append(b[:i], b[j:]...)
		case 2: // replace a byte
			if i < len(b) {
				const chars = " -:#'\"[]{},\n&*!|>?ab01"
				b[i] = chars[rng.Intn(len(chars))]
			}
		default: // change a line's indentation, drop or repeat it
			lines := strings.Split(string(b), "\n")
			k := rng.Intn(len(lines))
			switch rng.Intn(4) {
			case 0:
				lines[k] = " " + lines[k]
			case 1:
				lines[k] = strings.TrimPrefix(lines[k], " ")
			case 2:
				lines = append(lines[:k], lines[k+1:]...)
			default:
				lines = append(lines[:k+1], lines[k:]...)
			}
			b = []byte(strings.Join(lines, "\n"))
		}
	}
	return b
}

func FuzzParseFast(f *testing.F) {
	for _, data := range yamlCorpus(f) {
		f.Add(data)
	}
	f.Add([]byte("jobs:\n  a:\n    tasks:\n      - task_key: x\n        notebook_task: {notebook_path: /a, base_parameters: {k: 'v'}}\n"))
	f.Add([]byte("---\njobs:\n  b:\n    tags: {a: \"x\\u00e9\"}\n    schedule:\n      quartz_cron_expression: 0 0 * * * ?\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseFast(t, "fuzz", data)
	})
}

// TestBeyondNumbers: a plain scalar beyondNumbers calls text is text to
// yaml.v3 too. The scalars are the forms yaml.v3 resolves, the versions
// and sizes jobs are written with, and random strings over an alphabet of
// digits, signs, separators and letters in and out of the set.
func TestBeyondNumbers(t *testing.T) {
	tagOf := func(s string) string {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
		return n.ShortTag()
	}
	cases := []string{"15.4.x-scala2.12", "13.3.x-cpu-ml-scala2.12", "i3.xlarge", "2", "-1", "+1", "0x1F", "0X1f", "0o17", "0O17", "0b101", "-0b101",
		"1_000", "1.5e3", "1.5E-3", ".5", "5.", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN", "2024-01-02", "2024-1-2T10:00:00Z",
		"2024-01-02t10:00:00.5+02:00", "2024-01-02 10:00:00.1 -5", "2001-12-14 21:59:43.10", "1:20", "0.1.2", "1e", "1e+", "12h", "10m", "30s", "1GB", "-", "--", ".", "+"}
	rng := rand.New(rand.NewSource(16))
	const alphabet = "0123456789+-._: eExXoObBaAfFiInNtTzZgGhHsSmMkKyY/,~"
	for range 200_000 {
		var b strings.Builder
		b.WriteByte("0123456789+-."[rng.Intn(13)])
		for n := rng.Intn(12); n > 0; n-- {
			b.WriteByte(alphabet[rng.Intn(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	beyond := 0
	for _, s := range cases {
		if !beyondNumbers(s) {
			continue
		}
		beyond++
		if tag := tagOf(s); tag != "!!str" {
			t.Errorf("beyondNumbers(%q) = true, but yaml.v3 resolves it as %s", s, tag)
		}
	}
	// And it does skip the strconv calls for most of them.
	if beyond < len(cases)/4 {
		t.Errorf("beyondNumbers is true for only %d of %d scalars", beyond, len(cases))
	}
	for s, want := range map[string]bool{"15.4.x-scala2.12": true, "12h": true, "0x1F": false, "2024-01-02": false, "-.Inf": false} {
		if got := beyondNumbers(s); got != want {
			t.Errorf("beyondNumbers(%q) = %v, want %v", s, got, want)
		}
	}
}
