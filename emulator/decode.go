package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// kind is the JSON shape of a field in the API model.
type kind uint8

const (
	kString kind = iota + 1
	kBool
	kInt32
	kInt64
	kNumber
	kObject
	kArray
	kMap
)

// fieldType describes one field of an API type (see types_gen.go).
type fieldType struct {
	kind     kind
	elem     kind   // element kind of kArray and kMap
	ref      string // object type of kObject, or of kArray elements
	enum     string // enum type of a string (or of string array elements)
	required bool
	query    bool // a query parameter of a GET request type
}

func (k kind) String() string {
	switch k {
	case kString:
		return "string"
	case kBool:
		return "boolean"
	case kInt32, kInt64:
		return "int"
	case kNumber:
		return "number"
	case kObject, kMap:
		return "object"
	case kArray:
		return "array"
	}
	return "value"
}

// jsonKindName names the JSON token found, as the service's parser does in
// "Expected object for field notebook_params, found STRING" (§6.2, [obs]
// databrickslabs/dbx#182).
func jsonKindName(v any) string {
	switch v.(type) {
	case string:
		return "STRING"
	case json.Number:
		return "NUMBER"
	case bool:
		return "BOOLEAN"
	case []any:
		return "ARRAY"
	case map[string]any:
		return "OBJECT"
	}
	return "NULL"
}

// parseJSON decodes a request body into a generic tree with json.Number
// numbers, so that int64 ids never pass through float64. An empty body counts
// as {} (assumed; curl -X POST without a body).
func parseJSON(body []byte) (map[string]any, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformed("Could not parse request object: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("Could not parse request object: unexpected data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		// [obs] databricks/databricks-cli#615.
		return nil, malformed("Invalid JSON given in the body of the request - expected a map")
	}
	if name, dup := duplicateName(body); dup {
		// encoding/json keeps the last of two equal names without a
		// word; which one the service keeps is unknown, so the emulator
		// refuses the body rather than guess (assumed; the wording is
		// Jackson's strict duplicate detection).
		return nil, malformed("Could not parse request object: Duplicate field %q", shorten(name))
	}
	return m, nil
}

// duplicateName reports the first object member name that appears twice in
// one object of body (a valid JSON text).
func duplicateName(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		names  map[string]bool // nil for an array
		expect bool            // the next string token is a member name
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top >= 0 && stack[top].names != nil {
					stack[top].expect = true
				}
				stack = append(stack, frame{names: map[string]bool{}, expect: true})
			case '[':
				if top >= 0 && stack[top].names != nil {
					stack[top].expect = true
				}
				stack = append(stack, frame{})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].names != nil && stack[top].expect {
				if stack[top].names[t] {
					return t, true
				}
				stack[top].names[t] = true
				stack[top].expect = false
				continue
			}
		}
		if top >= 0 && stack[top].names != nil {
			stack[top].expect = true
		}
	}
}

// shorten keeps a value echoed in a message short: a 5,000-digit number or
// a 100 KB name is cut, with its length said.
func shorten(s string) string {
	const keep = 40
	if len(s) <= keep {
		return s
	}
	cut := keep
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d characters)", len(s))
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

// conform checks obj against the API type typeName and returns a cleaned copy:
// unknown fields and nulls are dropped (the service silently ignores unknown
// fields, §2 and §12.11, [obs] databricks/databricks-cli#616), wrongly typed
// values are 400 MALFORMED_REQUEST (§6.2), integers are range-checked and
// enum values checked.
func conform(obj map[string]any, typeName string) (map[string]any, *apiError) {
	fields := schemaTypes[typeName]
	out := make(map[string]any, len(obj))
	for name, v := range obj {
		ft, ok := fields[name]
		if !ok || v == nil {
			continue
		}
		cv, err := conformValue(v, ft, name)
		if err != nil {
			return nil, err
		}
		out[name] = cv
	}
	return out, nil
}

func conformValue(v any, ft fieldType, name string) (any, *apiError) {
	switch ft.kind {
	case kArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, typeMismatch(ft.kind, name, v)
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if e == nil {
				continue
			}
			ce, err := conformScalar(e, fieldType{kind: ft.elem, ref: ft.ref, enum: ft.enum}, name)
			if err != nil {
				return nil, err
			}
			out = append(out, ce)
		}
		return out, nil
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeMismatch(ft.kind, name, v)
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if e == nil {
				continue
			}
			ce, err := conformScalar(e, fieldType{kind: ft.elem}, name)
			if err != nil {
				return nil, err
			}
			out[k] = ce
		}
		return out, nil
	}
	return conformScalar(v, ft, name)
}

func conformScalar(v any, ft fieldType, name string) (any, *apiError) {
	switch ft.kind {
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeMismatch(ft.kind, name, v)
		}
		return conform(m, ft.ref)
	case kString:
		s, ok := v.(string)
		if !ok {
			return nil, typeMismatch(ft.kind, name, v)
		}
		// git_provider is matched case-insensitively by the service and
		// checked with its own message in validate (§3.2.1 [cloud], §12.18).
		if ft.enum != "" && ft.enum != "GitProvider" && !slices.Contains(schemaEnums[ft.enum], s) {
			return nil, malformed("Could not parse request object: Invalid value %q for field %s: expected one of %s", s, name, strings.Join(schemaEnums[ft.enum], ", "))
		}
		return s, nil
	case kBool:
		if _, ok := v.(bool); !ok {
			return nil, typeMismatch(ft.kind, name, v)
		}
		return v, nil
	case kInt32, kInt64, kNumber:
		n, ok := v.(json.Number)
		if !ok {
			return nil, typeMismatch(ft.kind, name, v)
		}
		return conformNumber(n, ft.kind, name)
	}
	return v, nil
}

// conformNumber accepts integral numbers (also written 1.0 or 1e3) for int
// fields, in range, and normalises them to plain integer form.
func conformNumber(n json.Number, k kind, name string) (any, *apiError) {
	if k == kNumber {
		if _, err := n.Float64(); err != nil {
			return nil, malformed("Could not parse request object: Numeric value (%s) out of range for field %s", shorten(string(n)), name)
		}
		return n, nil
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil && !strings.ContainsAny(string(n), ".eE") {
		return nil, malformed("Could not parse request object: Numeric value (%s) out of range or not an integer for field %s", shorten(string(n)), name)
	}
	if err != nil {
		// 1e3 or 5.0 for an integer. float64(math.MaxInt64) rounds up to
		// 2^63, which int64 cannot hold: the bounds are 2^63 itself,
		// excluded, and -2^63, included (2^63 once wrapped to a negative
		// job id here).
		f, ferr := strconv.ParseFloat(string(n), 64)
		if ferr != nil || f != math.Trunc(f) || f >= 0x1p63 || f < -0x1p63 {
			return nil, malformed("Could not parse request object: Numeric value (%s) out of range or not an integer for field %s", shorten(string(n)), name)
		}
		i = int64(f)
	}
	if k == kInt32 && (i > math.MaxInt32 || i < math.MinInt32) {
		return nil, malformed("Could not parse request object: Numeric value (%s) out of range of int for field %s", shorten(string(n)), name)
	}
	return json.Number(strconv.FormatInt(i, 10)), nil
}

func typeMismatch(want kind, name string, got any) *apiError {
	return malformed("Could not parse request object: Expected %s for field %s, found %s", want, name, jsonKindName(got))
}

// queryParams reads the parameters of a GET request into a tree shaped like a
// JSON body, typed by the request type typeName. Databricks also accepts the
// parameters of a GET as a JSON body (docs.databricks.com/dev-tools/api,
// "curl --request GET ... --data '{ "cluster_id": ... }'"); query values win.
func queryParams(q url.Values, body []byte, typeName string) (map[string]any, *apiError) {
	fields := schemaTypes[typeName]
	out := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		if m, err := parseJSON(body); err == nil {
			if m, err = conform(m, typeName); err != nil {
				return nil, err
			}
			out = m
		}
	}
	for name, vals := range q {
		ft, ok := fields[name]
		if !ok || len(vals) == 0 {
			continue
		}
		s := vals[len(vals)-1]
		switch ft.kind {
		case kBool:
			// Query booleans are lower-case true/false (§2; [PY]
			// _base_client.py converts True to "true" for this reason).
			switch s {
			case "true":
				out[name] = true
			case "false":
				out[name] = false
			default:
				return nil, malformed("Could not parse request object: Expected boolean for field %s, found %q", name, s)
			}
		case kInt32, kInt64:
			v, err := conformNumber(json.Number(s), ft.kind, name)
			if err != nil {
				return nil, err
			}
			out[name] = v
		case kString:
			cv, err := conformScalar(s, ft, name)
			if err != nil {
				return nil, err
			}
			out[name] = cv
		case kArray:
			out[name] = anySlice(vals)
		}
	}
	return out, nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Accessors for conformed trees. They never panic on missing or mistyped
// values: conform already guaranteed the types of known fields.

func getInt(m map[string]any, key string) int64 {
	n, ok := m[key].(json.Number)
	if !ok {
		return 0
	}
	i, _ := n.Int64()
	return i
}

func getString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func getBool(m map[string]any, key string) bool {
	b, _ := m[key].(bool)
	return b
}

func getMap(m map[string]any, key string) map[string]any {
	v, _ := m[key].(map[string]any)
	return v
}

func getList(m map[string]any, key string) []any {
	v, _ := m[key].([]any)
	return v
}

// objects returns the object elements of an array field.
func objects(m map[string]any, key string) []map[string]any {
	arr := getList(m, key)
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		if o, ok := e.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func num(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }
