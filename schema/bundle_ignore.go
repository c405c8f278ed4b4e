package schema

import (
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// A folder a bundle's job names as a whole (dbt_task.project_directory,
// which the dbt-sql template sets to the bundle root) is uploaded file by
// file. The bundle CLI syncs the bundle root without what git ignores
// (databricks/cli libs/git/view.go, commit 127d875c, and
// libs/git/repository.go, commit 14584034: every .gitignore from the
// repository root down, and the repository's excludes file), so a dbt
// project's target/, logs/ and dbt_packages/ stay local; the folder
// upload leaves them out the same way. It also leaves out jobsync's own
// lockfile, its journal and its lock file: they change with every apply,
// so uploading them would make every plan upload them again.

// stateFileRE names jobsync's state files as the commands name them by
// default (jobsync.lock.json, jobsync.<target>.lock.json, and the .journal
// and .lock beside each). Temporary files start with "." and are left out
// as every hidden entry is.
var stateFileRE = regexp.MustCompile(`^jobsync(\.[^/]+)?\.lock\.json(\.journal|\.lock)?$`)

// ignoreRule is one line of a .gitignore (gitignore(5)).
type ignoreRule struct {
	base     string // folder of the .gitignore, slash-separated, relative to the root ("" for the root)
	segs     []string
	negate   bool
	dirOnly  bool
	anchored bool // the pattern has a slash before its end: it matches paths from base, not names
}

// gitIgnore answers what git ignores below root (the repository root, or
// the bundle's folder outside a repository), reading each folder's
// .gitignore once, when a path below it is first asked about.
type gitIgnore struct {
	root   string // absolute
	rules  []ignoreRule
	loaded map[string]bool // folders (relative, slash) whose .gitignore is read
}

func newGitIgnore(bundleDir string) *gitIgnore {
	root := repoRoot(bundleDir)
	if root == "" {
		root = mustAbs(bundleDir)
	}
	g := &gitIgnore{root: root, loaded: map[string]bool{}}
	g.read(filepath.Join(root, ".git", "info", "exclude"), "")
	return g
}

// read adds the rules of one ignore file; a file that cannot be read (none,
// or not a regular file) adds none.
func (g *gitIgnore) read(file, base string) {
	data, err := readFile(file)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		// Trailing spaces are ignored unless escaped with a backslash.
		for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, `\ `) {
			line = line[:len(line)-1]
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{base: base}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimRight(line, "/")
		}
		if line == "" {
			continue
		}
		if strings.Contains(line, "/") {
			r.anchored, line = true, strings.TrimPrefix(line, "/")
		}
		r.segs = strings.Split(line, "/")
		valid := true
		for _, s := range r.segs {
			if _, err := path.Match(s, ""); err != nil {
				valid = false // git ignores a pattern it cannot read
			}
		}
		if valid {
			g.rules = append(g.rules, r)
		}
	}
}

// ignored says whether git ignores the file or folder at abs. Folders
// above abs are not asked about: the walk does not enter an ignored folder,
// which is how git never re-includes a file under one.
func (g *gitIgnore) ignored(abs string, isDir bool) bool {
	rel, err := filepath.Rel(g.root, abs)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	rel = filepath.ToSlash(rel)
	// The .gitignore of every folder from the root down to abs's parent.
	segs := strings.Split(rel, "/")
	for n := 0; n < len(segs); n++ {
		dir := strings.Join(segs[:n], "/")
		if !g.loaded[dir] {
			g.loaded[dir] = true
			g.read(filepath.Join(g.root, filepath.FromSlash(dir), ".gitignore"), dir)
		}
	}
	out := false
	name := path.Base(rel)
	for _, r := range g.rules {
		p := rel
		if r.base != "" {
			var ok bool
			if p, ok = strings.CutPrefix(rel, r.base+"/"); !ok {
				continue
			}
		}
		if r.dirOnly && !isDir {
			continue
		}
		var m bool
		if r.anchored {
			m = matchSegs(r.segs, strings.Split(p, "/"))
		} else {
			m, _ = path.Match(r.segs[0], name)
		}
		if m {
			out = !r.negate
		}
	}
	return out
}

// leftOutOfFolder says whether a folder upload leaves out the entry at
// abs (named name): hidden entries, jobsync's state files, and what git
// ignores.
func leftOutOfFolder(g *gitIgnore, abs, name string, isDir bool) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	if !isDir && stateFileRE.MatchString(name) {
		return true
	}
	return g.ignored(abs, isDir)
}
