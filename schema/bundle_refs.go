package schema

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// A bundle's values use substitutions, ${<path>}, resolved against the
// configuration itself (databricks/cli libs/dyn/dynvar, and
// bundle/config/mutator/resolve_variable_references.go): ${var.x} (short
// for ${variables.x.value}, with .field and [i] into a complex value),
// ${bundle.name}, ${bundle.target}, ${workspace.current_user.userName},
// ${workspace.root_path} and the other workspace paths, and
// ${resources.jobs.<key>.id}, known only once that job exists. jobsync
// resolves every one before anything is planned; a ${...} it cannot
// resolve is an error at its file:line:col, never sent (job settings do
// not use ${...} themselves: run-time values are {{...}}). $${ is the text
// ${.

// bundleRefBody is the reference syntax of the bundle CLI
// (libs/dyn/dynvar/ref.go: a path of segments that start with a letter,
// with [i] indexes).
var bundleRefBody = regexp.MustCompile(`^\p{L}+([-_]*[\p{L}\p{N}]+)*(\.\p{L}+([-_]*[\p{L}\p{N}]+)*(\[[0-9]+\])*)*(\[[0-9]+\])*$`)

// refPiece is a piece of a string with substitutions: text, or a reference.
type refPiece struct {
	text  string
	ref   string // the path inside ${...}
	isRef bool
}

// parseRefs splits s into text and references.
func parseRefs(s string) ([]refPiece, error) {
	var out []refPiece
	var text strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			text.WriteString(s[i:])
			break
		}
		j += i
		if j > 0 && s[j-1] == '$' {
			text.WriteString(s[i : j-1])
			text.WriteString("${")
			i = j + 2
			continue
		}
		text.WriteString(s[i:j])
		end := strings.IndexByte(s[j:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%q opens a substitution that is not closed: write ${NAME}, or $${ for the text ${", s)
		}
		body := s[j+2 : j+end]
		if !bundleRefBody.MatchString(body) {
			return nil, fmt.Errorf("${%s} is not a substitution (such as ${var.name} or ${bundle.target}); job settings take no ${...} of their own, so write $${ for the text ${", body)
		}
		if text.Len() > 0 {
			out = append(out, refPiece{text: text.String()})
			text.Reset()
		}
		out = append(out, refPiece{ref: body, isRef: true})
		i = j + end + 1
	}
	if text.Len() > 0 || len(out) == 0 {
		out = append(out, refPiece{text: text.String()})
	}
	return out, nil
}

// refSeg is one segment of a reference's path: a key, or an [i] index.
type refSeg struct {
	key     string
	index   int
	isIndex bool
}

func splitRef(ref string) []refSeg {
	var out []refSeg
	for _, part := range strings.Split(ref, ".") {
		key, rest, _ := strings.Cut(part, "[")
		out = append(out, refSeg{key: key})
		for rest != "" {
			num, tail, _ := strings.Cut(rest, "]")
			n, _ := strconv.Atoi(num)
			out = append(out, refSeg{index: n, isIndex: true})
			rest = strings.TrimPrefix(tail, "[")
		}
	}
	return out
}

// Identity is the workspace's current user, as SCIM /Me returns it. The
// caller fetches it (schema never talks to the network) and passes it in
// Options, for ${workspace.current_user.*}, mode: development's name
// prefix and the default workspace.root_path.
type Identity struct {
	UserName    string
	DisplayName string
	ID          string
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ShortName is the user's short name the way the bundle CLI makes it
// (libs/iamutil/user.go GetShortUserName, libs/textutil/textutil.go
// NormalizeString): the part of the user name before @ (a service
// principal's display name, when its user name is its UUID), lower case,
// every character that is not a letter or digit replaced by _, runs of _
// collapsed and trimmed.
func (id *Identity) ShortName() string {
	name := id.UserName
	if uuidRE.MatchString(name) && id.DisplayName != "" {
		name = id.DisplayName
	}
	local, _, _ := strings.Cut(name, "@")
	var b strings.Builder
	last := '_'
	for _, r := range strings.ToLower(local) {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			r = '_'
		}
		if r == '_' && last == '_' {
			continue
		}
		b.WriteRune(r)
		last = r
	}
	return strings.TrimRight(b.String(), "_")
}

// domainFriendlyName is the short name with every character but ASCII
// letters and digits replaced by - (GetShortUserDomainFriendlyName; the
// bundle CLI also strips accents first, which jobsync does not).
func (id *Identity) domainFriendlyName() string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToLower(r)
		}
		return '-'
	}, id.ShortName())
}

// resolver resolves a bundle's substitutions for one selection.
type resolver struct {
	sel  *Selection
	bp   *bundleProject
	t    *Target
	opts Options
	// bundleSec and ws are the bundle: and workspace: sections merged
	// with the target's.
	bundleSec, ws map[string]any
	vars          map[string]any    // resolved values
	paths         map[string]string // resolved workspace paths
	busy          map[string]bool   // what is being resolved, for cycles
	jobKeys       map[string]bool
	// userUsed says a value came from the current user.
	userUsed bool
	git      *gitInfo
	// spent counts the values substitutions have copied, so that
	// variables that nest each other twice per level (a "billion laughs"
	// of variables) are refused instead of exhausting memory.
	spent int
}

// maxSubstituted bounds spent.
const maxSubstituted = 1_000_000

func countValues(v any) int {
	n := 1
	switch c := v.(type) {
	case map[string]any:
		for _, e := range c {
			n += countValues(e)
		}
	case []any:
		for _, e := range c {
			n += countValues(e)
		}
	}
	return n
}

// refError is a substitution that cannot be made.
type refError struct{ msg string }

func (e *refError) Error() string { return e.msg }

func refErrorf(format string, args ...any) error { return &refError{fmt.Sprintf(format, args...)} }

// expand resolves the substitutions of s. changed is false when s has
// none (and no escape). A string that is exactly one reference becomes the
// value with its type (a number stays a number, a mapping a mapping).
func (r *resolver) expand(s string) (v any, changed bool, err error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	pieces, err := parseRefs(s)
	if err != nil {
		return nil, true, err
	}
	if len(pieces) == 1 && !pieces[0].isRef {
		return pieces[0].text, true, nil
	}
	if len(pieces) == 1 {
		v, err := r.ref(pieces[0].ref, true)
		return v, true, err
	}
	var b strings.Builder
	for _, p := range pieces {
		if !p.isRef {
			b.WriteString(p.text)
			continue
		}
		v, err := r.ref(p.ref, false)
		if err != nil {
			return nil, true, err
		}
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case json.Number:
			b.WriteString(string(x))
		case bool:
			b.WriteString(strconv.FormatBool(x))
		case nil:
		default:
			return nil, true, refErrorf("${%s} is %s: it can only be a whole value (\"${%s}\" alone), not part of a string", p.ref, article(typeName(v)), p.ref)
		}
	}
	return b.String(), true, nil
}

// deep resolves every string in v, returning a resolved copy.
func (r *resolver) deep(v any) (any, error) {
	switch x := v.(type) {
	case string:
		out, _, err := r.expand(x)
		return out, err
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			e, err := r.deep(x[k])
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			d, err := r.deep(e)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		return out, nil
	}
	return v, nil
}

// ref resolves one reference; whole says it is the whole string (the only
// place a job id reference may be).
func (r *resolver) ref(ref string, whole bool) (any, error) {
	v, err := r.lookupRef(ref, whole)
	if err == nil {
		if r.spent += countValues(v); r.spent > maxSubstituted {
			return nil, refErrorf("${%s}: substitutions expand to more than %d values; do variables nest each other?", ref, maxSubstituted)
		}
	}
	return v, err
}

func (r *resolver) lookupRef(ref string, whole bool) (any, error) {
	segs := splitRef(ref)
	head := segs[0].key
	switch head {
	case "var", "variables":
		if len(segs) < 2 || segs[1].isIndex {
			return nil, refErrorf("${%s}: name a variable, ${var.NAME}", ref)
		}
		rest := segs[2:]
		if head == "variables" {
			if len(rest) == 0 || rest[0].isIndex || rest[0].key != "value" {
				return nil, refErrorf("${%s}: write ${var.%s} (or ${variables.%s.value})", ref, segs[1].key, segs[1].key)
			}
			rest = rest[1:]
		}
		v, err := r.variable(segs[1].key)
		if err != nil {
			return nil, err
		}
		return index(v, rest, "${var."+segs[1].key+"}", ref)
	case "bundle":
		return r.bundleRef(ref, segs[1:])
	case "workspace":
		return r.workspaceRef(ref, segs[1:])
	case "resources", "jobs":
		kind := segs
		if head == "resources" {
			kind = segs[1:]
		}
		if len(kind) == 0 {
			break
		}
		if kind[0].key != "jobs" {
			return nil, refErrorf("${%s}: jobsync manages jobs only, so it cannot know the %s; write the id instead (for example through a variable: ${var.NAME}, set per target)", ref, strings.TrimSuffix(kind[0].key, "s"))
		}
		if len(kind) != 3 || kind[1].isIndex || kind[2].key != "id" {
			return nil, refErrorf("${%s}: jobsync knows a job's id only, ${resources.jobs.<key>.id}", ref)
		}
		if !whole {
			return nil, refErrorf("${%s} must be the whole value: a job id is known only once the job exists, and jobsync puts it in at apply time", ref)
		}
		return "${jobs." + kind[1].key + ".id}", nil
	}
	return nil, refErrorf("${%s} is not a substitution jobsync knows (it knows ${var.*}, ${bundle.name}, ${bundle.target}, ${workspace.*} and ${resources.jobs.<key>.id}); job settings take no ${...} of their own, so write $${ for the text ${", ref)
}

// index follows the rest of a reference into a value.
func index(v any, rest []refSeg, what, ref string) (any, error) {
	for _, s := range rest {
		switch c := v.(type) {
		case map[string]any:
			if s.isIndex {
				return nil, refErrorf("${%s}: %s is a mapping, not a list", ref, what)
			}
			e, ok := c[s.key]
			if !ok {
				return nil, refErrorf("${%s}: %s has no field %q%s", ref, what, s.key, didYouMean(s.key, sortedKeys(c)))
			}
			v, what = e, what+"."+s.key
		case []any:
			if !s.isIndex {
				return nil, refErrorf("${%s}: %s is a list: index it with [i]", ref, what)
			}
			if s.index >= len(c) {
				return nil, refErrorf("${%s}: %s has %d entries", ref, what, len(c))
			}
			v, what = c[s.index], fmt.Sprintf("%s[%d]", what, s.index)
		default:
			return nil, refErrorf("${%s}: %s is %s, which has no fields", ref, what, describeValue(v))
		}
	}
	return deepCopy(v), nil
}

// variable is the resolved value of a variable.
func (r *resolver) variable(name string) (any, error) {
	if v, ok := r.vars[name]; ok {
		return v, nil
	}
	p := r.sel.Project
	decl := p.Variable(name)
	if decl == nil {
		return nil, refErrorf("undefined variable %q%s; %s declares %s", name, didYouMean(name, p.variableNames()), p.File, orNone(p.variableNames()))
	}
	if at, ok := r.sel.lookups[name]; ok {
		return nil, refErrorf("variable %s is a lookup (%s): it names an object to find by name through workspace APIs jobsync does not call; give the id instead: --var %s=ID, BUNDLE_VAR_%s, or a value under targets.%s.variables", name, at, name, name, r.t.Name)
	}
	val, ok := r.sel.Values[name]
	if !ok {
		return nil, refErrorf("variable %q has no value for target %s: give it a default, set it in targets.%s.variables, pass --var %s=VALUE, or set BUNDLE_VAR_%s", name, r.t.Name, r.t.Name, name, name)
	}
	key := "var." + name
	if r.busy[key] {
		return nil, refErrorf("variable %s refers to itself (through %s)", name, strings.Join(sortedBusy(r.busy), ", "))
	}
	r.busy[key] = true
	defer delete(r.busy, key)
	v, err := r.deep(val.Value)
	if err != nil {
		return nil, refErrorf("in the value of variable %s (%s): %v", name, val.From, err)
	}
	r.vars[name] = v
	return v, nil
}

func sortedBusy(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, "${"+k+"}")
	}
	sort.Strings(out)
	return out
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no variables"
	}
	return strings.Join(names, ", ")
}

// bundleFields are the fields of bundle: a substitution may name even
// when unset (they are then empty, as in the bundle CLI, which fills in
// missing fields before resolving).
var bundleFields = []string{"name", "target", "environment", "mode", "uuid", "cluster_id", "compute_id", "databricks_cli_version", "git"}

func (r *resolver) bundleRef(ref string, segs []refSeg) (any, error) {
	if len(segs) == 0 || segs[0].isIndex {
		return nil, refErrorf("${%s}: name a field of bundle, such as ${bundle.name} or ${bundle.target}", ref)
	}
	var v any
	switch f := segs[0].key; f {
	case "name":
		v = r.sel.Project.Name
	case "target", "environment":
		v = r.t.Name
	case "mode":
		v = r.t.Mode
	case "git":
		v = r.gitValues()
	default:
		if !contains(bundleFields, f) {
			return nil, refErrorf("${%s}: bundle has no field %q%s", ref, f, didYouMean(f, bundleFields))
		}
		var ok bool
		if v, ok = r.bundleSec[f]; !ok || v == nil {
			v = ""
		}
	}
	return index(v, segs[1:], "${bundle."+segs[0].key+"}", ref)
}

var workspacePathFields = []string{"root_path", "file_path", "artifact_path", "state_path", "resource_path"}

// workspaceSubfolders are the default folders of the workspace paths
// under root_path (bundle/config/mutator/default_workspace_paths.go).
var workspaceSubfolders = map[string]string{"file_path": "files", "artifact_path": "artifacts", "state_path": "state", "resource_path": "resources"}

func (r *resolver) workspaceRef(ref string, segs []refSeg) (any, error) {
	if len(segs) == 0 || segs[0].isIndex {
		return nil, refErrorf("${%s}: name a field of workspace, such as ${workspace.file_path}", ref)
	}
	f := segs[0].key
	switch {
	case f == "current_user":
		id := r.opts.Identity
		if id == nil {
			return nil, refErrorf("${%s}: the current user is not known here (jobsync reads it from the workspace, SCIM /Me)", ref)
		}
		r.userUsed = true
		user := map[string]any{"userName": id.UserName, "short_name": id.ShortName(), "domain_friendly_name": id.domainFriendlyName()}
		if id.DisplayName != "" {
			user["displayName"] = id.DisplayName
		}
		if id.ID != "" {
			user["id"] = id.ID
		}
		return index(user, segs[1:], "${workspace.current_user}", ref)
	case f == "host":
		host := r.opts.Host
		if host == "" {
			host, _ = r.ws["host"].(string)
		}
		return index(host, segs[1:], "${workspace.host}", ref)
	case f == "profile":
		s, _ := r.ws["profile"].(string)
		return index(s, segs[1:], "${workspace.profile}", ref)
	case contains(workspacePathFields, f):
		p, err := r.workspacePath(f)
		if err != nil {
			return nil, err
		}
		return index(p, segs[1:], "${workspace."+f+"}", ref)
	}
	return nil, refErrorf("${%s}: jobsync knows workspace.host, workspace.current_user.* and %s", ref, strings.Join(workspacePathFields, ", "))
}

// workspacePath resolves one of the target's workspace paths
// (bundle/config/mutator/default_workspace_root.go, expand_workspace_root.go,
// default_workspace_paths.go, prepend_workspace_prefix.go): root_path
// defaults to /Workspace/Users/<user>/.jobsync/<project>/<target> (a
// folder of jobsync's own, so that a bundle deployed by the bundle CLI
// and by jobsync never share files), the others to root_path/files,
// /artifacts, /state and /resources; ~/ is the user's home folder, and a
// path under / that is not in /Workspace or /Volumes gets /Workspace in
// front.
func (r *resolver) workspacePath(field string) (string, error) {
	if p, ok := r.paths[field]; ok {
		return p, nil
	}
	key := "workspace." + field
	if r.busy[key] {
		return "", refErrorf("workspace.%s refers to itself (through %s)", field, strings.Join(sortedBusy(r.busy), ", "))
	}
	r.busy[key] = true
	defer delete(r.busy, key)
	raw, _ := r.ws[field].(string)
	if raw == "" {
		if field == "root_path" {
			id := r.opts.Identity
			if id == nil {
				return "", refErrorf("workspace.root_path is not set and the current user, whose folder it defaults to, is not known")
			}
			r.userUsed = true
			project := r.opts.Project
			if project == "" {
				project = r.sel.Project.Name
			}
			raw = path.Join("/Workspace/Users", id.UserName, ".jobsync", project, r.t.Name)
		} else {
			root, err := r.workspacePath("root_path")
			if err != nil {
				return "", err
			}
			raw = path.Join(root, workspaceSubfolders[field])
		}
	}
	v, _, err := r.expand(raw)
	if err != nil {
		return "", refErrorf("in workspace.%s: %v", field, err)
	}
	s, ok := v.(string)
	if !ok {
		return "", refErrorf("workspace.%s is %s, not a path", field, describeValue(v))
	}
	if strings.HasPrefix(s, "~/") {
		id := r.opts.Identity
		if id == nil {
			return "", refErrorf("workspace.%s starts with ~/, the current user's folder, and the current user is not known", field)
		}
		r.userUsed = true
		s = path.Join("/Workspace/Users", id.UserName, s[2:])
	}
	if !strings.HasPrefix(s, "/") {
		return "", refErrorf("workspace.%s is %q: a workspace path starts with / (or ~/ for the current user's folder)", field, s)
	}
	if !strings.HasPrefix(s, "/Workspace/") && !strings.HasPrefix(s, "/Volumes/") && s != "/Workspace" {
		s = "/Workspace" + s
	}
	s = path.Clean(s)
	r.paths[field] = s
	return s, nil
}
