package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Applied settings are kept compact, whatever the lockfile's indentation,
// decode to fresh trees with exact numbers, and are checked when read.
func TestAppliedIsCompactAndChecked(t *testing.T) {
	doc := func(applied string) string {
		return `{"version": 1, "workspace": "https://h", "project": "p", "lineage": "l", "serial": 1,
  "jobs": {"a": {"job_id": 1, "applied": ` + applied + `}}}`
	}
	f, err := Read(strings.NewReader(doc("{\n    \"name\": \"a <b>\",\n    \"n\": 9007199254740993,\n    \"tags\": { \"x\": \"1\" }\n  }")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.Jobs["a"].Applied), `{"name":"a <b>","n":9007199254740993,"tags":{"x":"1"}}`; got != want {
		t.Errorf("applied = %s, want %s", got, want)
	}
	m := appliedOf(t, f.Jobs["a"])
	if m["n"] != json.Number("9007199254740993") {
		t.Errorf("n = %#v, want the exact json.Number", m["n"])
	}
	m["name"] = "changed"
	if appliedOf(t, f.Jobs["a"])["name"] != "a <b>" {
		t.Error("AppliedSettings must return a fresh tree each time")
	}

	f, err = Read(strings.NewReader(doc("null")))
	if err != nil || f.Jobs["a"].Applied != nil {
		t.Errorf("null applied: %v %q, want nil", err, f.Jobs["a"].Applied)
	}
	for _, bad := range []string{`[1]`, `"x"`, `5`} {
		_, err := Read(strings.NewReader(doc(bad)))
		var ce *CorruptError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), `job "a"`) {
			t.Errorf("applied %s: %v, want a CorruptError naming the job", bad, err)
		}
	}

	raw, err := EncodeApplied(map[string]any{"b": "<&>", "a": json.Number("1")})
	if err != nil || string(raw) != `{"a":1,"b":"<&>"}` {
		t.Errorf("EncodeApplied = %s %v", raw, err)
	}
	if raw, err := EncodeApplied(nil); raw != nil || err != nil {
		t.Errorf("EncodeApplied(nil) = %s %v, want nil", raw, err)
	}
	if _, err := EncodeApplied(map[string]any{"x": func() {}}); err == nil {
		t.Error("EncodeApplied of a func must fail")
	}
	f.Jobs["a"] = Job{JobID: 1, Applied: raw}
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"b": "<&>"`) {
		t.Errorf("Write must indent applied settings and leave HTML characters alone:\n%s", buf.String())
	}
	back, err := Read(&buf)
	if err != nil || !bytes.Equal(back.Jobs["a"].Applied, raw) {
		t.Errorf("read back %s %v, want %s", back.Jobs["a"].Applied, err, raw)
	}
}

// TestStripSpaceIsCompact: the fast compaction of a decoded record is
// json.Compact's, byte for byte.
func TestStripSpaceIsCompact(t *testing.T) {
	for _, doc := range []string{
		`{}`, "{\n  \"a\" : [ 1 , 2.5e3, true, null ],\n\t\"b\":{\"c\":\"x y\\\" \\\\ \\u00e9 \\n\"}\r\n}",
		`{"s": "  spaces  inside  ", "<&>": "\u2028"}`, `{"k":"\\"}`, "{ \"a\" : \"\xe2\x80\xa8\" }",
	} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(doc)); err != nil {
			t.Fatal(err)
		}
		got, ok := stripSpace([]byte(doc))
		if !ok || string(got) != want.String() {
			t.Errorf("stripSpace(%q) = %q, %v; json.Compact: %q", doc, got, ok, want.String())
		}
	}
}

// TestStripSpaceKeepsNoSlack: a record keeps no more memory than its
// compact size (10,000 of them are held while a plan is made).
func TestStripSpaceKeepsNoSlack(t *testing.T) {
	got, ok := stripSpace([]byte("{\n    \"a\": [\n        1,\n        2\n    ]\n}"))
	if !ok || string(got) != `{"a":[1,2]}` || cap(got) != len(got) {
		t.Errorf("%q (cap %d), %v", got, cap(got), ok)
	}
}
