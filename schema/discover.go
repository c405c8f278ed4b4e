package schema

import (
	"fmt"
	"os"
	"path/filepath"
)

// ProjectKind is what a project file is.
type ProjectKind string

const (
	// KindJobsync is jobsync's own project file (jobsync.yaml).
	KindJobsync ProjectKind = "jobsync"
	// KindBundle is a Databricks Asset Bundle's root file (databricks.yml).
	KindBundle ProjectKind = "bundle"
)

// projectFile is one name a project file may have.
type projectFile struct {
	name string
	kind ProjectKind
}

// projectFiles are the names of project files, the one list of them: what
// Discover looks for, and what is never read as a job file. A bundle's
// names (KindBundle) go here too, with the parser that reads them.
var projectFiles = []projectFile{
	{"jobsync.yaml", KindJobsync},
	{"jobsync.yml", KindJobsync},
	// An Asset Bundle's root file, in the order the bundle CLI looks for
	// them (databricks/cli bundle/config/filename.go); read by loadBundle.
	{"databricks.yml", KindBundle},
	{"databricks.yaml", KindBundle},
	{"bundle.yml", KindBundle},
	{"bundle.yaml", KindBundle},
}

// IsProjectFileName says whether name (a base name) is a project file's.
func IsProjectFileName(name string) bool {
	for _, f := range projectFiles {
		if name == f.name {
			return true
		}
	}
	return false
}

// Where is what a command knows about where its project is.
type Where struct {
	// Paths are the command's path arguments; nil when it was given none.
	Paths []string
	// Dir is the project directory the user named (-C DIR, or else
	// JOBSYNC_PROJECT_DIR), "" for none; DirFrom names where it came from,
	// for messages.
	Dir, DirFrom string
}

// Discovery is where a command's project is.
type Discovery struct {
	// File is the project file ("" when there is none), as a relative path
	// when the directory was given as one.
	File string
	Kind ProjectKind
	// Dir is the project directory: the project file's directory, else the
	// directory the user named, else "." (the current directory). The
	// default job path, the default lockfile and the emulator's state are
	// relative to it.
	Dir string
	// Searched says where the project file was looked for, in order, for
	// messages that say none was found.
	Searched []string
}

// Discover finds the project, by one rule for every command; the first
// hit wins:
//
//  1. the path arguments: the first one (a directory, or a file's
//     directory) and its parents up to the repository root;
//  2. the directory the user named (-C DIR, else JOBSYNC_PROJECT_DIR),
//     and only it: a named directory without a project file is a project
//     without one (the base configuration);
//  3. the current directory and its parents up to the repository root.
//
// The repository root is the nearest directory holding .git; outside a
// repository only the directory itself is searched, so a stray project
// file in a home directory is never picked up. Two project files in one
// directory are an error that says which to keep.
func Discover(w Where) (*Discovery, error) {
	var searched []string
	if len(w.Paths) > 0 {
		start := w.Paths[0]
		st, err := os.Stat(start)
		if err == nil && !st.IsDir() {
			start = filepath.Dir(start)
		}
		if err == nil {
			d, err := findUp(start)
			if d != nil || err != nil {
				return d, err
			}
			searched = append(searched, describeWalk(start))
		}
	}
	if w.Dir != "" {
		st, err := os.Stat(w.Dir)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%s %s: not a directory", w.DirFrom, w.Dir)
		}
		d, err := findIn(w.Dir, projectFiles)
		if d == nil && err == nil {
			d = &Discovery{Dir: filepath.Clean(w.Dir), Searched: append(searched, filepath.ToSlash(w.Dir)+" ("+w.DirFrom+")")}
		}
		return d, err
	}
	d, err := findUp(".")
	if d == nil && err == nil {
		d = &Discovery{Dir: ".", Searched: append(searched, describeWalk("."))}
	}
	return d, err
}

// describeWalk says which directories findUp(dir) looks in.
func describeWalk(dir string) string {
	name := filepath.ToSlash(dir)
	if dir == "." {
		name = "the current directory"
	}
	if root := repoRoot(dir); root != "" && !sameDir(root, dir) {
		return name + " or its parents up to the repository root"
	}
	return name
}

// findUp looks in dir and its parents up to the repository root.
func findUp(dir string) (*Discovery, error) {
	root := repoRoot(dir)
	for d := filepath.Clean(dir); ; d = filepath.Join(d, "..") {
		found, err := findIn(d, projectFiles)
		if found != nil || err != nil {
			return found, err
		}
		if root == "" || sameDir(d, root) {
			return nil, nil
		}
	}
}

// repoRoot is the nearest directory at or above dir that holds .git (a
// directory, or the file of a worktree), "" when there is none.
func repoRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Lstat(filepath.Join(abs, ".git")); err == nil {
			return abs
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
	}
}

func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// findIn looks for the project files of names in dir alone.
func findIn(dir string, names []projectFile) (*Discovery, error) {
	var found []projectFile
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n.name)); err == nil && !st.IsDir() {
			found = append(found, n)
		}
	}
	switch {
	case len(found) == 0:
		return nil, nil
	case len(found) > 1:
		return nil, twoProjectFiles(dir, found)
	}
	return &Discovery{File: filepath.Join(dir, found[0].name), Kind: found[0].kind, Dir: filepath.Clean(dir)}, nil
}

// twoProjectFiles says which file of a directory to keep.
func twoProjectFiles(dir string, found []projectFile) error {
	at := func(f projectFile) string { return filepath.ToSlash(filepath.Join(dir, f.name)) }
	var jobsync, bundle []projectFile
	for _, f := range found {
		if f.kind == KindBundle {
			bundle = append(bundle, f)
		} else {
			jobsync = append(jobsync, f)
		}
	}
	if len(jobsync) > 0 && len(bundle) > 0 {
		return fmt.Errorf("%s is an Asset Bundle and %s a jobsync project file, in one directory: keep one. "+
			"To deploy the bundle's jobs with jobsync, remove %s (the bundle's own targets and variables are used); "+
			"to keep the jobsync project, move the bundle to a directory of its own",
			at(bundle[0]), at(jobsync[0]), jobsync[0].name)
	}
	return fmt.Errorf("%s and %s are both project files; keep one", at(found[0]), at(found[1]))
}
