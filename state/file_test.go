package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The testdata lockfile is in canonical form, so reading and writing it
// must give back the same bytes: numbers (an int64 beyond float64's exact
// range, a fraction, a meaningful zero), HTML-ish characters and key order
// all survive.
func TestRoundTrip(t *testing.T) {
	in := readTestdata(t, "v1.json")
	f, err := Read(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Jobs["nightly_etl"].JobID; got != 9007199254740993 {
		t.Errorf("job id = %d, want 9007199254740993 (must not pass through float64)", got)
	}
	if got := appliedOf(t, f.Jobs["nightly_etl"])["max_concurrent_runs"]; reflect.TypeOf(got) != reflect.TypeOf(json.Number("")) {
		t.Errorf("numbers in applied settings should be json.Number, got %T", got)
	}
	var out bytes.Buffer
	if err := Write(&out, f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Errorf("round trip changed the file:\n--- got\n%s\n--- want\n%s", out.Bytes(), in)
	}
}

func TestWriteIsCanonical(t *testing.T) {
	f := New("HTTPS://Example.cloud.databricks.com/", "proj")
	// Insert in an order unlike the sorted one.
	for _, k := range []string{"zeta", "alpha", "mid", "beta"} {
		f.Jobs[k] = Job{JobID: int64(len(k)), Applied: rawApplied(t, map[string]any{
			"tags": map[string]any{"z": "1", "a": "2"}, "name": k + " <&>", "max_concurrent_runs": json.Number("3"),
		})}
	}
	var a, b bytes.Buffer
	if err := Write(&a, f); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, f); err != nil {
		t.Fatal(err)
	}
	out := a.String()
	if out != b.String() {
		t.Fatal("two writes of the same content differ")
	}
	if !strings.HasSuffix(out, "}\n") || strings.HasSuffix(out, "\n\n") {
		t.Errorf("want exactly one trailing newline, got %q", out[len(out)-5:])
	}
	if !strings.Contains(out, "\n  \"jobs\": {\n    \"alpha\": {") {
		t.Errorf("want two-space indent and sorted keys:\n%s", out)
	}
	order := []string{`"alpha"`, `"beta"`, `"mid"`, `"zeta"`}
	last := -1
	for _, k := range order {
		i := strings.Index(out, k)
		if i < last {
			t.Errorf("key %s out of order", k)
		}
		last = i
	}
	if strings.Index(out, `"a": "2"`) > strings.Index(out, `"z": "1"`) {
		t.Error("nested map keys are not sorted")
	}
	if !strings.Contains(out, "alpha <&>") {
		t.Error("HTML characters were escaped; the file is meant to be read in diffs")
	}
	if regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d`).MatchString(out) {
		t.Errorf("the lockfile must hold no timestamps:\n%s", out)
	}
	if !strings.Contains(out, `"workspace": "https://example.cloud.databricks.com"`) {
		t.Errorf("workspace not normalised:\n%s", out)
	}
}

func TestWriteNilJobs(t *testing.T) {
	var out bytes.Buffer
	if err := Write(&out, &File{Workspace: "https://h", Lineage: "l"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"jobs": {}`) {
		t.Errorf("want an empty jobs object, got:\n%s", out.String())
	}
	if err := Write(&out, nil); err == nil {
		t.Error("Write(nil) should fail")
	}
}

func TestReadRefuses(t *testing.T) {
	v1 := string(readTestdata(t, "v1.json"))
	tests := []struct {
		name, in string
		want     string // substring of the message
	}{
		{"empty", "", "it is empty"},
		{"blank", " \n\t", "it is empty"},
		{"truncated", string(readTestdata(t, "truncated.json")), "it ends early (truncated after 700 bytes)"},
		{"garbage", string(readTestdata(t, "garbage.json")), "invalid JSON at line 1, column 1"},
		{"merge conflict", string(readTestdata(t, "conflict.json")), "merge-conflict markers"},
		{"not an object", "[1,2]", "not a JSON object"},
		{"no version", `{"workspace":"https://h"}`, `no "version" field`},
		{"version string", `{"version":"1"}`, `"version" is "1", not a whole number`},
		{"version zero", `{"version":0}`, "version 0 does not exist"},
		{"unknown field", string(readTestdata(t, "unknown-field.json")), `unknown field "saved_at"`},
		{"no workspace", `{"version":1,"lineage":"l","jobs":{}}`, `"workspace" is missing`},
		{"no lineage", `{"version":1,"workspace":"https://h","jobs":{}}`, `"lineage" is missing`},
		{"bad job id", `{"version":1,"workspace":"https://h","lineage":"l","jobs":{"a":{"job_id":-4}}}`, `job "a" has job_id -4`},
		{"job id float", `{"version":1,"workspace":"https://h","lineage":"l","jobs":{"a":{"job_id":1.5}}}`, `field "jobs.job_id" should be int64`},
		{"serial negative", `{"version":1,"workspace":"https://h","lineage":"l","serial":-1}`, `"serial" should be uint64`},
		{"two documents", v1 + v1, "invalid JSON"},
		{"duplicate job", `{"version":1,"workspace":"https://h","lineage":"l","jobs":{"a":{"job_id":1},` + "\n" + `"a":{"job_id":2}}}`,
			`key "a" appears twice in one object (line 2, column 1)`},
		{"duplicate job id", `{"version":1,"workspace":"https://h","lineage":"l","jobs":{"a":{"job_id":1,"job_id":2}}}`, `key "job_id" appears twice`},
		{"duplicate version", `{"version":1,"workspace":"https://h","version":1,"lineage":"l"}`, `key "version" appears twice`},
		{"duplicate escaped", `{"version":1,"workspace":"https://h","lineage":"l","jobs":{"ab":{"job_id":1},"a\u0062":{"job_id":2}}}`, `key "ab" appears twice`},
		{"duplicate in applied", `{"version":1,"workspace":"https://h","lineage":"l","jobs":{"a":{"job_id":1,"applied":{"name":"x","name":"y"}}}}`, `key "name" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("want an error")
			}
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("want *CorruptError, got %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q lacks %q", err, tt.want)
			}
			// Every refusal says what to do, and never "starting over".
			if !strings.Contains(err.Error(), "jobsync plan") {
				t.Errorf("message %q does not say what to do", err)
			}
		})
	}
}

func TestReadFutureVersion(t *testing.T) {
	_, err := Read(bytes.NewReader(readTestdata(t, "future.json")))
	const want = "lockfile version 7 is newer than this jobsync understands (1): upgrade jobsync"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Found != 7 {
		t.Errorf("want *VersionError{Found: 7}, got %#v", err)
	}
	// A newer version is refused even when the rest would not parse as v1.
	_, err = Read(strings.NewReader(`{"version": 2, "resources": []}`))
	if !errors.As(err, &ve) {
		t.Errorf("want *VersionError, got %v", err)
	}
}

func TestCheckWorkspace(t *testing.T) {
	f := New("https://adb-1.azuredatabricks.net", "p")
	for _, same := range []string{"https://adb-1.azuredatabricks.net", "adb-1.azuredatabricks.net", "HTTPS://ADB-1.azuredatabricks.net/", "https://adb-1.azuredatabricks.net/?o=1"} {
		if err := f.CheckWorkspace(same); err != nil {
			t.Errorf("%s: %v", same, err)
		}
	}
	err := f.CheckWorkspace("https://dbc-2.cloud.databricks.com")
	var we *WorkspaceError
	if !errors.As(err, &we) {
		t.Fatalf("want *WorkspaceError, got %v", err)
	}
	for _, want := range []string{"https://adb-1.azuredatabricks.net", "https://dbc-2.cloud.databricks.com", "--lockfile"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if err := f.CheckProject("p"); err != nil {
		t.Error(err)
	}
	if err := f.CheckProject("q"); err == nil || !strings.Contains(err.Error(), `"p", not "q"`) {
		t.Errorf("CheckProject(q) = %v", err)
	}
}

func TestNewLineage(t *testing.T) {
	a, b := New("h", "p"), New("h", "p")
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(a.Lineage) {
		t.Errorf("lineage %q is not a v4 UUID", a.Lineage)
	}
	if a.Lineage == b.Lineage {
		t.Error("two lockfiles got the same lineage")
	}
	if a.Serial != 0 || a.Version != Version || a.Jobs == nil || a.Workspace != "https://h" {
		t.Errorf("New = %+v", a)
	}
}

// FuzzRead: no input makes Read panic, and whatever it accepts is written
// back in a form that reads again to the same bytes.
func FuzzRead(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(readTestdata(f, e.Name()))
		}
	}
	f.Add([]byte(`{"version":1,"workspace":"w","lineage":"l","jobs":{"a":{"job_id":1,"applied":{"x":[1,{"y":null}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var once, twice bytes.Buffer
		if err := Write(&once, lf); err != nil {
			t.Fatalf("accepted input does not write: %v", err)
		}
		again, err := Read(bytes.NewReader(once.Bytes()))
		if err != nil {
			t.Fatalf("written lockfile does not read back: %v\n%s", err, once.Bytes())
		}
		if err := Write(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("write is not stable:\n%s\n---\n%s", once.Bytes(), twice.Bytes())
		}
	})
}

// rawApplied is the Job.Applied form of m, for tests.
func rawApplied(t testing.TB, m map[string]any) json.RawMessage {
	t.Helper()
	raw, err := EncodeApplied(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// appliedOf decodes j.Applied, for tests.
func appliedOf(t testing.TB, j Job) map[string]any {
	t.Helper()
	m, err := j.AppliedSettings()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// duplicateKey against a reference built on encoding/json's tokenizer: the
// same answer on sibling objects, arrays of objects, keys equal to values,
// escapes, and objects past the small-object limit.
func TestDuplicateKey(t *testing.T) {
	many := func(dup bool) string {
		var b strings.Builder
		b.WriteString(`{`)
		for i := range 40 {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		if dup {
			b.WriteString(`"k7":0}`)
		} else {
			b.WriteString(`"k40":0}`)
		}
		return b.String()
	}
	for _, tt := range []struct {
		in   string
		want string // "" for none
	}{
		{`{}`, ""},
		{`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, ""},
		{`{"a":"a","b":"a"}`, ""},
		{`[{"a":1,"a":2}]`, "a"},
		{`{"x":{"y":[1,{"z":1,"z":2}]}}`, "z"},
		{`{"q\"":1,"q\u0022":2}`, `q"`},
		{`{"a":{"b":1},"a":2}`, "a"},
		{`{"a":[],"b":{},"c":[[],[{}]],"a":1}`, "a"},
		{`"just a string"`, ""},
		{many(false), ""},
		{many(true), "k7"},
	} {
		key, _, found := duplicateKey([]byte(tt.in))
		if found != (tt.want != "") || key != tt.want {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q", tt.in, key, found, tt.want)
		}
		if ref := referenceDuplicate(t, []byte(tt.in)); ref != tt.want {
			t.Errorf("reference(%s) = %q, want %q", tt.in, ref, tt.want)
		}
	}
}

func FuzzDuplicateKey(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`))
	f.Add([]byte(`{"q\"":1,"q\u0022":2,"\u00e9":1,"é":2}`))
	f.Add(readTestdata(f, "v1.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		key, _, found := duplicateKey(data)
		if ref := referenceDuplicate(t, data); found != (ref != "") || (found && key != ref) {
			t.Fatalf("duplicateKey = %q, %v; reference %q", key, found, ref)
		}
	})
}

// referenceDuplicate walks data with json.Decoder.Token and returns the
// first duplicated key, "" for none. Valid JSON only.
func referenceDuplicate(t testing.TB, data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		key    bool
		seen   map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.object && top.key
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{object: true, key: true, seen: map[string]bool{}})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
			if top != nil && top.object && v != '}' && v != ']' {
				top.key = true
			}
			if v == '}' || v == ']' {
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
			}
			continue
		case string:
			if isKey {
				if top.seen[v] {
					return v
				}
				top.seen[v] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}
