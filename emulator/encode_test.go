package emulator

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	trees := []any{
		map[string]any{
			"b": []any{"x", json.Number("12345678901234567"), true, false, nil, map[string]any{}},
			"a": "quote\" backslash\\ nl\n cr\r tab\t ctl\x01\x1f\b\f <html> & \u2028\u2029 é 日本 \xff bad",
			"":  []any{},
			"z": map[string]any{"k": json.Number("-1.5e3")},
		},
		"", json.Number("0"), []any{nil},
	}
	for _, v := range trees {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSON(nil, v); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("plain")
	f.Add("<a href=\"x\">&amp;</a>\u2028\x00\xc3\x28")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}
