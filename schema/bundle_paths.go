package schema

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A bundle's job names local files with paths relative to the YAML file
// that writes them: a notebook (notebook_task.notebook_path), a Python
// file (spark_python_task.python_file), a SQL file (sql_task.file.path),
// an alert file (alert_task.workspace_path), a dbt project folder
// (dbt_task.project_directory), libraries (whl, jar,
// requirements; whl and jar may be globs) and an environment's local
// dependencies. jobsync uploads each to the target's workspace.file_path,
// keeping its place relative to the bundle root (notebooks without their
// extension, as the workspace names them), and sends the workspace path
// (databricks/cli bundle/config/mutator/translate_paths.go,
// translate_paths_jobs.go, paths/job_paths_visitor.go,
// paths/job_libraries_paths_visitor.go). A job with git_source, or a
// task whose source is GIT, names files of its repository: those paths
// are sent as written.

// Upload is a local file that a bundle's jobs use, and where it goes.
type Upload struct {
	// Local is the file's OS path; Name is its path relative to the bundle
	// root, slash-separated, as reported.
	Local, Name string
	// Remote is its workspace path (a notebook's has no extension).
	Remote string
	// Notebook is set for a notebook: Language (PYTHON, SQL, SCALA, R) for
	// a source notebook, Jupyter for an .ipynb; other files are imported
	// as files.
	Notebook bool
	Language string
	Jupyter  bool
	Size     int64
	// Digest is "sha256:<hex>" of the content and the way it is imported,
	// so that an unchanged file is never sent again.
	Digest string
	// Pos is where a job first names it.
	Pos Pos
}

// maxDirFiles bounds the files of one uploaded folder (a dbt project).
const maxDirFiles = 1000

// maxNotebookBytes is the largest notebook workspace/import takes (10 MB;
// jobsapi.MaxImportBytes, jobs-api.md's workspace files notes): a larger
// one is refused here, at its path, rather than halfway through an apply.
const maxNotebookBytes = 10 << 20

type uploadSet struct {
	byRemote map[string]*Upload
}

func newUploadSet() *uploadSet { return &uploadSet{byRemote: map[string]*Upload{}} }

func (u *uploadSet) sorted() []Upload {
	out := make([]Upload, 0, len(u.byRemote))
	for _, up := range u.byRemote {
		out = append(out, *up)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Remote < out[j].Remote })
	return out
}

// pathKind is how a path field's file is used.
type pathKind int

const (
	kindNotebook pathKind = iota
	kindFile
	kindDir
	kindLibrary // a file, or a glob of files
	// kindInFolder is a file of an uploaded folder: a notebook goes as a
	// notebook, anything else as a file, as the bundle CLI's sync sends
	// them (a dbt project at the bundle root holds the bundle's notebooks).
	kindInFolder
)

// notebookHeaders are the first lines that make a source file a notebook
// (libs/notebook/detect.go), by extension, with the language.
var notebookHeaders = map[string][2]string{
	".py":    {"# Databricks notebook source", "PYTHON"},
	".r":     {"# Databricks notebook source", "R"},
	".scala": {"// Databricks notebook source", "SCALA"},
	".sql":   {"-- Databricks notebook source", "SQL"},
}

// isRemotePath says whether a path names something already in the
// workspace or elsewhere: absolute, or with a scheme (dbfs:/, s3://,
// file:// for the cluster's disk) (bundle/libraries/local_path.go).
func isRemotePath(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	if u, err := url.Parse(p); err == nil && u.Scheme != "" {
		return true
	}
	return false
}

// pipPackageRE is a PyPI requirement (name, extras, version specifiers),
// which an environment dependency may be instead of a file
// (bundle/libraries/local_path.go packageRegex, without the PEP 440 detail).
var pipPackageRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]+\s?(\[.*\])?\s?((==|!=|<=|>=|~=|>|<)\s?[0-9A-Za-z.+!_-]+,?)*$`)

// localDependency reads an environment dependency: a local file (starts
// with ".", or a path that is no package name), or -r/-e with a local
// path; prefix is the pip flag to keep.
func localDependency(dep string) (p, prefix string, ok bool) {
	for _, flag := range []string{"-r ", "-e "} {
		if rest, found := strings.CutPrefix(dep, flag); found {
			rest = strings.TrimSpace(rest)
			return rest, flag, rest != "" && !isRemotePath(rest)
		}
	}
	switch {
	case dep == "":
		return "", "", false
	case strings.HasPrefix(dep, "."):
		return dep, "", true
	case strings.HasPrefix(dep, "-"), pipPackageRE.MatchString(dep), strings.Contains(dep, " @ "):
		return "", "", false
	}
	return dep, "", !isRemotePath(dep)
}

// localFiles turns every local path of the job into its workspace path,
// recording the uploads.
func (j *bjob) localFiles() {
	if _, git := j.value["git_source"]; git {
		return
	}
	for i := range asSlice(j.value["tasks"]) {
		tptr := "/tasks/" + strconv.Itoa(i)
		j.taskFiles(tptr)
		if lookup(j.value, tptr+"/for_each_task/task") != nil {
			j.taskFiles(tptr + "/for_each_task/task")
		}
	}
	for e := range asSlice(j.value["environments"]) {
		dptr := "/environments/" + strconv.Itoa(e) + "/spec/dependencies"
		deps := asSlice(lookup(j.value, dptr))
		if deps == nil {
			continue
		}
		var out []any
		var mapping [][]int
		for d, dep := range deps {
			s, isText := dep.(string)
			p, prefix, local := localDependency(s)
			if !isText || !local {
				mapping = append(mapping, []int{len(out)})
				out = append(out, dep)
				continue
			}
			remotes := j.resolve(dptr+"/"+strconv.Itoa(d), p, kindLibrary)
			var idx []int
			for _, r := range remotes {
				idx = append(idx, len(out))
				out = append(out, strings.TrimSpace(prefix+r))
			}
			if remotes == nil {
				idx = append(idx, len(out))
				out = append(out, dep)
			}
			mapping = append(mapping, idx)
		}
		j.replaceList(dptr, out, mapping)
	}
}

// taskFiles translates the paths of one task.
func (j *bjob) taskFiles(tptr string) {
	task, _ := lookup(j.value, tptr).(map[string]any)
	if task == nil {
		return
	}
	fromGit := func(sourcePtr string) bool {
		s, _ := lookup(j.value, sourcePtr).(string)
		return s == "GIT"
	}
	fields := []struct {
		ptr, source string
		kind        pathKind
	}{
		{"/notebook_task/notebook_path", "/notebook_task/source", kindNotebook},
		{"/spark_python_task/python_file", "/spark_python_task/source", kindFile},
		{"/sql_task/file/path", "/sql_task/file/source", kindFile},
		{"/dbt_task/project_directory", "/dbt_task/source", kindDir},
		{"/alert_task/workspace_path", "", kindFile},
	}
	for _, f := range fields {
		s, ok := lookup(j.value, tptr+f.ptr).(string)
		if !ok || s == "" || f.source != "" && fromGit(tptr+f.source) {
			continue
		}
		if isRemotePath(s) {
			if rel, ok := j.syncedFile(tptr+f.ptr, s, f.kind); ok {
				if remotes := j.resolve(tptr+f.ptr, rel, f.kind); len(remotes) == 1 {
					j.value = setAt(j.value, tptr+f.ptr, remotes[0]).(map[string]any)
				}
			}
			continue
		}
		if remotes := j.resolve(tptr+f.ptr, s, f.kind); len(remotes) == 1 {
			j.value = setAt(j.value, tptr+f.ptr, remotes[0]).(map[string]any)
		}
	}
	lptr := tptr + "/libraries"
	libs := asSlice(lookup(j.value, lptr))
	if libs == nil {
		return
	}
	var out []any
	var mapping [][]int
	for i, lib := range libs {
		lm, _ := lib.(map[string]any)
		var idx []int
		handled := false
		for _, field := range []string{"whl", "jar", "requirements"} {
			s, ok := lm[field].(string)
			if !ok || s == "" {
				continue
			}
			kind := kindLibrary
			if field == "requirements" {
				kind = kindFile
			}
			fptr := lptr + "/" + strconv.Itoa(i) + "/" + field
			if isRemotePath(s) {
				rel, ok := j.syncedFile(fptr, s, kindFile)
				if !ok {
					continue
				}
				s = rel
			}
			remotes := j.resolve(fptr, s, kind)
			for _, r := range remotes {
				c, _ := deepCopy(lm).(map[string]any)
				c[field] = r
				idx = append(idx, len(out))
				out = append(out, c)
			}
			handled = remotes != nil
			break
		}
		if !handled {
			idx = append(idx, len(out))
			out = append(out, lib)
		}
		mapping = append(mapping, idx)
	}
	j.replaceList(lptr, out, mapping)
}

// syncedFile reads a path written ${workspace.file_path}/REL, as bundles
// written for the bundle CLI often name their files: that CLI syncs the
// whole bundle folder to file_path, so REL is a file of the bundle (a
// notebook without its extension). jobsync uploads only the files jobs
// name, so it uploads that one: it returns the local path, relative to
// the bundle root as resolve takes it, when REL is such a file. Another
// path under file_path is sent as written, with a warning that nothing
// will be there.
func (j *bjob) syncedFile(ptr, s string, kind pathKind) (string, bool) {
	if !j.inFilePath[ptr] {
		return "", false
	}
	files, err := j.b.r.workspacePath("file_path")
	if err != nil {
		return "", false
	}
	rel, ok := strings.CutPrefix(s, files+"/")
	if !ok || rel == "" || strings.HasPrefix(rel, "../") || strings.Contains(rel, "/../") {
		return "", false
	}
	root := j.b.bp.dir
	candidates := []string{rel}
	if kind == kindNotebook && path.Ext(rel) == "" {
		candidates = nil
		for _, ext := range []string{".py", ".ipynb", ".sql", ".scala", ".r"} {
			candidates = append(candidates, rel+ext)
		}
	}
	var found []string
	if strings.ContainsAny(rel, "*?[") {
		if m, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(rel))); len(m) > 0 {
			found = candidates
		}
		candidates = nil
	}
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(c))); err == nil && (st.IsDir() == (kind == kindDir)) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		if j.baseDir == nil {
			j.baseDir = map[string]string{}
		}
		j.baseDir[ptr] = root
		return found[0], true
	case 0:
		j.b.warns = append(j.b.warns, Diagnostic{Pos: j.job.PosOf(ptr), Path: joinPath(jobPath(j.job.Key), keyedPath(j.value, ptr)),
			Msg: fmt.Sprintf("%s is under workspace.file_path, where the bundle CLI syncs the bundle's files, but the bundle has no %s: sent as written; jobsync uploads only the files jobs name (write the path relative to this file to have it uploaded)", s, rel)})
	default:
		j.problem(ptr, "%s names the notebook %s, and the bundle has %s: rename all but one", s, rel, strings.Join(found, " and "))
	}
	return "", false
}

// replaceList puts out at ptr, where element i of the old list became the
// elements mapping[i] (a glob matching several files), moving positions.
func (j *bjob) replaceList(ptr string, out []any, mapping [][]int) {
	same := true
	for i, m := range mapping {
		if len(m) != 1 || m[0] != i {
			same = false
		}
	}
	j.value = setAt(j.value, ptr, out).(map[string]any)
	if same {
		return
	}
	move := func(ptrOf func() []string, get func(string) (any, bool), set func(string, any), del func(string)) {
		type entry struct {
			ptr string
			v   any
		}
		var moved []entry
		for _, p := range ptrOf() {
			rest, ok := strings.CutPrefix(p, ptr+"/")
			if !ok {
				continue
			}
			num, tail, _ := strings.Cut(rest, "/")
			i, err := strconv.Atoi(num)
			if err != nil || i >= len(mapping) {
				continue
			}
			v, _ := get(p)
			del(p)
			for _, n := range mapping[i] {
				np := ptr + "/" + strconv.Itoa(n)
				if tail != "" {
					np += "/" + tail
				}
				moved = append(moved, entry{np, v})
			}
		}
		for _, e := range moved {
			set(e.ptr, e.v)
		}
	}
	pos := j.job.positions
	move(func() []string { return keysOfLC(pos) }, func(p string) (any, bool) { v, ok := pos[p]; return v, ok },
		func(p string, v any) { pos[p] = v.(lineCol) }, func(p string) { delete(pos, p) })
	if fa := j.job.foreignAt; fa != nil {
		move(func() []string { return keysOfPos(fa) }, func(p string) (any, bool) { v, ok := fa[p]; return v, ok },
			func(p string, v any) { fa[p] = v.(Pos) }, func(p string) { delete(fa, p) })
	}
}

func keysOfLC(m map[string]lineCol) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func keysOfPos(m map[string]Pos) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// resolve finds the local file(s) a path names and returns their
// workspace paths, recording the uploads; nil after a problem.
func (j *bjob) resolve(ptr, p string, kind pathKind) []string {
	b := j.b
	at := j.job.PosOf(ptr)
	base := j.baseDir[ptr]
	if base == "" {
		base = filepath.Dir(filepath.FromSlash(at.File))
		if at.File == "" {
			base = b.bp.dir
		}
	}
	local := filepath.Clean(filepath.Join(base, filepath.FromSlash(p)))
	rootAbs, err1 := filepath.Abs(b.bp.dir)
	localAbs, err2 := filepath.Abs(local)
	if err1 != nil || err2 != nil {
		j.problem(ptr, "cannot resolve %s", p)
		return nil
	}
	rel, err := filepath.Rel(rootAbs, localAbs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		j.problem(ptr, "%s is outside the bundle (the folder of %s): jobsync uploads the bundle's own files only; move it in, or name a workspace path", p, b.sel.Project.File)
		return nil
	}
	files, err := b.r.workspacePath("file_path")
	if err != nil {
		j.problem(ptr, "%s is a local file, and %v", p, err)
		return nil
	}
	relSlash := filepath.ToSlash(rel)
	switch kind {
	case kindLibrary:
		if strings.ContainsAny(p, "*?[") {
			matches, err := filepath.Glob(local)
			if err != nil {
				j.problem(ptr, "invalid pattern %s: %v", p, err)
				return nil
			}
			var out []string
			for _, m := range matches {
				if st, err := os.Stat(m); err != nil || st.IsDir() {
					continue
				}
				r, err := filepath.Rel(rootAbs, mustAbs(m))
				if err != nil {
					continue
				}
				if remote := j.upload(ptr, m, filepath.ToSlash(r), files, kindFile); remote != "" {
					out = append(out, remote)
				}
			}
			if len(out) == 0 && len(matches) == 0 {
				j.problem(ptr, "no file matches %s: build it first (jobsync does not run artifact builds)", p)
				return nil
			}
			return out
		}
		kind = kindFile
	case kindDir:
		st, err := os.Stat(local)
		if err != nil || !st.IsDir() {
			j.problem(ptr, "no folder %s (%s in the bundle): fix the path, or name a workspace path", p, relSlash)
			return nil
		}
		n := 0
		ignore := newGitIgnore(b.bp.dir)
		err = filepath.WalkDir(local, func(fp string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if fp != local && leftOutOfFolder(ignore, mustAbs(fp), d.Name(), d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			if n++; n > maxDirFiles {
				return fmt.Errorf("more than %d files (jobsync leaves out hidden entries and what .gitignore names)", maxDirFiles)
			}
			r, err := filepath.Rel(rootAbs, mustAbs(fp))
			if err != nil {
				return err
			}
			if j.upload(ptr, fp, filepath.ToSlash(r), files, kindInFolder) == "" {
				return fs.SkipAll
			}
			return nil
		})
		if err != nil {
			j.problem(ptr, "cannot upload the folder %s: %v", p, err)
			return nil
		}
		return []string{path.Join(files, relSlash)}
	}
	if remote := j.upload(ptr, local, relSlash, files, kind); remote != "" {
		return []string{remote}
	}
	return nil
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// upload checks one local file for its use and records it; it returns
// the workspace path, or "" after a problem.
func (j *bjob) upload(ptr, local, rel, files string, kind pathKind) string {
	raw := lookup(j.value, ptr)
	shown, _ := raw.(string)
	st, err := os.Stat(local)
	if err != nil || st.IsDir() {
		if kind == kindNotebook && path.Ext(rel) == "" {
			for _, ext := range []string{".py", ".ipynb", ".sql", ".scala", ".r"} {
				if _, err := os.Stat(local + ext); err == nil {
					j.problem(ptr, "no file %s; a local notebook is named with its extension: did you mean %s%s?", shown, shown, ext)
					return ""
				}
			}
		}
		j.problem(ptr, "no file %s (%s in the bundle): fix the path, or name a workspace path", shown, rel)
		return ""
	}
	data, err := readUpload(local)
	if err != nil {
		j.problem(ptr, "cannot upload %s: %v", shown, err)
		return ""
	}
	up := &Upload{Local: local, Name: rel, Size: int64(len(data)), Pos: j.job.PosOf(ptr)}
	nb, lang, jupyter := detectNotebook(rel, data)
	switch {
	case kind == kindNotebook && !nb:
		hint := "a source notebook starts with the line \"# Databricks notebook source\" (\"-- ...\" for SQL, \"// ...\" for Scala)"
		if path.Ext(rel) == ".ipynb" {
			hint = "it is not a Jupyter notebook (JSON with cells)"
		}
		j.problem(ptr, "%s is not a notebook: %s; or run it with spark_python_task", shown, hint)
		return ""
	case kind != kindNotebook && kind != kindInFolder && nb:
		j.problem(ptr, "%s is a notebook (it starts with the notebook header), and this field takes a plain file: use a notebook_task, or remove the header", shown)
		return ""
	}
	if nb && len(data) > maxNotebookBytes {
		j.problem(ptr, "%s is a notebook of %d bytes, and the workspace imports notebooks of at most %d bytes: split it, or make it a plain file", shown, len(data), maxNotebookBytes)
		return ""
	}
	up.Notebook, up.Language, up.Jupyter = nb, lang, jupyter
	up.Remote = path.Join(files, rel)
	if nb {
		up.Remote = strings.TrimSuffix(up.Remote, path.Ext(up.Remote))
	}
	up.Digest = FileDigest(nb, lang, jupyter, data)
	set := j.b.uploads
	if prev, ok := set.byRemote[up.Remote]; ok {
		if prev.Local != up.Local {
			j.problem(ptr, "%s and %s would both be the workspace file %s (a notebook loses its extension there): rename one", prev.Name, up.Name, up.Remote)
			return ""
		}
	} else {
		set.byRemote[up.Remote] = up
	}
	if i, found := slices.BinarySearch(j.job.Files, up.Remote); !found {
		j.job.Files = slices.Insert(j.job.Files, i, up.Remote)
	}
	return up.Remote
}

// FileDigest is an upload's digest: of its content and of the way it is
// imported (a notebook's language, Jupyter or source), so that a file is
// sent again when either changes.
func FileDigest(notebook bool, language string, jupyter bool, data []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "jobsync upload v1\nnotebook=%t language=%s jupyter=%t\n", notebook, language, jupyter)
	h.Write(data)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// detectNotebook says whether a file is a notebook (libs/notebook/detect.go,
// detect_jupyter.go): a source file whose first line is its language's
// notebook header, or an .ipynb holding a Jupyter notebook.
func detectNotebook(name string, data []byte) (nb bool, lang string, jupyter bool) {
	ext := strings.ToLower(path.Ext(name))
	if ext == ".ipynb" {
		var doc struct {
			Cells    []json.RawMessage `json:"cells"`
			Nbformat *int              `json:"nbformat"`
		}
		if json.Unmarshal(data, &doc) == nil && (doc.Cells != nil || doc.Nbformat != nil) {
			return true, "", true
		}
		return false, "", false
	}
	h, ok := notebookHeaders[ext]
	if !ok {
		return false, "", false
	}
	line, err := bufio.NewReader(io.LimitReader(bytes.NewReader(data), 64)).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, "", false
	}
	if strings.TrimRight(line, "\r\n") != h[0] {
		return false, "", false
	}
	return true, h[1], false
}
