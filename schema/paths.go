package schema

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// PathRules are the project file's paths: which files under the project
// directory are job files. Patterns are slash-separated globs relative to
// the project directory: path.Match within one name, "**" for any number
// of directories, and a pattern that names a directory stands for
// everything under it.
type PathRules struct {
	// Include are the files read when a command is given no path
	// argument; none means every *.yml/*.yaml file of the directory.
	Include []string
	// Exclude are never read from a directory walk, whatever the paths.
	Exclude []string
}

// readPathRules reads `paths:` (a list, or include:/exclude:).
func (p *Project) readPathRules(ds *Diagnostics) {
	list := func(v any, ptr string) []string {
		var out []string
		for i, e := range asSlice(v) {
			s, _ := e.(string)
			if err := checkGlob(s); err != nil {
				p.diag(ds, fmt.Sprintf("%s/%d", ptr, i), "%v", err)
				continue
			}
			out = append(out, strings.TrimSuffix(path.Clean(s), "/"))
		}
		return out
	}
	switch v := p.value["paths"].(type) {
	case []any:
		p.Paths.Include = list(v, "/paths")
	case map[string]any:
		p.Paths.Include = list(v["include"], "/paths/include")
		p.Paths.Exclude = list(v["exclude"], "/paths/exclude")
	}
}

// checkGlob refuses a pattern path.Match would reject, and one that leaves
// the project directory.
func checkGlob(s string) error {
	if strings.HasPrefix(s, "/") || s == ".." || strings.HasPrefix(s, "../") || strings.Contains(s, "/../") {
		return fmt.Errorf("%q: a path pattern is relative to the project directory and stays inside it", s)
	}
	for _, seg := range strings.Split(s, "/") {
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("%q is not a valid pattern (%v)", s, err)
		}
	}
	return nil
}

// matchGlob tells whether the slash-separated relative path rel, or a
// directory above it, matches pattern.
func matchGlob(pattern, rel string) bool {
	ps, rs := strings.Split(pattern, "/"), strings.Split(rel, "/")
	// A pattern naming a directory matches everything under it: try it
	// against rel and each of its parents.
	for n := len(rs); n > 0; n-- {
		if matchSegs(ps, rs[:n]) {
			return true
		}
	}
	return false
}

func matchSegs(ps, rs []string) bool {
	for len(ps) > 0 {
		if ps[0] == "**" {
			for i := 0; i <= len(rs); i++ {
				if matchSegs(ps[1:], rs[i:]) {
					return true
				}
			}
			return false
		}
		if len(rs) == 0 {
			return false
		}
		if ok, _ := path.Match(ps[0], rs[0]); !ok {
			return false
		}
		ps, rs = ps[1:], rs[1:]
	}
	return len(rs) == 0
}

// pathFilter decides, for the files a directory walk finds, which are job
// files under the project's path rules.
type pathFilter struct {
	dir     string // the project directory, absolute; "" for no rules
	include []string
	exclude []string
}

func newPathFilter(p *Project, useInclude bool) pathFilter {
	if p == nil || (len(p.Paths.Exclude) == 0 && (!useInclude || len(p.Paths.Include) == 0)) {
		return pathFilter{}
	}
	dir, err := filepath.Abs(p.Dir)
	if err != nil {
		return pathFilter{}
	}
	f := pathFilter{dir: dir, exclude: p.Paths.Exclude}
	if useInclude {
		f.include = p.Paths.Include
	}
	return f
}

// rel is the path relative to the project directory, and whether it is
// inside it.
func (f pathFilter) rel(p string) (string, bool) {
	if f.dir == "" {
		return "", false
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	r, err := filepath.Rel(f.dir, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), r != "."
}

// excluded: a file or directory an exclude pattern names.
func (f pathFilter) excluded(p string) bool {
	r, ok := f.rel(p)
	if !ok {
		return false
	}
	for _, pat := range f.exclude {
		if matchGlob(pat, r) {
			return true
		}
	}
	return false
}

// included: a file the include patterns name (any file, without them).
func (f pathFilter) included(p string) bool {
	if len(f.include) == 0 {
		return true
	}
	r, ok := f.rel(p)
	if !ok {
		return true
	}
	for _, pat := range f.include {
		if matchGlob(pat, r) {
			return true
		}
	}
	return false
}
