package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// convert makes the conversions the bundle CLI makes when it reads a
// value into the type the API wants (databricks/cli
// libs/dyn/convert/normalize.go): a number or boolean where the API wants
// text becomes that text (base_parameters, parameter defaults, spark_conf,
// custom_tags), text that reads as an integer, number or boolean where the
// API wants one becomes it (so --var workers=4 fills num_workers), an
// integer written 2.0 becomes 2, and a null is dropped. The schema says
// what each place wants; a place with several possible types is left
// alone. With Options.Strict each conversion is a warning, and a dropped
// null always is (as in the bundle CLI).
func (j *bjob) convert() {
	v, err := compiledValidator()
	if err != nil {
		return
	}
	j.value, _ = j.conv(v, j.value, "", v.resolve(v.schemaAt(v.root))).(map[string]any)
}

// yamlTrue and yamlFalse are the spellings of a boolean the bundle CLI
// accepts in text (normalize.go normalizeBool, after yaml.v2).
var (
	yamlTrue  = map[string]bool{"true": true, "y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true}
	yamlFalse = map[string]bool{"false": true, "n": true, "N": true, "no": true, "No": true, "NO": true, "off": true, "Off": true, "OFF": true}
)

func (j *bjob) warnConversion(ptr, format string, args ...any) {
	if !j.b.r.opts.Strict {
		return
	}
	j.b.warns = append(j.b.warns, Diagnostic{Pos: j.job.PosOf(ptr), Path: joinPath(jobPath(j.job.Key), keyedPath(j.value, ptr)), Msg: fmt.Sprintf(format, args...)})
}

func schemaTypes(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		return stringList(t)
	}
	return nil
}

// conv converts val (at ptr, whose schema is s) and returns it.
func (j *bjob) conv(v *validator, val any, ptr string, s map[string]any) any {
	if s == nil {
		return val
	}
	types := schemaTypes(s)
	switch x := val.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		add, _ := s["additionalProperties"].(map[string]any)
		for _, k := range sortedKeys(x) {
			cp := ptr + "/" + escapePtr(k)
			cs, _ := props[k].(map[string]any)
			if cs == nil {
				cs = add
			}
			cs = v.resolve(cs)
			if x[k] == nil {
				if t := schemaTypes(cs); len(t) == 1 && t[0] != "object" && t[0] != "array" {
					j.b.warns = append(j.b.warns, Diagnostic{Pos: j.job.PosOf(cp), Path: joinPath(jobPath(j.job.Key), keyedPath(j.value, cp)), Msg: fmt.Sprintf("expected %s, found null: left out", article(t[0]))})
				}
				delete(x, k)
				continue
			}
			x[k] = j.conv(v, x[k], cp, cs)
		}
		return x
	case []any:
		items := v.resolve(asMap(s["items"]))
		out := x[:0]
		for i, e := range x {
			if e == nil {
				continue
			}
			out = append(out, j.conv(v, e, ptr+"/"+strconv.Itoa(i), items))
		}
		return out
	}
	if len(types) != 1 {
		return val
	}
	switch want := types[0]; {
	case want == "string":
		switch x := val.(type) {
		case bool:
			j.warnConversion(ptr, "converted %t to the text %q (the API wants text here)", x, strconv.FormatBool(x))
			return strconv.FormatBool(x)
		case json.Number:
			text := string(x)
			if strings.ContainsAny(text, ".eE") {
				if f, err := strconv.ParseFloat(text, 64); err == nil {
					text = strconv.FormatFloat(f, 'f', -1, 64)
				}
			}
			j.warnConversion(ptr, "converted the number %s to the text %q (the API wants text here)", x, text)
			return text
		}
	case want == "integer":
		switch x := val.(type) {
		case string:
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				j.warnConversion(ptr, "converted the text %q to the integer %d", x, n)
				return json.Number(strconv.FormatInt(n, 10))
			}
		case json.Number:
			if strings.ContainsAny(string(x), ".eE") && isIntegral(x) {
				f, _ := strconv.ParseFloat(string(x), 64)
				n := strconv.FormatFloat(f, 'f', 0, 64)
				j.warnConversion(ptr, "converted %s to the integer %s", x, n)
				return json.Number(n)
			}
		}
	case want == "number":
		if x, ok := val.(string); ok {
			if f, err := strconv.ParseFloat(x, 64); err == nil && isJSONNumber(x) {
				j.warnConversion(ptr, "converted the text %q to the number %s", x, x)
				_ = f
				return json.Number(x)
			}
		}
	case want == "boolean":
		if x, ok := val.(string); ok {
			switch {
			case yamlTrue[x]:
				j.warnConversion(ptr, "converted the text %q to true", x)
				return true
			case yamlFalse[x]:
				j.warnConversion(ptr, "converted the text %q to false", x)
				return false
			}
		}
	}
	return val
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
