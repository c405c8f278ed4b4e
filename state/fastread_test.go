package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// agree checks readFast against the decoder on data: when readFast takes a
// file, the decoder reads it to the same File, and both give the same
// verdict (and message) after the checks; fast reports whether readFast
// took it.
func agree(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	slow, slowErr := decodeV1(data)
	f, ok := readFast(data)
	if !ok {
		return false
	}
	err := checkV1(f, false)
	switch {
	case slowErr == nil && err == nil:
		if !reflect.DeepEqual(f, slow) {
			t.Fatalf("readFast and the decoder disagree on\n%s\nfast: %#v\nslow: %#v", data, f, slow)
		}
	case slowErr == nil || err == nil || slowErr.Error() != err.Error():
		t.Fatalf("readFast took\n%s\nwith error %v; the decoder's: %v", data, err, slowErr)
	}
	return true
}

// canonical is a lockfile as Write writes it, with the shapes a real one
// has: several jobs, nested settings, numbers of every form, escapes in
// values, permissions and uploads.
func canonical(t testing.TB) []byte {
	t.Helper()
	f := New("https://dbc-1.cloud.databricks.com", "etl/prod")
	f.Serial = 41
	for i := range 3 {
		j := realisticJob(i)
		f.Jobs[fmt.Sprintf("job_%d", i)] = j
	}
	f.Jobs["odd"] = Job{JobID: 7, Applied: json.RawMessage(`{"name":"a \"quoted\" \u00e9 name\n","n":[0,-1,2.5,1e3,-0.25E-2,12345678901234567890],"e":{},"a":[],"t":true,"f":false,"z":null,"ü":"ß"}`), PermissionsMode: "additive"}
	f.Jobs["bare"] = Job{JobID: 8}
	f.Files = map[string]UploadedFile{"/Workspace/u/a.py": {Digest: "sha256:ab", Size: 3, Source: "src/a.py"}}
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// What jobsync writes is read on the fast path, to the same File.
func TestReadFastTakesWhatJobsyncWrites(t *testing.T) {
	data := canonical(t)
	if !agree(t, data) {
		t.Fatalf("readFast declined a lockfile jobsync wrote:\n%s", data)
	}
	if !agree(t, readTestdata(t, "v1.json")) {
		t.Fatal("readFast declined testdata/v1.json")
	}
	// Compact and oddly spaced forms are the same JSON.
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	if !agree(t, compact.Bytes()) {
		t.Fatal("readFast declined the compact form")
	}
	spaced := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n\t "))
	if !agree(t, spaced) {
		t.Fatal("readFast declined the form with CRLF and tabs")
	}
}

// Files the decoder refuses or reads differently are never taken: each of
// these must go to the decoder.
func TestReadFastDeclines(t *testing.T) {
	base := string(canonical(t))
	for name, edit := range map[string]func(string) string{
		"repeated top-level key": func(s string) string {
			return strings.Replace(s, `"serial": 41`, `"serial": 41, "serial": 42`, 1)
		},
		"repeated job": func(s string) string {
			return strings.Replace(s, `"bare": {`, `"bare": {"job_id": 9}, "bare": {`, 1)
		},
		"repeated key in applied": func(s string) string {
			return strings.Replace(s, `"t": true`, `"t": true, "t": false`, 1)
		},
		"key of another case": func(s string) string { return strings.Replace(s, `"lineage"`, `"Lineage"`, 1) },
		"unknown field":       func(s string) string { return strings.Replace(s, `"serial"`, `"extra": 1, "serial"`, 1) },
		"escaped key":         func(s string) string { return strings.Replace(s, `"job_id": 8`, `"job\u005fid": 8`, 1) },
		"escaped workspace":   func(s string) string { return strings.Replace(s, `"https://`, `"https:\/\/`, 1) },
		"negative job id":     func(s string) string { return strings.Replace(s, `"job_id": 8`, `"job_id": -8`, 1) },
		"fractional serial":   func(s string) string { return strings.Replace(s, `"serial": 41`, `"serial": 41.0`, 1) },
		"applied not object":  func(s string) string { return strings.Replace(s, `"applied": {`, `"applied": [{`, 1) },
		"trailing garbage":    func(s string) string { return s + "x" },
		"bad escape":          func(s string) string { return strings.Replace(s, `\"quoted\"`, `\q`, 1) },
		"leading zero":        func(s string) string { return strings.Replace(s, `2.5`, `02.5`, 1) },
		"truncated":           func(s string) string { return s[:len(s)/2] },
		"raw tab in string":   func(s string) string { return strings.Replace(s, `a \"quoted`, "a\t\\\"quoted", 1) },
		"job null":            func(s string) string { return strings.Replace(s, `"bare": {`, `"bare": null, "x": {`, 1) },
	} {
		data := []byte(edit(base))
		if string(data) == base {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if _, ok := readFast(data); ok {
			t.Errorf("%s: readFast took\n%s", name, data)
		}
	}
}

// Thousands of random edits of a real lockfile: whatever readFast takes,
// the decoder reads the same way. The edits favour JSON's own bytes, so
// that many stay valid.
func TestReadFastRandomEdits(t *testing.T) {
	base := canonical(t)
	rng := rand.New(rand.NewPCG(16, 3))
	const alphabet = "{}[],:\" \\\n0123456789-+.eEtrufalsn\u00e9x"
	taken := 0
	for range 4000 {
		data := append([]byte(nil), base...)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(data))
			switch rng.IntN(3) {
			case 0:
				data[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				data = append(data[:i], data[i+1:]...)
			default:
				data = append(data[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, data[i:]...)...)
			}
		}
		if agree(t, data) {
			taken++
		}
	}
	// Most one-byte edits of whitespace keep a valid file; if none is
	// taken, the comparison above compared nothing.
	if taken < 200 {
		t.Fatalf("readFast took only %d of 4000 edited files", taken)
	}
	t.Logf("readFast took %d of 4000 edited files", taken)
}

func FuzzReadFast(f *testing.F) {
	f.Add(canonical(f))
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(readTestdata(f, e.Name()))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { agree(t, data) })
}

// Each applied record is its own: appending to one does not write over the
// next one in the shared buffer.
func TestReadFastRecordsDoNotOverlap(t *testing.T) {
	f, ok := readFast(canonical(t))
	if !ok {
		t.Fatal("readFast declined")
	}
	a, b := f.Jobs["job_0"], f.Jobs["job_1"]
	before := string(b.Applied)
	_ = append(a.Applied, "XXXXXXXX"...)
	if string(f.Jobs["job_1"].Applied) != before || string(f.Jobs["job_2"].Applied) == "" {
		t.Fatal("an append to one record changed another")
	}
}
