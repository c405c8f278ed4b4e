package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:generate go run ./internal/schemagen -ref ../../shared/reference/jobs-api-schema.md -out jobs.schema.json -project-out project.schema.json

//go:embed jobs.schema.json
var schemaJSON []byte

//go:embed project.schema.json
var projectSchemaJSON []byte

// schemaURL and projectSchemaURL are the $ids of the embedded schemas.
const (
	schemaURL        = "https://github.com/jobsync/jobsync/schema/jobs.schema.json"
	projectSchemaURL = "https://github.com/jobsync/jobsync/schema/project.schema.json"
)

// JSONSchema returns the embedded JSON schema of a jobsync YAML file
// (draft-07), for editors: `# yaml-language-server: $schema=<file>`.
func JSONSchema() []byte {
	return bytes.Clone(schemaJSON)
}

// ProjectJSONSchema returns the embedded JSON schema of the project file,
// jobsync.yaml (draft-07).
func ProjectJSONSchema() []byte {
	return bytes.Clone(projectSchemaJSON)
}

// validator checks job values against the embedded schema and turns the
// validator's error tree into jobsync's messages. It is built once per Load
// and is immutable afterwards.
type validator struct {
	job *jsonschema.Schema
	// fast answers, without the library, that most values are valid
	// (fastvalid.go).
	fast *fastSchema
	// root is the location of the validated value's schema in doc:
	// "#/definitions/job" for jobs, "#" for the project file.
	root string
	// doc is the schema document itself, read to find the allowed fields
	// at a place (for "did you mean") and jobsync's x- annotations.
	doc map[string]any
}

// compiledValidator compiles the embedded schema once per process. The
// result is the same for every Load, costs more to compile (about 20 ms)
// than a typical Load takes otherwise, and is only read afterwards
// (validation does not modify a compiled schema), so sharing it between
// Loads, even concurrent ones, is safe.
var compiledValidator = sync.OnceValues(func() (*validator, error) {
	return newValidator(schemaJSON, schemaURL, "#/definitions/job")
})

// compiledProjectValidator is the same for the project file's schema.
var compiledProjectValidator = sync.OnceValues(func() (*validator, error) {
	return newValidator(projectSchemaJSON, projectSchemaURL, "#")
})

func newValidator(src []byte, url, root string) (*validator, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource(url, bytes.NewReader(src)); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	sch, err := c.Compile(url + root)
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	return &validator{job: sch, fast: newFastSchema(sch), root: root, doc: doc}, nil
}

// finding is a problem inside one job: ptr is relative to the job value.
type finding struct {
	ptr string
	msg string
	// For schema findings: the required field a "missing" finding is
	// about, or the field an "unknown field" finding suggests, so that a
	// misspelt required field is reported once, as the typo.
	missing, suggested string
}

// validate returns the schema problems of one job value (its settings plus
// permissions and lifecycle). floats are the pointers of numbers written as
// YAML floats.
func (v *validator) validate(value any, floats []string) []finding {
	var out []finding
	if v.fast.check(value) == valid {
		// Valid for certain: the library would find nothing.
	} else if err := v.job.Validate(value); err != nil {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return []finding{{ptr: "", msg: "cannot validate: " + err.Error()}}
		}
		v.collect(ve, value, &out)
		out = dropMisspeltRequired(out)
	}
	// JSON Schema calls 1.0 an integer; the Jobs API's integer fields do
	// not take it.
	for _, ptr := range floats {
		if s := v.schemaFor(ptr); s != nil && hasType(s, "integer") && !hasType(s, "number") {
			if n, ok := lookup(value, ptr).(json.Number); ok && isIntegral(n) {
				out = append(out, finding{ptr: ptr, msg: fmt.Sprintf("expected integer, got number %s; write it without a fraction or exponent", n)})
			}
		}
	}
	return out
}

// dropMisspeltRequired leaves out "missing required field X" when the same
// object has an unknown field that suggests X: the typo says it all.
func dropMisspeltRequired(fs []finding) []finding {
	suggested := map[string]bool{}
	for _, f := range fs {
		if f.suggested != "" {
			suggested[parentLoc(f.ptr)+"\x00"+f.suggested] = true
		}
	}
	out := fs[:0]
	for _, f := range fs {
		if f.missing != "" && suggested[f.ptr+"\x00"+f.missing] {
			continue
		}
		out = append(out, f)
	}
	return out
}

func (v *validator) collect(e *jsonschema.ValidationError, root any, out *[]finding) {
	kw := e.KeywordLocation[strings.LastIndexByte(e.KeywordLocation, '/')+1:]
	if kw == "oneOf" || kw == "anyOf" {
		// Alternatives of different types (a list, or a mapping): only
		// the branch of the value's own type has something to say.
		causes, msg := v.branchOfType(e, root)
		switch {
		case msg != "":
			*out = append(*out, finding{ptr: e.InstanceLocation, msg: msg})
			return
		case causes != nil:
			for _, c := range causes {
				v.collect(c, root, out)
			}
			return
		}
		// Otherwise the branches' own failures ("missing properties") say
		// nothing useful; the group as a whole does.
		if f, ok := v.translate(e, kw, root); ok {
			*out = append(*out, f...)
			return
		}
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			v.collect(c, root, out)
		}
		return
	}
	f, _ := v.translate(e, kw, root)
	*out = append(*out, f...)
}

// branchOfType returns the causes of the one branch of a failed anyOf or
// oneOf whose type is the value's. When every branch has a type and none
// is the value's, msg says which types are expected instead. Both are
// empty when branches share a type (the caller reports every cause).
func (v *validator) branchOfType(e *jsonschema.ValidationError, root any) ([]*jsonschema.ValidationError, string) {
	val := lookup(root, e.InstanceLocation)
	got := map[string]bool{} // JSON Schema types the value has
	switch x := val.(type) {
	case []any:
		got["array"] = true
	case map[string]any:
		got["object"] = true
	case json.Number:
		got["number"] = true
		got["integer"] = isIntegral(x)
	case string:
		got["string"] = true
	case bool:
		got["boolean"] = true
	case nil:
		got["null"] = true
	}
	loc := e.AbsoluteKeywordLocation
	i := strings.IndexByte(loc, '#')
	if i < 0 {
		return nil, ""
	}
	branches, _ := lookup(v.doc, loc[i+1:]).([]any)
	match := -1
	var want []string
	for i, b := range branches {
		bm, _ := b.(map[string]any)
		ts := typesOf(v.resolve(bm))
		if len(ts) == 0 {
			return nil, ""
		}
		for _, t := range ts {
			switch t {
			case "object":
				want = append(want, "mapping")
			case "array":
				want = append(want, "list")
			default:
				want = append(want, t)
			}
			if got[t] {
				if match >= 0 {
					return nil, ""
				}
				match = i
			}
		}
	}
	if match < 0 {
		return nil, fmt.Sprintf("expected %s, got %s", strings.Join(want, " or "), typeName(val))
	}
	prefix := e.KeywordLocation + "/" + strconv.Itoa(match)
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		if c.KeywordLocation == prefix || strings.HasPrefix(c.KeywordLocation, prefix+"/") {
			out = append(out, c)
		}
	}
	return out, ""
}

func typesOf(s map[string]any) []string {
	switch x := s["type"].(type) {
	case string:
		return []string{x}
	case []any:
		return stringList(x)
	}
	return nil
}

// translate turns one leaf error into findings with jobsync's wording.
func (v *validator) translate(e *jsonschema.ValidationError, kw string, root any) ([]finding, bool) {
	ptr := e.InstanceLocation
	val := lookup(root, ptr)
	owner := v.schemaAt(parentLoc(e.AbsoluteKeywordLocation))
	one := func(msg string) ([]finding, bool) { return []finding{{ptr: ptr, msg: msg}}, true }

	if group := stringList(owner["x-exactly-one"]); group != nil && (kw == "oneOf" || kw == "minProperties" || kw == "maxProperties") {
		return one(exactlyOneMessage(group, val))
	}
	if vals := stringList(owner["x-enum-fold"]); vals != nil && kw == "pattern" {
		msg := fmt.Sprintf("must be one of %s (in any letter case), got %s", strings.Join(vals, ", "), describe(val))
		if s, ok := val.(string); ok {
			if sug := suggest(s, vals); sug != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sug)
			}
		}
		return one(msg)
	}
	if msg, ok := owner["x-message"].(string); ok {
		if strings.Contains(e.AbsoluteKeywordLocation, "/propertyNames/") {
			// The problem is the name, not its value.
			name := unescapePtr(ptr[strings.LastIndexByte(ptr, '/')+1:])
			if kw == "pattern" {
				msg += ", got " + strconv.Quote(name)
			}
			return one(msg)
		}
		if kw == "pattern" || kw == "type" || kw == "minimum" || kw == "maximum" {
			msg += ", got " + describe(val)
			if s, ok := val.(string); ok && kw == "pattern" {
				if m := bundleRefRE.FindStringSubmatch(s); m != nil {
					msg += fmt.Sprintf(" (jobsync writes references as ${jobs.%s.id})", m[1])
				}
			}
		}
		return one(msg)
	}
	switch kw {
	case "type":
		want := stringList(owner["type"])
		if want == nil {
			if s, ok := owner["type"].(string); ok {
				want = []string{s}
			}
		}
		for i, w := range want {
			// YAML words for JSON's containers.
			switch w {
			case "object":
				want[i] = "mapping"
			case "array":
				want[i] = "list"
			}
		}
		got := typeName(val)
		if got == "number" {
			got += " " + describe(val) // 1.5: say which
		}
		msg := fmt.Sprintf("expected %s, got %s", strings.Join(want, " or "), got)
		return one(msg + typeHint(want, val))
	case "required":
		obj, _ := val.(map[string]any)
		var fs []finding
		for _, r := range stringList(owner["required"]) {
			if _, ok := obj[r]; !ok {
				fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("missing required field %q", r), missing: r})
			}
		}
		return fs, len(fs) > 0
	case "additionalProperties":
		obj, _ := val.(map[string]any)
		props, _ := owner["properties"].(map[string]any)
		allowed := make([]string, 0, len(props))
		for p := range props {
			allowed = append(allowed, p)
		}
		sort.Strings(allowed)
		var fs []finding
		for _, name := range sortedKeys(obj) {
			if _, ok := props[name]; ok {
				continue
			}
			if pp, ok := owner["patternProperties"].(map[string]any); ok && matchesAny(pp, name) {
				continue
			}
			msg, sug := unknownFieldMessage(name, allowed, ptr)
			fs = append(fs, finding{ptr: ptr + "/" + escapePtr(name), msg: msg, suggested: sug})
		}
		return fs, len(fs) > 0
	case "enum":
		vals := stringList(owner["enum"])
		msg := fmt.Sprintf("must be one of %s, got %s", strings.Join(vals, ", "), describe(val))
		if s, ok := val.(string); ok {
			if sug := suggest(s, vals); sug != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sug)
			}
		}
		return one(msg)
	case "minimum":
		return one(fmt.Sprintf("must be at least %v, got %s", owner["minimum"], describe(val)))
	case "maximum":
		return one(fmt.Sprintf("must be at most %v, got %s", owner["maximum"], describe(val)))
	case "minLength":
		if fmt.Sprint(owner["minLength"]) == "1" {
			return one("must not be empty")
		}
		return one(fmt.Sprintf("must be at least %v characters long", owner["minLength"]))
	case "maxLength":
		s, _ := val.(string)
		return one(fmt.Sprintf("is %d characters long; at most %v are allowed", len([]rune(s)), owner["maxLength"]))
	case "minItems":
		return one(fmt.Sprintf("must have at least %v %s", owner["minItems"], noun(ptr)))
	case "maxItems":
		a, _ := val.([]any)
		return one(fmt.Sprintf("has %d %s; at most %v are allowed", len(a), noun(ptr), owner["maxItems"]))
	case "maxProperties":
		m, _ := val.(map[string]any)
		msg := fmt.Sprintf("has %d %s; at most %v are allowed", len(m), noun(ptr), owner["maxProperties"])
		if note, ok := owner["x-limit-note"].(string); ok {
			msg += " (" + note + ")"
		}
		return one(msg)
	case "pattern":
		return one(fmt.Sprintf("must match %s, got %s", owner["pattern"], describe(val)))
	}
	return one(strings.TrimPrefix(e.Message, "jsonschema: "))
}

// typeHint says how to fix a value of the wrong type when the fix is
// obvious from what was written: quotes to add or remove, or YAML 1.1
// booleans, which YAML 1.2 (and so jobsync) reads as text.
func typeHint(want []string, val any) string {
	if len(want) != 1 {
		return ""
	}
	switch x := val.(type) {
	case json.Number:
		if want[0] == "string" {
			return fmt.Sprintf("; quote it: \"%s\"", x)
		}
	case bool:
		if want[0] == "string" {
			return fmt.Sprintf("; quote it: \"%t\"", x)
		}
	case string:
		switch {
		case (want[0] == "integer" || want[0] == "number") && isJSONNumber(x):
			return "; remove the quotes"
		case want[0] == "boolean" && (x == "true" || x == "false"):
			return "; remove the quotes"
		case want[0] == "boolean" && yaml11Bools[strings.ToLower(x)] != "":
			return fmt.Sprintf("; %s is text in YAML 1.2: write %s", x, yaml11Bools[strings.ToLower(x)])
		}
	}
	return ""
}

// yaml11Bools are YAML 1.1's other spellings of true and false.
var yaml11Bools = map[string]string{"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}

// bundleRefRE is the Asset Bundles way of writing a job id reference.
var bundleRefRE = regexp.MustCompile(`^\$\{resources\.jobs\.([a-z0-9_-]+)\.id\}$`)

func exactlyOneMessage(group []string, val any) string {
	obj, _ := val.(map[string]any)
	var set []string
	for _, g := range group {
		if _, ok := obj[g]; ok {
			set = append(set, g)
		}
	}
	if len(set) == 0 {
		return "set one of " + strings.Join(group, ", ")
	}
	return fmt.Sprintf("%s cannot be set together; set exactly one of %s", joinAnd(set), strings.Join(group, ", "))
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// noun is the plural word for what a list or map at ptr holds: its field
// name ("tasks", "tags", "commands").
func noun(ptr string) string {
	seg := unescapePtr(ptr[strings.LastIndexByte(ptr, '/')+1:])
	if seg == "" || !isIdent(seg) {
		return "entries"
	}
	return strings.ReplaceAll(seg, "_", " ")
}

// fieldHints explain unknown fields that are not typos but mistakes of a
// known kind, keyed by the field name.
var fieldHints = map[string]string{
	"settings":            "job settings go directly under the job key, not under settings:",
	"job_id":              "jobsync keeps job ids in its lockfile; remove job_id from the YAML",
	"access_control_list": "write grants under permissions:",
	"level":               `did you mean "permission_level"?`,
}

// unknownFieldMessage words an unknown field, and returns the allowed field
// it suggests instead, if any.
func unknownFieldMessage(name string, allowed []string, parentPtr string) (string, string) {
	msg := fmt.Sprintf("unknown field %q", name)
	if hint, ok := fieldHints[name]; ok {
		switch {
		case name == "level" && contains(allowed, "permission_level"):
			return msg + " (" + hint + ")", "permission_level"
		case name != "level" && parentPtr == "":
			return msg + " (" + hint + ")", ""
		}
	}
	if s := suggest(name, allowed); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s), s
	}
	return msg, ""
}

// suggest returns the candidate closest to s, or "" when none is close
// enough to be a likely typo.
func suggest(s string, candidates []string) string {
	norm := func(x string) string { return strings.ReplaceAll(strings.ToLower(x), "-", "_") }
	ns := norm(s)
	for _, c := range candidates {
		if norm(c) == ns && c != s {
			return c
		}
	}
	best, bestD := "", 1<<30
	limit := 1 + len(s)/6
	if limit > 3 {
		limit = 3
	}
	nsLen := utf8.RuneCountInString(ns)
	for _, c := range candidates {
		nc := norm(c)
		if l := utf8.RuneCountInString(nc); l-nsLen > limit || nsLen-l > limit {
			// The length difference alone is over the limit: skip the
			// quadratic distance (a 200 KB unknown key meets 1,000
			// task keys).
			continue
		}
		d := editDistance(ns, nc)
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	// A candidate that shares nothing with s ("d" for "a", at distance 1)
	// is not a typo of it, however short both are.
	if bestD <= limit && bestD < max(len([]rune(ns)), len([]rune(norm(best)))) {
		return best
	}
	return ""
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// schemaAt returns the schema object at an absolute keyword location
// ("<url>#/definitions/Task/properties"), or nil.
func (v *validator) schemaAt(loc string) map[string]any {
	i := strings.IndexByte(loc, '#')
	if i < 0 {
		return nil
	}
	m, _ := lookup(v.doc, loc[i+1:]).(map[string]any)
	return m
}

// schemaFor returns the schema that applies to the value at ptr inside a
// job, following properties, additionalProperties, items and $ref.
func (v *validator) schemaFor(ptr string) map[string]any {
	s := v.resolve(v.schemaAt(v.root))
	if ptr == "" {
		return s
	}
	for _, raw := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if s == nil {
			return nil
		}
		seg := unescapePtr(raw)
		var next map[string]any
		if props, ok := s["properties"].(map[string]any); ok {
			next, _ = props[seg].(map[string]any)
		}
		if next == nil {
			next, _ = s["additionalProperties"].(map[string]any)
		}
		if next == nil {
			if _, err := strconv.Atoi(seg); err == nil {
				next, _ = s["items"].(map[string]any)
			}
		}
		s = v.resolve(next)
	}
	return s
}

func (v *validator) resolve(s map[string]any) map[string]any {
	for i := 0; s != nil && i < 10; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = v.schemaAt(ref)
	}
	return s
}

func parentLoc(loc string) string {
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		return loc[:i]
	}
	return loc
}

// lookup returns the value at JSON pointer ptr inside v, or nil.
func lookup(v any, ptr string) any {
	if ptr == "" {
		return v
	}
	for raw := range strings.SplitSeq(strings.TrimPrefix(ptr, "/"), "/") {
		seg := unescapePtr(raw)
		switch c := v.(type) {
		case map[string]any:
			v = c[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func hasType(s map[string]any, t string) bool {
	switch x := s["type"].(type) {
	case string:
		return x == t
	case []any:
		for _, e := range x {
			if e == t {
				return true
			}
		}
	}
	return false
}

func isIntegral(n json.Number) bool {
	r, ok := new(big.Rat).SetString(string(n))
	return ok && r.IsInt()
}

func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if isIntegral(x) && !strings.ContainsAny(string(x), ".eE") {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}

// describe renders a value for a message: scalars as written, containers
// by kind.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if r := []rune(x); len(r) > 80 {
			x = string(r[:77]) + "..."
		}
		return strconv.Quote(x)
	case json.Number:
		return shortText(string(x))
	case bool:
		return strconv.FormatBool(x)
	}
	return typeName(v)
}

func stringList(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, e := range a {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func matchesAny(patterns map[string]any, name string) bool {
	for p := range patterns {
		if re, err := regexp.Compile(p); err == nil && re.MatchString(name) {
			return true
		}
	}
	return false
}

// settingsFields returns the names of the JobSettings fields (the job
// definition's properties without jobsync's own), sorted.
func (v *validator) settingsFields() []string {
	props, _ := v.schemaAt("#/definitions/job")["properties"].(map[string]any)
	var out []string
	for p := range props {
		if p != "permissions" && p != "lifecycle" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
