package schema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"
)

// isJobKey is the form of a job key, the job's identity in jobsync:
// ^[a-z0-9_-]+$ (scanned by hand: a regexp match was 2% of a Load).
func isJobKey(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// maxJobKey is the longest job key: the ownership tag carries it, and the
// API's other keys (task_key, job_cluster_key) stop at 100 characters too.
const maxJobKey = 100

// loadedJob is a job while Load works on it.
type loadedJob struct {
	job    *Job
	value  any // the whole job object, with permissions and lifecycle
	failed []string
	floats []string
	// section is where the job was written: "jobs" or "resources.jobs";
	// doc is the index of its YAML document in the file.
	section string
	doc     int
	// mode is the permissions mode the job's YAML sets ("" when none);
	// after Selection.apply, the job's effective mode.
	mode string
	// fromVar maps the pointers of values that replaced a whole-value
	// ${var.NAME} to NAME, so that a problem with the value names it.
	fromVar map[string]string
	// secrets are the strings made with sensitive variables (Job.Secrets).
	secrets []string
	// checked: the job's own checks ran as its file was parsed
	// (LoadWith), finding found.
	checked bool
	found   []finding
	// jobRef: the job's value refers to another job (${jobs.KEY.id}),
	// as its checks found (crossJob runs after them).
	jobRef bool
}

// loader accumulates the jobs and problems of one Load call.
type loader struct {
	jobs  []*loadedJob
	diags Diagnostics
	// warns are what the files have that is skipped (other bundle
	// resource kinds).
	warns Diagnostics
	// sel is what jobs are resolved with; nil without a project file.
	sel *Selection
	// maxJobs is MaxJobs, lower in tests.
	maxJobs int
	// workers is Options.Workers, resolved.
	workers int
	// skipped are the files found in a directory that are not job files.
	skipped []string
}

// Options are the choices of LoadWith.
type Options struct {
	// Selection is the project file, target and variable values the jobs
	// are resolved with (Select makes one); nil when there is no project
	// file.
	Selection *Selection
	// Identity is the workspace's current user (SCIM /Me, fetched by the
	// caller), for a bundle's ${workspace.current_user.*}, mode:
	// development and default workspace paths; nil when not known.
	Identity *Identity
	// Host is the workspace URL, for a bundle's ${workspace.host}.
	Host string
	// Project is the ownership scope's project name (without the target),
	// for a bundle's default workspace.root_path; "" means bundle.name.
	Project string
	// Strict reports every conversion made to a bundle's values (a number
	// where the API wants text, ...) as a warning, and makes a YAML file
	// found in a directory that is not a job file an error instead of a
	// file skipped.
	Strict bool
	// DefaultPaths says that paths is the project directory because the
	// command was given no path argument: the project file's paths:
	// include then chooses the files.
	DefaultPaths bool
	// Workers is how many files are parsed, and jobs checked, at once: the
	// number of CPUs the work may take; 0 means GOMAXPROCS. A caller that
	// reads the network while loading runs with more Ps than CPUs and
	// passes the CPUs here, so that a P is always free for the network
	// (with every P busy, Go polls the network only every 10 ms).
	Workers int
	// Compact keeps each job's settings as compact JSON (Job.RawSettings,
	// Settings nil) once the job is checked, for a caller that reads them
	// one job at a time (a plan): as trees, the settings of 10,000 jobs
	// held ~80 MB of heap, as JSON ~15 MB. The job files are then checked
	// file by file as they are parsed, so that only the trees of the files
	// in hand exist at once. Jobs with a problem, references to other jobs
	// or a lifecycle rename keep their trees (the checks across jobs read
	// them). No effect on an Asset Bundle.
	Compact bool

	maxJobs int // MaxJobs when 0 (tests lower it)
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Load reads every *.yml/*.yaml file under paths (files or directories,
// recursively), validates them, and returns the jobs. Validation problems come
// back as Diagnostics (all of them, sorted); other errors are I/O errors.
//
// Directories are searched recursively, skipping directories whose name
// starts with "." (.git, .github); a file named explicitly is read whatever
// its name. Each file holds a top-level `jobs:` map or the Asset Bundles
// shape `resources: {jobs: …}`; top-level keys starting with "x-" are
// ignored, so they can hold YAML anchors shared by several jobs.
//
// The project file (Discover) is read too, with its default target if it
// marks one and the defaults of its variables: LoadWith chooses otherwise.
func Load(ctx context.Context, paths []string) (*Config, error) {
	return load(ctx, paths, false)
}

// load is Load, compacting the settings when compact (Options.Compact).
func load(ctx context.Context, paths []string, compact bool) (*Config, error) {
	d, err := Discover(Where{Paths: paths})
	if err != nil {
		return nil, err
	}
	var p *Project
	if d.File != "" {
		if p, err = LoadProject(ctx, d.File); err != nil {
			return nil, err
		}
	}
	sel, err := Select(p, "", nil, nil)
	if err != nil {
		return nil, err
	}
	return LoadWith(ctx, paths, Options{Selection: sel, Compact: compact})
}

// LoadWith is Load with the project file, target and variables chosen by
// the caller. Files named jobsync.yaml or jobsync.yml are never job files:
// the selection's project file is skipped, and any other is an error.
func LoadWith(ctx context.Context, paths []string, o Options) (*Config, error) {
	if o.Selection != nil && o.Selection.Project.bundle != nil {
		return loadBundleJobs(ctx, paths, o)
	}
	var projectPath string
	var filter pathFilter
	if o.Selection != nil {
		projectPath = o.Selection.Project.path
		filter = newPathFilter(o.Selection.Project, o.DefaultPaths)
	}
	files, reserved, err := collectFiles(ctx, paths, projectPath, filter)
	if err != nil {
		return nil, err
	}
	if o.maxJobs <= 0 {
		o.maxJobs = MaxJobs
	}
	v, err := compiledValidator()
	if err != nil {
		return nil, err
	}
	// Each job is checked by the worker that parsed its file, right after
	// building it, while its values are still in the processor's cache,
	// and with no second pass to wait for.
	early := newJobChecks(v, o.Selection)
	early.compact = o.Compact
	l, err := parseFiles(ctx, files, o.Selection, o.maxJobs, o.workers(), early)
	if err != nil {
		return nil, err
	}
	l.diags = append(l.diags, reserved...)
	if len(l.skipped) == len(files) && len(files) > 0 && len(l.diags) == 0 {
		return nil, &NoJobFilesError{Paths: paths, Skipped: l.skipped}
	}
	if o.Strict {
		for _, name := range l.skipped {
			l.diags = append(l.diags, Diagnostic{Pos: Pos{File: name},
				Msg: "not a job file (its top level has neither jobs: nor resources:), and --strict makes that an error: leave it out with exclude: under paths: in jobsync.yaml, or move it out of the job directories"})
		}
	}
	if len(l.jobs) > o.maxJobs {
		// (Each file was refused before its jobs were built if it alone
		// holds too many; this is the sum of them.)
		return nil, Diagnostics{{Pos: Pos{File: filepath.ToSlash(paths[0])},
			Msg: fmt.Sprintf("the job files define %d jobs; jobsync manages at most %d jobs in one project (twice a workspace's default quota of 10,000 jobs): split the project", len(l.jobs), o.maxJobs)}}
	}
	if o.Selection != nil && len(l.diags) == 0 {
		// (With a file that did not parse, its keys are unknown.)
		keys := make(map[string]bool, len(l.jobs))
		for _, lj := range l.jobs {
			keys[lj.job.Key] = true
		}
		l.diags = append(l.diags, o.Selection.Project.checkJobKeys(keys)...)
	}
	if err := l.check(ctx, v); err != nil {
		return nil, err
	}
	if len(l.diags) > 0 {
		l.diags.Sort()
		return nil, redactDiagnostics(dedupe(l.diags, o.Selection), o.Selection.SecretValues())
	}
	cfg := &Config{Selection: o.Selection}
	seenKind := map[string]bool{}
	for _, w := range l.warns {
		if !seenKind[w.Path] {
			seenKind[w.Path] = true
			cfg.Warnings = append(cfg.Warnings, w)
		}
	}
	skipped := make(map[string]bool, len(l.skipped))
	for _, name := range l.skipped {
		skipped[name] = true
	}
	cfg.Skipped = l.skipped
	for _, f := range files {
		if !skipped[f.name] {
			cfg.Files = append(cfg.Files, f.name)
		}
	}
	for _, lj := range l.jobs {
		cfg.Jobs = append(cfg.Jobs, lj.job)
	}
	sort.Slice(cfg.Jobs, func(i, j int) bool { return cfg.Jobs[i].Key < cfg.Jobs[j].Key })
	return cfg, nil
}

// parseFiles reads and parses the files in parallel (parsing is most of a
// Load's time), then gathers their jobs and problems in file order, so the
// result does not depend on scheduling.
func parseFiles(ctx context.Context, files []sourceFile, sel *Selection, maxJobs, workers int, early *jobChecks) (*loader, error) {
	parts := make([]loader, len(files))
	for i := range parts {
		parts[i].sel = sel
		parts[i].maxJobs = maxJobs
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, f := range files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			text, err := readText(f.path)
			if err != nil {
				parts[i].diags = append(parts[i].diags, Diagnostic{Pos: Pos{File: f.name}, Msg: readProblem(err)})
				return nil
			}
			parts[i].parseFile(f.name, text, f.explicit)
			if early != nil {
				for _, lj := range parts[i].jobs {
					early.run(lj)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l := &loader{sel: sel, maxJobs: maxJobs, workers: workers}
	for _, p := range parts {
		l.jobs = append(l.jobs, p.jobs...)
		l.diags = append(l.diags, p.diags...)
		l.warns = append(l.warns, p.warns...)
		l.skipped = append(l.skipped, p.skipped...)
	}
	return l, nil
}

type sourceFile struct {
	name string // as reported: slash-separated, relative as given
	path string // for the OS
	// explicit: named on the command line, so a job file whatever it holds.
	explicit bool
}

// collectFiles lists the job files under paths. Project files are never
// job files: the one in use (project, an OS path, "" for none) is left
// out, and any other is reported, since it would otherwise be ignored
// without a word.
//
// Symbolic links met while walking a directory: a link to a directory is
// not followed (as git and find do not), so a link loop or a link to ".."
// cannot make the walk endless or leave the tree; a link named *.yml or
// *.yaml to a file inside the walked directory is read (once, however many
// names it has); a link to a file outside it is refused, since a pull
// request could otherwise make plan print parts of any file on the
// runner. A file named on the command line is read wherever it is.
//
// filter applies the project file's paths: rules to the files a directory
// walk finds (never to a file named on the command line).
func collectFiles(ctx context.Context, paths []string, project string, filter pathFilter) ([]sourceFile, Diagnostics, error) {
	var out []sourceFile
	var reserved Diagnostics
	seen := map[string]bool{}
	absProject := ""
	if project != "" {
		absProject, _ = filepath.Abs(project)
	}
	var total int64
	add := func(name, path string, explicit bool) {
		key := path
		if abs, err := filepath.Abs(path); err == nil {
			key = abs
		}
		real := key
		if r, err := filepath.EvalSymlinks(path); err == nil {
			real, _ = filepath.Abs(r)
		}
		if seen[real] {
			return
		}
		seen[real] = true
		if IsProjectFileName(filepath.Base(path)) {
			switch {
			case key == absProject && explicit:
				reserved = append(reserved, Diagnostic{Pos: Pos{File: filepath.ToSlash(name)},
					Msg: "this is the project file, not a job file: pass the directory that holds the job files"})
			case key != absProject:
				reserved = append(reserved, Diagnostic{Pos: Pos{File: filepath.ToSlash(name)},
					Msg: "a file with this name is a project file, never a job file, and a command reads only its own project's (found from the first path, or the current directory): rename it, or run jobsync on its directory"})
			}
			return
		}
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			total += st.Size()
		}
		out = append(out, sourceFile{name: filepath.ToSlash(name), path: path, explicit: explicit})
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		if !st.IsDir() {
			add(filepath.Clean(p), p, true)
			continue
		}
		root, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == p {
					return err
				}
				reserved = append(reserved, Diagnostic{Pos: Pos{File: filepath.ToSlash(path)},
					Msg: fmt.Sprintf("cannot read this directory (%v): make it readable, or move it out of %s", unwrapPathError(err), p)})
				return nil
			}
			if d.IsDir() {
				if path != p && (strings.HasPrefix(d.Name(), ".") || filter.excluded(path)) {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yml", ".yaml":
			default:
				return nil
			}
			if filter.excluded(path) || !filter.included(path) {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if msg := linkProblem(path, root); msg != "" {
					if msg != skipLink {
						reserved = append(reserved, Diagnostic{Pos: Pos{File: filepath.ToSlash(path)}, Msg: msg})
					}
					return nil
				}
			}
			found = append(found, path)
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		jobFiles := 0
		for _, f := range found {
			if !IsProjectFileName(filepath.Base(f)) {
				jobFiles++
			}
		}
		if jobFiles == 0 && len(reserved) == 0 {
			return nil, nil, &NoJobFilesError{Paths: []string{p}}
		}
		sort.Strings(found)
		for _, f := range found {
			add(filepath.Clean(f), f, false)
		}
	}
	if total > MaxTotalBytes {
		// Refused before anything is parsed.
		return nil, nil, Diagnostics{{Pos: Pos{File: filepath.ToSlash(paths[0])},
			Msg: fmt.Sprintf("the job files add up to %s; jobsync reads at most %s of YAML at once: pass fewer directories, or split the project", sizeText(total), sizeText(MaxTotalBytes))}}
	}
	return out, reserved, nil
}

// skipLink is linkProblem's answer for a link that is left out silently.
const skipLink = "skip"

// linkProblem checks a symbolic link named *.yml or *.yaml found inside
// root (an OS path without links): "" when it is to be read, skipLink for a
// link to a directory, otherwise what is wrong with it.
func linkProblem(path, root string) string {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.As(err, &pe) && errors.Is(pe.Err, syscall.ELOOP), strings.Contains(err.Error(), "too many links"):
			return "a symbolic link in a loop (it leads back to itself): remove it"
		case errors.Is(err, fs.ErrNotExist):
			return "a symbolic link to a file that does not exist: remove it or fix its target"
		}
		return fmt.Sprintf("cannot follow this symbolic link: %v", unwrapPathError(err))
	}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		return skipLink
	}
	rel, err := filepath.Rel(root, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Sprintf("a symbolic link to %s, outside %s: jobsync follows links only to files inside the directory it reads (a pull request could otherwise link a job file to any file on the runner); copy the file in, or name it on the command line", filepath.ToSlash(target), filepath.ToSlash(root))
	}
	return ""
}

// readProblem words a file that could not be read as a diagnostic.
func readProblem(err error) string {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Sprintf("cannot read this file (%v): make it readable by this user, or move it out of the directory", err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "the file disappeared while jobsync read the directory"
	}
	var fe *fileError
	if errors.As(err, &fe) {
		return fe.msg
	}
	return fmt.Sprintf("cannot read this file: %v", err)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseFile reads the documents of one file and the jobs in them.
//
// A file found in a directory (not explicit) whose documents hold no
// top-level jobs: or resources: is not a job file (docker-compose.yml,
// dbt_project.yml, a CI workflow...): it is skipped, and counted, without a
// problem. One that does not parse is skipped too when no line of it
// starts with jobs: or resources:, since its top level cannot be read.
func (l *loader) parseFile(name string, text string, explicit bool) {
	p := fastParsers.Get().(*fastParser)
	defer fastParsers.Put(p)
	defer p.release() // nothing keeps a node: values and positions are built
	docs, fast := parseFast(p, text)
	var perr error
	var data []byte
	if !fast {
		data = []byte(text)
		docs, perr = parseDocs(data)
	}
	if !explicit && notJobFile(docs, data, perr) {
		l.skipped = append(l.skipped, name)
		return
	}
	for i, doc := range docs {
		l.document(name, doc, i)
	}
	if perr != nil {
		l.diags = append(l.diags, yamlErrorDiag(name, data, perr))
	}
}

// parseDocs reads the documents of data with yaml.v3, up to the first
// that does not parse (perr).
func parseDocs(data []byte) (docs []*yaml.Node, perr error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		doc := &yaml.Node{}
		err := decodeSafely(dec, doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			perr = err
			break
		}
		docs = append(docs, doc)
	}
	return docs, perr
}

// topLevelJobKey is a line that starts a jobs: or resources: mapping.
var topLevelJobKey = regexp.MustCompile(`(?m)^(jobs|resources|"jobs"|"resources"|'jobs'|'resources')[ \t]*:`)

// notJobFile: some document has content, and none has a top-level jobs: or
// resources: key, or a near miss of one (nor, when the YAML did not parse,
// a line that starts one). A file of empty documents is an empty job file, not another kind.
func notJobFile(docs []*yaml.Node, data []byte, perr error) bool {
	content := false
	for _, doc := range docs {
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		for root.Kind == yaml.AliasNode && root.Alias != nil {
			root = root.Alias
		}
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue
		}
		content = true
		if root.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			k := root.Content[i]
			// A near miss (job:, resource:) is a job file with a typo,
			// reported as such, not another kind of file.
			if k.Kind == yaml.ScalarNode && (k.Value == "jobs" || k.Value == "resources" || didYouMean(k.Value, []string{"jobs", "resources"}) != "") {
				return false
			}
		}
	}
	if perr != nil {
		return !topLevelJobKey.Match(data)
	}
	return content
}

// decodeSafely parses one document, turning a panic of the YAML parser on
// hostile input into an error: jobsync must never crash on a bad file.
func decodeSafely(dec *yaml.Decoder, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed on this file (%v)", r)
		}
	}()
	return dec.Decode(doc)
}

var (
	yamlLineRE      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// parserProblems are the messages of yaml.v3's parser, as opposed to its
// scanner: for these it reports the line 0-based.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlErrorDiag turns a parse error into a diagnostic. yaml.v3 gives no
// column, and its line is that of the enclosing construct (a mapping that
// starts 50 lines above a badly indented key), so the line is narrowed to
// the first one that makes the parser fail this way. A tab in indentation
// is the most common cause of all; it is looked for and pointed at exactly.
func yamlErrorDiag(name string, data []byte, err error) Diagnostic {
	raw := err.Error()
	lines := splitLines(data)
	msg := strings.TrimPrefix(raw, "yaml: ")
	line := 1
	if m := yamlLineRE.FindStringSubmatch(raw); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			line++
		}
	}
	if encodingProblems[msg] {
		if l, c, what, ok := badCharacter(data); ok {
			return Diagnostic{Pos: Pos{File: name, Line: l, Col: c}, Msg: what}
		}
	}
	if m := unknownAnchorRE.FindStringSubmatch(raw); m != nil {
		if l, c, ok := findAlias(lines, m[1]); ok {
			return Diagnostic{Pos: Pos{File: name, Line: l, Col: c},
				Msg: fmt.Sprintf("alias *%s refers to no anchor &%s written before it", m[1], m[1])}
		}
	}
	line = firstFailingLine(data, lines, line, raw)
	for i := 0; i < len(lines) && i < line; i++ {
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
		if j := strings.IndexByte(indent, '\t'); j >= 0 {
			return Diagnostic{
				Pos: Pos{File: name, Line: i + 1, Col: j + 1},
				Msg: "tab character in indentation; YAML indents with spaces only",
			}
		}
	}
	col := 1
	if line >= 1 && line <= len(lines) {
		text := trimBreak(lines[line-1])
		if rest := strings.TrimLeft(text, " "); rest != "" {
			col = len(text) - len(rest) + 1
		}
	}
	if msg == "mapping values are not allowed in this context" && line >= 1 && line <= len(lines) {
		// libyaml's limit on an implicit key (YAML 1.2 §7.4.2), met by a
		// generated 200 KB key, reads like a missing quote otherwise.
		text := trimBreak(lines[line-1])
		if i := strings.Index(text, ": "); i > 1024 || i < 0 && strings.HasSuffix(text, ":") && len(text) > 1025 {
			if i < 0 {
				i = len(text) - 1
			}
			key := strings.TrimSpace(text[:i])
			return Diagnostic{Pos: Pos{File: name, Line: line, Col: len(text[:i]) - len(strings.TrimLeft(text[:i], " ")) + 1},
				Msg: fmt.Sprintf("invalid YAML: a mapping key of %d characters; YAML allows at most 1024 in a key written this way (job keys have at most %d)", utf8.RuneCountInString(key), maxJobKey)}
		}
	}
	if hint := yamlHints[msg]; hint != "" {
		msg += " (" + hint + ")"
	}
	return Diagnostic{Pos: Pos{File: name, Line: line, Col: col}, Msg: "invalid YAML: " + msg}
}

// encodingProblems are the parser's messages about bytes that are not YAML
// text; badCharacter finds the byte exactly.
var encodingProblems = map[string]bool{
	"control characters are not allowed": true,
	"invalid leading UTF-8 octet":        true,
	"invalid trailing UTF-8 octet":       true,
	"incomplete UTF-8 octet sequence":    true,
	"invalid Unicode character":          true,
}

// badCharacter finds the first byte of data that YAML text cannot hold (a
// control character other than tab and line breaks, or invalid UTF-8) and
// returns its 1-based line and column (in characters) and what it is. Files
// in UTF-16 (with a byte order mark) are left to the parser.
func badCharacter(data []byte) (line, col int, what string, ok bool) {
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return 0, 0, "", false
	}
	line, col = 1, 1
	for i := 0; i < len(data); {
		if n := lineBreakLen(data[i:]); n > 0 {
			line, col = line+1, 1
			i += n
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line, col, fmt.Sprintf("invalid UTF-8 (byte 0x%02X): YAML files are UTF-8 text; save the file as UTF-8", data[i]), true
		case r == 0:
			return line, col, "a NUL byte: YAML files are text (a NUL is written \\0 inside double quotes)", true
		case r < 0x20 && r != '\t' || r == 0x7F || r >= 0x80 && r < 0xA0 && r != 0x85 || r == 0xFFFE || r == 0xFFFF:
			return line, col, fmt.Sprintf("control character U+%04X: YAML text allows only tab and line breaks among control characters; remove it (or write it as \\u%04X inside double quotes)", r, r), true
		}
		i += size
		col++
	}
	return 0, 0, "", false
}

// yamlHints say what usually causes the parser's terser messages.
var yamlHints = map[string]string{
	"mapping values are not allowed in this context": `a value that contains ": " must be quoted`,
	"found unexpected end of stream":                 "a quoted string is not closed",
	"did not find expected key":                      "check the indentation of this line",
	"did not find expected '-' indicator":            "check the indentation of this line",
	"did not find expected ',' or '}'":               "a { ... } is not closed, or its entries are not separated by commas",
	"did not find expected ',' or ']'":               "a [ ... ] is not closed, or its entries are not separated by commas",
	"found character that cannot start any token":    "a value that starts with @ or ` must be quoted",
}

// splitLines splits data into lines as YAML counts them, each with its
// line break: "\r\n", "\r", "\n", and the Unicode breaks NEL, LS and PS.
// The last line may lack a break.
func splitLines(data []byte) []string {
	var lines []string
	start := 0
	for i := 0; i < len(data); {
		n := lineBreakLen(data[i:])
		if n == 0 {
			i++
			continue
		}
		lines = append(lines, string(data[start:i+n]))
		i += n
		start = i
	}
	if start < len(data) {
		lines = append(lines, string(data[start:]))
	}
	return lines
}

// lineBreakLen returns the length of the line break at the start of b, or 0.
func lineBreakLen(b []byte) int {
	switch {
	case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
		return 2
	case b[0] == '\r' || b[0] == '\n':
		return 1
	case len(b) >= 2 && b[0] == 0xC2 && b[1] == 0x85: // NEL
		return 2
	case len(b) >= 3 && b[0] == 0xE2 && b[1] == 0x80 && (b[2] == 0xA8 || b[2] == 0xA9): // LS, PS
		return 3
	}
	return 0
}

// trimBreak removes the line break from the end of a line.
func trimBreak(line string) string {
	for _, br := range []string{"\r\n", "\r", "\n", "\u0085", "\u2028", "\u2029"} {
		if strings.HasSuffix(line, br) {
			return line[:len(line)-len(br)]
		}
	}
	return line
}

// firstFailingLine returns the smallest n >= from such that the first n
// lines of data fail to parse with exactly the error raw (same message,
// same reported line). The parser stops at its first error, so once the
// offending line is in, every longer prefix fails the same way; a binary
// search finds it in a few parses. Shorter prefixes may fail too, but
// differently (cut inside a quoted string), and do not count.
func firstFailingLine(data []byte, lines []string, from int, raw string) int {
	if from < 1 {
		from = 1
	}
	if from >= len(lines) {
		return max(1, min(from, len(lines)))
	}
	ends := make([]int, len(lines)+1) // ends[n] is the length of the first n lines
	for i, l := range lines {
		ends[i+1] = ends[i] + len(l)
	}
	lo, hi := from, len(lines) // the answer is in [lo, hi]; hi always fails as raw
	for lo < hi {
		mid := lo + (hi-lo)/2
		if err := parseAll(data[:ends[mid]]); err != nil && err.Error() == raw {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// parseAll parses every document of data, returning the first error.
func parseAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := decodeSafely(dec, &doc); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// findAlias returns the 1-based line and column of the first use of alias
// *name in lines.
func findAlias(lines []string, name string) (int, int, bool) {
	needle := "*" + name
	for i, l := range lines {
		for off := 0; ; {
			j := strings.Index(l[off:], needle)
			if j < 0 {
				break
			}
			at := off + j
			end := at + len(needle)
			if end == len(l) || strings.ContainsRune(" \t\r\n,]}", rune(l[end])) {
				// yaml.v3 counts columns in characters.
				return i + 1, utf8.RuneCountInString(l[:at]) + 1, true
			}
			off = end
		}
	}
	return 0, 0, false
}

func (l *loader) document(name string, doc *yaml.Node, index int) {
	if len(doc.Content) == 0 {
		return // empty document
	}
	root := doc.Content[0]
	budget := &aliasBudget{limit: aliasAllowance(doc), doc: index, anchors: hasAnchor(doc)}
	top := budget.builder(name)
	for root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return
	}
	if root.Kind != yaml.MappingNode {
		l.fileDiag(name, root, "", "expected a mapping with a top-level jobs: key, found a %s", kindName(root))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		kname, ok := top.keyName(k, "")
		if !ok {
			continue
		}
		if first, dup := seen[kname]; dup {
			l.fileDiag(name, k, kname, "duplicate key %q (first written at line %d)", kname, first.Line)
			continue
		}
		seen[kname] = k
		switch {
		case kname == "jobs":
			l.jobMap(name, v, "jobs", budget)
		case kname == "resources":
			l.resources(name, v, budget)
		case strings.HasPrefix(kname, "x-"):
			// Extension key: holds anchors; not read.
		default:
			l.fileDiag(name, k, kname, "unknown top-level key %q%s: a job file has jobs: (or resources: jobs:), and x- keys for shared anchors",
				kname, didYouMean(kname, []string{"jobs", "resources"}))
		}
	}
	for _, p := range top.problems {
		l.diags = append(l.diags, Diagnostic{Pos: p.pos, Msg: p.msg})
	}
}

func (l *loader) fileDiag(file string, n *yaml.Node, path, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) resources(name string, n *yaml.Node, budget *aliasBudget) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.fileDiag(name, n, "resources", "resources must be a mapping with a jobs: key, found a %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.fileDiag(name, k, "resources", "mapping keys must be plain strings")
			continue
		}
		if seen[k.Value] {
			l.fileDiag(name, k, "resources."+k.Value, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		if k.Value != "jobs" {
			// As in a bundle (bundle.go skipKind): skipped, with a warning.
			l.warns = append(l.warns, Diagnostic{Pos: Pos{File: name, Line: k.Line, Col: k.Column}, Path: "resources." + k.Value,
				Msg: fmt.Sprintf("skipped: jobsync manages jobs only; deploy %s with the bundle CLI (databricks bundle deploy), and refer to them by id", k.Value)})
			continue
		}
		l.jobMap(name, v, "resources.jobs", budget)
	}
}

// aliasBudget is the alias expansion allowance of one document, shared by
// the builders of its jobs.
type aliasBudget struct {
	used, limit int
	reported    bool
	doc         int // the document's index in its file
	// anchors says whether the document has any: without, no alias can
	// reach a job's nodes once the job is built, and they are let go.
	anchors bool
	// boxed holds the document's short strings as interface values (box).
	boxed map[string]any
}

// countNodeValues is the number of values under n, n included, as
// written (an alias counts once).
func countNodeValues(n *yaml.Node) int {
	c := 1
	switch n.Kind {
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			c += countNodeValues(n.Content[i])
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, e := range n.Content {
			c += countNodeValues(e)
		}
	}
	return c
}

// hasAnchor reports whether any node under n has an anchor.
func hasAnchor(n *yaml.Node) bool {
	if n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAnchor(c) {
			return true
		}
	}
	return false
}

func (a *aliasBudget) builder(file string) *builder {
	return &builder{file: file, positions: map[string]lineCol{}, budget: a}
}

// jobMap reads a map of job key to job.
func (l *loader) jobMap(file string, n *yaml.Node, section string, budget *aliasBudget) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "jobs:" with nothing under it yet
	}
	if n.Kind != yaml.MappingNode {
		l.fileDiag(file, n, section, "%s must be a mapping of job key to job, found a %s", section, kindName(n))
		return
	}
	if count := len(n.Content) / 2; count > l.maxJobs {
		// Refused before any job is built: 327,680 jobs in one file
		// once took 1.5 GB to validate.
		l.fileDiag(file, n, section, "%s holds %d jobs; jobsync manages at most %d jobs in one project (twice a workspace's default quota of 10,000 jobs): split the project", section, count, l.maxJobs)
		return
	}
	seen := map[string]*yaml.Node{}
	var entries []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			l.fileDiag(file, k, section, "a job key must be a plain string")
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			l.fileDiag(file, k, jobPath(key), "duplicate job key %s (first written at line %d)", quote(key), first.Line)
			continue
		}
		seen[key] = k
		kpos := Pos{File: file, Line: k.Line, Col: k.Column}
		switch {
		case !isJobKey(key):
			// Upper case is refused too, so two keys that differ only in
			// case can never both be valid.
			l.diags = append(l.diags, Diagnostic{Pos: kpos, Path: jobPath(key),
				Msg: fmt.Sprintf("invalid job key %s: use lower-case letters, digits, \"_\" and \"-\"", quote(key))})
		case len(key) > maxJobKey:
			l.diags = append(l.diags, Diagnostic{Pos: kpos, Path: jobPath(key),
				Msg: fmt.Sprintf("the job key is %d characters long; a job key has at most %d (it is part of the job's ownership tag)", len(key), maxJobKey)})
		}
		b := &builder{file: file, positions: make(map[string]lineCol, countNodeValues(v)), budget: budget, entries: entries[:0]} // one position per value
		val, _ := b.value(v, "", kpos)
		entries = b.entries // (a stack, empty again: the next job's builder reuses it)
		if !budget.anchors {
			// The job's YAML nodes are no longer needed (positions are
			// kept as line and column): a large file's node tree is
			// freed job by job instead of living until the last one is
			// built (an 8 MiB file peaked at 290 MiB).
			n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
		}
		var fromVar map[string]string
		var secrets []string
		val = l.sel.substitute(val, b.vars, func(ptr, msg string) {
			lc := b.positions[ptr]
			b.problems = append(b.problems, problem{ptr: ptr, pos: Pos{File: file, Line: int(lc.line), Col: int(lc.col)}, msg: msg})
			b.failed = append(b.failed, ptr)
		}, func(d substituted) {
			secrets = append(secrets, d.secrets...)
			if d.float {
				b.floats = append(b.floats, d.ptr)
			}
			if d.whole != "" {
				if fromVar == nil {
					fromVar = map[string]string{}
				}
				fromVar[d.ptr] = d.whole
			}
		})
		j := &Job{Key: key, File: file, Pos: kpos, positions: b.positions}
		lj := &loadedJob{job: j, value: val, failed: b.failed, floats: b.floats, section: section, doc: budget.doc, fromVar: fromVar, secrets: secrets}
		l.permissionsForm(lj, b)
		for _, p := range b.problems {
			l.diags = append(l.diags, Diagnostic{Pos: p.pos, Path: joinPath(jobPath(key), keyedPath(val, p.ptr)), Msg: p.msg})
		}
		lj.failed = b.failed
		l.jobs = append(l.jobs, lj)
	}
}

// redactDiagnostics replaces the values of sensitive variables in messages
// (a schema check may quote the value it refuses).
func redactDiagnostics(ds Diagnostics, secrets []string) Diagnostics {
	if len(secrets) == 0 {
		return ds
	}
	// Longest first: a secret may contain a shorter one.
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for i := range ds {
		for _, s := range secrets {
			ds[i].Msg = strings.ReplaceAll(ds[i].Msg, s, SensitiveText)
			ds[i].Path = strings.ReplaceAll(ds[i].Path, s, SensitiveText)
		}
	}
	return ds
}

// dedupe reports a problem in the project file once, however many jobs it
// was merged into: it is one mistake, in one place. Its path is the one in
// the project file, and the jobs it was found in are named. ds is sorted.
func dedupe(ds Diagnostics, sel *Selection) Diagnostics {
	if sel == nil {
		return ds
	}
	p := sel.Project
	at := make(map[lineCol]string, len(p.positions))
	for ptr, lc := range p.positions {
		if prev, ok := at[lc]; !ok || len(ptr) < len(prev) || len(ptr) == len(prev) && ptr < prev {
			at[lc] = ptr // the outermost value written there
		}
	}
	type place struct {
		pos Pos
		msg string
	}
	first := map[place]int{}
	jobs := map[place][]string{}
	out := ds[:0]
	for _, d := range ds {
		if d.Pos.File != p.File || !strings.HasPrefix(d.Path, "jobs.") {
			out = append(out, d)
			continue
		}
		k := place{d.Pos, d.Msg}
		key := strings.TrimPrefix(d.Path, "jobs.")
		if i := strings.IndexAny(key, ".["); i >= 0 {
			key = key[:i]
		}
		jobs[k] = append(jobs[k], key)
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = len(out)
		if ptr, ok := at[toLineCol(d.Pos)]; ok {
			d.Path = keyedPath(p.value, ptr)
		}
		out = append(out, d)
	}
	for k, i := range first {
		out[i].Msg += inJobs(jobs[k])
	}
	return out
}

// inJobs names the jobs a problem reported once was found in: " (in job
// a)", " (in jobs a, b)", " (in 5 jobs: a, b, c, ...)".
func inJobs(names []string) string {
	switch {
	case len(names) == 1:
		return fmt.Sprintf(" (in job %s)", names[0])
	case len(names) <= 3:
		return fmt.Sprintf(" (in jobs %s)", strings.Join(names, ", "))
	}
	return fmt.Sprintf(" (in %d jobs: %s, ...)", len(names), strings.Join(names[:3], ", "))
}

// permissionsForm turns permissions written as {mode, grants} into the
// grants list, keeping the mode aside, so that everything after (the
// schema, the checks, merging, keyed paths) sees one form: a list.
func (l *loader) permissionsForm(lj *loadedJob, b *builder) {
	m, ok := lj.value.(map[string]any)
	if !ok {
		return
	}
	pv, ok := m["permissions"]
	if !ok {
		return
	}
	grants, rel, mode, problems := splitPermissions(pv)
	for _, pr := range problems {
		ptr := "/permissions" + pr.ptr
		b.problems = append(b.problems, problem{ptr: ptr, pos: lj.job.PosOf(ptr), msg: pr.msg})
		b.failed = append(b.failed, ptr)
	}
	if grants == nil {
		return
	}
	if rel != "" {
		movePositions(lj.job.positions, "/permissions"+rel, "/permissions")
		// A new top-level map: the one written stays as it was, for the
		// keyed paths of the problems found so far.
		c := make(map[string]any, len(m))
		for k, v := range m {
			c[k] = v
		}
		c["permissions"] = grants
		lj.value = c
	}
	lj.mode = mode
}

// split fills Settings, Permissions and Lifecycle from the job value.
func split(lj *loadedJob) {
	if len(lj.secrets) > 0 {
		slices.Sort(lj.secrets)
		lj.job.Secrets = slices.Compact(lj.secrets)
	}
	m, ok := lj.value.(map[string]any)
	if !ok {
		lj.job.Settings = map[string]any{}
		return
	}
	s := make(map[string]any, len(m))
	for k, v := range m {
		if k != "permissions" && k != "lifecycle" {
			s[k] = v
		}
	}
	lj.job.Settings = s
	if ps, ok := m["permissions"].([]any); ok {
		lj.job.Permissions = make([]Permission, 0, len(ps))
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			str := func(k string) string { s, _ := pm[k].(string); return s }
			lj.job.Permissions = append(lj.job.Permissions, Permission{
				UserName: str("user_name"), GroupName: str("group_name"),
				ServicePrincipalName: str("service_principal_name"), PermissionLevel: str("permission_level"),
			})
		}
	} else if _, declared := m["permissions"]; declared {
		lj.job.Permissions = []Permission{}
	}
	if lj.job.Permissions != nil {
		lj.job.PermissionsMode = PermissionsAuthoritative
		if lj.mode == PermissionsAdditive {
			lj.job.PermissionsMode = PermissionsAdditive
			if len(lj.job.Permissions) == 0 {
				// Nothing to ensure: nothing to manage (and no
				// permissions to read).
				lj.job.Permissions, lj.job.PermissionsMode = nil, ""
			}
		}
	}
	if lc, ok := m["lifecycle"].(map[string]any); ok {
		for _, e := range asSlice(lc["ignore_changes"]) {
			if s, ok := e.(string); ok {
				lj.job.Lifecycle.IgnoreChanges = append(lj.job.Lifecycle.IgnoreChanges, s)
			}
		}
		lj.job.Lifecycle.PreventDestroy, _ = lc["prevent_destroy"].(bool)
		lj.job.Lifecycle.MovedFrom, _ = lc["moved_from"].(string)
		if mt, ok := lc["moved_tasks"].(map[string]any); ok {
			lj.job.Lifecycle.MovedTasks = make(map[string]string, len(mt))
			for from, to := range mt {
				if s, ok := to.(string); ok {
					lj.job.Lifecycle.MovedTasks[from] = s
				}
			}
		}
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// check runs the schema and semantic checks of every job, in parallel
// (each job's checks are independent and read only the job and the
// compiled schema), then those across jobs.
func (l *loader) check(ctx context.Context, v *validator) error {
	c := newJobChecks(v, l.sel)
	found := make([][]finding, len(l.jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(l.workers, 1))
	const batch = 64 // jobs per goroutine: a job's checks take tens of microseconds
	for start := 0; start < len(l.jobs); start += batch {
		end := min(start+batch, len(l.jobs))
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			for i := start; i < end; i++ {
				found[i] = c.findings(l.jobs[i])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, lj := range l.jobs {
		l.report(lj, found[i])
	}
	l.crossJob()
	return nil
}

// jobChecks are the checks of one job on its own: its selection applied
// (target overrides), its settings split from jobsync's fields, the JSON
// schema and the semantic rules.
type jobChecks struct {
	v              *validator
	sel            *Selection
	settingsFields []string
	inBundle       bool
	// compact: run compacts the jobs it can (Options.Compact).
	compact bool
}

func newJobChecks(v *validator, sel *Selection) *jobChecks {
	return &jobChecks{v: v, sel: sel, settingsFields: v.settingsFields(), inBundle: sel != nil && sel.Project.IsBundle()}
}

// findings runs the checks of lj, once.
func (c *jobChecks) findings(lj *loadedJob) []finding {
	if lj.checked {
		return lj.found
	}
	c.sel.apply(lj)
	split(lj)
	fs := c.v.validate(lj.value, lj.floats)
	var facts textFacts
	facts.scan(lj.value)
	lj.jobRef = facts.jobRef
	lj.found, lj.checked = append(fs, checkJob(lj.job, lj.value, facts, c.settingsFields, c.inBundle)...), true
	return lj.found
}

// run checks lj as its file is parsed and compacts its settings when
// nothing after Load's own checks needs its tree (see Options.Compact).
func (c *jobChecks) run(lj *loadedJob) {
	if len(c.findings(lj)) > 0 || len(lj.failed) > 0 || !c.compact {
		return
	}
	lc := lj.job.Lifecycle
	if lc.MovedFrom != "" || len(lc.MovedTasks) > 0 {
		return // checkMoves reads the tasks
	}
	if lj.jobRef {
		return // crossJob walks the references
	}
	if lj.job.Compact() {
		lj.value = nil
	}
}

// Compact keeps the job's settings as compact JSON (RawSettings; Settings
// becomes nil) and its positions in a smaller table, as Options.Compact
// does for each job it loads, and reports whether it did: not for a value
// JSON cannot hold exactly (the job is left as it was), nor twice.
func (j *Job) Compact() bool {
	if j.raw != nil {
		return false
	}
	raw, ok := appendJSON(make([]byte, 0, 1024), j.Settings)
	if !ok {
		return false
	}
	// An exact copy: the buffer it was written into has room to spare.
	j.raw, j.Settings = bytes.Clone(raw), nil
	// Strings the parser sliced out of the file would keep all of its text
	// alive (16 MB for 10,000 jobs); the compacted settings are a copy.
	if t := newPosTable(j.positions); t != nil {
		j.table, j.positions = t, nil
	}
	j.Key = strings.Clone(j.Key)
	for i, p := range j.Permissions {
		j.Permissions[i] = Permission{UserName: strings.Clone(p.UserName), GroupName: strings.Clone(p.GroupName),
			ServicePrincipalName: strings.Clone(p.ServicePrincipalName), PermissionLevel: strings.Clone(p.PermissionLevel)}
	}
	for i, s := range j.Lifecycle.IgnoreChanges {
		j.Lifecycle.IgnoreChanges[i] = strings.Clone(s)
	}
	for i, s := range j.Secrets {
		j.Secrets[i] = strings.Clone(s)
	}
	for i, s := range j.Files {
		j.Files[i] = strings.Clone(s)
	}
	return true
}

// report converts findings to diagnostics, leaving out those about values
// the YAML layer already reported as unusable.
func (l *loader) report(lj *loadedJob, fs []finding) {
	prefix := jobPath(lj.job.Key)
	seen := map[finding]bool{}
	for _, f := range fs {
		if seen[f] || under(f.ptr, lj.failed) {
			continue
		}
		seen[f] = true
		msg := f.msg
		if name, ok := lj.fromVar[f.ptr]; ok {
			msg += l.sel.fromVariable(name)
		}
		l.diags = append(l.diags, Diagnostic{
			Pos:  lj.job.PosOf(f.ptr),
			Path: joinPath(prefix, keyedPath(lj.value, f.ptr)),
			Msg:  msg,
		})
	}
}

func under(ptr string, failed []string) bool {
	for _, f := range failed {
		if ptr == f || strings.HasPrefix(ptr, f+"/") {
			return true
		}
	}
	return false
}

// crossJob checks what involves several jobs: unique keys across files and
// references between jobs.
func (l *loader) crossJob() {
	first := map[string]*loadedJob{}
	var unique []*loadedJob
	for _, lj := range l.jobs {
		if f, dup := first[lj.job.Key]; dup {
			if f.job.File == lj.job.File && f.section == lj.section && f.doc == lj.doc {
				continue // reported by jobMap as a duplicate mapping key
			}
			l.diags = append(l.diags, Diagnostic{Pos: lj.job.Pos, Path: jobPath(lj.job.Key),
				Msg: fmt.Sprintf("job key %s is defined twice: here and at %s; a key names one job", quote(lj.job.Key), f.job.Pos)})
			continue
		}
		first[lj.job.Key] = lj
		unique = append(unique, lj)
	}
	movedTo := l.checkMoves(unique, first)
	keys := make([]string, 0, len(first))
	for k := range first {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	edges := map[string][]string{}
	for _, lj := range unique {
		var fs []finding
		key := lj.job.Key
		if !lj.jobRef {
			continue // (most jobs refer to no other; the walk below builds a pointer per value)
		}
		walkMatching(lj.value, func(s string) bool { return strings.HasPrefix(s, "${jobs.") }, func(ptr, s string) {
			m := refRE.FindStringSubmatch(s)
			if m == nil {
				return
			}
			switch _, known := first[m[1]]; {
			case m[1] == key:
				fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("job %q refers to its own id; a job cannot trigger itself through a reference", key)})
			case !known && movedTo[m[1]] != "":
				fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("reference to job %q, which is now %q (its lifecycle.moved_from): write ${jobs.%s.id}", m[1], movedTo[m[1]], movedTo[m[1]])})
			case !known:
				fs = append(fs, finding{ptr: ptr, msg: fmt.Sprintf("reference to unknown job %q%s", m[1], didYouMean(m[1], keys))})
			default:
				if !contains(edges[key], m[1]) {
					edges[key] = append(edges[key], m[1])
				}
			}
		})
		l.report(lj, fs)
	}
	for k := range edges {
		sort.Strings(edges[k])
	}
	// (Only a job that refers to another can be on a cycle.)
	from := make([]string, 0, len(edges))
	for k := range edges {
		from = append(from, k)
	}
	sort.Strings(from)
	for _, cyc := range findCycles(from, edges) {
		lj := first[cyc[0]]
		l.diags = append(l.diags, Diagnostic{Pos: lj.job.Pos, Path: jobPath(cyc[0]),
			Msg: fmt.Sprintf("jobs refer to each other's ids in a cycle, so none can be created first: %s (each refers to the next)", strings.Join(append(cyc, cyc[0]), " -> "))})
	}
}
