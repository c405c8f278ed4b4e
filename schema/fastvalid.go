package schema

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// fastSchema is a compiled JSON schema reduced to what the embedded schemas
// use, for answering one question quickly: is a value valid? The validator
// of santhosh-tekuri/jsonschema builds an error tree and a map of evaluated
// properties for every object it visits (about 24 KB of allocation per job,
// a third of a Load's time); almost every job of a real project is valid, and
// for those the answer is all that is needed.
//
// It is built from the library's own compiled schema (its exported fields),
// so both read the schema document the same way ($ref siblings ignored in
// draft-07, booleans as schemas, the same regular expressions). It answers
// valid only when the value is valid for certain; anything it does not
// model (a keyword it does not know, a number it cannot compare exactly)
// makes it answer unknown, and the library then validates the value, as it
// does every invalid one, so that every message stays the library's
// findings worded by translate.
type fastSchema struct {
	unsupported bool
	always      int8 // +1 always valid, -1 never, 0 neither
	ref         *fastSchema
	types       uint8 // bits of jsonTypeBit; 0 = any type

	enum     []any // strings, booleans and nulls only
	hasEnum  bool
	constant []any // as enum, one element
	not      *fastSchema
	allOf    []*fastSchema
	anyOf    []*fastSchema
	oneOf    []*fastSchema

	minProps, maxProps int // -1: none
	required           []string
	props              map[string]*fastSchema
	propertyNames      *fastSchema
	patternProps       []patternSchema
	additional         *fastSchema // nil: any additional property is allowed
	noAdditional       bool

	minItems, maxItems int // -1: none
	items              *fastSchema

	minLen, maxLen int // -1: none
	pattern        *regexp.Regexp
	// class is pattern when it is ^[...]+$ over ASCII (the keys' patterns):
	// matched by a table instead of the regexp engine.
	class   asciiClass
	isClass bool

	min, max       int64
	hasMin, hasMax bool
}

type patternSchema struct {
	re *regexp.Regexp
	s  *fastSchema
}

const (
	typeNull uint8 = 1 << iota
	typeBoolean
	typeObject
	typeArray
	typeNumber
	typeInteger
	typeString
)

var typeBits = map[string]uint8{
	"null": typeNull, "boolean": typeBoolean, "object": typeObject, "array": typeArray,
	"number": typeNumber, "integer": typeInteger, "string": typeString,
}

// verdict is a fast check's answer.
type verdict uint8

const (
	unknown verdict = iota
	valid
	invalid
)

// newFastSchema translates s (and what it refers to).
func newFastSchema(s *jsonschema.Schema) *fastSchema {
	return (&fastCompiler{done: map[*jsonschema.Schema]*fastSchema{}}).compile(s)
}

type fastCompiler struct {
	done map[*jsonschema.Schema]*fastSchema
}

func (c *fastCompiler) compile(s *jsonschema.Schema) *fastSchema {
	if s == nil {
		return nil
	}
	if f, ok := c.done[s]; ok {
		return f
	}
	f := &fastSchema{minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1}
	c.done[s] = f // before the children: schemas may refer to themselves
	if s.Format != "" || s.RecursiveRef != nil || s.DynamicRef != nil || s.If != nil ||
		s.RegexProperties || len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 || len(s.DependentSchemas) > 0 ||
		s.UnevaluatedProperties != nil || s.UniqueItems || s.AdditionalItems != nil || len(s.PrefixItems) > 0 ||
		s.Items2020 != nil || s.Contains != nil || s.UnevaluatedItems != nil || s.ContentEncoding != "" ||
		s.ContentMediaType != "" || s.ContentSchema != nil || s.ExclusiveMinimum != nil || s.ExclusiveMaximum != nil ||
		s.MultipleOf != nil || len(s.Extensions) > 0 {
		f.unsupported = true
		return f
	}
	if s.Always != nil {
		f.always = -1
		if *s.Always {
			f.always = 1
		}
		return f
	}
	f.ref = c.compile(s.Ref)
	for _, t := range s.Types {
		b, ok := typeBits[t]
		if !ok {
			f.unsupported = true
			return f
		}
		f.types |= b
	}
	scalar := func(vs []any) bool {
		for _, v := range vs {
			switch v.(type) {
			case string, bool, nil:
			default:
				return false
			}
		}
		return true
	}
	if len(s.Enum) > 0 {
		if !scalar(s.Enum) {
			f.unsupported = true
			return f
		}
		f.enum, f.hasEnum = s.Enum, true
	}
	if len(s.Constant) > 0 {
		if !scalar(s.Constant[:1]) {
			f.unsupported = true
			return f
		}
		f.constant = s.Constant[:1]
	}
	f.not = c.compile(s.Not)
	for _, x := range s.AllOf {
		f.allOf = append(f.allOf, c.compile(x))
	}
	for _, x := range s.AnyOf {
		f.anyOf = append(f.anyOf, c.compile(x))
	}
	for _, x := range s.OneOf {
		f.oneOf = append(f.oneOf, c.compile(x))
	}

	f.minProps, f.maxProps = s.MinProperties, s.MaxProperties
	f.required = s.Required
	if len(s.Properties) > 0 {
		f.props = make(map[string]*fastSchema, len(s.Properties))
		for name, p := range s.Properties {
			f.props[name] = c.compile(p)
		}
	}
	f.propertyNames = c.compile(s.PropertyNames)
	for re, p := range s.PatternProperties {
		f.patternProps = append(f.patternProps, patternSchema{re, c.compile(p)})
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		f.noAdditional = !a
	case *jsonschema.Schema:
		f.additional = c.compile(a)
	default:
		f.unsupported = true
		return f
	}

	f.minItems, f.maxItems = s.MinItems, s.MaxItems
	switch it := s.Items.(type) {
	case nil:
	case *jsonschema.Schema:
		f.items = c.compile(it)
	default: // a list of schemas, one per position
		f.unsupported = true
		return f
	}

	f.minLen, f.maxLen = s.MinLength, s.MaxLength
	f.pattern = s.Pattern
	if s.Pattern != nil {
		f.class, f.isClass = charClass(s.Pattern.String())
	}

	var ok bool
	if s.Minimum != nil {
		if f.min, ok = ratInt64(s.Minimum); !ok {
			f.unsupported = true
			return f
		}
		f.hasMin = true
	}
	if s.Maximum != nil {
		if f.max, ok = ratInt64(s.Maximum); !ok {
			f.unsupported = true
			return f
		}
		f.hasMax = true
	}
	return f
}

func ratInt64(r *big.Rat) (int64, bool) {
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// check tells whether v is valid against f.
func (f *fastSchema) check(v any) verdict {
	if f == nil {
		return valid
	}
	if f.unsupported {
		return unknown
	}
	switch f.always {
	case 1:
		return valid
	case -1:
		return invalid
	}
	var isInt, intKnown bool
	var n int64
	if num, ok := v.(json.Number); ok {
		n, isInt, intKnown = numberInt(num)
	}
	if f.types != 0 {
		var bit uint8
		switch v.(type) {
		case nil:
			bit = typeNull
		case bool:
			bit = typeBoolean
		case map[string]any:
			bit = typeObject
		case []any:
			bit = typeArray
		case string:
			bit = typeString
		case json.Number:
			bit = typeNumber
		default:
			return unknown
		}
		if f.types&bit == 0 {
			if bit != typeNumber || f.types&typeInteger == 0 {
				return invalid
			}
			// An integer schema takes a number without a fraction.
			switch {
			case !intKnown:
				return unknown
			case !isInt:
				return invalid
			}
		}
	}
	out := valid
	// and combines the verdicts of the value's checks: one invalid makes it
	// invalid, otherwise one unknown makes it unknown.
	and := func(r verdict) {
		if r == invalid || out == invalid {
			out = invalid
		} else if r == unknown {
			out = unknown
		}
	}
	if f.constant != nil {
		and(scalarIn(v, f.constant))
	}
	if f.hasEnum {
		and(scalarIn(v, f.enum))
	}
	if f.not != nil {
		switch f.not.check(v) {
		case valid:
			return invalid
		case unknown:
			and(unknown)
		}
	}
	for _, s := range f.allOf {
		and(s.check(v))
	}
	if len(f.anyOf) > 0 {
		r := invalid
		for _, s := range f.anyOf {
			switch s.check(v) {
			case valid:
				r = valid
			case unknown:
				if r == invalid {
					r = unknown
				}
			}
			if r == valid {
				break
			}
		}
		and(r)
	}
	if len(f.oneOf) > 0 {
		matched, unsure := 0, false
		for _, s := range f.oneOf {
			switch s.check(v) {
			case valid:
				matched++
			case unknown:
				unsure = true
			}
		}
		switch {
		case matched > 1:
			and(invalid)
		case unsure:
			and(unknown)
		case matched == 0:
			and(invalid)
		}
	}
	if out == invalid {
		return invalid
	}
	switch x := v.(type) {
	case map[string]any:
		and(f.object(x))
	case []any:
		if f.minItems >= 0 && len(x) < f.minItems || f.maxItems >= 0 && len(x) > f.maxItems {
			return invalid
		}
		if f.items != nil {
			for _, e := range x {
				if and(f.items.check(e)); out == invalid {
					return invalid
				}
			}
		}
	case string:
		if f.minLen >= 0 || f.maxLen >= 0 {
			l := utf8.RuneCountInString(x)
			if f.minLen >= 0 && l < f.minLen || f.maxLen >= 0 && l > f.maxLen {
				return invalid
			}
		}
		if f.isClass {
			if !f.class.matches(x) {
				return invalid
			}
		} else if f.pattern != nil && !f.pattern.MatchString(x) {
			return invalid
		}
	case json.Number:
		if f.hasMin || f.hasMax {
			if !isInt || !intKnown {
				and(unknown)
			} else if f.hasMin && n < f.min || f.hasMax && n > f.max {
				return invalid
			}
		}
	}
	if out == invalid {
		return invalid
	}
	if f.ref != nil {
		and(f.ref.check(v))
	}
	return out
}

func (f *fastSchema) object(m map[string]any) verdict {
	if f.minProps >= 0 && len(m) < f.minProps || f.maxProps >= 0 && len(m) > f.maxProps {
		return invalid
	}
	for _, r := range f.required {
		if _, ok := m[r]; !ok {
			return invalid
		}
	}
	out := valid
	for name, v := range m {
		var r verdict
		p, known := f.props[name]
		if known {
			if r = p.check(v); r == invalid {
				return invalid
			}
			if r == unknown {
				out = unknown
			}
		}
		if f.propertyNames != nil {
			if r = f.propertyNames.check(name); r == invalid {
				return invalid
			}
			if r == unknown {
				out = unknown
			}
		}
		matched := false
		for _, pp := range f.patternProps {
			if pp.re.MatchString(name) {
				matched = true
				if r = pp.s.check(v); r == invalid {
					return invalid
				}
				if r == unknown {
					out = unknown
				}
			}
		}
		if known || matched {
			continue
		}
		switch {
		case f.noAdditional:
			return invalid
		case f.additional != nil:
			if r = f.additional.check(v); r == invalid {
				return invalid
			}
			if r == unknown {
				out = unknown
			}
		}
	}
	return out
}

// scalarIn compares v with enum values that are strings, booleans or
// nulls, as the library's equality does (a value of another JSON type is
// never equal to them).
func scalarIn(v any, vals []any) verdict {
	switch v.(type) {
	case string, bool, nil, json.Number, map[string]any, []any:
	default:
		return unknown
	}
	for _, e := range vals {
		if v == e {
			return valid
		}
	}
	return invalid
}

// numberInt reads n as an int64. known is false when n has a fraction or
// an exponent, or does not fit: whether it is an integer is then left to
// the library.
func numberInt(n json.Number) (v int64, isInt, known bool) {
	s := string(n)
	if strings.ContainsAny(s, ".eE") {
		return 0, false, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, false
	}
	return v, true, true
}

// asciiClass is the set of bytes of a character class of ASCII characters.
type asciiClass [256]bool

// matches says whether s is one or more bytes of the class: what the
// regexp ^[class]+$ says, since a byte of a multi-byte character is never
// in an ASCII class.
func (c *asciiClass) matches(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !c[s[i]] {
			return false
		}
	}
	return true
}

// charClass reads a pattern of the form ^[...]+$ whose class is made of
// ASCII letters, digits, '_', '.' and ranges of them, with '-' last (as
// the schema writes its keys' patterns). ok is false for any other pattern.
func charClass(pattern string) (c asciiClass, ok bool) {
	body, found := strings.CutPrefix(pattern, "^[")
	if !found {
		return c, false
	}
	if body, found = strings.CutSuffix(body, "]+$"); !found || body == "" {
		return c, false
	}
	if strings.HasSuffix(body, "-") {
		c['-'] = true
		body = body[:len(body)-1]
	}
	plain := func(b byte) bool {
		return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.'
	}
	for i := 0; i < len(body); i++ {
		b := body[i]
		if !plain(b) {
			return c, false
		}
		if i+2 < len(body) && body[i+1] == '-' {
			hi := body[i+2]
			if !plain(hi) || hi < b {
				return c, false
			}
			for x := b; x <= hi; x++ {
				c[x] = true
			}
			i += 2
			continue
		}
		c[b] = true
	}
	return c, true
}
