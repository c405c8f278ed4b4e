package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// selectBundle chooses a bundle's target the way the bundle CLI does
// (bundle/config/mutator/select_default_target.go): the one named, else
// $DATABRICKS_BUNDLE_TARGET, else the one marked default: true, else the
// only one. Unlike a jobsync.yaml, a bundle always has a target: there is
// no base configuration.
//
// A variable's value is, highest first (bundle/config/variable/variable.go,
// bundle/config/mutator/set_variables.go): --var, JOBSYNC_VAR_<name>,
// BUNDLE_VAR_<name>, .databricks/bundle/<target>/variable-overrides.json,
// the target's value, the default. Values may use substitutions; they
// are resolved when the jobs are (bundle_refs.go).
func selectBundle(p *Project, target string, vars map[string]string, getenv func(string) string) (*Selection, error) {
	sel := &Selection{Project: p, Values: map[string]Value{}, lookups: map[string]Pos{}}
	if target == "" {
		for _, name := range []string{"DATABRICKS_BUNDLE_TARGET", "DATABRICKS_BUNDLE_ENV"} {
			if target = getenv(name); target != "" {
				break
			}
		}
	}
	switch {
	case target != "":
		sel.Target = p.Target(target)
		if sel.Target == nil {
			return nil, fmt.Errorf("no target %q in %s%s; its targets are %s", target, p.File, didYouMean(target, p.TargetNames()), strings.Join(p.TargetNames(), ", "))
		}
	case p.Default != nil:
		sel.Target = p.Default
	default:
		return nil, fmt.Errorf("%s marks none of its targets (%s) default: true: pass --target NAME", p.File, strings.Join(p.TargetNames(), ", "))
	}
	for _, name := range sortedNames(vars) {
		if p.Variable(name) == nil {
			return nil, fmt.Errorf("variable %q is not declared in %s%s", name, p.File, didYouMean(name, p.variableNames()))
		}
	}
	bp := p.bundle
	sel.clusterEnv = getenv("DATABRICKS_CLUSTER_ID")
	overrides, err := bp.variableOverrides(sel.Target.Name)
	if err != nil {
		return nil, err
	}
	var ds Diagnostics
	for _, v := range p.Variables {
		ptr := "/variables/" + escapePtr(v.Name)
		if v.Default != nil {
			sel.Values[v.Name] = Value{Value: v.Default, From: "default"}
		} else if lk := lookup(bp.root.v, ptr+"/lookup"); lk != nil {
			sel.lookups[v.Name] = bp.pos(ptr + "/lookup")
		}
		tptr := sel.Target.ptr + "/variables/" + escapePtr(v.Name)
		tvars, _ := lookup(bp.root.v, sel.Target.ptr+"/variables").(map[string]any)
		if tv, ok := tvars[v.Name]; ok && tv != nil {
			val, lk, full := targetVariable(tv, v)
			switch {
			case lk:
				delete(sel.Values, v.Name)
				sel.lookups[v.Name] = bp.pos(tptr + "/lookup")
			case val != nil:
				if v.Type != "complex" && isComplex(val) {
					at := tptr
					if full {
						at += "/default"
					}
					ds = append(ds, Diagnostic{Pos: bp.pos(at), Path: keyedPath(bp.root.v, at), Msg: fmt.Sprintf("variable %s is not declared type: complex, so its value cannot be %s", v.Name, article(typeName(val)))})
					continue
				}
				delete(sel.lookups, v.Name)
				sel.Values[v.Name] = Value{Value: val, From: "target " + sel.Target.Name}
			}
		}
		if ov, ok := overrides[v.Name]; ok && ov != nil {
			if isComplex(ov) != (v.Type == "complex") && isComplex(ov) {
				return nil, fmt.Errorf("%s: variable %s is not declared type: complex, so its value cannot be %s", bp.overridesFile(sel.Target.Name), v.Name, article(typeName(ov)))
			}
			delete(sel.lookups, v.Name)
			sel.Values[v.Name] = Value{Value: ov, From: filepath.ToSlash(bp.overridesFile(sel.Target.Name))}
		}
		for _, env := range []string{"BUNDLE_VAR_", "JOBSYNC_VAR_"} {
			if text := getenv(env + v.Name); text != "" {
				val, err := ParseVariable(v, text)
				if err != nil {
					return nil, fmt.Errorf("%s%s: %w", env, v.Name, err)
				}
				delete(sel.lookups, v.Name)
				sel.Values[v.Name] = Value{Value: val, From: env + v.Name}
			}
		}
		if text, ok := vars[v.Name]; ok {
			val, err := ParseVariable(v, text)
			if err != nil {
				return nil, fmt.Errorf("--var %s: %w", v.Name, err)
			}
			delete(sel.lookups, v.Name)
			sel.Values[v.Name] = Value{Value: val, From: "--var"}
		}
	}
	if strings.Contains(p.Name, "${") {
		name, d := bundleName(bp, p.Name, sel)
		if d != nil {
			ds = append(ds, *d)
		} else {
			named := *p
			named.Name = name
			sel.Project = &named
		}
	}
	if len(ds) > 0 {
		ds.Sort()
		return nil, ds
	}
	return sel, nil
}

// bundleName resolves the substitutions of a bundle.name, which the bundle
// CLI allows (with a warning): ${bundle.target} (or .environment) and a
// ${var.NAME} whose value is plain text. The name is the project's
// ownership scope and names its lockfile, so it is needed before anything
// is read from the workspace: the current user cannot be part of it.
func bundleName(bp *bundleProject, raw string, sel *Selection) (string, *Diagnostic) {
	at := bp.pos("/bundle/name")
	fail := func(format string, args ...any) (string, *Diagnostic) {
		return "", &Diagnostic{Pos: at, Path: "bundle.name", Msg: fmt.Sprintf(format, args...)}
	}
	pieces, err := parseRefs(raw)
	if err != nil {
		return fail("%v", err)
	}
	var b strings.Builder
	for _, pc := range pieces {
		if !pc.isRef {
			b.WriteString(pc.text)
			continue
		}
		segs := splitRef(pc.ref)
		switch {
		case pc.ref == "bundle.target" || pc.ref == "bundle.environment":
			b.WriteString(sel.Target.Name)
		case len(segs) == 2 && segs[0].key == "var" && !segs[1].isIndex:
			v, ok := sel.Values[segs[1].key]
			s, isText := v.Value.(string)
			if !ok || !isText || strings.Contains(s, "${") {
				return fail("${%s} in bundle.name: jobsync resolves a variable there only when its value is plain text, and %s's is not; write the name", pc.ref, segs[1].key)
			}
			b.WriteString(s)
		default:
			return fail("${%s} in bundle.name: jobsync resolves only ${bundle.target} and ${var.NAME} there (the name is the project, needed before the workspace is read); write the name", pc.ref)
		}
	}
	name := b.String()
	if !projectNameRE.MatchString(name) {
		return fail("bundle.name is %q for target %s: it is the project name jobsync writes into every job's jobsync tag: use letters, digits, \".\", \"_\" and \"-\"", name, sel.Target.Name)
	}
	return name, nil
}

// targetVariable reads a target's value of a variable, written either as
// the value itself or as {default: ...} / {lookup: ...}
// (bundle/config/root.go rewriteShorthands, isFullVariableOverrideDef): a
// mapping whose keys are exactly one of those sets is the full form, any
// other value is the value. lk says the target looks the value up.
func targetVariable(tv any, v *Variable) (val any, lk, full bool) {
	m, ok := tv.(map[string]any)
	if !ok {
		return tv, false, false
	}
	fullForms := [][]string{
		{"default", "type", "description"}, {"default", "type"}, {"default", "description"},
		{"lookup", "description"}, {"default"}, {"lookup"},
	}
	for _, keys := range fullForms {
		if len(keys) != len(m) {
			continue
		}
		match := true
		for _, k := range keys {
			if _, has := m[k]; !has {
				match = false
			}
		}
		if match {
			if l, ok := m["lookup"]; ok && l != nil {
				return nil, true, true
			}
			return m["default"], false, true
		}
	}
	return tv, false, false
}

// overridesFile is where the bundle CLI keeps a target's variable values
// set from the IDE (set_variables.go getDefaultVariableFilePath).
func (bp *bundleProject) overridesFile(target string) string {
	return filepath.Join(bp.dir, ".databricks", "bundle", target, "variable-overrides.json")
}

// variableOverrides reads the target's variable-overrides.json, if any: a
// JSON object of variable name to value.
func (bp *bundleProject) variableOverrides(target string) (map[string]any, error) {
	path := bp.overridesFile(target)
	data, err := readFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", filepath.ToSlash(path), err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON object of variable name to value: %v", filepath.ToSlash(path), err)
	}
	return m, nil
}
