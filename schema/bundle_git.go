package schema

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// gitInfo is what ${bundle.git.*} gives: read from the repository's files
// (no git program is run), as the bundle CLI fills bundle.git in
// (bundle/config/mutator/load_git_details.go): the branch checked out,
// the commit, the origin URL, and the bundle root relative to the
// repository. Outside a repository every field is empty, as there.
type gitInfo struct {
	branch, commit, originURL, rootPath string
}

// readGit finds the repository holding dir and reads it; errors leave
// fields empty.
func readGit(dir string) *gitInfo {
	g := &gitInfo{}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return g
	}
	top := abs
	var gitDir string
	for {
		p := filepath.Join(top, ".git")
		if st, err := os.Stat(p); err == nil {
			if st.IsDir() {
				gitDir = p
			} else if data, err := os.ReadFile(p); err == nil {
				// A worktree or submodule: "gitdir: <path>".
				if rest, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:"); ok {
					gitDir = strings.TrimSpace(rest)
					if !filepath.IsAbs(gitDir) {
						gitDir = filepath.Join(top, gitDir)
					}
				}
			}
			break
		}
		parent := filepath.Dir(top)
		if parent == top {
			return g
		}
		top = parent
	}
	if gitDir == "" {
		return g
	}
	if rel, err := filepath.Rel(top, abs); err == nil && rel != "." {
		g.rootPath = filepath.ToSlash(rel)
	}
	common := gitDir
	if data, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		common = strings.TrimSpace(string(data))
		if !filepath.IsAbs(common) {
			common = filepath.Join(gitDir, common)
		}
	}
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return g
	}
	h := strings.TrimSpace(string(head))
	if ref, ok := strings.CutPrefix(h, "ref:"); ok {
		ref = strings.TrimSpace(ref)
		g.branch = strings.TrimPrefix(ref, "refs/heads/")
		g.commit = resolveGitRef(gitDir, common, ref)
	} else {
		g.commit = h
	}
	g.originURL = gitOrigin(filepath.Join(common, "config"))
	return g
}

// resolveGitRef reads a ref's commit from its loose file or packed-refs.
func resolveGitRef(gitDir, common, ref string) string {
	for _, d := range []string{gitDir, common} {
		if data, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
			return strings.TrimSpace(string(data))
		}
	}
	f, err := os.Open(filepath.Join(common, "packed-refs"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if sha, name, ok := strings.Cut(line, " "); ok && name == ref {
			return sha
		}
	}
	return ""
}

// gitOrigin reads the url of remote "origin" from a git config file.
func gitOrigin(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = strings.ReplaceAll(line, " ", "") == `[remote"origin"]`
			continue
		}
		if k, v, ok := strings.Cut(line, "="); in && ok && strings.TrimSpace(k) == "url" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// gitValues is ${bundle.git} for the selection: what bundle.git sets in
// the configuration wins, except actual_branch, which is always what is
// checked out.
func (r *resolver) gitValues() map[string]any {
	if r.git == nil {
		r.git = readGit(r.bp.dir)
	}
	set, _ := r.bundleSec["git"].(map[string]any)
	get := func(k, def string) any {
		if v, ok := set[k]; ok && v != nil {
			return v
		}
		return def
	}
	_, explicit := set["branch"]
	return map[string]any{
		"branch":           get("branch", r.git.branch),
		"actual_branch":    r.git.branch,
		"commit":           get("commit", r.git.commit),
		"origin_url":       get("origin_url", r.git.originURL),
		"bundle_root_path": get("bundle_root_path", r.git.rootPath),
		"inferred":         !explicit,
	}
}
