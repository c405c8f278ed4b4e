package planner_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/jobsync/jobsync/planner"
)

// Live jobs whose settings are kept as JSON (how refresh keeps a jobs/list
// read) plan exactly as the same jobs decoded: every golden case, both ways,
// gives the same plan document or the same error.
func TestRawLiveSettingsPlanAlike(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			in := goldenInput(t, ar)
			if len(in.Live) == 0 {
				t.Skip("no live jobs")
			}
			want, wantErr := planDoc(t, in)

			raw := goldenInput(t, ar)
			for i := range raw.Live {
				b, err := json.Marshal(raw.Live[i].Settings)
				if err != nil {
					t.Fatal(err)
				}
				raw.Live[i].Settings, raw.Live[i].RawSettings = nil, b
			}
			got, gotErr := planDoc(t, raw)
			if gotErr != wantErr {
				t.Fatalf("error %q, want %q", gotErr, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("plan from raw settings:\n%s\nwant:\n%s", got, want)
			}
			for i := range raw.Live {
				if raw.Live[i].Settings != nil {
					t.Fatalf("Build decoded job %d into its input; it must decode into a copy", raw.Live[i].JobID)
				}
			}
		})
	}
}

func planDoc(t *testing.T, in planner.Input) ([]byte, string) {
	t.Helper()
	p, err := planner.Build(in)
	if err != nil {
		return nil, err.Error()
	}
	var buf bytes.Buffer
	if err := planner.WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ""
}

func TestLiveDecodedAndOwnedKey(t *testing.T) {
	l := planner.Live{JobID: 7, RawSettings: json.RawMessage(`{"name":"n","max_concurrent_runs":9007199254740993,"tags":{"jobsync":"acme/k","Jobsync":"other/x"}}`)}
	if k, ok := l.OwnedKey("acme"); !ok || k != "k" {
		t.Errorf("OwnedKey = %q %v, want k", k, ok)
	}
	if _, ok := l.OwnedKey("other"); ok {
		t.Error("a tag key differing in case must not count")
	}
	m, err := l.Decoded()
	if err != nil || m["max_concurrent_runs"] != json.Number("9007199254740993") {
		t.Errorf("Decoded = %v, %v; want numbers as exact json.Number", m, err)
	}
	for _, s := range []string{`{"tags":{"jobsync":5}}`, `{"tags":[1]}`, `{"Tags":{"jobsync":"acme/k"}}`, `[`, `{}`} {
		l := planner.Live{RawSettings: json.RawMessage(s)}
		if k, ok := l.OwnedKey("acme"); ok {
			t.Errorf("%s: owned by key %q, want not owned", s, k)
		}
	}
	if _, err := (&planner.Live{JobID: 3, RawSettings: json.RawMessage(`[1]`)}).Decoded(); err == nil || !strings.Contains(err.Error(), "job 3") {
		t.Errorf("settings that are not an object: %v", err)
	}
}
