package schema

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	variableNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	targetNameRE   = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

// Project is a project file: the project's name, its variables, its
// project-wide permissions and its targets.
type Project struct {
	// File is the project file's path as reported (slash-separated).
	File string
	// Dir is the directory holding it (an OS path): a target's lockfile
	// is relative to it.
	Dir string
	// Name is the `project:` value, "" when the file sets none.
	Name string
	// Variables sorted by name.
	Variables []*Variable
	// Targets sorted by name.
	Targets []*Target
	// Default is the target marked `default: true`, nil when none is.
	Default *Target
	// Paths are the `paths:` rules: which files are job files.
	Paths PathRules

	path      string // OS path
	value     map[string]any
	positions map[string]lineCol
	// vars are the pointers of strings that use a variable.
	vars []string
	// bundle is set when the project file is an Asset Bundle's
	// databricks.yml (bundle.go).
	bundle *bundleProject
}

// Variable is a declared variable.
type Variable struct {
	Name        string
	Description string
	// Type is the declared type, or the type of Default when none is
	// declared ("string" when there is no default either).
	Type string
	// Default is nil when the variable has none.
	Default any
	Pos     Pos
	// Sensitive variables hold secrets: their values are never shown
	// (validate --resolved, plans, messages) and the lockfile keeps only
	// digests of them. A string variable is sensitive when it says
	// sensitive: true, or when its name looks like a secret's (see
	// LooksSecret) and it does not say sensitive: false.
	Sensitive bool
}

// Target is one target of the project file.
type Target struct {
	Name    string
	Pos     Pos
	Default bool
	// Host and Profile name the target's workspace; "" when unset.
	Host, Profile string
	// Lockfile is the lockfile path as written (relative to the project
	// file), "" when unset.
	Lockfile      string
	PauseTriggers bool
	NamePrefix    string
	// RootPath is the target's workspace.root_path as written (it may use
	// substitutions such as ${workspace.current_user.userName}), "" when
	// unset; FilePath likewise its workspace.file_path. Loading a bundle
	// resolves them (Config.Paths).
	RootPath, FilePath string
	// Mode is a bundle target's mode: development, production or "".
	Mode string

	ptr string // "/targets/<name>" in the project file
}

// LockfilePath is the target's lockfile: its `lockfile:` relative to the
// project file's directory, by default jobsync.<target>.lock.json there.
func (t *Target) LockfilePath(p *Project) string {
	name := t.Lockfile
	if name == "" {
		name = "jobsync." + t.Name + ".lock.json"
	}
	return filepath.Join(p.Dir, filepath.FromSlash(name))
}

// Target returns the target with the given name, or nil.
func (p *Project) Target(name string) *Target {
	for _, t := range p.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Variable returns the declared variable with the given name, or nil.
func (p *Project) Variable(name string) *Variable {
	for _, v := range p.Variables {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// TargetNames are the names of the targets, sorted.
func (p *Project) TargetNames() []string {
	out := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		out[i] = t.Name
	}
	return out
}

func (p *Project) variableNames() []string {
	out := make([]string, len(p.Variables))
	for i, v := range p.Variables {
		out[i] = v.Name
	}
	return out
}

// pos is where the value at ptr is written, or its nearest ancestor.
func (p *Project) pos(ptr string) Pos {
	if p.bundle != nil {
		return p.bundle.pos(ptr)
	}
	for {
		if lc, ok := p.positions[ptr]; ok {
			return Pos{File: p.File, Line: int(lc.line), Col: int(lc.col)}
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return Pos{File: p.File}
		}
		ptr = ptr[:i]
	}
}

func (p *Project) diag(ds *Diagnostics, ptr, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: p.pos(ptr), Path: keyedPath(p.value, ptr), Msg: fmt.Sprintf(format, args...)})
}

// LoadProject reads and checks a project file. Problems come back as
// Diagnostics at file:line:col; other errors are I/O errors.
func LoadProject(ctx context.Context, path string) (*Project, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if isBundleFileName(filepath.Base(path)) {
		return loadBundle(ctx, path)
	}
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the project file %s: %w", filepath.ToSlash(path), err)
	}
	name := filepath.ToSlash(filepath.Clean(path))
	p := &Project{File: name, Dir: filepath.Dir(path), path: path, value: map[string]any{}, positions: map[string]lineCol{}}
	var ds Diagnostics
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := decodeSafely(dec, &doc); {
	case err == io.EOF:
		return p, nil // an empty project file: no name, no variables, no targets
	case err != nil:
		return nil, Diagnostics{yamlErrorDiag(name, data, err)}
	}
	var extra yaml.Node
	if err := decodeSafely(dec, &extra); err != io.EOF {
		pos := Pos{File: name, Line: extra.Line, Col: extra.Column}
		if err != nil {
			return nil, Diagnostics{yamlErrorDiag(name, data, err)}
		}
		return nil, Diagnostics{{Pos: pos, Msg: "the project file holds one YAML document; remove the second (---)"}}
	}
	b := (&aliasBudget{limit: aliasAllowance(&doc)}).builder(name)
	val, _ := b.value(&doc, "", Pos{File: name, Line: 1, Col: 1})
	p.positions, p.vars = b.positions, b.vars
	for _, pr := range b.problems {
		ds = append(ds, Diagnostic{Pos: pr.pos, Path: keyedPath(val, pr.ptr), Msg: pr.msg})
	}
	if val == nil {
		return p, nil
	}
	m, ok := val.(map[string]any)
	if !ok {
		ds = append(ds, Diagnostic{Pos: p.pos(""), Msg: fmt.Sprintf("the project file must be a mapping (project:, variables:, permissions:, targets:), found a %s", typeName(val))})
		return nil, ds
	}
	p.value = m
	v, err := compiledProjectValidator()
	if err != nil {
		return nil, err
	}
	for _, f := range v.validate(m, b.floats) {
		if under(f.ptr, b.failed) {
			continue
		}
		p.diag(&ds, f.ptr, "%s", f.msg)
	}
	if len(ds) > 0 {
		// The semantic checks below expect the shapes the schema asks for.
		ds.Sort()
		return nil, ds
	}
	p.read(&ds)
	if len(ds) > 0 {
		ds.Sort()
		return nil, ds
	}
	return p, nil
}

// read fills the project's fields from its (schema-valid) value and runs
// the checks the schema cannot express.
func (p *Project) read(ds *Diagnostics) {
	p.Name, _ = p.value["project"].(string)
	p.readPathRules(ds)
	vars, _ := p.value["variables"].(map[string]any)
	for _, name := range sortedKeys(vars) {
		vm, _ := vars[name].(map[string]any)
		ptr := "/variables/" + escapePtr(name)
		v := &Variable{Name: name, Pos: p.pos(ptr), Default: vm["default"]}
		v.Description, _ = vm["description"].(string)
		v.Type, _ = vm["type"].(string)
		if v.Default != nil {
			got := typeName(v.Default)
			switch {
			case v.Type == "":
				v.Type = got
			case !typeAccepts(v.Type, v.Default):
				p.diag(ds, ptr+"/default", "variable %s is declared %s, but its default is %s", name, article(v.Type), describeValue(v.Default))
			}
		}
		if v.Type == "" {
			v.Type = "string"
		}
		switch declared, set := vm["sensitive"].(bool); {
		case set && declared && v.Type != "string":
			p.diag(ds, ptr+"/sensitive", "only a string variable can be sensitive, and %s is %s: declare it type: string (secrets are text)", name, article(v.Type))
		case set:
			v.Sensitive = declared
		default:
			v.Sensitive = v.Type == "string" && LooksSecret(name)
		}
		p.Variables = append(p.Variables, v)
	}
	targets, _ := p.value["targets"].(map[string]any)
	for _, name := range sortedKeys(targets) {
		tm, _ := targets[name].(map[string]any)
		ptr := "/targets/" + escapePtr(name)
		t := &Target{Name: name, Pos: p.pos(ptr), ptr: ptr}
		t.Default, _ = tm["default"].(bool)
		ws, _ := tm["workspace"].(map[string]any)
		t.Host, _ = ws["host"].(string)
		t.Profile, _ = ws["profile"].(string)
		t.RootPath, _ = ws["root_path"].(string)
		t.Lockfile, _ = tm["lockfile"].(string)
		if t.Lockfile != "" {
			if msg := p.lockfileOutside(t.Lockfile); msg != "" {
				p.diag(ds, ptr+"/lockfile", "%s", msg)
			}
		}
		t.PauseTriggers, _ = tm["pause_triggers"].(bool)
		t.NamePrefix, _ = tm["name_prefix"].(string)
		if t.Default {
			if p.Default != nil {
				p.diag(ds, ptr+"/default", "targets %s and %s are both marked default: true; mark one", p.Default.Name, name)
			} else {
				p.Default = t
			}
		}
		tv, _ := tm["variables"].(map[string]any)
		for _, vn := range sortedKeys(tv) {
			vptr := ptr + "/variables/" + escapePtr(vn)
			decl := p.Variable(vn)
			switch {
			case decl == nil:
				p.diag(ds, vptr, "variable %q is not declared%s; declare it under variables: at the top of the project file", vn, didYouMean(vn, p.variableNames()))
			case tv[vn] == nil:
				p.diag(ds, vptr, "a variable's value cannot be null")
			case !typeAccepts(decl.Type, tv[vn]):
				p.diag(ds, vptr, "variable %s is %s, got %s", vn, article(decl.Type), describeValue(tv[vn]))
			}
		}
		p.Targets = append(p.Targets, t)
		p.checkOverrides(ds, t)
	}
	// Variables are substituted in overrides only, and every use names a
	// declared variable.
	for _, ptr := range p.vars {
		s, _ := lookup(p.value, ptr).(string)
		if !substitutes(ptr) {
			if len(variableRefs(s)) > 0 {
				p.diag(ds, ptr, "variables are substituted in job files, targets' overrides and the project-wide permissions only; write $${var. for the text ${var.")
			}
			continue
		}
		for _, name := range variableRefs(s) {
			if p.Variable(name) == nil {
				p.diag(ds, ptr, "%s", undefinedVariable(name, p))
			}
		}
	}
}

// lockfileOutside says what is wrong with a target's lockfile: path when
// it leads out of the project file's directory: absolute, through "..",
// or through a link to a directory elsewhere. The project file comes
// with the repository, and a pull request must not be able to make apply
// write its lockfile (and the lock next to it) anywhere on the runner;
// whoever needs that passes --lockfile, which the command line, not the
// repository, controls.
func (p *Project) lockfileOutside(path string) string {
	const fix = "; write a path relative to the project file's directory that stays inside it, or pass --lockfile to put the lockfile elsewhere"
	native := filepath.FromSlash(path)
	if filepath.IsAbs(native) || filepath.VolumeName(native) != "" || strings.HasPrefix(path, "/") || strings.HasPrefix(path, `\`) {
		return fmt.Sprintf("the lockfile %s is an absolute path%s", quote(path), fix)
	}
	clean := filepath.Clean(native)
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return fmt.Sprintf("the lockfile %s is outside the project file's directory%s", quote(path), fix)
	}
	// A directory on the way that exists may be a link out.
	root, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		return ""
	}
	for dir := filepath.Dir(clean); dir != "."; dir = filepath.Dir(dir) {
		real, err := filepath.EvalSymlinks(filepath.Join(p.Dir, dir))
		if err != nil {
			continue // not there yet: nothing to follow
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Sprintf("the lockfile %s is in %s, a link to %s outside the project file's directory%s", quote(path), filepath.ToSlash(dir), filepath.ToSlash(real), fix)
		}
		break // the deepest existing directory decides
	}
	return ""
}

// substitutes says whether variables are substituted at a pointer of the
// project file: inside a target's overrides (/targets/<name>/overrides/...)
// or the project-wide permissions. Elsewhere (a workspace, a lockfile, a
// variable's default) a value must not depend on variables.
func substitutes(ptr string) bool {
	parts := strings.SplitN(ptr, "/", 5)
	return strings.HasPrefix(ptr, "/permissions/") ||
		len(parts) == 5 && parts[1] == "targets" && parts[3] == "overrides"
}

// checkOverrides checks what the schema cannot about a target's overrides:
// each element of a keyed array names its key, and permissions have one of
// their two shapes.
func (p *Project) checkOverrides(ds *Diagnostics, t *Target) {
	ov, _ := lookup(p.value, t.ptr+"/overrides").(map[string]any)
	check := func(frag map[string]any, ptr string) {
		for field, keyField := range mergeKeys {
			arr, _ := frag[field].([]any)
			seen := map[string]bool{}
			for i, e := range arr {
				ep := ptr + "/" + field + "/" + strconv.Itoa(i)
				m, _ := e.(map[string]any)
				k, ok := m[keyField].(string)
				switch {
				case !ok || k == "":
					p.diag(ds, ep, "an override of %s names each element by its %s, which this one lacks (elements are merged by key)", field, keyField)
				case seen[k]:
					p.diag(ds, ep+"/"+keyField, "%s %q is overridden twice in this list", keyField, k)
				}
				seen[k] = true
			}
		}
		if perms, ok := frag["permissions"]; ok {
			_, _, _, problems := splitPermissions(perms)
			for _, pr := range problems {
				p.diag(ds, ptr+"/permissions"+pr.ptr, "%s", pr.msg)
			}
		}
	}
	if all, ok := ov["all_jobs"].(map[string]any); ok {
		check(all, t.ptr+"/overrides/all_jobs")
	}
	jobs, _ := ov["jobs"].(map[string]any)
	for _, k := range sortedKeys(jobs) {
		if m, ok := jobs[k].(map[string]any); ok {
			check(m, t.ptr+"/overrides/jobs/"+escapePtr(k))
		}
	}
}

// checkJobKeys reports the job keys that a target overrides but that no
// job file defines: every target's, so that a typo in the prod overrides
// shows while validating dev.
func (p *Project) checkJobKeys(keys map[string]bool) Diagnostics {
	var ds Diagnostics
	all := make([]string, 0, len(keys))
	for k := range keys {
		all = append(all, k)
	}
	sort.Strings(all)
	for _, t := range p.Targets {
		jobs, _ := lookup(p.value, t.ptr+"/overrides/jobs").(map[string]any)
		for _, k := range sortedKeys(jobs) {
			if !keys[k] {
				p.diag(&ds, t.ptr+"/overrides/jobs/"+escapePtr(k), "target %s overrides job %q, which no job file defines%s", t.Name, k, didYouMean(k, all))
			}
		}
	}
	return ds
}

// typeAccepts says whether a value fits a variable type; an integer is a
// number too.
func typeAccepts(typ string, v any) bool {
	got := typeName(v)
	return got == typ || typ == "number" && got == "integer"
}

func article(typ string) string {
	if typ == "integer" {
		return "an integer"
	}
	return "a " + typ
}

func describeValue(v any) string {
	switch v.(type) {
	case []any, map[string]any:
		return article(typeName(v))
	}
	return article(typeName(v)) + " " + describe(v)
}
