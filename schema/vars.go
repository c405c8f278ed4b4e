package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Variables are written ${var.<name>} inside any string value of a job (or
// of a target's overrides). A string that is exactly one ${var.<name>} is
// replaced by the variable's value with its type (a number stays a number,
// a mapping a mapping); inside a longer string the value is text. $${var.
// is the text ${var. (no substitution). Other ${...} forms, such as the
// ${jobs.<key>.id} references, are left alone.
const (
	varOpen    = "${var."
	varEscaped = "$${var."
)

// varPart is a piece of a string with variables: text, or a variable.
type varPart struct {
	text  string
	name  string
	isVar bool
}

// parseVars splits s into text and variables. The error says what is
// malformed.
func parseVars(s string) ([]varPart, error) {
	var parts []varPart
	var text strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], varOpen)
		if j < 0 {
			text.WriteString(s[i:])
			break
		}
		j += i
		if j > i && s[j-1] == '$' {
			// $${var. is the text ${var.
			text.WriteString(s[i : j-1])
			text.WriteString(varOpen)
			i = j + len(varOpen)
			continue
		}
		text.WriteString(s[i:j])
		end := strings.IndexByte(s[j:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%q opens a variable that is not closed: write ${var.NAME}, or $${var. for the text ${var.", s)
		}
		name := s[j+len(varOpen) : j+end]
		if !variableNameRE.MatchString(name) {
			return nil, fmt.Errorf("%q is not a variable name (in %s}): a name starts with a letter or \"_\" and contains only letters, digits and \"_\"", name, s[j:j+end])
		}
		if text.Len() > 0 {
			parts = append(parts, varPart{text: text.String()})
			text.Reset()
		}
		parts = append(parts, varPart{name: name, isVar: true})
		i = j + end + 1
	}
	if text.Len() > 0 || len(parts) == 0 {
		parts = append(parts, varPart{text: text.String()})
	}
	return parts, nil
}

// variableRefs are the names of the variables s uses (malformed uses are
// reported when the string is substituted).
func variableRefs(s string) []string {
	parts, err := parseVars(s)
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range parts {
		if p.isVar {
			out = append(out, p.name)
		}
	}
	return out
}

// undefinedVariable words the use of a variable nobody declared.
func undefinedVariable(name string, p *Project) string {
	msg := fmt.Sprintf("undefined variable %q", name)
	switch {
	case p == nil:
		return msg + ": there is no project file to declare it in (jobsync.yaml; or, for an Asset Bundle's job file, its databricks.yml: run jobsync on the bundle's folder); see README, Targets and variables"
	case len(p.Variables) == 0:
		return msg + fmt.Sprintf(": %s declares no variables; declare it under variables:", p.File)
	}
	return msg + didYouMean(name, p.variableNames()) + fmt.Sprintf("; %s declares %s", p.File, strings.Join(p.variableNames(), ", "))
}

// expand substitutes the variables of s. It returns s unchanged (and false)
// when s uses none. ok is false when s could not be substituted; msg says
// why.
func (sel *Selection) expand(s string) (v any, changed bool, msg string) {
	if !strings.Contains(s, varOpen) {
		return s, false, ""
	}
	parts, err := parseVars(s)
	if err != nil {
		return nil, true, err.Error()
	}
	if len(parts) == 1 && !parts[0].isVar {
		return parts[0].text, true, "" // only escapes
	}
	var proj *Project
	if sel != nil {
		proj = sel.Project
	}
	value := func(name string) (any, string) {
		if proj == nil || proj.Variable(name) == nil {
			return nil, undefinedVariable(name, proj)
		}
		val, ok := sel.Values[name]
		if !ok {
			where := "give it a default, pass --var " + name + "=VALUE, or set JOBSYNC_VAR_" + name
			if sel.Target != nil {
				where = fmt.Sprintf("give it a default, set it in targets.%s.variables, pass --var %s=VALUE, or set JOBSYNC_VAR_%s", sel.Target.Name, name, name)
			}
			return nil, fmt.Sprintf("variable %q has no value%s: %s", name, sel.forTarget(), where)
		}
		return val.Value, ""
	}
	if len(parts) == 1 {
		v, msg := value(parts[0].name)
		if msg != "" {
			return nil, true, msg
		}
		return deepCopy(v), true, ""
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.isVar {
			b.WriteString(p.text)
			continue
		}
		v, msg := value(p.name)
		if msg != "" {
			return nil, true, msg
		}
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case json.Number:
			b.WriteString(string(x))
		case bool:
			b.WriteString(strconv.FormatBool(x))
		default:
			return nil, true, fmt.Sprintf("variable %q is %s: it can only be a whole value (\"${var.%s}\" alone), not part of a string", p.name, article(typeName(v)), p.name)
		}
	}
	return b.String(), true, ""
}

func (sel *Selection) forTarget() string {
	if sel != nil && sel.Target != nil {
		return " for target " + sel.Target.Name
	}
	return ""
}

// substituted describes one string that substitute replaced: whole is the
// variable's name when the string was exactly one variable, and float says
// the new value is a number written with a fraction or exponent (so that
// integer fields refuse it, as they would refuse it written in the YAML).
type substituted struct {
	ptr, whole string
	float      bool
	// secrets are the strings of the new value when it used a sensitive
	// variable (the whole string: "--token=s3cr3t", not only s3cr3t).
	secrets []string
}

// substitute replaces the variables of the strings at ptrs inside root (a
// tree this call may modify). It calls fail for each string it cannot
// substitute, and done for each it replaced. ptrs must be in the order the
// builder recorded them: parents first.
func (sel *Selection) substitute(root any, ptrs []string, fail func(ptr, msg string), done func(substituted)) any {
	for _, ptr := range ptrs {
		s, ok := lookup(root, ptr).(string)
		if !ok {
			continue
		}
		v, changed, msg := sel.expand(s)
		if msg != "" {
			fail(ptr, msg)
			continue
		}
		if !changed {
			continue
		}
		d := substituted{ptr: ptr}
		if n, ok := v.(json.Number); ok && strings.ContainsAny(string(n), ".eE") {
			d.float = true
		}
		if parts, err := parseVars(s); err == nil {
			if len(parts) == 1 && parts[0].isVar {
				d.whole = parts[0].name
			}
			for _, p := range parts {
				if p.isVar && sel.sensitive(p.name) {
					d.secrets = stringsIn(v, d.secrets)
					break
				}
			}
		}
		root = setAt(root, ptr, v)
		done(d)
	}
	return root
}

// sensitive says whether the variable name is declared sensitive.
func (sel *Selection) sensitive(name string) bool {
	if sel == nil || sel.Project == nil {
		return false
	}
	v := sel.Project.Variable(name)
	return v != nil && v.Sensitive
}

// SecretValues are the values of the sensitive variables, for redacting
// them from messages (the API client's, the diagnostics).
func (sel *Selection) SecretValues() []string {
	if sel == nil {
		return nil
	}
	var out []string
	for _, v := range sel.Project.Variables {
		if s, ok := sel.Values[v.Name].Value.(string); ok && v.Sensitive && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// stringsIn appends the strings under v to out.
func stringsIn(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = stringsIn(e, out)
		}
	case map[string]any:
		for _, e := range x {
			out = stringsIn(e, out)
		}
	}
	return out
}

// fromVariable says where a value that replaced a whole-value variable came
// from, for messages about it.
func (sel *Selection) fromVariable(name string) string {
	from := ""
	if sel != nil {
		switch v, ok := sel.Values[name]; {
		case !ok:
		case v.From == "default":
			from = ", its default"
		default:
			from = ", set by " + v.From
		}
	}
	return fmt.Sprintf(" (the value of ${var.%s}%s)", name, from)
}

// setAt sets the value at ptr (which exists) and returns root.
func setAt(root any, ptr string, v any) any {
	if ptr == "" {
		return v
	}
	i := strings.LastIndexByte(ptr, '/')
	parent := lookup(root, ptr[:i])
	seg := unescapePtr(ptr[i+1:])
	switch c := parent.(type) {
	case map[string]any:
		c[seg] = v
	case []any:
		if n, err := strconv.Atoi(seg); err == nil && n >= 0 && n < len(c) {
			c[n] = v
		}
	}
	return root
}

// deepCopy copies a JSON tree, so that one value can go into many jobs
// that are changed independently afterwards.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// ParseVariable reads the text of a --var or JOBSYNC_VAR_ value as a value
// of the variable's type: text for a string, a number for integer and
// number, true or false for boolean, and YAML (flow style, e.g. [a, b] or
// {k: v}) for list, mapping and a bundle's complex.
func ParseVariable(v *Variable, text string) (any, error) {
	switch v.Type {
	case "string", "":
		return text, nil
	case "integer":
		var z big.Int
		if _, ok := z.SetString(strings.TrimPrefix(text, "+"), 10); !ok {
			return nil, fmt.Errorf("variable %s is an integer, got %q", v.Name, text)
		}
		return json.Number(z.String()), nil
	case "number":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("variable %s is a number, got %q", v.Name, text)
		}
		if isJSONNumber(text) {
			return json.Number(text), nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case "boolean":
		switch text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("variable %s is a boolean: write true or false, got %q", v.Name, text)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("variable %s is %s written in YAML flow style (e.g. [a, b] or {k: v}): %v", v.Name, article(v.Type), err)
	}
	b := (&aliasBudget{limit: aliasAllowance(&doc)}).builder("")
	val, ok := b.value(&doc, "", Pos{})
	if !ok || len(b.problems) > 0 || v.Type != "complex" && !typeAccepts(v.Type, val) {
		return nil, fmt.Errorf("variable %s is %s written in YAML flow style (e.g. [a, b] or {k: v}), got %q", v.Name, article(v.Type), text)
	}
	return val, nil
}
