package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// WorkspacePaths are a bundle target's workspace folders, resolved.
type WorkspacePaths struct {
	Root, Files, Artifacts, State, Resources string
}

// bundleLoad is the resolution of one bundle for one selection.
type bundleLoad struct {
	r     *resolver
	sel   *Selection
	bp    *bundleProject
	t     *Target
	diags Diagnostics
	warns Diagnostics
	// The target's sections, merged with the top-level ones and resolved.
	presets   ptree
	perms     ptree // a list of grants, levels as written
	runAs     ptree
	clusterID string
	clusterAt Pos
	uploads   *uploadSet
}

// diag records a problem at p.
func (b *bundleLoad) diag(p Pos, path, format string, args ...any) {
	b.diags = append(b.diags, Diagnostic{Pos: p, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// section is the top-level section name merged with the target's (the
// bundle CLI's MergeTargetOverrides, bundle/config/root.go: mappings merge,
// lists are concatenated).
func (b *bundleLoad) section(name string) ptree {
	root := b.bp.root
	out := root.sub("/" + name)
	out.v = deepCopy(out.v)
	over := root.sub(b.t.ptr + "/" + name)
	m := &merger{src: over, place: func(ptr string, p Pos) { out.at[ptr] = p }}
	out.v = m.merge(out.v, "", over.v, "")
	for _, pr := range m.problems {
		b.diag(over.pos(pr.ptr), "targets."+b.t.Name+"."+name, "%s", pr.msg)
	}
	return out
}

// loadBundleJobs is LoadWith for a bundle: it resolves the bundle's jobs
// for the selected target, then validates them like any job.
func loadBundleJobs(ctx context.Context, paths []string, o Options) (*Config, error) {
	sel := o.Selection
	p := sel.Project
	bp := p.bundle
	if err := checkBundlePaths(p, paths); err != nil {
		return nil, err
	}
	b := &bundleLoad{sel: sel, bp: bp, t: sel.Target, uploads: newUploadSet()}
	bsec, wsec := b.section("bundle"), b.section("workspace")
	bm, _ := bsec.v.(map[string]any)
	wm, _ := wsec.v.(map[string]any)
	b.r = &resolver{sel: sel, bp: bp, t: b.t, opts: o, bundleSec: bm, ws: wm,
		vars: map[string]any{}, paths: map[string]string{}, busy: map[string]bool{}}
	b.sections()
	keys := map[string]bool{}
	defs := map[string]*bundleJob{}
	for _, j := range bp.jobs {
		keys[j.key], defs[j.key] = true, j
	}
	overrides, _ := lookup(bp.root.v, b.t.ptr+"/resources/jobs").(map[string]any)
	for k := range overrides {
		if isJobKey(k) {
			keys[k] = true
		}
	}
	b.r.jobKeys = keys
	all := make([]string, 0, len(keys))
	for k := range keys {
		all = append(all, k)
	}
	sort.Strings(all)
	l := &loader{sel: sel, workers: o.workers()}
	for _, k := range all {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if lj := b.job(k, defs[k], overrides[k] != nil); lj != nil {
			l.jobs = append(l.jobs, lj)
		}
	}
	l.diags = append(l.diags, b.diags...)
	v, err := compiledValidator()
	if err != nil {
		return nil, err
	}
	if err := l.check(ctx, v); err != nil {
		return nil, err
	}
	if len(l.diags) > 0 {
		l.diags.Sort()
		return nil, dedupeBundle(l.diags, l.jobs)
	}
	cfg := &Config{Selection: sel, Files: append([]string(nil), bp.files...)}
	cfg.Warnings = append(append(Diagnostics(nil), bp.warnings...), b.warns...)
	cfg.Warnings.Sort()
	for _, lj := range l.jobs {
		cfg.Jobs = append(cfg.Jobs, lj.job)
	}
	sort.Slice(cfg.Jobs, func(i, j int) bool { return cfg.Jobs[i].Key < cfg.Jobs[j].Key })
	cfg.Uploads = b.uploads.sorted()
	// The paths, when they can be known: destroy and --prune remove the
	// folders they empty below file_path. Working them out for this alone
	// does not count as using the user.
	used := b.r.userUsed
	root, err1 := b.r.workspacePath("root_path")
	files, err2 := b.r.workspacePath("file_path")
	if err1 == nil && err2 == nil {
		cfg.Paths = &WorkspacePaths{Root: root, Files: files}
		for f, ptr := range map[string]*string{"artifact_path": &cfg.Paths.Artifacts, "state_path": &cfg.Paths.State, "resource_path": &cfg.Paths.Resources} {
			*ptr, _ = b.r.workspacePath(f)
		}
	}
	cfg.UserSubstituted = used
	return cfg, nil
}

// checkBundlePaths refuses path arguments outside the bundle's folder: a
// bundle's jobs are those of its root file and the files it includes, and
// a path inside the folder means the bundle.
func checkBundlePaths(p *Project, paths []string) error {
	root, err := filepath.Abs(p.bundle.dir)
	if err != nil {
		return err
	}
	for _, path := range paths {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(root, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s is outside the Asset Bundle %s, whose jobs are those of the files its include: names: pass the bundle's folder (or no path, from inside it)", filepath.ToSlash(path), p.File)
		}
		// A path that is not there is a typo (or a saved plan that was
		// not made), not a way to name the bundle.
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("cannot read %s: %w", filepath.ToSlash(path), unwrapPathError(err))
		}
	}
	return nil
}

// sections resolves the target's settings that apply to every job:
// presets (with mode: development's defaults), permissions, run_as and
// cluster_id.
func (b *bundleLoad) sections() {
	b.presets = b.resolved(b.section("presets"), "presets")
	perms := b.bp.root.sub("/permissions")
	perms.v = deepCopy(perms.v)
	over := b.bp.root.sub(b.t.ptr + "/permissions")
	m := &merger{src: over, place: func(ptr string, p Pos) { perms.at[ptr] = p }}
	perms.v = m.merge(perms.v, "", over.v, "")
	for _, pr := range m.problems {
		b.diag(over.pos(pr.ptr), "targets."+b.t.Name+".permissions", "%s", pr.msg)
	}
	b.perms = b.resolved(perms, "permissions")
	b.checkPermissions()
	// run_as: the target's replaces the top-level one (root.go).
	b.runAs = b.bp.root.sub("/run_as")
	if t := b.bp.root.sub(b.t.ptr + "/run_as"); t.v != nil {
		b.runAs = t
	}
	b.runAs = b.resolved(b.runAs, "run_as")
	// cluster_id (compute_id is its old name): the target's, else bundle:'s
	// (bundle/config/mutator/resourcemutator/override_compute.go).
	for _, ptr := range []string{b.t.ptr + "/cluster_id", b.t.ptr + "/compute_id", "/bundle/cluster_id", "/bundle/compute_id"} {
		if v := lookup(b.bp.root.v, ptr); v != nil {
			res, _, err := b.r.expand(fmt.Sprint(v))
			s, isText := res.(string)
			if err != nil || !isText {
				b.diag(b.bp.pos(ptr), "", "cluster_id: %v", orText(err, "expected a cluster id"))
			}
			// An empty one (cluster_id: "", or a variable left empty)
			// overrides nothing, as in override_compute.go (commit 1448e31d).
			b.clusterID, b.clusterAt = s, b.bp.pos(ptr)
			break
		}
	}
	// DATABRICKS_CLUSTER_ID overrides it in development mode only, for
	// historical reasons; elsewhere it is ignored with a warning
	// (override_compute.go, commit 1448e31d).
	if env := b.sel.clusterEnv; env != "" {
		if b.t.Mode == "development" {
			b.clusterID, b.clusterAt = env, b.bp.pos(b.t.ptr+"/mode")
			b.bp.warn("DATABRICKS_CLUSTER_ID", b.clusterAt, "DATABRICKS_CLUSTER_ID is set: the tasks run on cluster %s (in development mode, as with the bundle CLI; unset it otherwise)", env)
		} else {
			b.bp.warn("DATABRICKS_CLUSTER_ID", b.bp.pos(b.t.ptr), "DATABRICKS_CLUSTER_ID is set, and ignored: target %s does not use mode: development", b.t.Name)
		}
	}
	pm, ok := b.presets.v.(map[string]any)
	if !ok {
		if b.presets.v != nil {
			b.diag(b.presets.pos(""), "presets", "presets is a mapping, found %s", article(typeName(b.presets.v)))
		}
		pm = map[string]any{}
		b.presets.v = pm
	}
	if b.t.Mode == "development" {
		b.development(pm)
	}
	for _, k := range sortedKeys(pm) {
		at := b.presets.pos("/" + escapePtr(k))
		switch v := pm[k]; k {
		case "name_prefix":
			if _, ok := v.(string); !ok && v != nil {
				b.diag(at, "presets.name_prefix", "expected text, got %s", describeValue(v))
			}
		case "trigger_pause_status":
			// apply_presets.go validatePauseStatus
			if v != nil && v != "PAUSED" && v != "UNPAUSED" {
				b.diag(at, "presets.trigger_pause_status", "trigger_pause_status is PAUSED or UNPAUSED, got %s", describe(v))
			}
		case "jobs_max_concurrent_runs":
			if n, ok := v.(json.Number); v != nil && (!ok || !isIntegral(n)) {
				b.diag(at, "presets.jobs_max_concurrent_runs", "expected an integer, got %s", describeValue(v))
			}
		case "tags":
			tm, ok := v.(map[string]any)
			if !ok && v != nil {
				b.diag(at, "presets.tags", "tags is a mapping of tag to text, found %s", article(typeName(v)))
			}
			for _, tk := range sortedKeys(tm) {
				if s, ok := tm[tk].(string); !ok {
					if n, isNum := tm[tk].(json.Number); isNum {
						tm[tk] = string(n)
					} else if bv, isBool := tm[tk].(bool); isBool {
						tm[tk] = strconv.FormatBool(bv)
					} else {
						b.diag(b.presets.pos("/tags/"+escapePtr(tk)), "presets.tags", "a tag's value is text, got %s", describeValue(tm[tk]))
					}
				} else if tk == "jobsync" {
					_ = s
					b.diag(b.presets.pos("/tags/jobsync"), "presets.tags", "tag key \"jobsync\" is reserved: jobsync writes its ownership tag there; use another key")
				}
			}
		case "pipelines_development", "artifacts_dynamic_version":
			// About pipelines and artifacts, which jobsync skips.
		case "source_linked_deployment":
			if v == true {
				b.bp.warn("presets.source_linked_deployment", at, "ignored: jobsync uploads the files the jobs name to workspace.file_path, wherever it runs")
			}
		default:
			b.bp.warn("presets."+k, at, "unknown preset %q%s: ignored", k, didYouMean(k, []string{"name_prefix", "trigger_pause_status", "tags", "jobs_max_concurrent_runs"}))
		}
	}
}

// checkPermissions checks the bundle's top-level grants once (each is
// merged into every job): a level the bundle allows there
// (apply_bundle_permissions.go validatePermissions) and known fields.
func (b *bundleLoad) checkPermissions() {
	list, ok := b.perms.v.([]any)
	if !ok {
		if b.perms.v != nil {
			b.diag(b.perms.pos(""), "permissions", "permissions is a list of {level, user_name | group_name | service_principal_name}, found %s", article(typeName(b.perms.v)))
			b.perms.v = nil
		}
		return
	}
	for i, g := range list {
		gp := "/" + strconv.Itoa(i)
		gm, ok := g.(map[string]any)
		if !ok {
			b.diag(b.perms.pos(gp), fmt.Sprintf("permissions[%d]", i), "a grant is a mapping {level, user_name | group_name | service_principal_name}, found %s", article(typeName(g)))
			continue
		}
		lf := levelField(gm)
		if _, both := gm["permission_level"]; both && lf == "level" {
			b.diag(b.perms.pos(gp+"/level"), fmt.Sprintf("permissions[%d].level", i), "level and permission_level are the same thing: keep one")
		}
		if _, ok := bundleLevels[fmt.Sprint(gm[lf])]; !ok {
			b.diag(b.perms.pos(gp+"/"+lf), fmt.Sprintf("permissions[%d].%s", i, lf), "a bundle's top-level permission level is CAN_VIEW, CAN_RUN (CAN_MANAGE_RUN) or CAN_MANAGE, got %s", describe(gm[lf]))
		}
		for _, f := range sortedKeys(gm) {
			if f != "level" && f != "permission_level" && f != "user_name" && f != "group_name" && f != "service_principal_name" {
				b.diag(b.perms.pos(gp+"/"+escapePtr(f)), fmt.Sprintf("permissions[%d]", i), "unknown field %q of a grant%s: a grant has level and one of user_name, group_name, service_principal_name", f, didYouMean(f, []string{"level", "user_name", "group_name", "service_principal_name"}))
			}
		}
	}
}

func orText(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// development fills in the presets mode: development implies, where the
// bundle sets none (apply_target_mode.go): the name prefix
// "[dev <short_name>] ", a dev tag, schedules and triggers paused, at
// most 4 concurrent runs.
func (b *bundleLoad) development(pm map[string]any) {
	at := b.bp.pos(b.t.ptr + "/mode")
	id := b.r.opts.Identity
	if id == nil {
		b.diag(at, "targets."+b.t.Name+".mode", "mode: development names jobs after the current user, who is not known here")
		return
	}
	b.r.userUsed = true
	short := id.ShortName()
	set := func(k string, v any) {
		if cur, ok := pm[k]; !ok || cur == nil || cur == "" || cur == json.Number("0") {
			pm[k] = v
			b.presets.at["/"+k] = at
		}
	}
	set("name_prefix", "[dev "+short+"] ")
	set("jobs_max_concurrent_runs", json.Number("4"))
	set("trigger_pause_status", "PAUSED")
	tags, _ := pm["tags"].(map[string]any)
	if tags == nil {
		tags = map[string]any{}
		pm["tags"] = tags
	}
	if _, ok := tags["dev"]; !ok {
		tags["dev"] = short
		b.presets.at["/tags/dev"] = at
	}
}

// resolved resolves the substitutions in a section; a failure is a problem
// at the string.
func (b *bundleLoad) resolved(t ptree, name string) ptree {
	var ptrs []string
	walkStrings(t.v, "", func(ptr, s string) {
		if strings.Contains(s, "${") {
			ptrs = append(ptrs, ptr)
		}
	})
	for _, ptr := range ptrs {
		s, _ := lookup(t.v, ptr).(string)
		v, _, err := b.r.expand(s)
		if err != nil {
			b.diag(t.pos(ptr), joinPath(name, keyedPath(t.v, ptr)), "%v", err)
			continue
		}
		t.v = setAt(t.v, ptr, v)
	}
	return t
}

// bjob is a bundle job while it is being resolved.
type bjob struct {
	b       *bundleLoad
	job     *Job
	value   map[string]any
	failed  []string
	fromVar map[string]string
	// baseDir maps the pointer of a path that came whole from a variable
	// to the folder its value was written in (paths are relative to the
	// file that writes them).
	baseDir map[string]string
	// inFilePath holds the pointers of values written as
	// ${workspace.file_path}/...: a file of the bundle, by its place in the
	// synced folder (bundle_paths.go, syncedFile).
	inFilePath map[string]bool
}

func (j *bjob) problem(ptr, format string, args ...any) {
	j.b.diags = append(j.b.diags, Diagnostic{Pos: j.job.PosOf(ptr), Path: joinPath(jobPath(j.job.Key), keyedPath(j.value, ptr)), Msg: fmt.Sprintf(format, args...)})
	j.failed = append(j.failed, ptr)
}

// place records that the value at ptr comes from p.
func (j *bjob) place(ptr string, p Pos) {
	if p.File == j.job.File && p.Line > 0 {
		j.job.positions[ptr] = toLineCol(p)
		delete(j.job.foreignAt, ptr)
		return
	}
	if j.job.foreignAt == nil {
		j.job.foreignAt = map[string]Pos{}
	}
	j.job.foreignAt[ptr] = p
}

// job resolves one job: its definition, the target's override of it, the
// substitutions, run_as, cluster_id, presets and permissions, the
// conversions the bundle CLI makes, and its local files.
func (b *bundleLoad) job(key string, def *bundleJob, overridden bool) *loadedJob {
	var over ptree
	if overridden {
		over = b.bp.root.sub(b.t.ptr + "/resources/jobs/" + escapePtr(key))
	}
	j := &bjob{b: b}
	switch {
	case def != nil:
		j.job = &Job{Key: key, File: def.file, Pos: def.pos, positions: make(map[string]lineCol, len(def.positions))}
		for ptr, lc := range def.positions {
			j.job.positions[ptr] = lc
		}
		m, ok := deepCopy(def.value).(map[string]any)
		if !ok && def.value != nil {
			b.diag(def.pos, jobPath(key), "a job is a mapping of its settings, found %s", article(typeName(def.value)))
			return nil
		}
		if m == nil {
			m = map[string]any{}
		}
		j.value = m
	default:
		// Defined in the target only: a job of this target alone.
		kp := over.pos("")
		j.job = &Job{Key: key, File: kp.File, Pos: kp, positions: map[string]lineCol{}}
		j.value = map[string]any{}
	}
	// A key with nothing under it, here and in the target, is refused as
	// by the bundle CLI (validate/all_resources_have_values.go, commit
	// 21e158a0), instead of becoming a job named "Untitled" with no tasks.
	if def != nil && def.value == nil && (!overridden || over.v == nil) {
		b.diag(def.pos, jobPath(key), "job %s is not defined: its key has no settings (null); write them under it, or remove the key", key)
		return nil
	}
	if overridden {
		m := &merger{src: over, place: j.place, keyed: true}
		merged := m.merge(j.value, "", over.v, "")
		if mm, ok := merged.(map[string]any); ok {
			j.value = mm
		}
		for _, pr := range m.problems {
			b.diag(over.pos(pr.ptr), joinPath(jobPath(key), keyedPath(over.v, pr.ptr)), "%s (merging target %s's override)", pr.msg, b.t.Name)
		}
	}
	j.substitute()
	j.runAsAndCompute()
	j.applyPresets()
	j.permissions()
	j.dropCurrentUser()
	lj := &loadedJob{job: j.job, section: "resources.jobs", fromVar: j.fromVar}
	if perms, ok := j.value["permissions"].(map[string]any); ok {
		grants, rel, mode, problems := splitPermissions(perms)
		for _, pr := range problems {
			j.problem("/permissions"+pr.ptr, "%s", pr.msg)
		}
		if grants != nil {
			movePositions(j.job.positions, "/permissions"+rel, "/permissions")
			j.value["permissions"] = grants
			lj.mode = mode
		}
	}
	j.convert()
	j.localFiles()
	lj.value, lj.failed = j.value, j.failed
	return lj
}

// substitute resolves every ${...} of the job.
func (j *bjob) substitute() {
	type use struct{ ptr, s string }
	var uses []use
	var walk func(v any, ptr string)
	walk = func(v any, ptr string) {
		switch c := v.(type) {
		case string:
			if strings.Contains(c, "${") {
				uses = append(uses, use{ptr, c})
			}
		case []any:
			for i, e := range c {
				walk(e, ptr+"/"+strconv.Itoa(i))
			}
		case map[string]any:
			for _, k := range sortedKeys(c) {
				kp := ptr + "/" + escapePtr(k)
				if strings.Contains(k, "${") {
					j.problem(kp, "substitutions are made in values only, not in mapping keys (%s)", k)
					continue
				}
				walk(c[k], kp)
			}
		}
	}
	walk(j.value, "")
	for _, u := range uses {
		v, _, err := j.b.r.expand(u.s)
		if err != nil {
			j.problem(u.ptr, "%v", err)
			continue
		}
		if _, isText := v.(string); isText && strings.HasPrefix(u.s, "${workspace.file_path}/") {
			if j.inFilePath == nil {
				j.inFilePath = map[string]bool{}
			}
			j.inFilePath[u.ptr] = true
		}
		if pieces, _ := parseRefs(u.s); len(pieces) == 1 && pieces[0].isRef {
			if segs := splitRef(pieces[0].ref); segs[0].key == "var" && len(segs) > 1 {
				if j.fromVar == nil {
					j.fromVar = map[string]string{}
				}
				j.fromVar[u.ptr] = segs[1].key
				j.varBase(u.ptr, segs[1].key)
			}
		}
		if root := setAt(j.value, u.ptr, v); u.ptr == "" {
			if m, ok := root.(map[string]any); ok {
				j.value = m
			}
		}
	}
}

// varBase records the folder a path that is exactly ${var.name} is
// relative to: the file its value is written in (the variable's default,
// or the target's value), or the bundle root for a value from outside the
// files (--var, the environment, variable-overrides.json).
func (j *bjob) varBase(ptr, name string) {
	val, ok := j.b.sel.Values[name]
	if !ok {
		return
	}
	var at Pos
	switch {
	case val.From == "default":
		at = j.b.bp.pos("/variables/" + escapePtr(name) + "/default")
	case strings.HasPrefix(val.From, "target "):
		at = j.b.bp.pos(j.b.t.ptr + "/variables/" + escapePtr(name))
	}
	dir := j.b.bp.dir
	if at.File != "" {
		dir = filepath.Dir(filepath.FromSlash(at.File))
	}
	if j.baseDir == nil {
		j.baseDir = map[string]string{}
	}
	j.baseDir[ptr] = dir
}

// runAsAndCompute sets the bundle's run_as on a job that names none
// (resourcemutator/run_as.go), and the target's cluster_id on every task
// with compute (override_compute.go).
func (j *bjob) runAsAndCompute() {
	b := j.b
	if b.runAs.v != nil {
		if _, set := j.value["run_as"]; !set {
			j.value["run_as"] = deepCopy(b.runAs.v)
			for rel, p := range b.runAs.at {
				j.place("/run_as"+rel, p)
			}
		}
	}
	if b.clusterID == "" {
		return
	}
	for i, t := range asSlice(j.value["tasks"]) {
		tptr := "/tasks/" + strconv.Itoa(i)
		task, _ := t.(map[string]any)
		if fe, ok := task["for_each_task"].(map[string]any); ok {
			if inner, ok := fe["task"].(map[string]any); ok {
				task, tptr = inner, tptr+"/for_each_task/task"
			}
		}
		if task == nil {
			continue
		}
		_, nc := task["new_cluster"]
		_, ec := task["existing_cluster_id"]
		_, ek := task["environment_key"]
		_, jk := task["job_cluster_key"]
		if nc || ec || ek || jk {
			delete(task, "new_cluster")
			delete(task, "job_cluster_key")
			delete(task, "environment_key")
			task["existing_cluster_id"] = b.clusterID
			j.place(tptr+"/existing_cluster_id", b.clusterAt)
		}
	}
}

// applyPresets applies the target's presets the way the bundle CLI does
// (resourcemutator/apply_presets.go): the name prefix, the tags a job does
// not set itself, the concurrent-run limit of a job without one, and the
// pause status of a schedule, trigger or continuous that sets none.
func (j *bjob) applyPresets() {
	pm, _ := j.b.presets.v.(map[string]any)
	at := j.b.presets.pos
	if prefix, _ := pm["name_prefix"].(string); prefix != "" {
		name, _ := j.value["name"].(string)
		j.value["name"] = prefix + name
		if _, own := j.job.positions["/name"]; !own {
			j.place("/name", at("/name_prefix"))
		}
	}
	if tags, _ := pm["tags"].(map[string]any); len(tags) > 0 {
		jt, ok := j.value["tags"].(map[string]any)
		if !ok {
			jt = map[string]any{}
			j.value["tags"] = jt
			j.place("/tags", at("/tags"))
		}
		for _, k := range sortedKeys(tags) {
			if s, _ := jt[k].(string); s == "" {
				jt[k] = tags[k]
				j.place("/tags/"+escapePtr(k), at("/tags/"+escapePtr(k)))
			}
		}
	}
	if n, ok := pm["jobs_max_concurrent_runs"].(json.Number); ok && n != "0" {
		if cur, set := j.value["max_concurrent_runs"]; !set || cur == json.Number("0") {
			j.value["max_concurrent_runs"] = n
			j.place("/max_concurrent_runs", at("/jobs_max_concurrent_runs"))
		}
	}
	if status, _ := pm["trigger_pause_status"].(string); status != "" {
		for _, f := range []string{"schedule", "continuous", "trigger"} {
			if c, ok := j.value[f].(map[string]any); ok {
				if s, _ := c["pause_status"].(string); s == "" {
					c["pause_status"] = status
					j.place("/"+f+"/pause_status", at("/trigger_pause_status"))
				}
			}
		}
	}
}

// bundleLevels maps the bundle's top-level permission levels to a job's
// (resourcemutator/apply_bundle_permissions.go levelsMap["jobs"]), and
// accepts the job's own name of CAN_RUN too.
var bundleLevels = map[string]string{"CAN_MANAGE": "CAN_MANAGE", "CAN_VIEW": "CAN_VIEW", "CAN_RUN": "CAN_MANAGE_RUN", "CAN_MANAGE_RUN": "CAN_MANAGE_RUN"}

// levelField is where a grant says its level: the bundle's level, or
// jobsync's permission_level.
func levelField(g map[string]any) string {
	if _, ok := g["level"]; !ok {
		if _, ok := g["permission_level"]; ok {
			return "permission_level"
		}
	}
	return "level"
}

// permissions turns the bundle's level: into permission_level, and adds
// the bundle's top-level grants to the job, except for a principal the
// job grants something itself (apply_bundle_permissions.go).
func (j *bjob) permissions() {
	own, _ := j.value["permissions"].([]any)
	for i, g := range own {
		gm, ok := g.(map[string]any)
		if !ok {
			continue
		}
		gp := "/permissions/" + strconv.Itoa(i)
		if lvl, ok := gm["level"]; ok {
			if _, both := gm["permission_level"]; both {
				j.problem(gp+"/level", "level and permission_level are the same thing: keep one")
				continue
			}
			gm["permission_level"] = lvl
			delete(gm, "level")
			if lc, ok := j.job.positions[gp+"/level"]; ok {
				j.job.positions[gp+"/permission_level"] = lc
			}
			if p, ok := j.job.foreignAt[gp+"/level"]; ok {
				j.job.foreignAt[gp+"/permission_level"] = p
			}
		}
	}
	top, _ := j.b.perms.v.([]any)
	if len(top) == 0 {
		return
	}
	if _, isMap := j.value["permissions"].(map[string]any); isMap {
		return // jobsync's {mode, grants}: the job's grants are its own
	}
	had := j.value["permissions"] != nil
	for i, g := range top {
		gm, _ := g.(map[string]any)
		gp := "/" + strconv.Itoa(i)
		lf := levelField(gm)
		lvl, _ := gm[lf].(string)
		mapped, ok := bundleLevels[lvl]
		if !ok {
			continue // reported once, by checkPermissions
		}
		k := grantKey(gm)
		dup := false
		for _, e := range own {
			if k != "" && grantKey(e) == k {
				dup = true
			}
		}
		if dup {
			continue
		}
		ng := map[string]any{"permission_level": mapped}
		for _, f := range []string{"user_name", "group_name", "service_principal_name"} {
			if v, ok := gm[f]; ok {
				ng[f] = v
			}
		}
		idx := "/permissions/" + strconv.Itoa(len(own))
		for rel, p := range j.b.perms.sub(gp).at {
			if rel == "/level" {
				rel = "/permission_level"
			} else if rel == "/permission_level" && lf == "level" {
				continue
			}
			j.place(idx+rel, p)
		}
		own = append(own, ng)
	}
	j.value["permissions"] = own
	if !had {
		j.place("/permissions", j.b.perms.pos(""))
	}
}

// dropCurrentUser leaves the current user's grants out of the job's
// permissions, as the bundle CLI does before it deploys
// (databricks/cli bundle/permissions/filter.go FilterCurrentUser, commit
// 042cf56f): the deploying identity owns the jobs it creates, and a grant
// of a lower level to it would take that ownership away ("The job must
// have exactly one owner."), which is what the templates' prod target,
// granting the deploying user CAN_MANAGE, would otherwise run into. A job
// whose only grant was the current user's leaves its permissions alone,
// as the bundle CLI, which then has no permissions to deploy.
func (j *bjob) dropCurrentUser() {
	list, ok := j.value["permissions"].([]any)
	id := j.b.r.opts.Identity
	if !ok || len(list) == 0 {
		return
	}
	var out []any
	mapping := make([][]int, len(list))
	for i, g := range list {
		gm, _ := g.(map[string]any)
		_, user := gm["user_name"]
		_, sp := gm["service_principal_name"]
		if (user || sp) && id != nil && id.UserName != "" {
			j.b.r.userUsed = true // the grants kept depend on who deploys
			if gm["user_name"] == id.UserName || gm["service_principal_name"] == id.UserName {
				continue
			}
		}
		mapping[i] = []int{len(out)}
		out = append(out, g)
	}
	if len(out) == len(list) {
		return
	}
	if len(out) == 0 {
		delete(j.value, "permissions")
		for _, p := range append(keysOfLC(j.job.positions), keysOfPos(j.job.foreignAt)...) {
			if p == "/permissions" || strings.HasPrefix(p, "/permissions/") {
				delete(j.job.positions, p)
				delete(j.job.foreignAt, p)
			}
		}
		return
	}
	j.replaceList("/permissions", out, mapping)
}

// dedupeBundle reports a problem in a value merged into many jobs (a
// preset, a top-level permission) once, naming the jobs.
func dedupeBundle(ds Diagnostics, jobs []*loadedJob) Diagnostics {
	fileOf := map[string]string{}
	for _, lj := range jobs {
		fileOf[lj.job.Key] = lj.job.File
	}
	type place struct {
		pos Pos
		msg string
	}
	first := map[place]int{}
	names := map[place][]string{}
	out := ds[:0]
	for _, d := range ds {
		key := ""
		if rest, ok := strings.CutPrefix(d.Path, "jobs."); ok {
			key = rest
			if i := strings.IndexAny(key, ".["); i >= 0 {
				key = key[:i]
			}
		}
		if key == "" || fileOf[key] == d.Pos.File {
			out = append(out, d)
			continue
		}
		k := place{d.Pos, d.Msg}
		names[k] = append(names[k], key)
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = len(out)
		out = append(out, d)
	}
	for k, i := range first {
		out[i].Msg += inJobs(names[k])
	}
	return out
}
