package schema

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// A folder with databricks.yml is an Asset Bundle, and jobsync reads it as
// the project: bundle.name is the project name, its variables and targets
// are the project's, and its jobs (resources.jobs in the root file and in
// the files its include: globs name) are the job files. What the bundle
// CLI does with them is mirrored here and in bundle_*.go, each rule with
// the file of databricks/cli (at commit 7bbe285) it follows.

// isBundleFileName says whether name (a base name) is a bundle root
// file's (projectFiles, discover.go).
func isBundleFileName(name string) bool {
	for _, f := range projectFiles {
		if name == f.name {
			return f.kind == KindBundle
		}
	}
	return false
}

// projectNameRE is the form of a project name (schema/internal/schemagen
// ProjectPattern): it goes into every job's ownership tag.
var projectNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// bundleTopKeys are the top-level keys of a bundle file and what jobsync
// does with each: "use" (read), "ignore" (accepted, nothing to do for
// jobs), or a reason for skipping it, given once in a warning.
var bundleTopKeys = map[string]string{
	"bundle":       "use",
	"include":      "use",
	"variables":    "use",
	"workspace":    "use",
	"resources":    "use",
	"targets":      "use",
	"environments": "use",
	"permissions":  "use",
	"run_as":       "use",
	"presets":      "use",
	"artifacts":    "jobsync does not build artifacts: build them first (the files the jobs name must exist)",
	"sync":         "jobsync uploads the files the jobs name, not a synced folder",
	"experimental": "experimental bundle settings have no effect on jobsync",
	"scripts":      "jobsync runs no scripts",
	"python":       "jobs defined in Python (databricks-bundles) are not read; only YAML ones",
}

// bundleTargetKeys are the keys of a target, as bundleTopKeys.
var bundleTargetKeys = map[string]string{
	"default":     "use",
	"mode":        "use",
	"presets":     "use",
	"cluster_id":  "use",
	"compute_id":  "use",
	"bundle":      "use",
	"workspace":   "use",
	"resources":   "use",
	"variables":   "use",
	"run_as":      "use",
	"permissions": "use",
	"git":         "ignore",
	"artifacts":   bundleTopKeys["artifacts"],
	"sync":        bundleTopKeys["sync"],
}

// bundleWorkspaceKeys are the keys of workspace: jobsync reads host,
// profile and the paths; authentication comes from the environment and
// the profile, as for any jobsync project.
var bundleWorkspaceKeys = map[string]string{
	"host": "use", "profile": "use", "root_path": "use", "file_path": "use",
	"artifact_path": "use", "state_path": "use", "resource_path": "use",
}

// bundleProject is what jobsync keeps of a bundle: its configuration
// merged from every file (without the job definitions), and the jobs.
type bundleProject struct {
	dir   string   // the bundle root, an OS path
	files []string // the files read, as reported: root first, then includes
	root  ptree    // everything but resources, merged from every file
	jobs  []*bundleJob
	// warnings: keys and resources that are skipped, one each.
	warnings Diagnostics
	skipped  map[string]bool
}

// bundleJob is a job as a bundle file defines it at the top level.
type bundleJob struct {
	key       string
	file      string // as reported
	pos       Pos    // of the key
	value     any
	positions map[string]lineCol // in file, relative to the job
	failed    []string
}

// pos is where the value at ptr of the merged configuration is written.
func (bp *bundleProject) pos(ptr string) Pos { return bp.root.pos(ptr) }

// warn records a warning about something jobsync skips, once per what.
func (bp *bundleProject) warn(what string, p Pos, format string, args ...any) {
	if bp.skipped[what] {
		return
	}
	bp.skipped[what] = true
	bp.warnings = append(bp.warnings, Diagnostic{Pos: p, Path: what, Msg: fmt.Sprintf(format, args...)})
}

// bundleFile is one parsed file of a bundle.
type bundleFile struct {
	name      string
	value     map[string]any
	positions map[string]lineCol
	failed    []string
}

func (f *bundleFile) pos(ptr string) Pos {
	for {
		if lc, ok := f.positions[ptr]; ok {
			return Pos{File: f.name, Line: int(lc.line), Col: int(lc.col)}
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return Pos{File: f.name}
		}
		ptr = ptr[:i]
	}
}

// readBundleFile parses one bundle file. ok is false when it holds nothing
// usable (the problems say why).
func readBundleFile(name, path string, ds *Diagnostics) (*bundleFile, bool) {
	data, err := readFile(path)
	if err != nil {
		*ds = append(*ds, Diagnostic{Pos: Pos{File: name}, Msg: readProblem(err)})
		return nil, false
	}
	f := &bundleFile{name: name, value: map[string]any{}, positions: map[string]lineCol{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := decodeSafely(dec, &doc); {
	case err == io.EOF:
		return f, true
	case err != nil:
		*ds = append(*ds, yamlErrorDiag(name, data, err))
		return nil, false
	}
	var extra yaml.Node
	if err := decodeSafely(dec, &extra); err != io.EOF {
		if err != nil {
			*ds = append(*ds, yamlErrorDiag(name, data, err))
		} else {
			*ds = append(*ds, Diagnostic{Pos: Pos{File: name, Line: extra.Line, Col: extra.Column}, Msg: "a bundle file holds one YAML document; remove the second (---)"})
		}
		return nil, false
	}
	b := (&aliasBudget{limit: aliasAllowance(&doc)}).builder(name)
	val, _ := b.value(&doc, "", Pos{File: name, Line: 1, Col: 1})
	f.positions, f.failed = b.positions, b.failed
	for _, pr := range b.problems {
		*ds = append(*ds, Diagnostic{Pos: pr.pos, Path: keyedPath(val, pr.ptr), Msg: pr.msg})
	}
	switch m := val.(type) {
	case nil:
		return f, true
	case map[string]any:
		f.value = m
		return f, true
	}
	*ds = append(*ds, Diagnostic{Pos: f.pos(""), Msg: fmt.Sprintf("a bundle file must be a mapping (bundle:, resources:, targets:, ...), found %s", article(typeName(val)))})
	return nil, false
}

// loadBundle reads a bundle: the root file at path and the files its
// include: globs name, merged the way the bundle CLI merges them.
func loadBundle(ctx context.Context, path string) (*Project, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := filepath.ToSlash(filepath.Clean(path))
	dir := filepath.Dir(path)
	// A value nobody wrote (bundle.name missing) is reported at the top
	// of the root file.
	bp := &bundleProject{dir: dir, root: ptree{v: map[string]any{}, at: map[string]Pos{"": {File: name, Line: 1, Col: 1}}}, skipped: map[string]bool{}}
	p := &Project{File: name, Dir: dir, path: path, value: map[string]any{}, positions: map[string]lineCol{}, bundle: bp}
	var ds Diagnostics
	rootFile, ok := readBundleFile(name, path, &ds)
	if !ok {
		ds.Sort()
		return nil, ds
	}
	files := []*bundleFile{rootFile}
	for _, inc := range bp.includes(rootFile, &ds) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, ok := readBundleFile(inc.name, inc.path, &ds)
		if !ok {
			continue
		}
		if _, has := f.value["include"]; has {
			bp.warn(f.name+":include", f.pos("/include"), "include: is read only in %s; this one has no effect", name)
		}
		files = append(files, f)
	}
	if len(ds) > 0 {
		ds.Sort()
		return nil, ds
	}
	seenJobs := map[string]*bundleJob{}
	for _, f := range files {
		bp.files = append(bp.files, f.name)
		bp.absorb(f, seenJobs, &ds)
	}
	sort.Slice(bp.jobs, func(i, j int) bool { return bp.jobs[i].key < bp.jobs[j].key })
	p.value, _ = bp.root.v.(map[string]any)
	bp.read(p, &ds)
	if len(ds) > 0 {
		ds.Sort()
		return nil, ds
	}
	bp.warnings.Sort()
	return p, nil
}

type includedFile struct{ name, path string }

// includes expands the root file's include: globs, relative to the bundle
// root, in the order written, each glob's matches sorted, a file matched
// twice read once (bundle/config/loader/process_root_includes.go). A
// pattern without glob characters must match a file.
func (bp *bundleProject) includes(f *bundleFile, ds *Diagnostics) []includedFile {
	raw, ok := f.value["include"]
	if !ok || raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		*ds = append(*ds, Diagnostic{Pos: f.pos("/include"), Path: "include", Msg: "include: is a list of file patterns, such as resources/*.yml"})
		return nil
	}
	seen := map[string]bool{}
	for _, f := range projectFiles {
		seen[f.name] = true
	}
	var out []includedFile
	for i, e := range list {
		ptr := "/include/" + strconv.Itoa(i)
		pattern, ok := e.(string)
		switch {
		case !ok || pattern == "":
			*ds = append(*ds, Diagnostic{Pos: f.pos(ptr), Path: fmt.Sprintf("include[%d]", i), Msg: "expected a file pattern (text), such as resources/*.yml"})
			continue
		case filepath.IsAbs(pattern) || strings.HasPrefix(pattern, "/"):
			*ds = append(*ds, Diagnostic{Pos: f.pos(ptr), Path: fmt.Sprintf("include[%d]", i), Msg: "include patterns are relative to the bundle root"})
			continue
		}
		matches, err := filepath.Glob(filepath.Join(bp.dir, filepath.FromSlash(pattern)))
		if err != nil {
			*ds = append(*ds, Diagnostic{Pos: f.pos(ptr), Path: fmt.Sprintf("include[%d]", i), Msg: fmt.Sprintf("invalid pattern %q: %v", pattern, err)})
			continue
		}
		if len(matches) == 0 && !strings.ContainsAny(pattern, "*?[") {
			*ds = append(*ds, Diagnostic{Pos: f.pos(ptr), Path: fmt.Sprintf("include[%d]", i), Msg: fmt.Sprintf("%s does not exist: fix the path, or remove it from include:", pattern)})
			continue
		}
		var found []includedFile
		for _, m := range matches {
			rel, err := filepath.Rel(bp.dir, m)
			if err != nil {
				continue
			}
			rel = filepath.ToSlash(rel)
			if st, err := os.Stat(m); err != nil || st.IsDir() || seen[rel] {
				continue
			}
			seen[rel] = true
			switch strings.ToLower(filepath.Ext(rel)) {
			case ".yml", ".yaml", ".json":
			default:
				*ds = append(*ds, Diagnostic{Pos: f.pos(ptr), Path: fmt.Sprintf("include[%d]", i), Msg: fmt.Sprintf("%s is not a YAML or JSON file; include: names configuration files only", rel)})
				continue
			}
			found = append(found, includedFile{name: filepath.ToSlash(filepath.Join(filepath.Dir(f.name), rel)), path: m})
		}
		sort.Slice(found, func(a, b int) bool { return found[a].name < found[b].name })
		out = append(out, found...)
	}
	return out
}

// absorb takes one file into the bundle: its top-level jobs become bundle
// jobs, its other resources are skipped (one warning per kind), and the
// rest is merged into the configuration.
func (bp *bundleProject) absorb(f *bundleFile, seenJobs map[string]*bundleJob, ds *Diagnostics) {
	rest := map[string]any{}
	for _, k := range sortedKeys(f.value) {
		v := f.value[k]
		what := bundleTopKeys[k]
		switch {
		case k == "resources":
			bp.resources(f, v, seenJobs, ds)
			continue
		case what == "":
			bp.warn(k, f.pos("/"+escapePtr(k)), "unknown top-level key %q%s: ignored", k, didYouMean(k, sortedKeys(toAnyMap(bundleTopKeys))))
			continue
		case what != "use" && what != "ignore":
			bp.warn(k, f.pos("/"+escapePtr(k)), "skipped: %s", what)
			continue
		}
		rest[k] = v
	}
	if _, ok := rest["environments"]; ok {
		// The old name of targets (bundle/config/mutator/environments_compat.go).
		if _, both := rest["targets"]; both {
			*ds = append(*ds, Diagnostic{Pos: f.pos("/environments"), Path: "environments", Msg: "environments and targets are both set; environments is the old name of targets: keep targets"})
		} else if _, earlier := lookup(bp.root.v, "/targets").(map[string]any); earlier {
			*ds = append(*ds, Diagnostic{Pos: f.pos("/environments"), Path: "environments", Msg: "environments is the old name of targets, which another file sets: rename it targets"})
		} else {
			rest["targets"] = rest["environments"]
			movePositions(f.positions, "/environments", "/targets")
		}
		delete(rest, "environments")
	}
	src := ptree{v: rest, at: map[string]Pos{}}
	for ptr, lc := range f.positions {
		if ptr == "/resources" || strings.HasPrefix(ptr, "/resources/") {
			continue
		}
		src.at[ptr] = Pos{File: f.name, Line: int(lc.line), Col: int(lc.col)}
	}
	m := &merger{src: src, place: func(ptr string, p Pos) { bp.root.at[ptr] = p }}
	bp.root.v = m.merge(bp.root.v, "", rest, "")
	for _, pr := range m.problems {
		*ds = append(*ds, Diagnostic{Pos: src.pos(pr.ptr), Path: keyedPath(rest, pr.ptr), Msg: pr.msg + " (another file sets it differently)"})
	}
}

func toAnyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// resources reads one file's resources: its jobs, and a warning for each
// other kind (pipelines, schemas, volumes, apps, ...): jobsync manages jobs.
func (bp *bundleProject) resources(f *bundleFile, v any, seenJobs map[string]*bundleJob, ds *Diagnostics) {
	if v == nil {
		return
	}
	res, ok := v.(map[string]any)
	if !ok {
		*ds = append(*ds, Diagnostic{Pos: f.pos("/resources"), Path: "resources", Msg: fmt.Sprintf("resources is a mapping of resource kinds (jobs, pipelines, ...), found %s", article(typeName(v)))})
		return
	}
	for _, kind := range sortedKeys(res) {
		if kind != "jobs" {
			bp.skipKind(kind, f.pos("/resources/"+escapePtr(kind)))
			continue
		}
		if res[kind] == nil {
			continue
		}
		jobs, ok := res[kind].(map[string]any)
		if !ok {
			*ds = append(*ds, Diagnostic{Pos: f.pos("/resources/jobs"), Path: "resources.jobs", Msg: fmt.Sprintf("resources.jobs is a mapping of job key to job, found %s", article(typeName(res[kind])))})
			continue
		}
		bp.extractJobs(f, jobs, seenJobs, ds)
	}
}

// skipKind warns, once per kind, that a resource kind is not managed.
func (bp *bundleProject) skipKind(kind string, p Pos) {
	bp.warn("resources."+kind, p, "skipped: jobsync manages jobs only; deploy %s with the bundle CLI (databricks bundle deploy), and refer to them by id", kind)
}

// extractJobs cuts the jobs of one file out of its tree, each with its
// positions relative to the job.
func (bp *bundleProject) extractJobs(f *bundleFile, jobs map[string]any, seen map[string]*bundleJob, ds *Diagnostics) {
	const prefix = "/resources/jobs/"
	byKey := map[string]*bundleJob{}
	for _, key := range sortedKeys(jobs) {
		kptr := prefix + escapePtr(key)
		kpos := f.pos(kptr)
		if first, dup := seen[key]; dup {
			*ds = append(*ds, Diagnostic{Pos: kpos, Path: jobPath(key), Msg: fmt.Sprintf("job key %q is defined twice: here and at %s; a key names one job (a target changes a job under targets.<name>.resources.jobs)", key, first.pos)})
			continue
		}
		if !isJobKey(key) {
			*ds = append(*ds, Diagnostic{Pos: kpos, Path: jobPath(key), Msg: fmt.Sprintf("invalid job key %q: jobsync keys use lower-case letters, digits, \"_\" and \"-\"; rename it", key)})
			continue
		}
		j := &bundleJob{key: key, file: f.name, pos: kpos, value: jobs[key], positions: map[string]lineCol{}}
		seen[key], byKey[key] = j, j
		bp.jobs = append(bp.jobs, j)
	}
	for ptr, lc := range f.positions {
		if !strings.HasPrefix(ptr, prefix) {
			continue
		}
		rest := ptr[len(prefix):]
		seg, tail, _ := strings.Cut(rest, "/")
		if j := byKey[unescapePtr(seg)]; j != nil {
			if tail != "" {
				tail = "/" + tail
			}
			j.positions[tail] = lc
		}
	}
	for _, ptr := range f.failed {
		if !strings.HasPrefix(ptr, prefix) {
			continue
		}
		seg, tail, _ := strings.Cut(ptr[len(prefix):], "/")
		if j := byKey[unescapePtr(seg)]; j != nil {
			if tail != "" {
				tail = "/" + tail
			}
			j.failed = append(j.failed, tail)
		}
	}
}

// read fills the project's name, variables and targets from the merged
// configuration, checking what the bundle CLI checks of them.
func (bp *bundleProject) read(p *Project, ds *Diagnostics) {
	root := bp.root
	diag := func(ptr, format string, args ...any) {
		*ds = append(*ds, Diagnostic{Pos: root.pos(ptr), Path: keyedPath(root.v, ptr), Msg: fmt.Sprintf(format, args...)})
	}
	str := func(ptr string) (string, bool) {
		v := lookup(root.v, ptr)
		if v == nil {
			return "", true
		}
		s, ok := v.(string)
		if !ok {
			diag(ptr, "expected text, got %s", describeValue(v))
		}
		return s, ok
	}
	for _, sec := range []string{"bundle", "workspace", "presets", "variables", "targets", "run_as"} {
		if v := lookup(root.v, "/"+sec); v != nil {
			if _, ok := v.(map[string]any); !ok {
				diag("/"+sec, "%s is a mapping, found %s", sec, article(typeName(v)))
				return
			}
		}
	}
	if perms := lookup(root.v, "/permissions"); perms != nil {
		if _, ok := perms.([]any); !ok {
			diag("/permissions", "permissions is a list of {level, user_name | group_name | service_principal_name}, found %s", article(typeName(perms)))
		}
	}
	name, _ := str("/bundle/name")
	switch {
	case name == "":
		diag("/bundle", "a bundle needs a name: set bundle.name")
	case strings.Contains(name, "${"):
		// The bundle CLI warns and goes on
		// (bundle/config/validate/no_interpolation_in_bundle_name.go,
		// commit 7a363301); selectBundle resolves the name per target.
		bp.warn("bundle.name", root.pos("/bundle/name"), "bundle.name uses a substitution: each target becomes a project of its own name (the bundle CLI warns against it too: a name that changes leaves the jobs of the old one behind)")
	case !projectNameRE.MatchString(name):
		diag("/bundle/name", "bundle.name %q is the project name jobsync writes into every job's jobsync tag: use letters, digits, \".\", \"_\" and \"-\" (or pass --project)", name)
	}
	p.Name = name
	bp.readWorkspace("/workspace", diag)
	vars, _ := lookup(root.v, "/variables").(map[string]any)
	for _, vn := range sortedKeys(vars) {
		ptr := "/variables/" + escapePtr(vn)
		v := &Variable{Name: vn, Pos: root.pos(ptr), Type: "string"}
		if !variableNameRE.MatchString(vn) {
			diag(ptr, "%q is not a variable name: start with a letter or \"_\", then letters, digits and \"_\"", vn)
			continue
		}
		switch vm := vars[vn].(type) {
		case nil:
		case map[string]any:
			for _, k := range sortedKeys(vm) {
				switch k {
				case "default", "description", "type", "lookup":
				default:
					diag(ptr+"/"+escapePtr(k), "unknown field %q of a variable%s: a variable has description, default, type and lookup", k, didYouMean(k, []string{"default", "description", "type", "lookup"}))
				}
			}
			v.Description, _ = vm["description"].(string)
			switch t := vm["type"]; t {
			case nil:
			case "complex":
				v.Type = "complex"
			default:
				diag(ptr+"/type", "a variable's type is complex (for lists and mappings), or left out; got %s", describe(t))
			}
			v.Default = vm["default"]
			if v.Default != nil && v.Type != "complex" && isComplex(v.Default) {
				diag(ptr+"/default", "variable %s has %s default: declare it with type: complex", vn, article(typeName(v.Default)))
			}
			if lk, ok := vm["lookup"]; ok && lk != nil {
				if _, ok := lk.(map[string]any); !ok {
					diag(ptr+"/lookup", "lookup is a mapping naming one object, such as {cluster: my-cluster}")
				}
			}
		default:
			diag(ptr, "a variable is declared as a mapping (description, default, type), found %s; write {default: ...}", article(typeName(vars[vn])))
		}
		p.Variables = append(p.Variables, v)
	}
	targets, _ := lookup(root.v, "/targets").(map[string]any)
	if len(targets) == 0 {
		// bundle/config/mutator/default_target.go: a bundle without
		// targets has one, named default.
		p.Targets = []*Target{{Name: "default", Pos: root.pos("/bundle"), ptr: "/targets/default"}}
		p.Default = p.Targets[0]
		bp.fillTarget(p.Targets[0])
		return
	}
	for _, tn := range sortedKeys(targets) {
		ptr := "/targets/" + escapePtr(tn)
		if !targetNameRE.MatchString(tn) {
			diag(ptr, "target name %q: jobsync uses it in the ownership tag and the lockfile name; use lower-case letters, digits, \"_\" and \"-\"", tn)
			continue
		}
		t := &Target{Name: tn, Pos: root.pos(ptr), ptr: ptr}
		switch tm := targets[tn].(type) {
		case nil:
		case map[string]any:
			for _, k := range sortedKeys(tm) {
				switch what := bundleTargetKeys[k]; what {
				case "use", "ignore":
				case "":
					bp.warn("targets."+tn+"."+k, root.pos(ptr+"/"+escapePtr(k)), "unknown target key %q%s: ignored", k, didYouMean(k, sortedKeys(toAnyMap(bundleTargetKeys))))
				default:
					bp.warn(k, root.pos(ptr+"/"+escapePtr(k)), "skipped: %s", what)
				}
			}
			if d, ok := tm["default"]; ok {
				b, isBool := d.(bool)
				if !isBool {
					diag(ptr+"/default", "default is true or false, got %s", describe(d))
				}
				t.Default = b
			}
			if m, ok := tm["mode"]; ok && m != nil {
				s, _ := m.(string)
				if s != "development" && s != "production" {
					diag(ptr+"/mode", "mode is development or production, got %s%s", describe(m), didYouMean(s, []string{"development", "production"}))
				}
				t.Mode = s
			}
			if res, ok := tm["resources"].(map[string]any); ok {
				for _, kind := range sortedKeys(res) {
					if kind != "jobs" {
						bp.skipKind(kind, root.pos(ptr+"/resources/"+escapePtr(kind)))
						continue
					}
					jobs, ok := res[kind].(map[string]any)
					if !ok && res[kind] != nil {
						diag(ptr+"/resources/jobs", "resources.jobs is a mapping of job key to job, found %s", article(typeName(res[kind])))
					}
					for _, k := range sortedKeys(jobs) {
						if !isJobKey(k) {
							diag(ptr+"/resources/jobs/"+escapePtr(k), "invalid job key %q: jobsync keys use lower-case letters, digits, \"_\" and \"-\"; rename it", k)
						}
					}
				}
			}
			bp.readWorkspace(ptr+"/workspace", diag)
			tv, _ := tm["variables"].(map[string]any)
			for _, vn := range sortedKeys(tv) {
				if p.Variable(vn) == nil {
					// bundle/config/root.go validateVariableOverrides
					diag(ptr+"/variables/"+escapePtr(vn), "variable %q is not declared%s; declare it under variables: at the top of the bundle", vn, didYouMean(vn, p.variableNames()))
				}
			}
		default:
			diag(ptr, "a target is a mapping, found %s", article(typeName(targets[tn])))
			continue
		}
		if t.Default {
			if p.Default != nil {
				// bundle/config/mutator/select_default_target.go
				diag(ptr+"/default", "targets %s and %s are both marked default: true; mark one", p.Default.Name, tn)
			} else {
				p.Default = t
			}
		}
		bp.fillTarget(t)
		p.Targets = append(p.Targets, t)
	}
	if p.Default == nil && len(p.Targets) == 1 {
		p.Default = p.Targets[0] // one target is the default
	}
}

// readWorkspace checks a workspace: section: known keys, text values, and
// no substitution where the bundle CLI allows none
// (bundle/config/validate/no_interpolation_in_auth_config.go).
func (bp *bundleProject) readWorkspace(ptr string, diag func(ptr, format string, args ...any)) {
	ws, _ := lookup(bp.root.v, ptr).(map[string]any)
	for _, k := range sortedKeys(ws) {
		kp := ptr + "/" + escapePtr(k)
		if bundleWorkspaceKeys[k] == "" {
			bp.warn("workspace."+k, bp.root.pos(kp), "ignored: jobsync authenticates with DATABRICKS_* environment variables or the profile, and reads only host, profile and the paths of workspace:")
			continue
		}
		if ws[k] == nil {
			continue
		}
		s, ok := ws[k].(string)
		if !ok {
			diag(kp, "expected text, got %s", describeValue(ws[k]))
			continue
		}
		if (k == "host" || k == "profile") && strings.Contains(s, "${") {
			diag(kp, "workspace.%s cannot use substitutions (the bundle CLI refuses them too); write the value, or leave it out and set DATABRICKS_HOST", k)
		}
	}
}

// fillTarget sets the target's workspace from the top-level workspace:
// and the target's own, merged.
func (bp *bundleProject) fillTarget(t *Target) {
	get := func(k string) string {
		if s, ok := lookup(bp.root.v, t.ptr+"/workspace/"+k).(string); ok {
			return s
		}
		s, _ := lookup(bp.root.v, "/workspace/"+k).(string)
		return s
	}
	t.Host, t.Profile = get("host"), get("profile")
	t.RootPath, t.FilePath = get("root_path"), get("file_path")
}

func isComplex(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// IsBundle says whether the project file is an Asset Bundle's.
func (p *Project) IsBundle() bool { return p != nil && p.bundle != nil }
