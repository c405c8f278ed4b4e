package yamledit

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// jsonValue is the JSON value a node stands for, read the way jobsync's
// loader reads it: aliases and merge keys resolved, numbers as json.Number,
// timestamps and binary as their text. It is what an edit must preserve
// everywhere else and produce where it applies.
func jsonValue(n *yaml.Node) (any, error) {
	return (&reader{seen: map[*yaml.Node]bool{}}).value(n)
}

type reader struct{ seen map[*yaml.Node]bool }

func (r *reader) value(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return r.value(n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil || r.seen[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s cannot be resolved", n.Line, n.Value)
		}
		r.seen[n.Alias] = true
		defer delete(r.seen, n.Alias)
		return r.value(n.Alias)
	case yaml.ScalarNode:
		return scalarValue(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := r.value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			key := resolve(k).Value
			if _, dup := out[key]; dup {
				continue
			}
			val, err := r.value(v)
			if err != nil {
				return nil, err
			}
			out[key] = val
		}
		for _, m := range merges {
			srcs := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				srcs = m.Content
			}
			for _, s := range srcs {
				v, err := r.value(s)
				if err != nil {
					return nil, err
				}
				mm, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("line %d: a merge key takes mappings", s.Line)
				}
				for k, e := range mm {
					if _, ok := out[k]; !ok {
						out[k] = e
					}
				}
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		return strings.EqualFold(n.Value, "true"), nil
	case "!!int":
		var z big.Int
		if _, ok := z.SetString(strings.ReplaceAll(n.Value, "_", ""), 0); ok {
			return json.Number(z.String()), nil
		}
		return json.Number(n.Value), nil
	case "!!float":
		return json.Number(strings.ReplaceAll(n.Value, "_", "")), nil
	}
	return n.Value, nil
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// equal compares JSON values, numbers by value.
func equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && sameNumber(x, y)
	}
	switch b.(type) {
	case map[string]any, []any, json.Number:
		return false
	}
	return a == b
}

func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, ok1 := new(big.Float).SetString(string(a))
	y, ok2 := new(big.Float).SetString(string(b))
	return ok1 && ok2 && x.Cmp(y) == 0
}

// lookupKeyed finds the element of list whose keyField is val.
func lookupKeyed(list []any, keyField, val string) int {
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && keyText(m[keyField]) == val {
			return i
		}
	}
	return -1
}

func keyText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
