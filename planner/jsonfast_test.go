package planner

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// slowDecode is what decodeObject stands in for.
func slowDecode(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}

// slowTag is what ownerTagOf stands in for.
func slowTag(data []byte) string {
	var top, tags map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil || json.Unmarshal(top["tags"], &tags) != nil {
		return ""
	}
	var v string
	if json.Unmarshal(tags[OwnerTagKey], &v) != nil {
		return ""
	}
	return v
}

func checkFast(t *testing.T, doc []byte) {
	t.Helper()
	want, err := slowDecode(doc)
	if got, ok := decodeObject(doc); ok {
		if err != nil {
			t.Errorf("decodeObject(%q) decoded what encoding/json refuses (%v)", doc, err)
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeObject(%q) = %#v, encoding/json %#v", doc, got, want)
		}
	}
	if tag, ok := ownerTagOf(doc); ok && tag != slowTag(doc) {
		t.Errorf("ownerTagOf(%q) = %q, encoding/json reads %q", doc, tag, slowTag(doc))
	}
}

func TestJSONFastCases(t *testing.T) {
	for _, doc := range []string{
		`{}`, ` {"a":1} `, `{"a":1,"a":2}`, `{"a":[],"b":{},"c":[1,-2.5e+3,0,1E9],"d":null,"e":true,"f":false}`,
		`{"s":"caf\u00e9 \"q\" \\ \/ \n\t","k\u0061":1}`, "{\"x\":\"\xff\xfe\"}", `{"x":"\ud83d\ude00 \ud800"}`,
		`{"tags":{"jobsync":"p/k","team":"x"}}`, `{"tags":{"jobsync":"p/k"},"tags":{"jobsync":"p/other"}}`,
		`{"tags":{"jobsync":5}}`, `{"tags":{"jobsync":null}}`, `{"tags":null}`, `{"tags":"x"}`, `{"tags":[1]}`,
		`{"tags":{"jobs\u0079nc":"p/k"}}`, `{"t\u0061gs":{"jobsync":"p/k"}}`, `{"tags":{"jobsync":"p\/k"}}`,
		`{"tags":{"jobsync":"p/k"}} x`, `{"tags":{"jobsync":"p/k"}}}`, `{"tags":{"jobsync":"p/k"},}`,
		`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":.5}`, `{"a":"x` + "\x01" + `"}`, `{"a":tru}`, `{"a" 1}`,
		`[1]`, `null`, `"x"`, ``, `{`, `{"a":[1,]}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"tags":{"jobsync":"a"`,
	} {
		checkFast(t, []byte(doc))
	}
}

// TestJSONFastRandom compares decodeObject and ownerTagOf with
// encoding/json on random documents shaped like job settings, and on each
// of them cut short or with one byte changed.
func TestJSONFastRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	pieces := []string{"a", "tags", "jobsync", "task_key", "name", "é", "\u2028", "x\"y", `\`, "/", "\x7f"}
	var gen func(depth int) any
	gen = func(depth int) any {
		switch n := rng.Intn(9); {
		case n == 0 && depth < 4:
			m := map[string]any{}
			for i := rng.Intn(5); i > 0; i-- {
				m[pieces[rng.Intn(len(pieces))]] = gen(depth + 1)
			}
			if rng.Intn(3) == 0 {
				m["tags"] = map[string]any{"jobsync": "proj/" + pieces[rng.Intn(len(pieces))]}
			}
			return m
		case n == 1 && depth < 4:
			a := []any{}
			for i := rng.Intn(4); i > 0; i-- {
				a = append(a, gen(depth+1))
			}
			return a
		case n == 2:
			return json.Number([]string{"0", "-1", "12.5", "1e3", "-0.0E-2", "123456789012345678901234567890"}[rng.Intn(6)])
		case n == 3:
			return rng.Intn(2) == 0
		case n == 4:
			return nil
		default:
			return strings.Repeat(pieces[rng.Intn(len(pieces))], rng.Intn(3))
		}
	}
	for i := 0; i < 3000; i++ {
		m := map[string]any{"tags": gen(1)}
		for j := rng.Intn(6); j > 0; j-- {
			m[pieces[rng.Intn(len(pieces))]] = gen(1)
		}
		doc, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if rng.Intn(2) == 0 {
			var b bytes.Buffer
			json.Indent(&b, doc, "", "  ")
			doc = b.Bytes()
		}
		checkFast(t, doc)
		if len(doc) > 1 {
			checkFast(t, doc[:rng.Intn(len(doc))])
			mut := bytes.Clone(doc)
			mut[rng.Intn(len(mut))] = "{}[]\":,\\ 0-eE.tnx\x00\xc3"[rng.Intn(18)]
			checkFast(t, mut)
		}
	}
}

func FuzzJSONFast(f *testing.F) {
	f.Add([]byte(`{"tags":{"jobsync":"p/k"},"tasks":[{"task_key":"a","n":1.5e3}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkFast(t, doc)
	})
}

// checkEqual checks equalJSON(doc, v) against decoding doc with
// encoding/json: true only when the decoded tree is deepEqual to v.
func checkEqual(t *testing.T, doc []byte, v any) {
	t.Helper()
	if !equalJSON(doc, v) {
		return
	}
	got, err := slowDecode(doc)
	if err != nil || !deepEqual(got, v) {
		t.Errorf("equalJSON(%q, %#v) = true, but it decodes to %#v (%v)", doc, v, got, err)
	}
}

func TestEqualJSONCases(t *testing.T) {
	one := map[string]any{"a": json.Number("1")}
	two := map[string]any{"a": json.Number("1"), "b": json.Number("2")}
	for _, c := range []struct {
		doc  string
		v    any
		want bool
	}{
		{`{}`, map[string]any{}, true},
		{` {"a": 1 } `, one, true},
		{`{"a":1,"a":1}`, two, false}, // decodes to one member, not two
		{`{"a":1,"a":1}`, one, false}, // equal, but left to the slow way
		{`{"a":1,"b":2}`, two, true},
		{`{"a":1}`, two, false},
		{`{"a":1.0}`, one, false}, // json.Number keeps the text
		{`{"a":[true,false,null,"x"]}`, map[string]any{"a": []any{true, false, nil, "x"}}, true},
		{`{"a":[true,false]}`, map[string]any{"a": []any{true}}, false},
		{`{"a":[true]}`, map[string]any{"a": []any{true, false}}, false},
		{`{"a":[]}`, map[string]any{"a": []any{}}, true},
		{`{"a":[]}`, map[string]any{"a": map[string]any{}}, false},
		{`{"a":"\u0078"}`, map[string]any{"a": "x"}, false}, // escapes: left to the slow way
		{`{"a":1} x`, one, false},
		{`{"a":1`, one, false},
		{`{"a":1}`, map[string]any{"a": 1}, false}, // an int is never decoded
	} {
		if got := equalJSON([]byte(c.doc), c.v); got != c.want {
			t.Errorf("equalJSON(%s, %#v) = %v, want %v", c.doc, c.v, got, c.want)
		}
		checkEqual(t, []byte(c.doc), c.v)
	}
}

// TestEqualJSONRandom checks equalJSON on random settings-shaped
// documents: every document equals its own decoding (when it has no
// escapes), and a true answer for another document's tree is never wrong.
func TestEqualJSONRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	keys := []string{"a", "b", "tags", "task_key", "é"}
	var gen func(depth int) any
	gen = func(depth int) any {
		switch n := rng.Intn(7); {
		case n == 0 && depth < 3:
			m := map[string]any{}
			for i := rng.Intn(4); i > 0; i-- {
				m[keys[rng.Intn(len(keys))]] = gen(depth + 1)
			}
			return m
		case n == 1 && depth < 3:
			a := []any{}
			for i := rng.Intn(3); i > 0; i-- {
				a = append(a, gen(depth+1))
			}
			return a
		case n == 2:
			return json.Number([]string{"0", "1", "-2.5"}[rng.Intn(3)])
		case n == 3:
			return rng.Intn(2) == 0
		case n == 4:
			return nil
		default:
			return keys[rng.Intn(len(keys))]
		}
	}
	var docs [][]byte
	var trees []any
	for i := 0; i < 2000; i++ {
		doc, err := json.Marshal(map[string]any{"x": gen(1), "y": gen(1)})
		if err != nil {
			t.Fatal(err)
		}
		tree, err := slowDecode(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !equalJSON(doc, tree) {
			t.Fatalf("equalJSON(%s, its own decoding) = false", doc)
		}
		docs, trees = append(docs, doc), append(trees, tree)
	}
	for i, doc := range docs {
		for _, j := range []int{rng.Intn(len(docs)), rng.Intn(len(docs)), (i + 1) % len(docs)} {
			checkEqual(t, doc, trees[j])
		}
		if len(doc) > 1 {
			mut := bytes.Clone(doc)
			mut[rng.Intn(len(mut))] = "{}[]\":,0-1tnx"[rng.Intn(13)]
			checkEqual(t, mut, trees[i])
		}
	}
}
